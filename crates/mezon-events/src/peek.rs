//! A tag scan of a serialized Envelope: its cid and which oneof variant it carries, without
//! decoding the payload, so events nobody listens to cost almost nothing.

use crate::event::DecodeError;
use crate::kind::EventKind;
use crate::proto::scan::{ENVELOPE_CID, WireType, fields};

/// What a tag scan learned about an Envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peeked {
    /// The envelope's cid (0 for pushed events).
    pub cid: i32,
    /// The oneof field number a full decode ends up with (the last known variant field, as
    /// protobuf's "last one wins" rule says); if the envelope has no known variant, the first
    /// field the schema does not know; `None` if the envelope has neither.
    pub field_number: Option<u32>,
}

impl Peeked {
    /// The kind of the variant, `None` if there is none or the schema does not know it.
    pub fn kind(&self) -> Option<EventKind> {
        self.field_number.and_then(EventKind::from_field_number)
    }

    /// Whether the envelope carries a variant this schema does not know.
    pub fn is_unknown(&self) -> bool {
        self.field_number.is_some() && self.kind().is_none()
    }
}

/// Scans the tags of a serialized Envelope. Only the framing is checked (tags, lengths, wire
/// types of the cid and of variant fields); payload contents are not.
///
/// ```
/// use mezon_events::{peek, EventKind};
/// use mezon_events::proto::{prost::Message, realtime::{envelope, Envelope, Ping}};
///
/// let frame = Envelope { cid: 9, message: Some(envelope::Message::Ping(Ping {})) }.encode_to_vec();
/// let peeked = peek(&frame)?;
/// assert_eq!((peeked.cid, peeked.kind()), (9, Some(EventKind::Ping)));
/// # Ok::<(), mezon_events::DecodeError>(())
/// ```
pub fn peek(frame: &[u8]) -> Result<Peeked, DecodeError> {
    let mut cid = 0;
    let mut known = None;
    let mut unknown = None;
    for field in fields(frame) {
        let field = field.map_err(|e| DecodeError::Malformed(e.0))?;
        if field.number == ENVELOPE_CID {
            if field.wire_type != WireType::Varint {
                return Err(DecodeError::Malformed("cid is not a varint"));
            }
            // int32 travels as a sign-extended varint; truncating is what protobuf does.
            cid = field.varint as i32;
        } else if EventKind::from_field_number(field.number).is_some() {
            if field.wire_type != WireType::Len {
                return Err(DecodeError::Malformed(
                    "variant field is not length-delimited",
                ));
            }
            known = Some(field.number);
        } else {
            unknown = unknown.or(Some(field.number));
        }
    }
    Ok(Peeked {
        cid,
        field_number: known.or(unknown),
    })
}

/// The kind of the variant a frame carries, `None` if it is malformed, empty or unknown.
pub fn peek_kind(frame: &[u8]) -> Option<EventKind> {
    peek(frame).ok().and_then(|p| p.kind())
}
