//! Where handlers run: keyed worker tasks with bounded queues, or bounded concurrent tasks.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt as _;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

use crate::dispatch::failure::{ErrorHook, FailureCause, HandlerFailure, panic_message};
use crate::dispatch::registry::{Entry, Registry};
use crate::dispatch::{DispatchConfig, DispatchMode};
use crate::event::Event;
use crate::kind::EventKind;

/// What workers need: the handlers and the error hook (not the pool, so dropping the last
/// dispatcher handle closes the queues and lets workers finish).
pub(crate) struct Core<C> {
    pub(crate) registry: Arc<Registry<C>>,
    pub(crate) hook: ErrorHook,
}

impl<C: Clone + Send + Sync + 'static> Core<C> {
    /// Runs `handlers` (those of `kind` when `event` was dispatched) in order, isolating
    /// failures.
    async fn run(&self, job: Job<C>) {
        let Job {
            kind,
            event,
            ctx,
            handlers,
        } = job;
        for entry in handlers.iter() {
            let call =
                AssertUnwindSafe(async { (entry.handler)(Arc::clone(&event), ctx.clone()).await });
            let cause = match call.catch_unwind().await {
                Ok(Ok(())) => continue,
                Ok(Err(error)) => FailureCause::Error(error),
                Err(payload) => FailureCause::Panic(panic_message(payload.as_ref())),
            };
            self.hook.report(HandlerFailure {
                kind,
                channel_id: event.channel_id(),
                cause,
            });
        }
    }
}

/// One event to handle, with the handlers registered for it at dispatch time.
struct Job<C> {
    kind: EventKind,
    event: Arc<Event>,
    ctx: C,
    handlers: Arc<[Entry<C>]>,
}

enum State<C> {
    Idle,
    Keyed {
        queues: Vec<mpsc::Sender<Job<C>>>,
        workers: Vec<JoinHandle<()>>,
    },
    Stopped,
}

/// Queues events to handlers according to the [`DispatchMode`].
pub(crate) struct Pool<C> {
    mode: DispatchMode,
    workers: usize,
    capacity: usize,
    state: Mutex<State<C>>,
    /// Concurrent mode: one permit per event being handled.
    permits: Arc<Semaphore>,
}

/// What `submit` decided, computed under the lock and acted on outside it.
enum Route<C> {
    Queue(mpsc::Sender<Job<C>>),
    Spawn,
    Inline,
    Dropped,
}

impl<C: Clone + Send + Sync + 'static> Pool<C> {
    pub(crate) fn new(config: &DispatchConfig) -> Self {
        let workers = config.workers.max(1);
        Self {
            mode: config.mode,
            workers: if config.mode == DispatchMode::Sequential {
                1
            } else {
                workers
            },
            capacity: config.queue_capacity.max(1),
            state: Mutex::new(State::Idle),
            permits: Arc::new(Semaphore::new(workers)),
        }
    }

    fn route(&self, core: &Arc<Core<C>>, key: i64) -> Route<C> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*state, State::Stopped) {
            return Route::Dropped;
        }
        if self.mode == DispatchMode::Concurrent {
            return if tokio::runtime::Handle::try_current().is_ok() {
                Route::Spawn
            } else {
                Route::Inline
            };
        }
        if matches!(*state, State::Idle) {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return Route::Inline;
            };
            let mut queues = Vec::with_capacity(self.workers);
            let mut workers = Vec::with_capacity(self.workers);
            for _ in 0..self.workers {
                let (tx, mut rx) = mpsc::channel::<Job<C>>(self.capacity);
                let core = Arc::clone(core);
                workers.push(runtime.spawn(async move {
                    while let Some(job) = rx.recv().await {
                        core.run(job).await;
                    }
                }));
                queues.push(tx);
            }
            *state = State::Keyed { queues, workers };
        }
        match &*state {
            State::Keyed { queues, .. } => {
                let index = worker_index(key, queues.len());
                queues
                    .get(index)
                    .map_or(Route::Dropped, |q| Route::Queue(q.clone()))
            }
            _ => Route::Dropped,
        }
    }

    /// Hands one event to its worker, waiting while that worker's queue is full. The
    /// handlers registered right now are the ones that will run.
    pub(crate) async fn submit(
        &self,
        core: &Arc<Core<C>>,
        kind: EventKind,
        event: Arc<Event>,
        ctx: C,
    ) {
        let handlers = core.registry.handlers(kind);
        if handlers.is_empty() {
            return;
        }
        let key = event.channel_id().or_else(|| event.clan_id()).unwrap_or(0);
        let job = Job {
            kind,
            event,
            ctx,
            handlers,
        };
        match self.route(core, key) {
            Route::Queue(queue) => {
                if queue.send(job).await.is_err() {
                    tracing::debug!(kind = %kind, "dispatcher stopped; event dropped");
                }
            }
            Route::Spawn => {
                let Ok(permit) = Arc::clone(&self.permits).acquire_owned().await else {
                    tracing::debug!(kind = %kind, "dispatcher stopped; event dropped");
                    return;
                };
                let core = Arc::clone(core);
                tokio::spawn(async move {
                    core.run(job).await;
                    drop(permit);
                });
            }
            Route::Inline => core.run(job).await,
            Route::Dropped => tracing::debug!(kind = %kind, "dispatcher stopped; event dropped"),
        }
    }

    /// Stops taking events, then waits for everything queued to be handled.
    pub(crate) async fn shutdown(&self) {
        let previous = std::mem::replace(
            &mut *self.state.lock().unwrap_or_else(|p| p.into_inner()),
            State::Stopped,
        );
        if let State::Keyed { queues, workers } = previous {
            drop(queues);
            for worker in workers {
                if let Err(e) = worker.await {
                    tracing::warn!(error = %e, "dispatch worker ended abnormally");
                }
            }
        }
        if self.mode == DispatchMode::Concurrent {
            let all = u32::try_from(self.workers).unwrap_or(u32::MAX);
            // Keep every permit: a dispatch still waiting for one must not start a handler
            // after shutdown returned. Closing then fails such waits.
            if let Ok(permits) = self.permits.acquire_many(all).await {
                permits.forget();
            }
            self.permits.close();
        }
    }
}

/// Spreads keys over workers; one key always lands on the same worker, which keeps its order.
fn worker_index(key: i64, workers: usize) -> usize {
    // Fibonacci hashing: ids are often sequential or share low bits.
    let hash = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((hash >> 32) % workers.max(1) as u64) as usize
}
