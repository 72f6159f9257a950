//! Build Mezon chat bots in Rust.
//!
//! The [`Client`](crate) logs in with a bot id and api key, keeps a socket open, turns pushed
//! frames into typed events for your handlers and sends messages, replies and reactions.
#![deny(missing_docs)]

pub use mezon_events as events;
pub use mezon_proto as proto;
pub use mezon_transport as transport;
