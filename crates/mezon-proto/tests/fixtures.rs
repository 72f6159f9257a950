//! Conformance against the golden protocol fixtures in `tests/data/fixtures/`, driven by
//! `manifest.tsv`: every fixture decodes, re-encodes to the same bytes, and reads the same as
//! the `.json` written next to it.

mod common;

use common::{
    Fixture, first_difference, fixture, fixture_bytes, fixture_json, json_view, manifest,
};
use mezon_proto::api;
use mezon_proto::bytes::{Buf, Bytes};
use mezon_proto::prost::Message;
use mezon_proto::realtime::{Envelope, envelope};
use serde_json::Value;

const ENVELOPE: &str = "mezon.realtime.Envelope";

fn envelope_fixtures() -> Vec<Fixture> {
    manifest()
        .into_iter()
        .filter(Fixture::is_envelope)
        .collect()
}

fn decode_envelope(fixture: &Fixture) -> Envelope {
    Envelope::decode(fixture.bin())
        .unwrap_or_else(|e| panic!("{}: does not decode: {e}", fixture.name))
}

fn assert_view_matches(name: &str, expected: &Value, actual: &Value) {
    if let Some(diff) = first_difference(expected, actual, "$") {
        panic!("{name}: decoded value differs from its .json at {diff}");
    }
    assert_eq!(expected, actual, "{name}");
}

#[test]
fn manifest_lists_every_envelope_variant_fixture() {
    let envelopes = envelope_fixtures();
    // 99 `envelope_NNN_*` fixtures (one per Envelope variant) plus the two channel_message ones.
    assert_eq!(envelopes.len(), 101);
    for f in &envelopes {
        assert!(f.json().is_some(), "{}: no .json", f.name);
        // Every variant is on the wire, empty ones (ping, pong, follow_event) as a zero-length
        // field: no envelope fixture is empty.
        assert!(!f.bin().is_empty(), "{}: empty .bin", f.name);
    }
}

#[test]
fn every_envelope_fixture_reencodes_to_identical_bytes() {
    for f in envelope_fixtures() {
        let original = f.bin();
        let reencoded = decode_envelope(&f).encode_to_vec();
        assert_eq!(
            reencoded.as_slice(),
            original.as_ref(),
            "{}: re-encoding changed the bytes",
            f.name
        );
    }
}

#[test]
fn every_envelope_fixture_matches_its_json_in_every_field() {
    for f in envelope_fixtures() {
        let decoded = decode_envelope(&f);
        let expected = f.json().unwrap_or_else(|| panic!("{}: no .json", f.name));
        assert_view_matches(&f.name, &expected, &json_view(ENVELOPE, &decoded));
    }
}

/// The manifest's `variant` and `cid` columns agree with what decodes.
#[test]
fn every_envelope_fixture_carries_the_manifest_variant_and_cid() {
    for f in envelope_fixtures() {
        let decoded = decode_envelope(&f);
        assert_eq!(decoded.cid, f.cid, "{}: cid", f.name);
        let view = json_view(ENVELOPE, &decoded);
        let oneof_keys: Vec<&String> = view
            .as_object()
            .map(|o| o.keys().filter(|k| *k != "cid").collect())
            .unwrap_or_default();
        assert_eq!(oneof_keys, [&f.variant], "{}: oneof variant", f.name);
    }
}

/// The comparison above is only worth something if a wrong value makes it fail.
#[test]
fn json_view_comparison_detects_a_changed_field() {
    let f = fixture("envelope_013_notifications");
    let expected = f.json().expect("fixture has a .json");
    let mut decoded = decode_envelope(&f);
    let Some(envelope::Message::Notifications(notifications)) = &mut decoded.message else {
        panic!("envelope_013 is not a notifications envelope");
    };
    // A field deep inside a repeated nested message.
    let channel = notifications.notifications[1]
        .channel
        .as_mut()
        .expect("the second notification has a channel");
    channel.member_count += 1;

    let diff = first_difference(&expected, &json_view(ENVELOPE, &decoded), "$");
    assert_eq!(
        diff.as_deref(),
        Some("$.notifications.notifications[1].channel.member_count: expected 10781, got 10782")
    );
}

#[test]
fn json_view_comparison_detects_a_field_set_to_its_default() {
    let f = fixture("envelope_006_channel_message");
    let expected = f.json().expect("fixture has a .json");
    let mut decoded = decode_envelope(&f);
    let Some(envelope::Message::ChannelMessage(message)) = &mut decoded.message else {
        panic!("envelope_006 is not a channel_message envelope");
    };
    message.hide_editted = false;
    assert_ne!(expected, json_view(ENVELOPE, &decoded));
}

#[test]
fn channel_message_all_defaults_decodes_to_an_empty_message() {
    let decoded = decode_envelope(&fixture("channel_message_all_defaults"));
    assert_eq!(decoded.cid, 0);
    assert_eq!(
        decoded.message,
        Some(envelope::Message::ChannelMessage(
            api::ChannelMessage::default()
        ))
    );
}

#[test]
fn legacy_json_lists_stay_opaque_bytes() {
    let decoded = decode_envelope(&fixture("channel_message_legacy_json_lists"));
    let Some(envelope::Message::ChannelMessage(message)) = decoded.message else {
        panic!("not a channel_message envelope");
    };
    assert_eq!(message.attachments.first(), Some(&b'['));
    let attachments: Value =
        serde_json::from_slice(&message.attachments).expect("attachments hold a JSON array");
    assert_eq!(attachments[0]["filename"], "a.png");
    let mentions: Value =
        serde_json::from_slice(&message.mentions).expect("mentions hold a JSON array");
    assert_eq!(mentions[0]["user_id"], "78");
    assert_eq!(message.message_id, 9_007_199_254_740_994);
}

/// `envelope_006_channel_message.decoded.json` shows the bytes-list fields of the message
/// decoded into their list messages, `content` parsed as JSON and `referenced_message` as a
/// `ChannelMessage`.
#[test]
fn channel_message_nested_bytes_decode_to_the_decoded_view() {
    let decoded = decode_envelope(&fixture("envelope_006_channel_message"));
    let Some(envelope::Message::ChannelMessage(message)) = decoded.message else {
        panic!("not a channel_message envelope");
    };
    let list =
        |full_name: &str, bytes: &Bytes, field: &str| json_view_of_list(full_name, bytes, field);
    let referenced = api::ChannelMessage::decode(message.referenced_message.clone())
        .expect("referenced_message is a serialized ChannelMessage");
    let content: Value = serde_json::from_str(&message.content).expect("content is JSON");
    let actual = serde_json::json!({
        "attachments": list("mezon.api.MessageAttachmentList", &message.attachments, "attachments"),
        "content": content,
        "mentions": list("mezon.api.MessageMentionList", &message.mentions, "mentions"),
        "reactions": list("mezon.api.MessageReactionList", &message.reactions, "reactions"),
        "referenced_message": json_view("mezon.api.ChannelMessage", &referenced),
        "references": list("mezon.api.MessageRefList", &message.references, "refs"),
    });
    let expected = fixture_json("envelope_006_channel_message.decoded.json")
        .expect("envelope_006_channel_message.decoded.json exists");
    assert_view_matches("envelope_006 decoded", &expected, &actual);
}

fn json_view_of_list(full_name: &str, bytes: &Bytes, field: &str) -> Value {
    let view = common::json_view_of_bytes(full_name, bytes);
    view.get(field)
        .cloned()
        .unwrap_or_else(|| panic!("{full_name} has no {field}: {view}"))
}

#[test]
fn garbage_fails_to_decode() {
    let f = fixture("garbage");
    assert_eq!(f.kind, "invalid");
    assert!(Envelope::decode(f.bin()).is_err());
}

#[test]
fn unknown_variant_decodes_without_a_payload() {
    let decoded = Envelope::decode(fixture_bytes("unknown_variant_500.bin"))
        .expect("an unknown field must not fail decoding");
    assert_eq!(decoded.message, None);
    assert_eq!(decoded.cid, 0);
}

#[test]
fn session_http_body_decodes_reencodes_and_matches_its_json() {
    let f = fixture("session");
    assert_eq!(f.kind, "http");
    let session = api::Session::decode(f.bin()).expect("session body decodes");
    assert_eq!(session.encode_to_vec().as_slice(), f.bin().as_ref());
    assert_eq!(session.user_id, 1_840_000_000_000_000_001);
    assert_eq!(session.ws_url, "127.0.0.1:7350");
    let expected = f.json().expect("session.json exists");
    assert_view_matches(
        "session",
        &expected,
        &json_view("mezon.api.Session", &session),
    );
}

/// A raw API answer frame (wire.md §3.2): `0xFF`, cid, status, whether it is the final chunk,
/// and its payload.
struct RawChunk {
    cid: u16,
    status: u16,
    is_final: bool,
    payload: Bytes,
}

/// Minimal reader of the raw chunk header, enough to reach the payloads under test; the
/// real codec lives in `mezon-transport`.
fn raw_chunk(mut frame: Bytes) -> RawChunk {
    assert!(frame.len() >= 7, "raw frame shorter than its header");
    assert_eq!(frame.get_u8(), 0xFF);
    let cid = frame.get_u16();
    let code = frame.get_u32();
    let is_final = code & 0xFFFF == 0xFF;
    if !is_final {
        let len = frame.get_u32() as usize;
        assert_eq!(len, frame.len(), "non-final chunk length");
    }
    RawChunk {
        cid,
        status: (code >> 16) as u16,
        is_final,
        payload: frame,
    }
}

#[test]
fn raw_response_single_frame_payload_matches_its_json() {
    let f = fixture("raw_response_single");
    let chunk = raw_chunk(f.bin());
    assert_eq!(
        (i32::from(chunk.cid), chunk.status, chunk.is_final),
        (f.cid, 0, true)
    );
    let update = mezon_proto::realtime::ChannelMessageUpdate::decode(chunk.payload.clone())
        .expect("payload is a ChannelMessageUpdate");
    assert_eq!(update.encode_to_vec().as_slice(), chunk.payload.as_ref());
    let expected = f.json().expect("raw_response_single.json exists");
    let actual = json_view("mezon.realtime.ChannelMessageUpdate", &update);
    assert_view_matches(&f.name, &expected, &actual);
}

#[test]
fn raw_response_chunks_concatenate_to_the_message_in_their_json() {
    let mut payload = Vec::new();
    let mut finals = Vec::new();
    for i in 0..3 {
        let chunk = raw_chunk(fixture_bytes(&format!("raw_response_chunk_{i}.bin")));
        assert_eq!((chunk.cid, chunk.status), (281, 0));
        finals.push(chunk.is_final);
        payload.extend_from_slice(&chunk.payload);
    }
    assert_eq!(finals, [false, false, true]);
    let update = mezon_proto::realtime::ChannelMessageUpdate::decode(payload.as_slice())
        .expect("the concatenated payloads are one ChannelMessageUpdate");
    assert_eq!(update.encode_to_vec(), payload);
    let expected = fixture_json("raw_response_chunk_2.json").expect("chunk 2 has a .json");
    let actual = json_view("mezon.realtime.ChannelMessageUpdate", &update);
    assert_view_matches("raw_response_chunk_*", &expected, &actual);
}

#[test]
fn raw_response_error_carries_a_failure_status_and_no_payload() {
    let chunk = raw_chunk(fixture_bytes("raw_response_error.bin"));
    assert_eq!((chunk.cid, chunk.status, chunk.is_final), (281, 5, true));
    assert!(chunk.payload.is_empty());
}
