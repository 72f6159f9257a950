//! Everything between the network and typed envelopes: login and sessions, API calls over
//! HTTP or the socket, the WebSocket connection with its heartbeat, request/answer
//! correlation by cid, and reconnection.
#![deny(missing_docs)]

pub use mezon_proto as proto;

pub mod api;
pub mod frame;
