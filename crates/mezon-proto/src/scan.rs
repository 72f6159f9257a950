//! A tag scan of serialized protobuf: the fields of a message, one level deep, without
//! decoding them. The transport reads a frame's cid and variant with it, and the event crate
//! decides whether a frame is worth decoding, without allocating anything.

use std::fmt;

/// How a field's value is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    /// A varint (`int32`, `int64`, `bool`, enums, …).
    Varint,
    /// Eight bytes (`fixed64`, `double`, …).
    Fixed64,
    /// A length-delimited value (strings, bytes, messages, packed lists).
    Len,
    /// A group (deprecated); skipped whole.
    Group,
    /// Four bytes (`fixed32`, `float`, …).
    Fixed32,
}

/// One top-level field of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field number.
    pub number: u32,
    /// Its wire type.
    pub wire_type: WireType,
    /// The value of a varint field (0 for the other wire types).
    pub varint: u64,
    /// The bytes of a length-delimited field (empty for the other wire types).
    pub bytes: &'a [u8],
}

/// Bytes that are not a protobuf message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanError(pub &'static str);

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ScanError {}

const MAX_GROUP_DEPTH: u32 = 64;

/// The top-level fields of a serialized message, in wire order. Stops after the first error.
///
/// ```
/// use mezon_proto::prost::Message;
/// use mezon_proto::realtime::{envelope, Envelope, Ping};
/// use mezon_proto::scan::fields;
///
/// let frame = Envelope { cid: 9, message: Some(envelope::Message::Ping(Ping {})) }.encode_to_vec();
/// let numbers: Vec<u32> = fields(&frame).map(|f| f.unwrap().number).collect();
/// assert_eq!(numbers, [1, 22]);
/// ```
pub fn fields(buf: &[u8]) -> Fields<'_> {
    Fields {
        buf,
        pos: 0,
        failed: false,
    }
}

/// Iterator returned by [`fields`].
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let field = self.field();
        self.failed = field.is_err();
        Some(field)
    }
}

impl<'a> Fields<'a> {
    fn field(&mut self) -> Result<Field<'a>, ScanError> {
        let (number, wire) = self.key()?;
        let mut field = Field {
            number,
            wire_type: WireType::Varint,
            varint: 0,
            bytes: &[],
        };
        match wire {
            0 => field.varint = self.varint()?,
            1 => {
                field.wire_type = WireType::Fixed64;
                self.advance(8)?;
            }
            2 => {
                field.wire_type = WireType::Len;
                let len = self.varint()?;
                let start = self.pos;
                self.advance(len)?;
                field.bytes = &self.buf[start..self.pos];
            }
            3 => {
                field.wire_type = WireType::Group;
                self.skip_group(number, 0)?;
            }
            5 => {
                field.wire_type = WireType::Fixed32;
                self.advance(4)?;
            }
            4 => return Err(ScanError("unexpected end group")),
            _ => return Err(ScanError("invalid wire type")),
        }
        Ok(field)
    }

    fn varint(&mut self) -> Result<u64, ScanError> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = *self
                .buf
                .get(self.pos)
                .ok_or(ScanError("truncated varint"))?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                if i == 9 && byte > 1 {
                    return Err(ScanError("varint overflows 64 bits"));
                }
                return Ok(value);
            }
        }
        Err(ScanError("varint longer than 10 bytes"))
    }

    fn key(&mut self) -> Result<(u32, u64), ScanError> {
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| ScanError("tag out of range"))?;
        if number == 0 {
            return Err(ScanError("field number 0"));
        }
        Ok((number, key & 7))
    }

    fn advance(&mut self, len: u64) -> Result<(), ScanError> {
        let remaining = (self.buf.len() - self.pos) as u64;
        if len > remaining {
            return Err(ScanError("field runs past the end"));
        }
        self.pos += len as usize;
        Ok(())
    }

    fn skip_group(&mut self, number: u32, depth: u32) -> Result<(), ScanError> {
        if depth >= MAX_GROUP_DEPTH {
            return Err(ScanError("groups nested too deeply"));
        }
        loop {
            if self.pos >= self.buf.len() {
                return Err(ScanError("unterminated group"));
            }
            let (inner, wire) = self.key()?;
            match wire {
                0 => self.varint().map(drop)?,
                1 => self.advance(8)?,
                2 => {
                    let len = self.varint()?;
                    self.advance(len)?;
                }
                3 => self.skip_group(inner, depth + 1)?,
                4 if inner == number => return Ok(()),
                4 => return Err(ScanError("mismatched end group")),
                5 => self.advance(4)?,
                _ => return Err(ScanError("invalid wire type")),
            }
        }
    }
}

/// What a scan of a serialized `mezon.realtime.Envelope` learned: its cid and the field
/// number of its variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeHead {
    /// The cid (0 for pushed events).
    pub cid: i32,
    /// The last field other than the cid (a decode keeps the last variant of a oneof);
    /// `None` when the envelope carries only a cid.
    pub variant: Option<u32>,
}

/// Envelope field number of the cid.
pub const ENVELOPE_CID: u32 = 1;

/// Reads an Envelope's cid and variant field number with a tag scan (no allocation).
///
/// ```
/// use mezon_proto::prost::Message;
/// use mezon_proto::realtime::{envelope, Envelope, Pong};
/// use mezon_proto::scan::scan_envelope;
///
/// let frame = Envelope { cid: 3, message: Some(envelope::Message::Pong(Pong {})) }.encode_to_vec();
/// let head = scan_envelope(&frame)?;
/// assert_eq!((head.cid, head.variant), (3, Some(23)));
/// # Ok::<(), mezon_proto::scan::ScanError>(())
/// ```
pub fn scan_envelope(frame: &[u8]) -> Result<EnvelopeHead, ScanError> {
    let mut head = EnvelopeHead {
        cid: 0,
        variant: None,
    };
    for field in fields(frame) {
        let field = field?;
        if field.number == ENVELOPE_CID {
            if field.wire_type != WireType::Varint {
                return Err(ScanError("cid is not a varint"));
            }
            // int32 travels as a sign-extended varint; truncating is what protobuf does.
            head.cid = field.varint as i32;
        } else {
            head.variant = Some(field.number);
        }
    }
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_malformed_input() {
        for (bytes, why) in [
            (&[0x08][..], "truncated varint"),
            (&[0x12, 0x05, 0x01], "field runs past the end"),
            (&[0x00], "field number 0"),
            (&[0x0F], "invalid wire type"),
            (&[0x0C], "unexpected end group"),
            (&[0x0B], "unterminated group"),
            (&[0x0B, 0x14], "mismatched end group"),
        ] {
            assert_eq!(scan_envelope(bytes), Err(ScanError(why)), "{bytes:?}");
        }
        assert_eq!(
            scan_envelope(&[0x0A, 0x00]),
            Err(ScanError("cid is not a varint"))
        );
    }

    #[test]
    fn skips_groups_and_keeps_the_last_variant() {
        // cid 5, group 3 { varint 1 }, field 6 (len 0), field 7 (len 0)
        let frame = [0x08, 0x05, 0x1B, 0x08, 0x01, 0x1C, 0x32, 0x00, 0x3A, 0x00];
        let head = scan_envelope(&frame).unwrap();
        assert_eq!((head.cid, head.variant), (5, Some(7)));
        let kinds: Vec<WireType> = fields(&frame).map(|f| f.unwrap().wire_type).collect();
        assert_eq!(
            kinds,
            [
                WireType::Varint,
                WireType::Group,
                WireType::Len,
                WireType::Len
            ]
        );
    }
}
