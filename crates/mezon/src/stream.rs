//! Events as a [`Stream`](futures_core::Stream), for bots written as a loop.
//!
//! A stream is lossless: when its buffer is full, the client waits for the reader, exactly as
//! it waits for a busy handler (answers to requests keep flowing meanwhile). A lossy stream
//! ([`Client::events_lossy`]) never holds the client up; it skips events instead and says how
//! many it skipped ([`Lagged`]).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use mezon_events::{Event, EventKindSet};
use tokio::sync::{mpsc, watch};

use crate::client::Client;

/// A bounded, lossless stream of events (see [`Client::events`]). Ends when the client stops.
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

/// A lossy stream skipped events because its reader fell behind by a full buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the event stream skipped {0} events")]
pub struct Lagged(pub u64);

/// A bounded stream that skips events rather than slow the client down (see
/// [`Client::events_lossy`]). Every gap is reported as `Err(Lagged(n))` in its place.
#[derive(Debug)]
pub struct LossyEventStream {
    rx: mpsc::Receiver<(u64, Event)>,
    /// An event that arrived after a gap, returned after the gap is reported.
    next: Option<Event>,
    /// Skips not yet attached to a delivered event (reported at the end).
    unreported: Arc<AtomicU64>,
}

impl LossyEventStream {
    /// The next event or gap; `None` once the client has stopped. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Result<Event, Lagged>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Event, Lagged>>> {
        if let Some(event) = self.next.take() {
            return Poll::Ready(Some(Ok(event)));
        }
        match self.rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some((0, event))) => Poll::Ready(Some(Ok(event))),
            Poll::Ready(Some((skipped, event))) => {
                self.next = Some(event);
                Poll::Ready(Some(Err(Lagged(skipped))))
            }
            Poll::Ready(None) => match self.unreported.swap(0, Ordering::AcqRel) {
                0 => Poll::Ready(None),
                skipped => Poll::Ready(Some(Err(Lagged(skipped)))),
            },
        }
    }
}

impl futures_core::Stream for LossyEventStream {
    type Item = Result<Event, Lagged>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_item(cx)
    }
}

enum Tx {
    Lossless(mpsc::Sender<Event>),
    Lossy {
        tx: mpsc::Sender<(u64, Event)>,
        unreported: Arc<AtomicU64>,
    },
}

impl Tx {
    fn is_closed(&self) -> bool {
        match self {
            Tx::Lossless(tx) => tx.is_closed(),
            Tx::Lossy { tx, .. } => tx.is_closed(),
        }
    }
}

struct Sink {
    filter: EventKindSet,
    /// Also takes [`Event::Unknown`] (which has no kind).
    unknown: bool,
    tx: Tx,
}

impl Sink {
    fn wants(&self, event: &Event) -> bool {
        event
            .kind()
            .map_or(self.unknown, |k| self.filter.contains(k))
    }
}

/// Fans events out to the open streams.
pub(crate) struct StreamHub {
    capacity: usize,
    /// Replaced whole on (un)subscription, so publishing only clones an `Arc`.
    sinks: Mutex<Arc<Vec<Sink>>>,
    /// Set when some stream was found closed, so the next subscription prunes.
    stale: AtomicBool,
    closed: watch::Sender<bool>,
}

impl StreamHub {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            sinks: Mutex::new(Arc::new(Vec::new())),
            stale: AtomicBool::new(false),
            closed: watch::channel(false).0,
        }
    }

    fn sinks(&self) -> std::sync::MutexGuard<'_, Arc<Vec<Sink>>> {
        self.sinks.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, sink: Sink) {
        if *self.closed.borrow() {
            return;
        }
        let mut sinks = self.sinks();
        let mut next: Vec<Sink> = Vec::with_capacity(sinks.len() + 1);
        // Rebuilt from the live senders (a `Sink` is not `Clone`; the old `Arc` may still be
        // in use by a publish, so take what we can and re-create the rest).
        for old in sinks.iter().filter(|s| !s.tx.is_closed()) {
            next.push(Sink {
                filter: old.filter,
                unknown: old.unknown,
                tx: match &old.tx {
                    Tx::Lossless(tx) => Tx::Lossless(tx.clone()),
                    Tx::Lossy { tx, unreported } => Tx::Lossy {
                        tx: tx.clone(),
                        unreported: Arc::clone(unreported),
                    },
                },
            });
        }
        next.push(sink);
        self.stale.store(false, Ordering::Relaxed);
        *sinks = Arc::new(next);
    }

    pub(crate) fn subscribe(&self, filter: EventKindSet, unknown: bool) -> EventStream {
        let (tx, rx) = mpsc::channel(self.capacity);
        self.add(Sink {
            filter,
            unknown,
            tx: Tx::Lossless(tx),
        });
        EventStream { rx }
    }

    pub(crate) fn subscribe_lossy(&self, filter: EventKindSet, unknown: bool) -> LossyEventStream {
        let (tx, rx) = mpsc::channel(self.capacity);
        let unreported = Arc::new(AtomicU64::new(0));
        self.add(Sink {
            filter,
            unknown,
            tx: Tx::Lossy {
                tx,
                unreported: Arc::clone(&unreported),
            },
        });
        LossyEventStream {
            rx,
            next: None,
            unreported,
        }
    }

    /// The kinds some open stream wants, and whether one wants unknown events.
    pub(crate) fn interests(&self) -> (EventKindSet, bool) {
        self.sinks()
            .iter()
            .filter(|s| !s.tx.is_closed())
            .fold((EventKindSet::empty(), false), |(kinds, unknown), s| {
                (kinds.union(s.filter), unknown || s.unknown)
            })
    }

    /// Hands `event` to every stream that wants it: waits while a lossless stream is full
    /// (until it has room, is dropped, or the hub closes); a full lossy stream skips it.
    pub(crate) async fn publish(&self, event: &Event) {
        let sinks = Arc::clone(&self.sinks());
        for sink in sinks.iter().filter(|s| s.wants(event)) {
            match &sink.tx {
                Tx::Lossless(tx) => self.send_waiting(tx, event).await,
                Tx::Lossy { tx, unreported } => {
                    let skipped = unreported.swap(0, Ordering::AcqRel);
                    if tx.try_send((skipped, event.clone())).is_err() {
                        unreported.fetch_add(skipped + 1, Ordering::AcqRel);
                        if tx.is_closed() {
                            self.stale.store(true, Ordering::Relaxed);
                        }
                    }
                }
            }
        }
    }

    async fn send_waiting(&self, tx: &mpsc::Sender<Event>, event: &Event) {
        let event = match tx.try_send(event.clone()) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.stale.store(true, Ordering::Relaxed);
                return;
            }
            Err(mpsc::error::TrySendError::Full(event)) => event,
        };
        let mut closed = self.closed.subscribe();
        tokio::select! {
            _ = closed.wait_for(|closed| *closed) => {}
            sent = tx.send(event) => if sent.is_err() {
                self.stale.store(true, Ordering::Relaxed);
            },
        }
    }

    /// Ends every stream (and releases a publish waiting on a full one).
    pub(crate) fn close(&self) {
        self.closed.send_replace(true);
        *self.sinks() = Arc::new(Vec::new());
    }
}

impl Client {
    /// A stream of every event (pushed events, [`Event::Unknown`] ones included, and
    /// lifecycle events), bounded by
    /// [`ClientConfig::event_stream_capacity`](crate::ClientConfig::event_stream_capacity).
    /// Lossless: while it is full the client waits for it, as for a busy handler; read it
    /// promptly, or drop it.
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
        self.inner.streams.subscribe(EventKindSet::all(), true)
    }

    /// A lossless stream of the events whose kind is in `kinds`.
    pub fn events_filtered(&self, kinds: EventKindSet) -> EventStream {
        self.inner.streams.subscribe(kinds, false)
    }

    /// A stream of the events whose kind is in `kinds` that never slows the client down:
    /// when its reader falls behind by a full buffer it skips events, and reports each gap
    /// as `Err(Lagged(n))` where the events are missing.
    ///
    /// ```no_run
    /// use mezon::{EventKind, EventKindSet, Lagged};
    /// # async fn demo(client: mezon::Client) {
    /// let mut events = client.events_lossy(EventKindSet::of(EventKind::ChannelMessage));
    /// while let Some(item) = events.recv().await {
    ///     match item {
    ///         Ok(event) => println!("{}", event.name()),
    ///         Err(Lagged(n)) => eprintln!("missed {n} events"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn events_lossy(&self, kinds: EventKindSet) -> LossyEventStream {
        self.inner.streams.subscribe_lossy(kinds, false)
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
    async fn lossless_streams_wait_and_close_releases_them() {
        let hub = Arc::new(StreamHub::new(2));
        let mut all = hub.subscribe(EventKindSet::all(), true);
        let mut none = hub.subscribe(EventKindSet::of(EventKind::ChannelMessage), false);
        assert!(hub.interests().0.contains(EventKind::Ready));
        hub.publish(&ready()).await;
        hub.publish(&ready()).await;
        // The third waits for room.
        let publisher = {
            let hub = Arc::clone(&hub);
            tokio::spawn(async move { hub.publish(&ready()).await })
        };
        tokio::task::yield_now().await;
        assert!(!publisher.is_finished());
        assert!(all.recv().await.is_some());
        publisher.await.unwrap();
        assert!(all.recv().await.is_some());
        assert!(all.recv().await.is_some(), "nothing was dropped");
        // A publish waiting on a full stream ends when the hub closes.
        hub.publish(&ready()).await;
        hub.publish(&ready()).await;
        let stuck = {
            let hub = Arc::clone(&hub);
            tokio::spawn(async move { hub.publish(&ready()).await })
        };
        tokio::task::yield_now().await;
        hub.close();
        stuck.await.unwrap();
        assert!(none.recv().await.is_none());
    }

    #[tokio::test]
    async fn lossy_streams_report_every_gap() {
        let hub = StreamHub::new(2);
        let mut lossy = hub.subscribe_lossy(EventKindSet::all(), false);
        for _ in 0..5 {
            hub.publish(&ready()).await;
        }
        assert!(matches!(lossy.recv().await, Some(Ok(_))));
        assert!(matches!(lossy.recv().await, Some(Ok(_))));
        hub.publish(&ready()).await;
        assert_eq!(lossy.recv().await.map(|r| r.err()), Some(Some(Lagged(3))));
        assert!(matches!(lossy.recv().await, Some(Ok(_))));
        hub.publish(&ready()).await;
        hub.publish(&ready()).await;
        hub.publish(&ready()).await;
        hub.close();
        assert!(matches!(lossy.recv().await, Some(Ok(_))));
        assert!(matches!(lossy.recv().await, Some(Ok(_))));
        assert_eq!(
            lossy.recv().await.map(|r| r.err()),
            Some(Some(Lagged(1))),
            "a gap at the end is reported too"
        );
        assert!(lossy.recv().await.is_none());
    }

    #[tokio::test]
    async fn unknown_events_reach_streams_that_take_everything() {
        let hub = StreamHub::new(4);
        let mut all = hub.subscribe(EventKindSet::all(), true);
        let mut messages = hub.subscribe(EventKindSet::of(EventKind::ChannelMessage), false);
        assert!(hub.interests().1);
        let unknown = Event::Unknown {
            field_number: 500,
            raw: bytes::Bytes::from_static(&[0xA2, 0x1F, 0x00]),
        };
        hub.publish(&unknown).await;
        hub.close();
        assert!(matches!(all.recv().await, Some(Event::Unknown { .. })));
        assert!(messages.recv().await.is_none());
    }
}
