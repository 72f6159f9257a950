//! Everything between the network and typed envelopes: login and sessions, API calls over
//! HTTP or the socket, the WebSocket connection with its heartbeat, request/answer
//! correlation by cid, and reconnection (`wire.md` §1–§3).
//!
//! Start with [`Transport::connect`]: it yields a [`TransportHandle`] (cloneable; requests,
//! typed API calls) and an [`InboundStream`] of pushed envelopes and lifecycle changes.
#![deny(missing_docs)]

pub use mezon_proto as proto;

pub mod api;
pub mod frame;

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
mod tls;
mod transport;
pub mod url;

pub use config::{DEFAULT_BASE_URL, RateLimits, ReconnectPolicy, TransportConfig};
pub use error::{ApiError, HttpError, LoginError, RequestError, Route, TransportError};
pub use inbound::{BadFrame, DisconnectReason, Inbound, InboundStream, Lifecycle};
pub use secret::{Credentials, Secret};
pub use session::{Session, login};
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
