//! The tag scan agrees with a full decode.

mod common;

use std::collections::BTreeMap;

use bytes::Bytes;
use mezon_events::proto::prost::Message;
use mezon_events::proto::realtime::Envelope;
use mezon_events::{DecodeError, Event, EventKind, peek, peek_kind};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_key(out: &mut Vec<u8>, field: u32, wire_type: u8) {
    put_varint(out, (u64::from(field) << 3) | u64::from(wire_type));
}

/// Encoded oneof fields (key, length, payload) per field number: the payload of every
/// fixture, and an empty payload for every field.
fn variant_chunks() -> BTreeMap<u32, Vec<Vec<u8>>> {
    let mut chunks: BTreeMap<u32, Vec<Vec<u8>>> = BTreeMap::new();
    for kind in EventKind::ALL {
        if let Some(n) = kind.field_number() {
            let mut empty = Vec::new();
            put_key(&mut empty, n, 2);
            put_varint(&mut empty, 0);
            chunks.entry(n).or_default().push(empty);
        }
    }
    for row in common::envelopes() {
        let frame = common::bytes(&format!("{}.bin", row.name));
        let Ok(envelope) = Envelope::decode(frame) else {
            continue;
        };
        if let Some(message) = envelope.message {
            let field = Event::from_message(message.clone())
                .kind()
                .and_then(EventKind::field_number)
                .expect("a schema variant");
            let mut chunk = Vec::new();
            message.encode(&mut chunk);
            chunks.entry(field).or_default().push(chunk);
        }
    }
    chunks
}

fn unknown_field(rng: &mut StdRng) -> (u32, Vec<u8>) {
    let field = if rng.random_bool(0.5) {
        rng.random_range(101..=2_000)
    } else {
        rng.random_range(101..=(1 << 29) - 1)
    };
    let mut out = Vec::new();
    match rng.random_range(0..5) {
        0 => {
            put_key(&mut out, field, 0);
            put_varint(&mut out, rng.random());
        }
        1 => {
            put_key(&mut out, field, 1);
            out.extend_from_slice(&rng.random::<u64>().to_le_bytes());
        }
        2 => {
            put_key(&mut out, field, 5);
            out.extend_from_slice(&rng.random::<u32>().to_le_bytes());
        }
        3 => {
            put_key(&mut out, field, 2);
            let len = rng.random_range(0..40);
            put_varint(&mut out, len);
            out.extend((0..len).map(|_| rng.random::<u8>()));
        }
        _ => {
            put_key(&mut out, field, 3);
            put_key(&mut out, 1, 0);
            put_varint(&mut out, rng.random_range(0..1_000_000));
            put_key(&mut out, field, 4);
        }
    }
    (field, out)
}

/// A random valid envelope: cid fields, variant fields and unknown fields in random order.
fn random_envelope(rng: &mut StdRng, chunks: &BTreeMap<u32, Vec<Vec<u8>>>) -> Vec<u8> {
    let mut parts = Vec::new();
    for _ in 0..rng.random_range(0..=2) {
        let mut cid = Vec::new();
        put_key(&mut cid, 1, 0);
        // int32 is sign-extended to 64 bits on the wire.
        put_varint(&mut cid, i64::from(rng.random::<i32>()) as u64);
        parts.push(cid);
    }
    let numbers: Vec<&u32> = chunks.keys().collect();
    for _ in 0..rng.random_range(0..=3) {
        let n = numbers[rng.random_range(0..numbers.len())];
        let options = &chunks[n];
        parts.push(options[rng.random_range(0..options.len())].clone());
    }
    for _ in 0..rng.random_range(0..=3) {
        parts.push(unknown_field(rng).1);
    }
    parts.shuffle(rng);
    parts.concat()
}

#[test]
fn peek_agrees_with_full_decode_on_random_envelopes() {
    let chunks = variant_chunks();
    assert_eq!(chunks.len(), 99);
    let mut rng = StdRng::seed_from_u64(0x006d_657a_6f6e);
    let (mut typed, mut unknown, mut empty) = (0, 0, 0);
    for i in 0..10_000 {
        let frame = Bytes::from(random_envelope(&mut rng, &chunks));
        let envelope = Envelope::decode(frame.clone())
            .unwrap_or_else(|e| panic!("case {i}: generator made an invalid envelope: {e}"));
        let peeked = peek(&frame).unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_eq!(peeked.cid, envelope.cid, "case {i}");
        let decoded = Event::decode(frame.clone());
        match envelope.message {
            Some(message) => {
                let kind = Event::from_message(message).kind();
                assert_eq!(peeked.kind(), kind, "case {i}");
                assert_eq!(peek_kind(&frame), kind, "case {i}");
                assert_eq!(decoded.map(|(_, e)| e.kind()), Ok(kind), "case {i}");
                typed += 1;
            }
            None if peeked.field_number.is_some() => {
                assert!(peeked.is_unknown(), "case {i}");
                let Ok((_, Event::Unknown { field_number, raw })) = decoded else {
                    panic!("case {i}: expected Unknown, got {decoded:?}");
                };
                assert_eq!(Some(field_number), peeked.field_number);
                assert_eq!(raw, frame);
                unknown += 1;
            }
            None => {
                assert_eq!(decoded, Err(DecodeError::NoVariant), "case {i}");
                empty += 1;
            }
        }
    }
    // The generator covers every outcome.
    assert!(
        typed > 5_000 && unknown > 500 && empty > 100,
        "{typed} {unknown} {empty}"
    );
}

#[test]
fn peek_rejects_malformed_frames() {
    for (bytes, why) in [
        (&[0x08][..], "truncated varint"),
        (&[0x32, 0x05, 0x00], "length past the end"),
        (&[0x0f], "wire type 7"),
        (&[0x00], "field 0"),
        (&[0x30, 0x01], "variant as a varint"),
        (&[0x0a, 0x00], "cid as bytes"),
        (&[0xa3, 0x1f, 0x08, 0x01], "unterminated group"),
        (&[0xa4, 0x1f], "stray end group"),
        (
            &[0xff, 0x00, 0x01, 0x00, 0x00, 0x00, 0xff],
            "a raw API chunk",
        ),
    ] {
        assert!(peek(bytes).is_err(), "{why}");
        assert!(
            Event::decode(Bytes::copy_from_slice(bytes)).is_err(),
            "{why}"
        );
        assert!(peek_kind(bytes).is_none(), "{why}");
    }
}
