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
#![deny(missing_docs)]

pub use mezon_proto as proto;

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
