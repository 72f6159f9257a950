//! What the transport yields: pushed envelopes, lifecycle notifications, and reports of bad
//! frames, as a bounded, cancel-safe [`Stream`](futures_core::Stream).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::error::TransportError;
use crate::frame::FrameError;

/// One item of the inbound stream.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Inbound {
    /// A pushed event (an envelope with cid 0), serialized, not decoded again.
    Envelope(Bytes),
    /// A change of the link's state.
    Lifecycle(Lifecycle),
    /// A frame that was skipped; the connection stays up.
    FrameError {
        /// What was wrong with it.
        error: BadFrame,
        /// Its length in bytes.
        len: usize,
    },
}

/// Why a frame was skipped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BadFrame {
    /// The frame could not be classified.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The frame does not decode as an envelope.
    #[error("envelope does not decode: {0}")]
    Decode(#[from] prost::DecodeError),
    /// An envelope whose variant this SDK does not know. No longer reported: such envelopes
    /// are delivered as [`Inbound::Envelope`] (the event crate makes them `Event::Unknown`).
    #[error("envelope with an unknown variant")]
    UnknownVariant,
    /// A pushed envelope with no variant at all.
    #[error("envelope without a variant")]
    NoVariant,
    /// The frame is not a protobuf message (found by the tag scan).
    #[error("envelope does not parse: {0}")]
    Malformed(#[from] crate::proto::scan::ScanError),
    /// Events dropped because the hold was full while events were held back during the
    /// re-join after a reconnect (reading went on so the join answers could arrive).
    #[error("{count} events dropped while held during the re-join")]
    DroppedWhileHeld {
        /// How many.
        count: u64,
    },
    /// A text frame (the protocol uses binary frames only).
    #[error("text frame")]
    Text,
    /// Larger than the configured maximum frame size.
    #[error("frame of {len} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// The frame length.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
}

/// A change of the link's state, in the order they happen.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Lifecycle {
    /// The first connection is up.
    Connected,
    /// The link dropped.
    Disconnected {
        /// Why.
        reason: DisconnectReason,
    },
    /// A reconnect attempt will be made after `delay`.
    Reconnecting {
        /// 1-based attempt number.
        attempt: u32,
        /// Wait before the attempt.
        delay: Duration,
    },
    /// The link is back (the rejoin hook has run).
    Reconnected {
        /// Time since the link dropped.
        downtime: Duration,
    },
    /// The transport stopped for good; `error` is `None` after a requested shutdown.
    Stopped {
        /// Why it stopped, if not asked to.
        error: Option<Arc<TransportError>>,
    },
}

/// Why a link dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server closed the socket.
    #[error("closed by the server")]
    ServerClosed,
    /// A socket read or write failed.
    #[error("socket error: {0}")]
    Error(String),
    /// No pong or other frame arrived within the heartbeat timeout.
    #[error("no answer to a ping within the heartbeat timeout")]
    HeartbeatTimeout,
    /// The transport is shutting down.
    #[error("shutting down")]
    Shutdown,
}

/// The inbound side of a transport: a bounded stream of [`Inbound`] items. Ends after
/// [`Lifecycle::Stopped`]. Reading slowly slows the socket reader down; nothing is dropped.
///
/// When the stream is full the reader keeps reading into a bounded overflow
/// ([`TransportConfig::event_overflow`](crate::TransportConfig::event_overflow)), routing
/// answers as they come, so a consumer may await a request without reading the stream. Only a
/// burst larger than the stream and the overflow together makes the reader stop; answers behind
/// the rest of such a burst then wait too, and a request awaited without reading the stream can
/// time out. Handle events on other tasks (or raise the overflow) for bursts that large.
#[derive(Debug)]
pub struct InboundStream {
    rx: mpsc::Receiver<Inbound>,
}

impl InboundStream {
    pub(crate) fn new(rx: mpsc::Receiver<Inbound>) -> Self {
        Self { rx }
    }

    /// The next item; `None` once the transport has stopped. Cancel-safe.
    pub async fn recv(&mut self) -> Option<Inbound> {
        self.rx.recv().await
    }
}

impl futures_core::Stream for InboundStream {
    type Item = Inbound;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Inbound>> {
        self.rx.poll_recv(cx)
    }
}
