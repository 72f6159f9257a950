//! Everything between the network and typed envelopes: login and sessions, API calls over
//! HTTP or the socket, the WebSocket connection with its heartbeat, request/answer
//! correlation by cid, and reconnection (`wire.md` §1–§3).
//!
//! Start with [`Transport::connect`]: it yields a [`TransportHandle`] (cloneable; requests,
//! typed API calls) and an [`InboundStream`] of pushed envelopes and lifecycle changes.
//!
//! What the transport guarantees:
//! - **Answers overtake events.** The socket reader routes answers (and pongs) to their
//!   requests itself; only pushed events go to the inbound stream. When that stream is full the
//!   reader keeps reading into a bounded overflow ([`TransportConfig::event_overflow`]), so a
//!   caller awaiting an answer behind a burst still gets it.
//! - **Backpressure, not memory growth.** The inbound stream
//!   ([`TransportConfig::inbound_capacity`]) and the overflow (by count and bytes) are bounded;
//!   when both are full the reader stops reading the socket. That pause does not count against
//!   the heartbeat, so a slow consumer never makes the transport drop its own link.
//! - **Liveness.** A ping goes out at connect and every 10 s; a link silent for 10 s after a
//!   ping is closed and replaced. Each connection's heartbeat can only close that connection.
//! - **Reconnects** use exponential backoff with full jitter ([`ReconnectPolicy`]). Requests in
//!   flight fail at once with [`RequestError::ConnectionLost`]. Events read before a drop are
//!   still delivered, ahead of [`Lifecycle::Disconnected`], while the reconnect already goes
//!   on, so a consumer busy with old events does not hold it back. New requests wait for the link
//!   (bounded in number and time). After a reconnect the [`RejoinHook`] runs before any event of
//!   the new connection is yielded. A rejected login stops the transport with
//!   [`Lifecycle::Stopped`] instead of looping.
//! - **Sessions** are refreshed before they expire, adopted when the server pushes one, and
//!   replaced by a fresh login when refreshing fails. Tokens and the api key are [`Secret`]s
//!   and never show up in `Debug` output or logs.
//! - **Pacing**: token buckets for socket frames and HTTP calls ([`RateLimits`]); heartbeat
//!   pings bypass them.
#![deny(missing_docs)]

pub use mezon_proto as proto;

pub mod api;
pub mod frame;

mod backlog;
mod budget;
mod config;
mod connection;
mod error;
mod heartbeat;
mod http;
mod inbound;
mod limits;
mod requests;
mod secret;
mod session;
mod supervisor;
#[doc(hidden)] // for the SDK's other HTTPS clients (mezon's agent event stream); not a public API
pub mod tls;
mod transport;
pub mod url;

pub use config::{DEFAULT_BASE_URL, RateLimits, ReconnectPolicy, TransportConfig};
pub use error::{
    ApiError, HttpError, HttpErrorKind, LoginError, RequestError, Route, SetupError, SocketError,
    TransportError,
};
pub use inbound::{BadFrame, DisconnectReason, Inbound, InboundStream, Lifecycle};
pub use secret::{Credentials, Secret};
pub use session::{Session, login};
pub use tls::RootCertificates;
pub use transport::{Api, RejoinHook, Transport, TransportHandle};

#[cfg(test)]
mod tests {
    #[test]
    fn handle_and_stream_can_move_between_tasks() {
        fn send_sync<T: Send + Sync + Clone + 'static>() {}
        fn send_unpin<T: Send + Unpin + 'static>() {}
        send_sync::<crate::TransportHandle>();
        send_unpin::<crate::InboundStream>();
    }
}
