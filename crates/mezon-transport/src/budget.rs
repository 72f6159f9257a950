//! The transport's memory budget: one count of bytes that the socket reader's read-ahead and
//! raw-answer reassembly draw from, so a server cannot make the client hold more than
//! [`TransportConfig::memory_budget`](crate::TransportConfig::memory_budget) however it
//! splits its frames and answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes in use out of a fixed limit. Shared by every connection of one transport.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: usize,
    used: AtomicUsize,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit: limit.max(1),
            used: AtomicUsize::new(0),
        })
    }

    /// Takes `bytes` if they fit; `false` (taking nothing) if they do not.
    fn try_take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    /// Takes `bytes` whether or not they fit (for a frame already read).
    fn take(&self, bytes: usize) {
        self.used.fetch_add(bytes, Ordering::AcqRel);
    }

    fn give(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Whether nothing is left: the reader stops reading until something is given back.
    pub(crate) fn exhausted(&self) -> bool {
        self.used.load(Ordering::Acquire) >= self.limit
    }

    /// Bytes in use now.
    #[cfg(test)]
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }
}

/// Bytes held against a [`Budget`], given back when dropped.
#[derive(Debug)]
pub(crate) struct Charge {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Charge {
    pub(crate) fn new(budget: &Arc<Budget>) -> Self {
        Self {
            budget: Arc::clone(budget),
            bytes: 0,
        }
    }

    /// Adds `bytes` if the budget has them; `false` otherwise.
    pub(crate) fn try_grow(&mut self, bytes: usize) -> bool {
        let ok = self.budget.try_take(bytes);
        if ok {
            self.bytes += bytes;
        }
        ok
    }

    /// Adds `bytes` even past the limit.
    pub(crate) fn grow(&mut self, bytes: usize) {
        self.budget.take(bytes);
        self.bytes += bytes;
    }

    /// Gives back `bytes` (at most what is held).
    pub(crate) fn shrink(&mut self, bytes: usize) {
        let bytes = bytes.min(self.bytes);
        self.budget.give(bytes);
        self.bytes -= bytes;
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.give(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_bounded_and_given_back() {
        let budget = Budget::new(100);
        let mut a = Charge::new(&budget);
        assert!(a.try_grow(60));
        let mut b = Charge::new(&budget);
        assert!(!b.try_grow(50), "60 + 50 > 100");
        assert!(b.try_grow(40));
        assert!(budget.exhausted());
        a.shrink(10);
        assert!(!budget.exhausted());
        drop(a);
        assert_eq!(budget.used(), 40);
        b.grow(200);
        assert!(budget.exhausted());
        drop(b);
        assert_eq!(budget.used(), 0);
    }
}
