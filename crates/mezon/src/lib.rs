//! Build Mezon chat bots in Rust.
//!
//! A [`Client`](crate) logs in with a bot id and api key, keeps a socket open, turns pushed
//! frames into typed events for your handlers and sends messages, replies and reactions.
#![deny(missing_docs)]

pub mod builders;
pub mod content;
pub mod modes;
pub mod nested;
pub mod outgoing;
pub mod routing;
mod state;

pub use content::{Mention, MessageContent};
pub use modes::{ChannelType, StreamMode};
pub use outgoing::{Attachment, Destination, EphemeralOp, OutgoingMessage, Reaction};
pub use state::CacheSizes;

pub use mezon_events as events;
pub use mezon_proto as proto;
pub use mezon_transport as transport;
