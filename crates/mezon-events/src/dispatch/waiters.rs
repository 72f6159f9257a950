//! One-shot waits for a future event (`once`, `wait_for`).

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::event::Event;
use crate::kind::{EventKind, EventKindSet};

type Predicate = Box<dyn Fn(&Event) -> bool + Send + Sync>;

struct Waiter {
    /// The kind waited for, or `None` when only the predicate knows.
    kind: Option<EventKind>,
    predicate: Predicate,
    tx: oneshot::Sender<Arc<Event>>,
}

pub(crate) struct Waiters {
    /// `None` once the dispatcher shut down.
    list: Mutex<Option<Vec<Waiter>>>,
}

impl Waiters {
    pub(crate) fn new() -> Self {
        Self {
            list: Mutex::new(Some(Vec::new())),
        }
    }

    /// Registers a wait; the receiver yields the first matching event, or errors if the
    /// dispatcher shuts down first.
    pub(crate) fn register(
        &self,
        kind: Option<EventKind>,
        predicate: Predicate,
    ) -> oneshot::Receiver<Arc<Event>> {
        let (tx, rx) = oneshot::channel();
        let mut list = self.list.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = list.as_mut() {
            // Drop waits whose futures were dropped (timed out, cancelled).
            list.retain(|w| !w.tx.is_closed());
            list.push(Waiter {
                kind,
                predicate,
                tx,
            });
        }
        rx
    }

    /// Hands `event` to every wait it matches.
    pub(crate) fn notify(&self, event: &Arc<Event>) {
        let mut guard = self.list.lock().unwrap_or_else(|p| p.into_inner());
        let Some(list) = guard.as_mut() else { return };
        if list.is_empty() {
            return;
        }
        let kind = event.kind();
        let mut i = 0;
        while i < list.len() {
            let waiter = &list[i];
            let wanted = waiter.kind.is_none_or(|k| Some(k) == kind);
            // A panicking predicate must not take the dispatching task down; it ends its wait.
            let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                wanted && (waiter.predicate)(event)
            }));
            let (matches, failed) = match verdict {
                Ok(matches) => (matches, false),
                Err(_) => {
                    tracing::error!("a wait_for predicate panicked; that wait is dropped");
                    (false, true)
                }
            };
            if waiter.tx.is_closed() || matches || failed {
                let waiter = list.swap_remove(i);
                if matches {
                    let _ = waiter.tx.send(Arc::clone(event));
                }
            } else {
                i += 1;
            }
        }
    }

    /// The kinds pending waits need; every kind if a wait has only a predicate.
    pub(crate) fn kinds(&self) -> EventKindSet {
        let guard = self.list.lock().unwrap_or_else(|p| p.into_inner());
        let Some(list) = guard.as_ref() else {
            return EventKindSet::empty();
        };
        let mut set = EventKindSet::empty();
        for waiter in list.iter().filter(|w| !w.tx.is_closed()) {
            match waiter.kind {
                Some(kind) => set.insert(kind),
                None => return EventKindSet::all(),
            };
        }
        set
    }

    /// Fails every pending wait and refuses new ones.
    pub(crate) fn close(&self) {
        self.list.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}
