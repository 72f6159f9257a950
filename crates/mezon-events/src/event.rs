//! [`Event`]: a typed pushed Envelope, and its decoding from frames.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use prost::Message as _;

use crate::kind::EventKind;
use crate::peek::{Peeked, peek};
use crate::proto::realtime::{Envelope, envelope};

include!("generated/event.rs");

/// Why a frame is not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The tag scan found bytes that are not a protobuf message.
    #[error("malformed envelope: {0}")]
    Malformed(&'static str),
    /// The payload of a known variant did not decode.
    #[error("envelope payload does not decode: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// The envelope carries no variant at all (only a cid, or nothing).
    #[error("envelope has no variant")]
    NoVariant,
}

impl Event {
    /// Decodes one serialized Envelope, returning its cid and the event. A variant this schema
    /// lacks becomes [`Event::Unknown`] holding `frame`.
    ///
    /// ```
    /// use mezon_events::{Event, EventKind};
    /// use mezon_events::proto::{prost::Message, realtime::{envelope, Envelope, Pong}};
    ///
    /// let frame = Envelope { cid: 3, message: Some(envelope::Message::Pong(Pong {})) }.encode_to_vec();
    /// let (cid, event) = Event::decode(frame.into())?;
    /// assert_eq!((cid, event.kind()), (3, Some(EventKind::Pong)));
    /// # Ok::<(), mezon_events::DecodeError>(())
    /// ```
    pub fn decode(frame: Bytes) -> Result<(i32, Event), DecodeError> {
        let peeked = peek(&frame)?;
        Self::decode_peeked(frame, peeked)
    }

    /// Like [`Event::decode`] for a frame already [`peek`]ed, so the scan is not repeated.
    pub fn decode_peeked(frame: Bytes, peeked: Peeked) -> Result<(i32, Event), DecodeError> {
        match (peeked.kind(), peeked.field_number) {
            (Some(_), _) => {
                let envelope = Envelope::decode(frame)?;
                let event = Self::from_envelope(envelope).ok_or(DecodeError::NoVariant)?;
                Ok((peeked.cid, event))
            }
            (None, Some(field_number)) => Ok((
                peeked.cid,
                Event::Unknown {
                    field_number,
                    raw: frame,
                },
            )),
            (None, None) => Err(DecodeError::NoVariant),
        }
    }

    /// The event of a decoded Envelope; `None` when its oneof is empty (which is also what
    /// prost leaves for a variant it does not know — use [`Event::decode`] to keep those).
    pub fn from_envelope(envelope: Envelope) -> Option<Event> {
        envelope.message.map(Event::from_message)
    }

    /// The canonical name of the event's kind, or `"unknown"`.
    pub fn name(&self) -> &'static str {
        self.kind().map_or("unknown", EventKind::name)
    }
}
