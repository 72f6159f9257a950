//! Inbound events with the envelope bytes the server sent, for code that forwards them
//! elsewhere (a message broker, a log) without re-encoding: [`Client::raw_events`].
//!
//! Unlike [`Client::events`], these streams never drop an event: when one is full, the
//! client's inbound loop waits for its reader, and that backpressure reaches the socket.

use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use mezon_events::{Event, EventKind, EventKindSet};
use tokio::sync::mpsc;

use crate::client::Client;

/// One inbound event: decoded, and (for events the server pushed) the Envelope bytes exactly as
/// they arrived.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RawEvent {
    /// The decoded event.
    pub event: Event,
    /// The serialized `Envelope` as received (cid 0); `None` for lifecycle events, which the
    /// client produces itself.
    pub frame: Option<Bytes>,
}

impl RawEvent {
    /// The event's kind.
    pub fn kind(&self) -> Option<EventKind> {
        self.event.kind()
    }
}

/// A bounded, lossless stream of [`RawEvent`]s (see [`Client::raw_events`]). Ends when the
/// client stops; dropping it unsubscribes.
#[derive(Debug)]
pub struct RawEventStream {
    rx: mpsc::Receiver<RawEvent>,
}

impl RawEventStream {
    /// The next event; `None` once the client has stopped. Cancel-safe.
    pub async fn recv(&mut self) -> Option<RawEvent> {
        self.rx.recv().await
    }
}

impl futures_core::Stream for RawEventStream {
    type Item = RawEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<RawEvent>> {
        self.rx.poll_recv(cx)
    }
}

struct Sink {
    filter: EventKindSet,
    tx: mpsc::Sender<RawEvent>,
}

/// The open raw streams.
pub(crate) struct RawHub {
    sinks: Mutex<Vec<Sink>>,
    /// Whether any stream is open, so the inbound loop pays one atomic load when none is.
    active: AtomicBool,
    closed: AtomicBool,
}

impl RawHub {
    pub(crate) fn new() -> Self {
        Self {
            sinks: Mutex::new(Vec::new()),
            active: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }

    fn sinks(&self) -> std::sync::MutexGuard<'_, Vec<Sink>> {
        self.sinks.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn subscribe(&self, filter: EventKindSet, capacity: usize) -> RawEventStream {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        if !self.closed.load(Ordering::Acquire) {
            self.sinks().push(Sink { filter, tx });
            self.active.store(true, Ordering::Release);
        }
        RawEventStream { rx }
    }

    /// The kinds some open stream wants.
    pub(crate) fn interests(&self) -> EventKindSet {
        if !self.active.load(Ordering::Acquire) {
            return EventKindSet::empty();
        }
        self.sinks()
            .iter()
            .filter(|s| !s.tx.is_closed())
            .fold(EventKindSet::empty(), |acc, s| acc.union(s.filter))
    }

    /// Hands the event to every stream that wants it, waiting while a stream is full.
    pub(crate) async fn publish(&self, event: &Event, frame: Option<&Bytes>) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        let Some(kind) = event.kind() else {
            return;
        };
        let targets: Vec<mpsc::Sender<RawEvent>> = self
            .sinks()
            .iter()
            .filter(|s| s.filter.contains(kind))
            .map(|s| s.tx.clone())
            .collect();
        let mut gone = false;
        for tx in targets {
            let raw = RawEvent {
                event: event.clone(),
                frame: frame.cloned(),
            };
            gone |= tx.send(raw).await.is_err();
        }
        if gone {
            let mut sinks = self.sinks();
            sinks.retain(|s| !s.tx.is_closed());
            self.active.store(!sinks.is_empty(), Ordering::Release);
        }
    }

    /// Lifecycle events (connected, ready, …) have no frame; the inbound loop hands over the
    /// others with theirs.
    pub(crate) async fn publish_lifecycle(&self, event: &Event) {
        if event.kind().is_some_and(EventKind::is_lifecycle) {
            self.publish(event, None).await;
        }
    }

    /// Ends every stream (after the events already in them).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.sinks().clear();
        self.active.store(false, Ordering::Release);
    }
}

impl Client {
    /// A lossless stream of the inbound events whose kind is in `kinds`, each with the
    /// Envelope bytes as the server sent them, holding at most `capacity` events.
    ///
    /// Made for forwarding events elsewhere (a broker, an archive): when the stream is full
    /// the client waits for its reader instead of dropping events, so a reader that stops
    /// reading stalls the whole client. The bot's own messages are left out unless
    /// [`ClientBuilder::receive_own_messages`](crate::ClientBuilder::receive_own_messages)
    /// is on, as for handlers. Subscribe before [`Client::login`] to see every event.
    ///
    /// ```no_run
    /// # async fn demo(client: mezon::Client) {
    /// let mut raw = client.raw_events(mezon::EventKindSet::all(), 256);
    /// while let Some(item) = raw.recv().await {
    ///     let bytes = item.frame.as_ref().map_or(0, |f| f.len());
    ///     println!("{} ({bytes} bytes)", item.event.name());
    /// }
    /// # }
    /// ```
    pub fn raw_events(&self, kinds: EventKindSet, capacity: usize) -> RawEventStream {
        self.inner.raw.subscribe(kinds, capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mezon_events::lifecycle::Ready;
    use std::sync::Arc;

    fn ready() -> Event {
        Event::Ready(Arc::new(Ready::default()))
    }

    #[tokio::test]
    async fn waits_instead_of_dropping_and_filters() {
        let hub = Arc::new(RawHub::new());
        assert!(hub.interests().is_empty());
        let mut all = hub.subscribe(EventKindSet::all(), 1);
        let mut none = hub.subscribe(EventKindSet::of(EventKind::ChannelMessage), 1);
        assert!(hub.interests().contains(EventKind::Ready));
        hub.publish_lifecycle(&ready()).await;
        // The stream is full: the second publish waits until the reader takes one.
        let second = tokio::spawn({
            let hub = hub.clone();
            async move { hub.publish(&ready(), Some(&Bytes::from_static(b"x"))).await }
        });
        tokio::task::yield_now().await;
        assert!(!second.is_finished());
        assert!(all.recv().await.is_some_and(|e| e.frame.is_none()));
        second.await.unwrap();
        assert_eq!(
            all.recv().await.and_then(|e| e.frame),
            Some(Bytes::from_static(b"x"))
        );
        hub.close();
        assert!(all.recv().await.is_none());
        assert!(none.recv().await.is_none());
    }

    #[tokio::test]
    async fn a_dropped_stream_unsubscribes() {
        let hub = RawHub::new();
        drop(hub.subscribe(EventKindSet::all(), 1));
        hub.publish(&ready(), None).await;
        assert!(hub.interests().is_empty());
        assert!(!hub.active.load(Ordering::Acquire));
    }
}
