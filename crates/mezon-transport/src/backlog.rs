//! The socket reader's own bounded hold of events the inbound queue has no room for yet.
//!
//! While it has room the reader keeps reading, so answers and pongs behind a burst of events
//! still reach their callers; when it is full (by count or by bytes) the reader stops reading
//! and the consumer's backpressure reaches the socket. What it holds is drawn from the
//! transport's memory budget; an exhausted budget also counts as full.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::budget::{Budget, Charge};
use crate::inbound::Inbound;

/// Events read but not yet taken by the consumer, bounded by count and by bytes.
#[derive(Debug)]
pub(crate) struct Backlog {
    items: VecDeque<Inbound>,
    bytes: usize,
    max_items: usize,
    max_bytes: usize,
    charge: Charge,
    budget: Arc<Budget>,
}

impl Backlog {
    pub(crate) fn new(max_items: usize, max_bytes: usize, budget: &Arc<Budget>) -> Self {
        Self {
            items: VecDeque::new(),
            bytes: 0,
            max_items: max_items.max(1),
            max_bytes: max_bytes.max(1),
            charge: Charge::new(budget),
            budget: Arc::clone(budget),
        }
    }

    /// A backlog with nothing in it (a reader that ended without handing one over).
    pub(crate) fn empty() -> Self {
        Self::new(1, 1, &Budget::new(1))
    }

    /// Whether the reader must stop reading until the consumer takes something.
    pub(crate) fn is_full(&self) -> bool {
        self.items.len() >= self.max_items
            || self.bytes >= self.max_bytes
            || (self.bytes > 0 && self.budget.exhausted())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Adds an item. Callers check [`is_full`](Self::is_full) before reading the next frame,
    /// so the bounds are exceeded by at most one frame.
    pub(crate) fn push(&mut self, item: Inbound) {
        let weight = weight(&item);
        self.bytes += weight;
        self.charge.grow(weight);
        self.items.push_back(item);
    }

    pub(crate) fn pop(&mut self) -> Option<Inbound> {
        let item = self.items.pop_front()?;
        let weight = weight(&item);
        self.bytes -= weight;
        self.charge.shrink(weight);
        Some(item)
    }

    /// Everything held, oldest first.
    pub(crate) fn drain(self) -> impl Iterator<Item = Inbound> {
        self.items.into_iter()
    }
}

/// The bytes an item keeps alive (reports of bad frames hold none of the frame).
fn weight(item: &Inbound) -> usize {
    match item {
        Inbound::Envelope(bytes) => bytes.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn event(len: usize) -> Inbound {
        Inbound::Envelope(Bytes::from(vec![0u8; len]))
    }

    #[test]
    fn full_by_count() {
        let mut backlog = Backlog::new(2, 1 << 20, &Budget::new(usize::MAX));
        backlog.push(event(1));
        assert!(!backlog.is_full());
        backlog.push(event(1));
        assert!(backlog.is_full());
        assert!(backlog.pop().is_some());
        assert!(!backlog.is_full());
    }

    #[test]
    fn full_by_bytes_and_freed_on_pop() {
        let mut backlog = Backlog::new(100, 1000, &Budget::new(usize::MAX));
        backlog.push(event(600));
        assert!(!backlog.is_full());
        backlog.push(event(600));
        assert!(backlog.is_full(), "1200 bytes held");
        assert!(backlog.pop().is_some());
        assert!(!backlog.is_full(), "600 bytes held");
        assert!(backlog.pop().is_some());
        assert!(backlog.pop().is_none());
        assert!(backlog.is_empty());
    }

    #[test]
    fn full_when_the_shared_budget_is_spent() {
        let budget = Budget::new(1000);
        let mut backlog = Backlog::new(100, 1 << 20, &budget);
        assert!(!backlog.is_full(), "an empty backlog never waits");
        backlog.push(event(700));
        assert!(!backlog.is_full());
        backlog.push(event(700));
        assert!(backlog.is_full(), "1400 bytes of a 1000-byte budget");
        assert_eq!(budget.used(), 1400);
        backlog.pop();
        assert!(!backlog.is_full());
        drop(backlog);
        assert_eq!(budget.used(), 0, "dropping gives everything back");
    }

    #[test]
    fn keeps_order() {
        let mut backlog = Backlog::new(10, 1000, &Budget::new(usize::MAX));
        for len in 1..=3 {
            backlog.push(event(len));
        }
        let lens: Vec<usize> = backlog
            .drain()
            .map(|item| match item {
                Inbound::Envelope(bytes) => bytes.len(),
                _ => 0,
            })
            .collect();
        assert_eq!(lens, [1, 2, 3]);
    }
}
