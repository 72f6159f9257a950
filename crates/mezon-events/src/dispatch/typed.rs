//! The generated typed registrations (`on_channel_message`, …).

use std::sync::Arc;

use crate::dispatch::{EventDispatcher, HandlerReturn, Payload, Subscription};
use crate::event::Event;
use crate::kind::EventKind;

include!("../generated/handlers.rs");
