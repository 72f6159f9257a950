//! Where handlers run: one task per busy ordering key (channel) with a bounded queue, or one
//! task per event; at most `workers` such tasks at once.
//!
//! A key's task lives while its key has events queued and retires when the queue is empty,
//! so a slow handler holds up its own channel only. Every task holds a permit of one
//! semaphore: when all are taken, `dispatch` waits (backpressure), and shutdown waits by
//! taking them all.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::FutureExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::dispatch::failure::{ErrorHook, FailureCause, HandlerFailure, panic_message};
use crate::dispatch::handler::HandlerOutcome;
use crate::dispatch::registry::{Entry, Registry};
use crate::dispatch::{DispatchConfig, DispatchMode};
use crate::event::Event;
use crate::kind::EventKind;

/// What tasks need: the handlers and the error hook (not the pool, so dropping the last
/// dispatcher handle closes the queues and lets tasks finish).
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
            // A sync handler has run when the call returns: no future, no box.
            let called = std::panic::catch_unwind(AssertUnwindSafe(|| {
                (entry.handler)(Arc::clone(&event), ctx.clone())
            }));
            let result = match called {
                Ok(HandlerOutcome::Done(result)) => Ok(result),
                Ok(HandlerOutcome::Pending(future)) => {
                    AssertUnwindSafe(future).catch_unwind().await
                }
                Err(payload) => Err(payload),
            };
            let cause = match result {
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

/// The queues of the keys that have a task, or `None` once the pool stopped.
type Queues<C> = Arc<Mutex<Option<HashMap<i64, mpsc::Sender<Job<C>>>>>>;

fn lock<C>(queues: &Queues<C>) -> MutexGuard<'_, Option<HashMap<i64, mpsc::Sender<Job<C>>>>> {
    queues.lock().unwrap_or_else(|p| p.into_inner())
}

/// What one routing attempt of a keyed job decided (under the lock; acted on outside it).
enum Step<C> {
    /// Queued, or handed to a new task.
    Done,
    /// The pool stopped.
    Dropped,
    /// The key's queue is full: wait for room.
    Wait(mpsc::Sender<Job<C>>, Job<C>),
    /// The key has no task and no permit is free: wait for one.
    NeedPermit(Job<C>),
}

/// Queues events to handlers according to the [`DispatchMode`].
pub(crate) struct Pool<C> {
    mode: DispatchMode,
    /// How many tasks may run at once (the permits of `permits`).
    tasks: usize,
    capacity: usize,
    queues: Queues<C>,
    permits: Arc<Semaphore>,
}

impl<C: Clone + Send + Sync + 'static> Pool<C> {
    pub(crate) fn new(config: &DispatchConfig) -> Self {
        let tasks = match config.mode {
            DispatchMode::Sequential => 1,
            _ => config.workers.max(1),
        };
        Self {
            mode: config.mode,
            tasks,
            capacity: config.queue_capacity.max(1),
            queues: Arc::new(Mutex::new(Some(HashMap::new()))),
            permits: Arc::new(Semaphore::new(tasks)),
        }
    }

    /// Hands one event to its task, waiting while its queue is full or every task is busy.
    /// The handlers registered right now are the ones that will run.
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
        let key = match self.mode {
            DispatchMode::Sequential => 0,
            _ => event.channel_id().or_else(|| event.clan_id()).unwrap_or(0),
        };
        let job = Job {
            kind,
            event,
            ctx,
            handlers,
        };
        if lock(&self.queues).is_none() {
            tracing::debug!(kind = %kind, "dispatcher stopped; event dropped");
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            core.run(job).await;
            return;
        };
        if self.mode == DispatchMode::Concurrent {
            let Ok(permit) = Arc::clone(&self.permits).acquire_owned().await else {
                tracing::debug!(kind = %kind, "dispatcher stopped; event dropped");
                return;
            };
            let core = Arc::clone(core);
            runtime.spawn(async move {
                core.run(job).await;
                drop(permit);
            });
            return;
        }
        self.submit_keyed(core, &runtime, key, job).await;
    }

    /// Queues `job` behind the earlier events of `key`, starting the key's task if it has
    /// none. Ends when the job is queued: a retired task or a freed permit only means
    /// another try.
    async fn submit_keyed(
        &self,
        core: &Arc<Core<C>>,
        runtime: &tokio::runtime::Handle,
        key: i64,
        mut job: Job<C>,
    ) {
        let kind = job.kind;
        let mut permit = None;
        loop {
            match self.step(core, runtime, key, job, &mut permit) {
                Step::Done => return,
                Step::Dropped => {
                    tracing::debug!(kind = %kind, "dispatcher stopped; event dropped");
                    return;
                }
                Step::Wait(queue, waiting) => match queue.send(waiting).await {
                    Ok(()) => return,
                    // The task drained its queue and retired meanwhile: start a new one.
                    Err(mpsc::error::SendError(returned)) => job = returned,
                },
                Step::NeedPermit(waiting) => {
                    job = waiting;
                    match Arc::clone(&self.permits).acquire_owned().await {
                        Ok(p) => permit = Some(p),
                        Err(_) => {
                            tracing::debug!(kind = %kind, "dispatcher stopped; event dropped");
                            return;
                        }
                    }
                }
            }
        }
    }

    fn step(
        &self,
        core: &Arc<Core<C>>,
        runtime: &tokio::runtime::Handle,
        key: i64,
        job: Job<C>,
        permit: &mut Option<OwnedSemaphorePermit>,
    ) -> Step<C> {
        let mut guard = lock(&self.queues);
        let Some(queues) = guard.as_mut() else {
            return Step::Dropped;
        };
        let job = match queues.get(&key) {
            Some(queue) => match queue.try_send(job) {
                Ok(()) => return Step::Done,
                Err(mpsc::error::TrySendError::Full(job)) => return Step::Wait(queue.clone(), job),
                // Only if the task died outside a handler; replace it.
                Err(mpsc::error::TrySendError::Closed(job)) => job,
            },
            None => job,
        };
        let permit = match permit
            .take()
            .map_or_else(|| Arc::clone(&self.permits).try_acquire_owned(), Ok)
        {
            Ok(permit) => permit,
            Err(_) => return Step::NeedPermit(job),
        };
        let (tx, rx) = mpsc::channel(self.capacity);
        queues.insert(key, tx);
        runtime.spawn(drain(
            Arc::clone(core),
            Arc::clone(&self.queues),
            key,
            job,
            rx,
            permit,
        ));
        Step::Done
    }

    /// Stops taking events, then waits for everything queued or running to be handled.
    pub(crate) async fn shutdown(&self) {
        // Dropping the senders lets each task finish its queue and retire.
        drop(lock(&self.queues).take());
        let all = u32::try_from(self.tasks).unwrap_or(u32::MAX);
        // Keep every permit: a dispatch still waiting for one must not start a handler
        // after shutdown returned. Closing then fails such waits.
        if let Ok(permits) = self.permits.acquire_many(all).await {
            permits.forget();
        }
        self.permits.close();
    }
}

/// The task of one key: handles `first`, then the key's queue in order, and retires once
/// the queue is empty.
async fn drain<C: Clone + Send + Sync + 'static>(
    core: Arc<Core<C>>,
    queues: Queues<C>,
    key: i64,
    first: Job<C>,
    mut rx: mpsc::Receiver<Job<C>>,
    permit: OwnedSemaphorePermit,
) {
    core.run(first).await;
    loop {
        if let Ok(job) = rx.try_recv() {
            core.run(job).await;
            continue;
        }
        {
            let mut guard = lock(&queues);
            // A job queued under the lock since the check above is still ours to run.
            if let Ok(job) = rx.try_recv() {
                drop(guard);
                core.run(job).await;
                continue;
            }
            if let Some(queues) = guard.as_mut() {
                queues.remove(&key);
            }
        }
        // No one can find this queue any more; sends already under way still land, in order.
        rx.close();
        while let Some(job) = rx.recv().await {
            core.run(job).await;
        }
        break;
    }
    drop(permit);
}
