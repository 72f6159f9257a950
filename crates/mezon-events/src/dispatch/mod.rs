//! Running bot handlers for events: the [`Dispatcher`] trait the client drives, and
//! [`EventDispatcher`], its default implementation.
//!
//! ```no_run
//! use mezon_events::dispatch::{DispatchConfig, EventDispatcher};
//! use mezon_events::EventKind;
//!
//! # async fn demo() {
//! // The context (here a plain string) is whatever the client hands every handler.
//! let dispatcher = EventDispatcher::<String>::new(DispatchConfig::default());
//! let _sub = dispatcher.on_channel_message(|message, _ctx| {
//!     println!("{} says {}", message.username, message.content);
//! });
//! let _sub = dispatcher.on_channel_created(|created, _ctx| async move {
//!     println!("new channel {}", created.channel_label);
//!     Ok::<(), std::io::Error>(())
//! });
//! let _sub = dispatcher.on(EventKind::MessageReactionEvent, |event, _ctx| {
//!     println!("{event:?}");
//! });
//! # }
//! ```

mod failure;
mod handler;
mod pool;
mod registry;
mod typed;
mod waiters;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use failure::{FailureCause, HandlerFailure};
pub use handler::{
    AsyncMarker, HandlerError, HandlerOutcome, HandlerReturn, IntoHandlerResult, Payload,
    SyncMarker,
};
pub use registry::Subscription;

use crate::event::Event;
use crate::kind::{EventKind, EventKindSet};
use failure::ErrorHook;
use handler::ErasedHandler;
use pool::{Core, Pool};
use registry::{Priority, Registry};
use waiters::Waiters;

/// What the client needs from a dispatcher. `C` is the context handed to every handler (the
/// client passes its handle); it must be cheap to clone.
#[async_trait::async_trait]
pub trait Dispatcher<C: Clone + Send + Sync + 'static>: Send + Sync + 'static {
    /// Delivers one event. Waits (backpressure) while the queue it goes to is full; never
    /// fails because a handler failed.
    async fn dispatch(&self, event: Event, ctx: C);

    /// The kinds some handler or waiter wants, so the caller can skip decoding the others
    /// (see [`peek`](crate::peek())).
    fn interests(&self) -> EventKindSet;

    /// Waits until every event dispatched so far is handled, then stops taking events. Events
    /// dispatched afterwards are dropped.
    async fn shutdown(&self);
}

/// How events are spread over handler tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DispatchMode {
    /// One task: every event is handled after the previous one, in arrival order.
    Sequential,
    /// Events of one channel (or, lacking a channel, one clan) are handled in arrival order;
    /// different channels run concurrently, up to `workers` channels at once.
    ///
    /// Each busy channel has its own task and bounded queue, so a slow handler holds up its
    /// own channel only. When `workers` channels are busy, an event of another channel makes
    /// `dispatch` wait until one of them has emptied its queue; an event of a busy channel
    /// waits only while that channel's queue is full. A handler that waits on something
    /// slow (a reply, a long network call) for a chatty channel should spawn that part.
    #[default]
    PerChannel,
    /// Every event gets its own task (at most `workers` at once), with no ordering between
    /// events. The handlers of one event still run in registration order.
    Concurrent,
}

/// Settings of an [`EventDispatcher`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct DispatchConfig {
    /// How events are spread over tasks.
    pub mode: DispatchMode,
    /// Channels (per-channel mode) or events (concurrent mode) handled at once. At least 1;
    /// sequential mode always uses 1.
    pub workers: usize,
    /// Events each channel's queue holds, besides the one being handled, before `dispatch`
    /// waits (sequential mode: the one queue). At least 1. Not used in concurrent mode.
    pub queue_capacity: usize,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            mode: DispatchMode::PerChannel,
            workers: 8,
            queue_capacity: 256,
        }
    }
}

impl DispatchConfig {
    /// Sets the mode.
    pub fn mode(mut self, mode: DispatchMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets how many channels (or events, in concurrent mode) are handled at once.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Sets the per-channel queue capacity.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }
}

/// Waiting for an event failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// No matching event arrived in time.
    #[error("timed out waiting for an event")]
    Timeout,
    /// The dispatcher shut down first.
    #[error("the dispatcher shut down")]
    Closed,
}

struct Shared<C> {
    core: Arc<Core<C>>,
    pool: Pool<C>,
    waiters: Waiters,
}

/// The default [`Dispatcher`]: handlers registered per [`EventKind`], run on a bounded number
/// of tasks. Cheap to clone; clones share handlers and tasks.
///
/// - Every handler registered for a kind runs for each event of that kind, in registration
///   order, internal handlers ([`EventDispatcher::on_internal`]) first.
/// - A handler that returns an error or panics is reported to the error hook
///   ([`EventDispatcher::set_error_hook`], default `tracing::error!`); the next handlers and
///   events run normally.
/// - Ordering and concurrency follow [`DispatchMode`]; queues are bounded, so a slow handler
///   makes [`Dispatcher::dispatch`] wait instead of growing memory.
/// - Handler tasks are spawned on the current tokio runtime as events arrive and end when
///   their channel goes quiet; without a runtime, handlers run inline in `dispatch`.
/// - Events with neither a channel nor a clan id (lifecycle events, notifications, …) share
///   one ordering key; in per-channel mode there is no order *between* keys.
/// - [`Event::Unknown`] (a variant newer than this schema) is of kind
///   [`EventKind::Unknown`]: only handlers registered for that kind receive it.
/// - A handler must not await [`Dispatcher::shutdown`], nor `dispatch` into its own full queue:
///   both would wait for the handler itself. Spawn a task for such work.
pub struct EventDispatcher<C> {
    shared: Arc<Shared<C>>,
}

impl<C> Clone for EventDispatcher<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C> fmt::Debug for EventDispatcher<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventDispatcher").finish_non_exhaustive()
    }
}

impl<C: Clone + Send + Sync + 'static> Default for EventDispatcher<C> {
    fn default() -> Self {
        Self::new(DispatchConfig::default())
    }
}

impl<C: Clone + Send + Sync + 'static> EventDispatcher<C> {
    /// A dispatcher with no handlers.
    pub fn new(config: DispatchConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                core: Arc::new(Core {
                    registry: Arc::new(Registry::new()),
                    hook: ErrorHook::new(),
                }),
                pool: Pool::new(&config),
                waiters: Waiters::new(),
            }),
        }
    }

    fn register(
        &self,
        kind: EventKind,
        priority: Priority,
        handler: ErasedHandler<C>,
    ) -> Subscription {
        let registry = &self.shared.core.registry;
        let id = registry.add(kind, priority, handler);
        Subscription::new(kind, id, registry)
    }

    fn erase<F, R, M>(handler: F) -> ErasedHandler<C>
    where
        F: Fn(Arc<Event>, C) -> R + Send + Sync + 'static,
        R: HandlerReturn<M>,
    {
        Arc::new(move |event, ctx| handler(event, ctx).into_outcome())
    }

    /// Runs `handler` for every event of `kind`. The handler may be sync (returning `()` or
    /// `Result<(), E>`) or async (returning a future of either).
    pub fn on<F, R, M>(&self, kind: EventKind, handler: F) -> Subscription
    where
        F: Fn(Arc<Event>, C) -> R + Send + Sync + 'static,
        R: HandlerReturn<M>,
    {
        self.register(kind, Priority::User, Self::erase(handler))
    }

    /// Like [`EventDispatcher::on`], for the SDK's own handlers (caches, auto-joins): they run
    /// before every user handler of the same event.
    pub fn on_internal<F, R, M>(&self, kind: EventKind, handler: F) -> Subscription
    where
        F: Fn(Arc<Event>, C) -> R + Send + Sync + 'static,
        R: HandlerReturn<M>,
    {
        self.register(kind, Priority::Internal, Self::erase(handler))
    }

    /// Runs `handler` with the payload that `project` picks out of each event of `kind`.
    fn on_payload<T, P, F, R, M>(&self, kind: EventKind, project: P, handler: F) -> Subscription
    where
        T: Send + Sync + 'static,
        P: Fn(&Event) -> Option<Payload<T>> + Send + Sync + 'static,
        F: Fn(Payload<T>, C) -> R + Send + Sync + 'static,
        R: HandlerReturn<M>,
    {
        let erased: ErasedHandler<C> =
            Arc::new(move |event: Arc<Event>, ctx| match project(&event) {
                Some(payload) => handler(payload, ctx).into_outcome(),
                None => HandlerOutcome::Done(Ok(())),
            });
        self.register(kind, Priority::User, erased)
    }

    /// Resolves with the next event of `kind` dispatched after this call, or `None` if the
    /// dispatcher shuts down first. The wait is registered immediately, not at first poll.
    pub fn once(
        &self,
        kind: EventKind,
    ) -> impl Future<Output = Option<Arc<Event>>> + Send + 'static {
        let rx = self.shared.waiters.register(Some(kind), Box::new(|_| true));
        async move { rx.await.ok() }
    }

    /// Resolves with the next dispatched event `predicate` accepts, or fails after `timeout`
    /// (or if the dispatcher shuts down). The wait is registered immediately. `predicate` runs
    /// on the dispatching task for every event and must be quick.
    pub fn wait_for<P>(
        &self,
        predicate: P,
        timeout: Duration,
    ) -> impl Future<Output = Result<Arc<Event>, WaitError>> + Send + 'static
    where
        P: Fn(&Event) -> bool + Send + Sync + 'static,
    {
        let rx = self.shared.waiters.register(None, Box::new(predicate));
        async move {
            match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(event)) => Ok(event),
                Ok(Err(_)) => Err(WaitError::Closed),
                Err(_) => Err(WaitError::Timeout),
            }
        }
    }

    /// Replaces where handler failures go (default: `tracing::error!`).
    pub fn set_error_hook(&self, hook: impl Fn(HandlerFailure) + Send + Sync + 'static) {
        self.shared.core.hook.set(Arc::new(hook));
    }
}

#[async_trait::async_trait]
impl<C: Clone + Send + Sync + 'static> Dispatcher<C> for EventDispatcher<C> {
    async fn dispatch(&self, event: Event, ctx: C) {
        let event = Arc::new(event);
        self.shared.waiters.notify(&event);
        let Some(kind) = event.kind() else {
            tracing::debug!(event = ?event, "no handlers for unknown events");
            return;
        };
        self.shared
            .pool
            .submit(&self.shared.core, kind, event, ctx)
            .await;
    }

    fn interests(&self) -> EventKindSet {
        self.shared.core.registry.kinds() | self.shared.waiters.kinds()
    }

    async fn shutdown(&self) {
        self.shared.pool.shutdown().await;
        self.shared.waiters.close();
    }
}
