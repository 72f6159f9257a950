//! Logged frames as JSON for the control API: each told apart by its first byte
//! (`wire.md` §3.1), envelopes decoded to proto3 JSON, and a `kind` to filter on: the
//! envelope's variant (`channel_message_send`, `ping`, …), `empty` (no variant),
//! `unknown_variant`, `undecodable`, `raw_answer`, `binary_ping`, `binary_pong` or `text`.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mezon_transport::frame::BINARY_PONG_MARKER;
use serde_json::{Value, json};

use crate::protojson::{self, ENVELOPE};
use crate::state::{Direction, FrameRecord, LoggedFrame};

/// Which logged frames a request wants.
#[derive(Debug, Default)]
pub(crate) struct FrameFilter {
    pub(crate) kind: Option<String>,
    pub(crate) conn: Option<u64>,
    pub(crate) cid: Option<i64>,
    /// Only frames with a larger `seq`.
    pub(crate) after: Option<u64>,
}

/// What a frame is, without decoding its payload.
struct Shape {
    kind: String,
    cid: Option<i64>,
}

/// The JSON view of a logged frame, if it passes `filter`.
pub(crate) fn frame_json(
    record: &FrameRecord,
    direction: Direction,
    filter: &FrameFilter,
) -> Option<Value> {
    if filter.after.is_some_and(|after| record.seq <= after)
        || filter.conn.is_some_and(|conn| record.conn.0 != conn)
    {
        return None;
    }
    let shape = shape(&record.frame, direction);
    if filter.kind.as_deref().is_some_and(|k| k != shape.kind)
        || filter.cid.is_some_and(|cid| shape.cid != Some(cid))
    {
        return None;
    }
    let mut view = json!({
        "seq": record.seq,
        "conn": record.conn.0,
        "kind": shape.kind,
    });
    let object = view.as_object_mut()?;
    if let Some(cid) = shape.cid {
        object.insert("cid".into(), cid.into());
    }
    match &record.frame {
        LoggedFrame::Text(text) => {
            object.insert("text".into(), text.clone().into());
        }
        LoggedFrame::Binary(bytes) => {
            object.insert("len".into(), bytes.len().into());
            match shape.kind.as_str() {
                "raw_answer" => {
                    if let Some((status, fin)) = raw_header(bytes) {
                        object.insert("status".into(), status.into());
                        object.insert("final".into(), fin.into());
                    }
                    object.insert("base64".into(), STANDARD.encode(bytes).into());
                }
                "binary_ping" | "binary_pong" => {}
                "undecodable" | "unknown_variant" => {
                    object.insert("base64".into(), STANDARD.encode(bytes).into());
                }
                _ => {
                    if let Ok(envelope) = protojson::to_json(ENVELOPE, bytes) {
                        object.insert("envelope".into(), envelope);
                    }
                }
            }
        }
    }
    Some(view)
}

fn shape(frame: &LoggedFrame, direction: Direction) -> Shape {
    let bytes = match frame {
        LoggedFrame::Text(_) => {
            return Shape {
                kind: "text".into(),
                cid: None,
            };
        }
        LoggedFrame::Binary(bytes) => bytes,
    };
    match (bytes.first(), direction) {
        (Some(0xFF), Direction::Out) if bytes.len() >= 7 => Shape {
            kind: "raw_answer".into(),
            cid: Some(i64::from(u16::from_be_bytes([bytes[1], bytes[2]]))),
        },
        (Some(&BINARY_PONG_MARKER), _) if bytes.len() == 3 => Shape {
            kind: match direction {
                Direction::In => "binary_ping",
                Direction::Out => "binary_pong",
            }
            .into(),
            cid: Some(i64::from(u16::from_be_bytes([bytes[1], bytes[2]]))),
        },
        _ => envelope_shape(bytes),
    }
}

/// Reads an envelope's tags: field 1 is the cid, any other field names the variant.
fn envelope_shape(bytes: &[u8]) -> Shape {
    let mut cid = None;
    let mut variant = None;
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some((key, after)) = varint(rest) else {
            return undecodable(cid);
        };
        rest = after;
        let (field, wire_type) = (key >> 3, key & 7);
        let skipped = match wire_type {
            0 => varint(rest).map(|(value, after)| {
                if field == 1 {
                    // The cid is an int32: negative values are sign-extended to 64 bits.
                    #[allow(clippy::cast_possible_truncation)]
                    let value = value as i32;
                    cid = Some(i64::from(value));
                }
                after
            }),
            1 => rest.get(8..),
            2 => varint(rest).and_then(|(len, after)| {
                usize::try_from(len).ok().and_then(|len| after.get(len..))
            }),
            5 => rest.get(4..),
            _ => None,
        };
        let Some(after) = skipped else {
            return undecodable(cid);
        };
        rest = after;
        if field != 1 && variant.is_none() {
            variant = Some(field);
        }
    }
    let kind = match variant {
        None => "empty".to_owned(),
        Some(field) => variant_name(field).unwrap_or_else(|| "unknown_variant".to_owned()),
    };
    Shape { kind, cid }
}

fn undecodable(cid: Option<i64>) -> Shape {
    Shape {
        kind: "undecodable".into(),
        cid,
    }
}

fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// The Envelope field name of a field number.
fn variant_name(field: u64) -> Option<String> {
    static NAMES: OnceLock<Vec<(u64, String)>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let pool = prost_reflect::DescriptorPool::decode(mezon_proto::FILE_DESCRIPTOR_SET).ok();
        pool.and_then(|p| p.get_message_by_name(ENVELOPE))
            .map(|envelope| {
                envelope
                    .fields()
                    .map(|f| (u64::from(f.number()), f.name().to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    });
    names
        .iter()
        .find(|(number, _)| *number == field)
        .map(|(_, name)| name.clone())
}

/// `(status, final)` of a raw answer chunk.
fn raw_header(bytes: &[u8]) -> Option<(u16, bool)> {
    let code = u32::from_be_bytes([
        *bytes.get(3)?,
        *bytes.get(4)?,
        *bytes.get(5)?,
        *bytes.get(6)?,
    ]);
    Some((u16::try_from(code >> 16).ok()?, code & 0xFFFF == 0xFF))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn kind_of(bytes: &'static [u8]) -> (String, Option<i64>) {
        let shape = shape(
            &LoggedFrame::Binary(Bytes::from_static(bytes)),
            Direction::In,
        );
        (shape.kind, shape.cid)
    }

    #[test]
    fn frames_are_told_apart() {
        assert_eq!(
            kind_of(&[0x08, 0x7A, 0xB2, 0x01, 0x00]),
            ("ping".into(), Some(122))
        );
        assert_eq!(kind_of(&[0x08, 0x7A]), ("empty".into(), Some(122)));
        assert_eq!(
            kind_of(&[0xC2, 0x0C, 0x00]),
            ("unknown_variant".into(), None)
        );
        assert_eq!(kind_of(&[0x12, 0x7F, 0x01]), ("undecodable".into(), None));
        assert_eq!(
            kind_of(&[0x00, 0x00, 0x05]),
            ("binary_ping".into(), Some(5))
        );
        assert_eq!(
            kind_of(&[0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            ("empty".into(), Some(-1))
        );
    }
}
