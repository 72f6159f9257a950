//! Build Mezon chat bots in Rust.
//!
//! A [`Client`] logs in with a bot id and api key, keeps a socket open (reconnecting and
//! re-joining on its own), turns pushed frames into typed events for your handlers or an
//! [`EventStream`], and sends messages, replies, reactions, ephemeral messages and DMs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mezon::Error> {
//! let client = mezon::Client::from_env()?;
//! client.on_channel_message(|msg, _client| async move {
//!     if msg.text() == "!ping" {
//!         msg.reply("pong").await?;
//!     }
//!     Ok::<(), mezon::Error>(())
//! });
//! client.login().await?;
//! client.run_until_shutdown().await;
//! # Ok(()) }
//! ```
//!
//! With the `testing` feature, `mezon::testing` is the local Mezon server (`mezon-test-server`),
//! for running bots and their tests offline.
#![deny(missing_docs)]

mod agent_events;
mod api;
mod automation;
pub mod builders;
mod clan_list;
mod client;
mod config;
mod error;
mod handles;
mod joins;
pub mod modes;
pub mod outgoing;
mod pump;
mod raw;
mod routing;
mod send;
mod state;
mod stream;
mod tokens;
mod typed;

pub use api::ApiClient;
pub use builders::{ButtonBuilder, ButtonStyle, InteractiveBuilder};
pub use client::Client;
pub use config::{ClientBuilder, ClientConfig};
pub use error::{ConfigError, Error, Result};
pub use handles::{Channel, Clan, Message, User};
pub use modes::{ChannelType, StreamMode};
pub use outgoing::{Attachment, Destination, EphemeralOp, MessageCode, OutgoingMessage, Reaction};
pub use raw::{RawEvent, RawEventStream};
pub use send::NameKind;
pub use state::CacheSizes;
pub use stream::{EventStream, Lagged, LossyEventStream};
pub use tokens::{TokenConfig, TokenSend};

pub use mezon_mmn::{LedgerRoute, TokenAmount};

pub use mezon_events::content::{self, MessageContent};
pub use mezon_events::{
    ChannelMessageExt, DispatchConfig, DispatchMode, Event, EventKind, EventKindSet,
    HandlerFailure, Payload, Subscription,
};
pub use mezon_transport::{RateLimits, ReconnectPolicy};

pub use mezon_events as events;
pub use mezon_mmn as mmn;
pub use mezon_proto as proto;
pub use mezon_transport as transport;

#[cfg(feature = "testing")]
pub mod testing;

/// The snippets of `docs/guide.md`, compiled as doc tests so the guide stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide.md")]
mod guide_examples {}
