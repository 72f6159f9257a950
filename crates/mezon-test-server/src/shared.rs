//! What every task of one server shares: the state lock, a change signal for waiters, and
//! the shutdown switch.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::state::State;

#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Bumped after anything a test may wait for changed (connections, received envelopes).
    changes: watch::Sender<u64>,
    pub(crate) shutdown: CancellationToken,
    /// Whether sockets are stalled (neither read nor written).
    pub(crate) stalled: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new(state: State) -> Self {
        Self {
            state: Mutex::new(state),
            changes: watch::Sender::new(0),
            shutdown: CancellationToken::new(),
            stalled: watch::Sender::new(false),
        }
    }

    /// Locks the state. The lock is never held across an await; a panic while holding it
    /// leaves plain data behind, so a poisoned lock is still usable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn notify(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}
