//! One WebSocket connection: a reader task that classifies frames and routes answers to
//! their requests directly, a writer task fed by a bounded queue, and the heartbeat.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt as _, Stream, StreamExt as _};
use prost::Message as _;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, protocol::WebSocketConfig};
use tokio_util::sync::CancellationToken;

use crate::backlog::Backlog;
use crate::error::RequestError;
use crate::frame::{self, Frame};
use crate::heartbeat::{self, Liveness};
use crate::inbound::{BadFrame, DisconnectReason, Inbound};
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
    // Frames above our limit but below this hard one are read, reported and skipped; only
    // beyond it does the socket library give up on the connection.
    let hard_limit = settings.max_frame_size.saturating_mul(4).max(1 << 20);
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(hard_limit))
        .max_frame_size(Some(hard_limit));
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
        pending: Pending::new(settings.max_answer_size),
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
    };
    let reader = tokio::spawn(reader.run(stream));
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
}

impl Reader {
    /// Reads until the connection ends; returns the events not yet delivered, unless they
    /// were still held back (a connection whose rejoin never finished).
    async fn run<S>(mut self, mut stream: S) -> Option<Backlog>
    where
        S: Stream<Item = Result<WsMessage, tungstenite::Error>> + Unpin,
    {
        let mut backlog = Backlog::new(self.overflow.0, self.overflow.1);
        let mut paused = false;
        let reason = loop {
            let full = backlog.is_full();
            if full != paused {
                paused = full;
                self.liveness.set_reader_paused(paused);
            }
            let events_open = *self.gate.borrow();
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

    fn on_message(&self, message: WsMessage, backlog: &mut Backlog) -> Option<DisconnectReason> {
        match message {
            WsMessage::Binary(data) => self.on_binary(data, backlog),
            WsMessage::Text(text) => {
                tracing::debug!(len = text.len(), "ignoring a text frame");
                backlog.push(Inbound::FrameError {
                    error: BadFrame::Text,
                    len: text.len(),
                });
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
            Ok(Some(item)) => {
                backlog.push(item);
                self.link
                    .backlog_high_water
                    .fetch_max(backlog.len(), Ordering::Relaxed);
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(len, %error, "skipping a bad frame");
                backlog.push(Inbound::FrameError { error, len });
            }
        }
    }

    /// Routes answers to their requests; returns what the consumer should see, if anything.
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
        let envelope = Envelope::decode(bytes.clone())?;
        if envelope.cid != 0 {
            self.link.pending.resolve_envelope(envelope);
            return Ok(None);
        }
        match envelope.message {
            None => Err(BadFrame::UnknownVariant),
            Some(Message::RefreshSessionEvent(session)) => {
                (self.on_session)(session);
                Ok(Some(Inbound::Envelope(bytes)))
            }
            Some(_) => Ok(Some(Inbound::Envelope(bytes))),
        }
    }
}
