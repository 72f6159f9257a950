//! A tag scan of a serialized Envelope: its cid and which oneof variant it carries, without
//! decoding the payload, so events nobody listens to cost almost nothing.

use crate::event::DecodeError;
use crate::kind::EventKind;

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

const CID_FIELD: u32 = 1;
const MAX_GROUP_DEPTH: u32 = 64;

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
    let mut reader = Reader { buf: frame, pos: 0 };
    let mut cid = 0;
    let mut known = None;
    let mut unknown = None;
    while !reader.at_end() {
        let (field, wire_type) = reader.key()?;
        if field == CID_FIELD {
            if wire_type != WireType::Varint {
                return Err(DecodeError::Malformed("cid is not a varint"));
            }
            // int32 travels as a sign-extended varint; truncating is what protobuf does.
            cid = reader.varint()? as i32;
        } else if EventKind::from_field_number(field).is_some() {
            if wire_type != WireType::Len {
                return Err(DecodeError::Malformed(
                    "variant field is not length-delimited",
                ));
            }
            reader.skip(wire_type, field, 0)?;
            known = Some(field);
        } else {
            reader.skip(wire_type, field, 0)?;
            unknown = unknown.or(Some(field));
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WireType {
    Varint,
    Fixed64,
    Len,
    StartGroup,
    EndGroup,
    Fixed32,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = *self
                .buf
                .get(self.pos)
                .ok_or(DecodeError::Malformed("truncated varint"))?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                if i == 9 && byte > 1 {
                    return Err(DecodeError::Malformed("varint overflows 64 bits"));
                }
                return Ok(value);
            }
        }
        Err(DecodeError::Malformed("varint longer than 10 bytes"))
    }

    fn key(&mut self) -> Result<(u32, WireType), DecodeError> {
        let key = self.varint()?;
        if key > u64::from(u32::MAX) {
            return Err(DecodeError::Malformed("tag out of range"));
        }
        let wire_type = match key & 7 {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::Fixed32,
            _ => return Err(DecodeError::Malformed("invalid wire type")),
        };
        let field = (key >> 3) as u32;
        if field == 0 {
            return Err(DecodeError::Malformed("field number 0"));
        }
        Ok((field, wire_type))
    }

    fn advance(&mut self, len: u64) -> Result<(), DecodeError> {
        let remaining = (self.buf.len() - self.pos) as u64;
        if len > remaining {
            return Err(DecodeError::Malformed("field runs past the end"));
        }
        self.pos += len as usize;
        Ok(())
    }

    /// Skips one field's value whose key was just read.
    fn skip(&mut self, wire_type: WireType, field: u32, depth: u32) -> Result<(), DecodeError> {
        match wire_type {
            WireType::Varint => self.varint().map(drop),
            WireType::Fixed64 => self.advance(8),
            WireType::Fixed32 => self.advance(4),
            WireType::Len => {
                let len = self.varint()?;
                self.advance(len)
            }
            WireType::StartGroup => {
                if depth >= MAX_GROUP_DEPTH {
                    return Err(DecodeError::Malformed("groups nested too deeply"));
                }
                loop {
                    if self.at_end() {
                        return Err(DecodeError::Malformed("unterminated group"));
                    }
                    let (inner, inner_type) = self.key()?;
                    if inner_type == WireType::EndGroup {
                        if inner != field {
                            return Err(DecodeError::Malformed("mismatched end group"));
                        }
                        return Ok(());
                    }
                    self.skip(inner_type, inner, depth + 1)?;
                }
            }
            WireType::EndGroup => Err(DecodeError::Malformed("unexpected end group")),
        }
    }
}
