//! Events as a [`Stream`](futures_core::Stream), for bots written as a loop.

use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use mezon_events::{Event, EventKindSet};
use tokio::sync::mpsc;

use crate::client::Client;

/// A bounded stream of events (see [`Client::events`]). Ends when the client stops.
#[derive(Debug)]
#[must_use]
pub struct EventStream {
    rx: mpsc::Receiver<Event>,
}

impl EventStream {
    /// The next event; `None` once the client has stopped. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }
}

impl futures_core::Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.rx.poll_recv(cx)
    }
}

struct Sink {
    filter: EventKindSet,
    tx: mpsc::Sender<Event>,
}

/// Fans events out to the open streams.
pub(crate) struct StreamHub {
    capacity: usize,
    sinks: Mutex<Vec<Sink>>,
    closed: AtomicBool,
    dropped: AtomicU64,
}

impl StreamHub {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            sinks: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
        }
    }

    fn sinks(&self) -> std::sync::MutexGuard<'_, Vec<Sink>> {
        self.sinks.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn subscribe(&self, filter: EventKindSet) -> EventStream {
        let (tx, rx) = mpsc::channel(self.capacity);
        if !self.closed.load(Ordering::Acquire) {
            self.sinks().push(Sink { filter, tx });
        }
        EventStream { rx }
    }

    /// The kinds some open stream wants.
    pub(crate) fn interests(&self) -> EventKindSet {
        self.sinks()
            .iter()
            .filter(|s| !s.tx.is_closed())
            .fold(EventKindSet::empty(), |acc, s| acc.union(s.filter))
    }

    /// Hands `event` to every stream that wants it. A stream whose reader lags behind by a
    /// full buffer misses the event (counted and logged) instead of stalling the client.
    pub(crate) fn publish(&self, event: &Event) {
        let Some(kind) = event.kind() else {
            return;
        };
        self.sinks().retain(|sink| {
            if !sink.filter.contains(kind) {
                return !sink.tx.is_closed();
            }
            match sink.tx.try_send(event.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                    tracing::warn!(
                        kind = kind.name(),
                        dropped,
                        "event stream full; event dropped"
                    );
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
    }

    /// Ends every stream.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.sinks().clear();
    }
}

impl Client {
    /// A stream of every event (pushed events and lifecycle events), bounded by
    /// [`ClientConfig::event_stream_capacity`](crate::ClientConfig::event_stream_capacity).
    ///
    /// ```no_run
    /// use futures_util::StreamExt as _;
    /// # async fn demo(client: mezon::Client) {
    /// let mut events = client.events();
    /// while let Some(event) = events.next().await {
    ///     println!("{}", event.name());
    /// }
    /// # }
    /// ```
    pub fn events(&self) -> EventStream {
        self.inner.streams.subscribe(EventKindSet::all())
    }

    /// A stream of the events whose kind is in `kinds`.
    pub fn events_filtered(&self, kinds: EventKindSet) -> EventStream {
        self.inner.streams.subscribe(kinds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mezon_events::EventKind;
    use mezon_events::lifecycle::Ready;
    use std::sync::Arc;

    fn ready() -> Event {
        Event::Ready(Arc::new(Ready::default()))
    }

    #[tokio::test]
    async fn filters_bound_and_close() {
        let hub = StreamHub::new(2);
        let mut all = hub.subscribe(EventKindSet::all());
        let mut none = hub.subscribe(EventKindSet::of(EventKind::ChannelMessage));
        assert!(hub.interests().contains(EventKind::Ready));
        for _ in 0..3 {
            hub.publish(&ready());
        }
        assert_eq!(hub.dropped.load(Ordering::Relaxed), 1);
        assert!(all.recv().await.is_some());
        assert!(all.recv().await.is_some());
        hub.close();
        assert!(all.recv().await.is_none());
        assert!(none.recv().await.is_none());
    }
}
