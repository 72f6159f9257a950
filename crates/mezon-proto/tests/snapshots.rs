//! Snapshots of a few decoded envelopes, so that a schema or generator change that alters
//! the generated types shows up in review as a `.snap` diff.

mod common;

use mezon_proto::prost::Message;
use mezon_proto::realtime::Envelope;

fn decoded(name: &str) -> Envelope {
    Envelope::decode(common::fixture(name).bin()).expect("fixture decodes")
}

#[test]
fn channel_message_envelope() {
    insta::assert_debug_snapshot!(decoded("envelope_006_channel_message"));
}

#[test]
fn user_channel_added_event_envelope() {
    insta::assert_debug_snapshot!(decoded("envelope_036_user_channel_added_event"));
}

#[test]
fn notifications_envelope() {
    insta::assert_debug_snapshot!(decoded("envelope_013_notifications"));
}
