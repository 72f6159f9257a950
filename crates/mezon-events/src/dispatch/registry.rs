//! Which handlers run for which kind, in what order; and the [`Subscription`] handle.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};

use crate::dispatch::handler::ErasedHandler;
use crate::kind::{EventKind, EventKindSet};

/// Whether a handler belongs to the SDK (runs first) or to the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    Internal,
    User,
}

pub(crate) struct Entry<C> {
    id: u64,
    pub(crate) handler: ErasedHandler<C>,
}

impl<C> Clone for Entry<C> {
    fn clone(&self) -> Self {
        Self {
            id: self.id,
            handler: Arc::clone(&self.handler),
        }
    }
}

struct Slot<C> {
    internal: Vec<Entry<C>>,
    user: Vec<Entry<C>>,
    /// `internal` then `user`, rebuilt on every change so dispatch only clones an `Arc`.
    snapshot: Arc<[Entry<C>]>,
}

impl<C> Slot<C> {
    fn rebuild(&mut self) {
        self.snapshot = self.internal.iter().chain(&self.user).cloned().collect();
    }
}

pub(crate) struct Registry<C> {
    next_id: AtomicU64,
    slots: RwLock<Vec<Slot<C>>>,
    /// The kinds with at least one handler, kept in step with `slots` (updated under its write
    /// lock) so the per-event interest check does not scan every slot.
    kinds: RwLock<EventKindSet>,
}

impl<C> Registry<C> {
    pub(crate) fn new() -> Self {
        let slots = (0..EventKind::COUNT)
            .map(|_| Slot {
                internal: Vec::new(),
                user: Vec::new(),
                snapshot: Arc::from(Vec::new()),
            })
            .collect();
        Self {
            next_id: AtomicU64::new(1),
            slots: RwLock::new(slots),
            kinds: RwLock::new(EventKindSet::empty()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Slot<C>>> {
        self.slots.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Slot<C>>> {
        self.slots.write().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn add(
        &self,
        kind: EventKind,
        priority: Priority,
        handler: ErasedHandler<C>,
    ) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.write();
        if let Some(slot) = slots.get_mut(kind.index()) {
            let entry = Entry { id, handler };
            match priority {
                Priority::Internal => slot.internal.push(entry),
                Priority::User => slot.user.push(entry),
            }
            slot.rebuild();
            self.set_interest(kind, true);
        }
        id
    }

    /// Records whether `kind` has handlers; called with the `slots` write lock held.
    fn set_interest(&self, kind: EventKind, wanted: bool) {
        let mut kinds = self.kinds.write().unwrap_or_else(|p| p.into_inner());
        if wanted {
            kinds.insert(kind);
        } else {
            kinds.remove(kind);
        }
    }

    fn remove(&self, kind: EventKind, id: u64) -> bool {
        let mut slots = self.write();
        let Some(slot) = slots.get_mut(kind.index()) else {
            return false;
        };
        let before = slot.internal.len() + slot.user.len();
        slot.internal.retain(|e| e.id != id);
        slot.user.retain(|e| e.id != id);
        let removed = slot.internal.len() + slot.user.len() != before;
        if removed {
            slot.rebuild();
            let wanted = !slot.snapshot.is_empty();
            self.set_interest(kind, wanted);
        }
        removed
    }

    /// The handlers of `kind`, internal ones first, each group in registration order.
    pub(crate) fn handlers(&self, kind: EventKind) -> Arc<[Entry<C>]> {
        self.read()
            .get(kind.index())
            .map_or_else(|| Arc::from(Vec::new()), |slot| Arc::clone(&slot.snapshot))
    }

    pub(crate) fn kinds(&self) -> EventKindSet {
        *self.kinds.read().unwrap_or_else(|p| p.into_inner())
    }
}

trait Unregister: Send + Sync {
    fn unregister(&self, kind: EventKind, id: u64) -> bool;
}

impl<C: Send + Sync> Unregister for Registry<C> {
    fn unregister(&self, kind: EventKind, id: u64) -> bool {
        self.remove(kind, id)
    }
}

/// The handle a registration returns.
///
/// Dropping it keeps the handler registered (bots usually register once for their whole
/// life); call [`Subscription::unsubscribe`] to remove it.
pub struct Subscription {
    kind: EventKind,
    id: u64,
    registry: Weak<dyn Unregister>,
}

impl Subscription {
    pub(crate) fn new<C: Send + Sync + 'static>(
        kind: EventKind,
        id: u64,
        registry: &Arc<Registry<C>>,
    ) -> Self {
        let registry: Arc<dyn Unregister> = registry.clone();
        Self {
            kind,
            id,
            registry: Arc::downgrade(&registry),
        }
    }

    /// The kind the handler is registered for.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// Removes the handler: events dispatched afterwards no longer reach it (events already
    /// dispatched still do). Returns whether it was still registered.
    pub fn unsubscribe(self) -> bool {
        self.registry
            .upgrade()
            .is_some_and(|registry| registry.unregister(self.kind, self.id))
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .finish()
    }
}
