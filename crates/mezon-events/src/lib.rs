//! The Mezon event catalogue: one typed event per pushed `Envelope` variant, cheap kind peeking
//! on raw frames, rich message views, and the dispatcher that runs bot handlers. No I/O.
//!
//! - [`EventKind`] / [`EventKindSet`]: what an event is, by canonical name (`channel_message`)
//!   or documented constant (`CHANNEL_MESSAGE`).
//! - [`Event`]: the typed event; [`Event::decode`] turns a frame into one.
//! - [`peek()`]: the kind of a frame without decoding it.
//! - [`message`]: helpers on [`proto::api::ChannelMessage`] (nested lists, content, replies).
//! - [`content`]: [`MessageContent`], the JSON `content` of a message, parsed and built.
//! - [`dispatch`]: the [`Dispatcher`] trait and the default [`EventDispatcher`].
//!
//! # From frame to handler
//!
//! ```
//! use std::sync::{Arc, Mutex};
//!
//! use mezon_events::proto::{api::ChannelMessage, prost::Message, realtime::{envelope, Envelope}};
//! use mezon_events::{ChannelMessageExt, DispatchConfig, Dispatcher, Event, EventDispatcher, peek};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let dispatcher = EventDispatcher::<Arc<Mutex<Vec<String>>>>::new(DispatchConfig::default());
//! dispatcher.on_channel_message(|message, seen| {
//!     let text = message.content()?.as_text().to_owned();
//!     seen.lock().map_err(|_| "poisoned")?.push(text);
//!     Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! });
//!
//! // What the server pushes: an Envelope with cid 0.
//! let frame = Envelope {
//!     cid: 0,
//!     message: Some(envelope::Message::ChannelMessage(ChannelMessage {
//!         channel_id: 7,
//!         content: r#"{"t":"hello"}"#.into(),
//!         ..Default::default()
//!     })),
//! }
//! .encode_to_vec();
//!
//! // Skip frames nobody listens to without decoding them.
//! let peeked = peek(&frame)?;
//! if peeked.kind().is_some_and(|kind| dispatcher.interests().contains(kind)) {
//!     let (_cid, event) = Event::decode_peeked(frame.into(), peeked)?;
//!     dispatcher.dispatch(event, seen.clone()).await;
//! }
//! dispatcher.shutdown().await;
//! assert_eq!(*seen.lock().map_err(|_| "poisoned")?, ["hello"]);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub use mezon_proto as proto;

pub mod agent;
pub mod content;
pub mod dispatch;
pub mod event;
pub mod kind;
pub mod lifecycle;
pub mod message;
pub mod peek;

pub use content::MessageContent;
pub use dispatch::{
    DispatchConfig, DispatchMode, Dispatcher, EventDispatcher, HandlerFailure, Payload,
    Subscription, WaitError,
};
pub use event::{DecodeError, Event};
pub use kind::{EventKind, EventKindSet, UnknownEventName};
pub use message::ChannelMessageExt;
pub use peek::{Peeked, peek, peek_kind};
