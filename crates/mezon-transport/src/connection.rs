//! One WebSocket connection: a reader task that classifies frames and routes answers to
//! their requests directly, a writer task fed by a bounded queue, and the heartbeat.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt as _, SinkExt as _, Stream, StreamExt as _};
use prost::Message as _;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, protocol::WebSocketConfig};
use tokio_util::sync::CancellationToken;

use crate::backlog::Backlog;
use crate::budget::Budget;
use crate::error::RequestError;
use crate::frame::{self, Frame};
use crate::heartbeat::{self, Liveness};
use crate::inbound::{BadFrame, DisconnectReason, Inbound};
use crate::proto::scan::scan_envelope;
use crate::proto::{api, realtime::Envelope, realtime::envelope::Message};
use crate::requests::Pending;

/// Callback for a pushed `refresh_session_event`.
pub(crate) type SessionSink = Arc<dyn Fn(api::Session) + Send + Sync>;

/// The sending half of one live connection. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Link {
    /// Which connection this is; grows by one per (re)connect.
    pub(crate) generation: u64,
    writer: mpsc::Sender<WsMessage>,
    pub(crate) pending: Arc<Pending>,
    /// Cancelled when this connection ends (never affects another connection).
    pub(crate) closed: CancellationToken,
    reason: Arc<OnceLock<DisconnectReason>>,
    /// Most events the reader has held at once (for tests of memory bounds).
    pub(crate) backlog_high_water: Arc<AtomicUsize>,
}

impl Link {
    /// Queues a frame for the writer; fails if this connection ends first.
    pub(crate) async fn send_frame(&self, frame: WsMessage) -> Result<(), RequestError> {
        tokio::select! {
            _ = self.closed.cancelled() => Err(RequestError::ConnectionLost),
            sent = self.writer.send(frame) => sent.map_err(|_| RequestError::ConnectionLost),
        }
    }

    /// Queues a frame without waiting. `Ok(false)` when the write queue is full; an error when
    /// this connection has ended.
    pub(crate) fn try_send_frame(&self, frame: WsMessage) -> Result<bool, RequestError> {
        match self.writer.try_send(frame) {
            Ok(()) => Ok(true),
            Err(mpsc::error::TrySendError::Full(_)) => Ok(false),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(RequestError::ConnectionLost),
        }
    }

    /// Ends this connection, recording why (the first reason given wins).
    pub(crate) fn close(&self, reason: DisconnectReason) {
        let _ = self.reason.set(reason);
        self.closed.cancel();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Why this connection ended, once it has.
    pub(crate) fn reason(&self) -> Option<DisconnectReason> {
        self.reason.get().cloned()
    }

    /// A link with no socket behind it: what is "written" lands in the returned queue.
    #[cfg(test)]
    pub(crate) fn detached(
        generation: u64,
        write_queue: usize,
    ) -> (Self, mpsc::Receiver<WsMessage>) {
        let (writer, written) = mpsc::channel(write_queue);
        let link = Self {
            generation,
            writer,
            pending: Pending::new(1024),
            closed: CancellationToken::new(),
            reason: Arc::new(OnceLock::new()),
            backlog_high_water: Arc::new(AtomicUsize::new(0)),
        };
        (link, written)
    }
}

/// What [`open`] needs besides the URL.
pub(crate) struct ConnectionSettings {
    pub(crate) generation: u64,
    pub(crate) max_frame_size: usize,
    pub(crate) max_answer_size: usize,
    pub(crate) event_overflow: usize,
    pub(crate) event_overflow_bytes: usize,
    pub(crate) write_queue_capacity: usize,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) heartbeat_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    /// The transport's memory budget (read-ahead and reassembly draw from it).
    pub(crate) budget: Arc<Budget>,
    /// Whether pushed events flow at once (first connection) or after [`Connection::open_events`].
    pub(crate) events_open: bool,
}

/// Why a socket could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The upgrade was refused with 401/403: the token is not accepted.
    Unauthorized(u16),
    /// Anything else (DNS, TCP, TLS, timeout, other HTTP status).
    Other(crate::error::SocketError),
}

/// A live connection, owned by the supervisor.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) link: Link,
    gate: watch::Sender<bool>,
    reader: JoinHandle<Option<Backlog>>,
}

impl Connection {
    /// Lets pushed events flow to the inbound stream.
    pub(crate) fn open_events(&self) {
        self.gate.send_replace(true);
    }

    /// Waits until the connection has ended; returns why, and the events its reader had read
    /// but not yet delivered (for the caller to deliver before anything newer).
    pub(crate) async fn finished(&mut self) -> (DisconnectReason, Backlog) {
        let backlog = (&mut self.reader).await.ok().flatten();
        let reason = self.link.reason().unwrap_or(DisconnectReason::ServerClosed);
        (reason, backlog.unwrap_or_else(Backlog::empty))
    }
}

/// Opens a socket and starts its reader, writer and heartbeat.
pub(crate) async fn open(
    url: &str,
    tls: Arc<rustls::ClientConfig>,
    settings: ConnectionSettings,
    inbound: mpsc::Sender<Inbound>,
    on_session: SessionSink,
    shutdown: &CancellationToken,
) -> Result<Connection, OpenError> {
    // A frame over the limit is refused from its header, before its payload is buffered; the
    // socket library then ends the connection (the stream cannot skip the payload), and the
    // supervisor reconnects.
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(settings.max_frame_size))
        .max_frame_size(Some(settings.max_frame_size));
    let connect = tokio_tungstenite::connect_async_tls_with_config(
        url,
        Some(ws_config),
        true,
        Some(tokio_tungstenite::Connector::Rustls(tls)),
    );
    let (socket, _) = match tokio::time::timeout(settings.connect_timeout, connect).await {
        Err(_) => return Err(OpenError::Other(crate::error::SocketError::Timeout)),
        Ok(Err(tungstenite::Error::Http(response)))
            if matches!(response.status().as_u16(), 401 | 403) =>
        {
            return Err(OpenError::Unauthorized(response.status().as_u16()));
        }
        Ok(Err(e)) => {
            return Err(OpenError::Other(
                crate::error::SocketError::from_tungstenite(e),
            ));
        }
        Ok(Ok(pair)) => pair,
    };
    let (sink, stream) = socket.split();
    let (writer, write_rx) = mpsc::channel(settings.write_queue_capacity.max(1));
    let link = Link {
        generation: settings.generation,
        writer,
        pending: Pending::with_budget(settings.max_answer_size, Arc::clone(&settings.budget)),
        closed: shutdown.child_token(),
        reason: Arc::new(OnceLock::new()),
        backlog_high_water: Arc::new(AtomicUsize::new(0)),
    };
    let liveness = Liveness::new();
    let (gate, gate_rx) = watch::channel(settings.events_open);

    tokio::spawn(write_loop(sink, write_rx, link.clone()));
    tokio::spawn(heartbeat::run(
        link.clone(),
        Arc::clone(&liveness),
        settings.heartbeat_interval,
        settings.heartbeat_timeout,
    ));
    let reader = Reader {
        link: link.clone(),
        liveness,
        inbound,
        gate: gate_rx,
        on_session,
        max_frame_size: settings.max_frame_size,
        overflow: (settings.event_overflow, settings.event_overflow_bytes),
        budget: settings.budget,
        dropped_while_held: std::sync::atomic::AtomicU64::new(0),
    };
    let reader = tokio::spawn(reader.run_guarded(stream));
    tracing::debug!(generation = settings.generation, "socket open");
    Ok(Connection { link, gate, reader })
}

async fn write_loop<S>(mut sink: S, mut queue: mpsc::Receiver<WsMessage>, link: Link)
where
    S: futures_util::Sink<WsMessage, Error = tungstenite::Error> + Unpin,
{
    loop {
        let frame = tokio::select! {
            _ = link.closed.cancelled() => break,
            frame = queue.recv() => frame,
        };
        let Some(frame) = frame else { break };
        let sent = tokio::select! {
            _ = link.closed.cancelled() => break,
            sent = sink.send(frame) => sent,
        };
        if let Err(e) = sent {
            link.close(DisconnectReason::Error(e.to_string()));
            break;
        }
    }
    // A polite close when we are the ones ending it; bounded, the peer may be gone.
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

struct Reader {
    link: Link,
    liveness: Arc<Liveness>,
    inbound: mpsc::Sender<Inbound>,
    gate: watch::Receiver<bool>,
    on_session: SessionSink,
    max_frame_size: usize,
    /// Most events, and bytes of them, held beyond a full inbound queue.
    overflow: (usize, usize),
    budget: Arc<Budget>,
    /// Events dropped because the hold was full while events were held back (re-join).
    dropped_while_held: std::sync::atomic::AtomicU64,
}

impl Reader {
    /// [`run`](Self::run), turning a panic into a closed connection with a logged error, so
    /// a failure is never silent and the supervisor reconnects at once.
    async fn run_guarded<S>(self, stream: S) -> Option<Backlog>
    where
        S: Stream<Item = Result<WsMessage, tungstenite::Error>> + Unpin,
    {
        let link = self.link.clone();
        match std::panic::AssertUnwindSafe(self.run(stream))
            .catch_unwind()
            .await
        {
            Ok(backlog) => backlog,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                tracing::error!(generation = link.generation, %message, "socket reader panicked");
                link.close(DisconnectReason::Error(format!(
                    "socket reader panicked: {message}"
                )));
                link.pending.close(RequestError::ConnectionLost);
                None
            }
        }
    }

    /// Reads until the connection ends; returns the events not yet delivered, unless they
    /// were still held back (a connection whose rejoin never finished).
    async fn run<S>(mut self, mut stream: S) -> Option<Backlog>
    where
        S: Stream<Item = Result<WsMessage, tungstenite::Error>> + Unpin,
    {
        let mut backlog = Backlog::new(self.overflow.0, self.overflow.1, &self.budget);
        let mut paused = false;
        let reason = loop {
            let events_open = *self.gate.borrow();
            // While events are held back (the re-join after a reconnect), the reader keeps
            // reading even with a full hold so the join answers arrive; events that do not
            // fit are dropped and reported. Otherwise a full hold stops reading.
            let full = backlog.is_full() && events_open;
            if full != paused {
                paused = full;
                self.liveness.set_reader_paused(paused);
            }
            tokio::select! {
                biased;
                _ = self.link.closed.cancelled() => break None,
                permit = self.inbound.reserve(), if events_open && !backlog.is_empty() => {
                    match (permit, backlog.pop()) {
                        (Ok(permit), Some(item)) => permit.send(item),
                        (Ok(_), None) => {}
                        (Err(_), _) => break Some(DisconnectReason::Shutdown),
                    }
                }
                changed = self.gate.changed(), if !events_open => {
                    if changed.is_err() {
                        break None;
                    }
                    self.report_dropped(&mut backlog);
                }
                frame = stream.next(), if !full => match frame {
                    None => break Some(DisconnectReason::ServerClosed),
                    Some(Err(e)) => break Some(DisconnectReason::Error(e.to_string())),
                    Some(Ok(message)) => {
                        self.liveness.touch();
                        if let Some(reason) = self.on_message(message, &mut backlog) {
                            break Some(reason);
                        }
                    }
                },
            }
        };
        if let Some(reason) = reason {
            self.link.close(reason);
        }
        // Requests in flight fail now, not after the backlog is delivered.
        self.link.pending.close(RequestError::ConnectionLost);
        if !*self.gate.borrow() && !backlog.is_empty() {
            tracing::warn!(
                count = backlog.len(),
                "dropping events of a connection that never opened"
            );
            return None;
        }
        Some(backlog)
    }

    /// Reports the events dropped while the hold was full, once events flow again.
    fn report_dropped(&self, backlog: &mut Backlog) {
        let count = self.dropped_while_held.swap(0, Ordering::Relaxed);
        if count > 0 {
            tracing::warn!(count, "events dropped while held during the re-join");
            backlog.push(Inbound::FrameError {
                error: BadFrame::DroppedWhileHeld { count },
                len: 0,
            });
        }
    }

    /// Adds an item for the consumer, unless events are held and the hold is full.
    fn hold(&self, item: Inbound, backlog: &mut Backlog) {
        if backlog.is_full() {
            // Only reached while events are held: a full hold otherwise stops reading.
            self.dropped_while_held.fetch_add(1, Ordering::Relaxed);
            return;
        }
        backlog.push(item);
        self.link
            .backlog_high_water
            .fetch_max(backlog.len(), Ordering::Relaxed);
    }

    fn on_message(&self, message: WsMessage, backlog: &mut Backlog) -> Option<DisconnectReason> {
        match message {
            WsMessage::Binary(data) => self.on_binary(data, backlog),
            WsMessage::Text(text) => {
                tracing::debug!(len = text.len(), "ignoring a text frame");
                let error = BadFrame::Text;
                self.hold(
                    Inbound::FrameError {
                        error,
                        len: text.len(),
                    },
                    backlog,
                );
            }
            WsMessage::Close(frame) => {
                tracing::debug!(?frame, "server closed the socket");
                return Some(DisconnectReason::ServerClosed);
            }
            // The socket library answers pings itself; pongs and raw frames only show life.
            WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => {}
        }
        None
    }

    fn on_binary(&self, data: Bytes, backlog: &mut Backlog) {
        let len = data.len();
        match self.classify(data) {
            Ok(Some(item)) => self.hold(item, backlog),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(len, %error, "skipping a bad frame");
                self.hold(Inbound::FrameError { error, len }, backlog);
            }
        }
    }

    /// Routes answers to their requests; returns what the consumer should see, if anything.
    /// A tag scan reads the cid and the variant: pushed events are not decoded here (the
    /// consumer decodes those it wants), answers are decoded once for their caller.
    fn classify(&self, data: Bytes) -> Result<Option<Inbound>, BadFrame> {
        if data.len() > self.max_frame_size {
            return Err(BadFrame::TooLarge {
                len: data.len(),
                max: self.max_frame_size,
            });
        }
        let bytes = match frame::classify(data)? {
            Frame::RawChunk(chunk) => {
                self.link.pending.on_raw_chunk(chunk);
                return Ok(None);
            }
            Frame::BinaryPong { .. } => return Ok(None),
            Frame::Envelope(bytes) => bytes,
        };
        let head = scan_envelope(&bytes)?;
        if head.cid != 0 {
            self.link.pending.resolve_envelope(Envelope::decode(bytes)?);
            return Ok(None);
        }
        match head.variant {
            None => Err(BadFrame::NoVariant),
            Some(REFRESH_SESSION_EVENT) => {
                if let Some(Message::RefreshSessionEvent(session)) =
                    Envelope::decode(bytes.clone())?.message
                {
                    (self.on_session)(session);
                }
                Ok(Some(Inbound::Envelope(bytes)))
            }
            // Variants newer than this schema pass too: the consumer decides what they are.
            Some(_) => Ok(Some(Inbound::Envelope(bytes))),
        }
    }
}

/// Envelope field number of `refresh_session_event`, the one push the transport reads itself.
const REFRESH_SESSION_EVENT: u32 = 96;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::realtime::Pong;
    use futures_util::stream;

    type Frames = mpsc::UnboundedSender<Result<WsMessage, tungstenite::Error>>;

    /// A reader over a stream the test feeds; returns the frame feed, the consumer's queue,
    /// the gate and the reader task.
    fn reader(
        link: &Link,
        queue: usize,
        overflow: usize,
        events_open: bool,
        on_session: SessionSink,
    ) -> (
        Frames,
        mpsc::Receiver<Inbound>,
        watch::Sender<bool>,
        JoinHandle<Option<Backlog>>,
    ) {
        let (frames, rx) = mpsc::unbounded_channel();
        let (inbound, consumer) = mpsc::channel(queue);
        let (gate, gate_rx) = watch::channel(events_open);
        let reader = Reader {
            link: link.clone(),
            liveness: Liveness::new(),
            inbound,
            gate: gate_rx,
            on_session,
            max_frame_size: 1 << 20,
            overflow: (overflow, 1 << 20),
            budget: Budget::new(1 << 20),
            dropped_while_held: std::sync::atomic::AtomicU64::new(0),
        };
        let stream = Box::pin(stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }));
        let task = tokio::spawn(reader.run_guarded(stream));
        (frames, consumer, gate, task)
    }

    fn envelope(cid: i32, message: Message) -> Result<WsMessage, tungstenite::Error> {
        Ok(WsMessage::Binary(
            Envelope {
                cid,
                message: Some(message),
            }
            .encode_to_vec()
            .into(),
        ))
    }

    fn event() -> Result<WsMessage, tungstenite::Error> {
        envelope(0, Message::Pong(Pong {}))
    }

    fn no_session() -> SessionSink {
        Arc::new(|_| {})
    }

    #[tokio::test]
    async fn answers_flow_while_events_are_held() {
        let (link, _written) = Link::detached(1, 8);
        let (frames, mut consumer, gate, _task) = reader(&link, 1, 4, false, no_session());
        // Far more events than the hold takes, then the answer a re-join waits for.
        for _ in 0..100 {
            frames.send(event()).unwrap();
        }
        let mut join = link.pending.register().unwrap();
        frames
            .send(envelope(i32::from(join.cid()), Message::Pong(Pong {})))
            .unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(5), join.answer()).await;
        assert!(matches!(answer, Ok(Ok(_))), "the answer got through");
        gate.send_replace(true);
        let mut events = 0;
        let dropped = loop {
            match consumer.recv().await {
                Some(Inbound::Envelope(_)) => events += 1,
                Some(Inbound::FrameError {
                    error: BadFrame::DroppedWhileHeld { count },
                    ..
                }) => break count,
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(events, 4, "the hold kept what fits");
        assert_eq!(dropped, 96, "and reported the rest");
    }

    #[tokio::test]
    async fn unknown_variants_are_delivered_not_reported() {
        let (link, _written) = Link::detached(1, 8);
        let (frames, mut consumer, _gate, _task) = reader(&link, 8, 8, true, no_session());
        // Field 200 (not in the schema), empty.
        frames
            .send(Ok(WsMessage::Binary(Bytes::from_static(&[
                0xC2, 0x0C, 0x00,
            ]))))
            .unwrap();
        frames
            .send(Ok(WsMessage::Binary(Bytes::from_static(&[0x08, 0x00]))))
            .unwrap();
        assert!(matches!(consumer.recv().await, Some(Inbound::Envelope(_))));
        assert!(matches!(
            consumer.recv().await,
            Some(Inbound::FrameError {
                error: BadFrame::NoVariant,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn a_reader_panic_closes_the_link_with_the_reason() {
        let (link, _written) = Link::detached(1, 8);
        let on_session: SessionSink = Arc::new(|_| panic!("session sink broke"));
        let (frames, _consumer, _gate, task) = reader(&link, 8, 8, true, on_session);
        let mut request = link.pending.register().unwrap();
        frames
            .send(envelope(
                0,
                Message::RefreshSessionEvent(api::Session::default()),
            ))
            .unwrap();
        assert!(task.await.unwrap().is_none());
        assert!(link.is_closed());
        let reason = link.reason().map(|r| r.to_string()).unwrap_or_default();
        assert!(reason.contains("session sink broke"), "{reason}");
        assert!(matches!(
            request.answer().await,
            Err(RequestError::ConnectionLost)
        ));
    }

    #[test]
    fn refresh_session_event_field_number() {
        let frame = Envelope {
            cid: 0,
            message: Some(Message::RefreshSessionEvent(api::Session::default())),
        }
        .encode_to_vec();
        assert_eq!(
            scan_envelope(&frame).map(|h| h.variant),
            Ok(Some(REFRESH_SESSION_EVENT))
        );
    }
}
