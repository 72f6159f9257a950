//! The generated catalogue against the golden fixtures.

mod common;

use std::str::FromStr;

use mezon_events::proto::prost::Message;
use mezon_events::proto::realtime::{Envelope, envelope};
use mezon_events::{DecodeError, Event, EventKind, EventKindSet, peek};

#[test]
fn catalogue_has_one_kind_per_envelope_field_plus_lifecycle_agent_and_unknown() {
    let wire: Vec<_> = EventKind::ALL
        .iter()
        .filter(|k| k.field_number().is_some())
        .collect();
    assert_eq!(wire.len(), 99);
    let numbers: Vec<u32> = wire.iter().filter_map(|k| k.field_number()).collect();
    assert_eq!(numbers, (2..=100).collect::<Vec<_>>());
    let lifecycle: Vec<&str> = EventKind::ALL
        .iter()
        .filter(|k| k.is_lifecycle())
        .map(|k| k.name())
        .collect();
    assert_eq!(
        lifecycle,
        [
            "connected",
            "disconnected",
            "reconnecting",
            "reconnected",
            "ready"
        ]
    );
    let agent: Vec<&str> = EventKind::ALL
        .iter()
        .filter(|k| k.is_agent())
        .map(|k| k.name())
        .collect();
    assert_eq!(
        agent,
        ["session_started", "session_ended", "room_summary_done"]
    );
    assert_eq!(EventKind::ALL.last(), Some(&EventKind::Unknown));
    assert_eq!(EventKind::COUNT, 99 + 5 + 3 + 1);
    for (i, kind) in EventKind::ALL.iter().enumerate() {
        assert_eq!(kind.index(), i);
        assert_eq!(EventKind::from_index(i), Some(*kind));
    }
    assert_eq!(EventKind::from_index(EventKind::COUNT), None);
}

#[test]
fn names_and_constants_round_trip_for_all_kinds() {
    for kind in EventKind::ALL {
        assert_eq!(EventKind::from_str(kind.name()), Ok(kind), "{kind:?}");
        assert_eq!(
            kind.constant_name().parse::<EventKind>(),
            Ok(kind),
            "{kind:?}"
        );
        assert_eq!(kind.to_string(), kind.name());
        if let Some(n) = kind.field_number() {
            assert_eq!(EventKind::from_field_number(n), Some(kind));
        }
    }
    assert!("no_such_event".parse::<EventKind>().is_err());
    assert!("Channel_Message".parse::<EventKind>().is_err());
}

#[test]
fn documented_constants_match_wire_md() {
    let table = [
        ("CHANNEL_MESSAGE", EventKind::ChannelMessage),
        ("MESSAGE_REACTION", EventKind::MessageReactionEvent),
        ("MESSAGE_TYPING_EVENT", EventKind::MessageTypingEvent),
        ("MESSAGE_BUTTON_CLICKED", EventKind::MessageButtonClicked),
        ("CHANNEL_CREATED", EventKind::ChannelCreatedEvent),
        ("CHANNEL_UPDATED", EventKind::ChannelUpdatedEvent),
        ("CHANNEL_DELETED", EventKind::ChannelDeletedEvent),
        ("CHANNEL_PRESENCE_EVENT", EventKind::ChannelPresenceEvent),
        ("USER_CHANNEL_ADDED", EventKind::UserChannelAddedEvent),
        ("USER_CHANNEL_REMOVED", EventKind::UserChannelRemovedEvent),
        ("USER_CLAN_REMOVED", EventKind::UserClanRemovedEvent),
        ("ADD_CLAN_USER", EventKind::AddClanUserEvent),
        ("VOICE_STARTED_EVENT", EventKind::VoiceStartedEvent),
        ("VOICE_ENDED_EVENT", EventKind::VoiceEndedEvent),
        ("VOICE_JOINED_EVENT", EventKind::VoiceJoinedEvent),
        ("VOICE_LEAVED_EVENT", EventKind::VoiceLeavedEvent),
        ("CLAN_UPDATED_EVENT", EventKind::ClanUpdatedEvent),
        ("CLAN_EVENT_CREATED", EventKind::ClanEventCreated),
        ("GIVE_COFFEE", EventKind::GiveCoffeeEvent),
        ("TOKEN_SEND", EventKind::TokenSentEvent),
        ("NOTIFICATION", EventKind::Notifications),
    ];
    for (constant, kind) in table {
        assert_eq!(kind.constant_name(), constant);
        assert_eq!(constant.parse::<EventKind>(), Ok(kind));
    }
    assert_eq!(EventKind::TokenSentEvent.name(), "token_sent_event");
    // The upper-snake field name is accepted too where a documented constant differs.
    assert_eq!("TOKEN_SENT_EVENT".parse(), Ok(EventKind::TokenSentEvent));
}

#[test]
fn every_envelope_fixture_decodes_to_its_variant() {
    let rows = common::envelopes();
    assert!(rows.len() >= 100, "only {} envelope fixtures", rows.len());
    let mut push = 0;
    for row in rows {
        let frame = common::bytes(&format!("{}.bin", row.name));
        let (cid, event) =
            Event::decode(frame.clone()).unwrap_or_else(|e| panic!("{}: {e}", row.name));
        assert_eq!(cid, row.cid, "{}", row.name);
        if row.variant.is_empty() {
            assert_eq!(row.name, "unknown_variant_500");
            assert_eq!(
                event,
                Event::Unknown {
                    field_number: 500,
                    raw: frame
                }
            );
            continue;
        }
        let kind = event
            .kind()
            .unwrap_or_else(|| panic!("{}: no kind", row.name));
        assert_eq!(kind.name(), row.variant, "{}", row.name);
        assert_eq!(event.name(), row.variant);
        if row.kind == "push" {
            push += 1;
        }
        // The typed event carries exactly what prost decodes.
        let envelope = Envelope::decode(frame.clone()).expect("prost decodes the fixture");
        assert_eq!(Event::from_envelope(envelope.clone()), Some(event.clone()));
        assert_eq!(event.clone().into_message(), envelope.message);
        // And the tag scan agrees.
        let peeked = peek(&frame).expect("peek");
        assert_eq!((peeked.cid, peeked.kind()), (row.cid, Some(kind)));
    }
    assert!(push >= 80, "only {push} push fixtures");
}

#[test]
fn unknown_variant_500_keeps_field_number_and_bytes() {
    let frame = common::bytes("unknown_variant_500.bin");
    let peeked = peek(&frame).expect("peek");
    assert!(peeked.is_unknown());
    assert_eq!(peeked.field_number, Some(500));
    let (cid, event) = Event::decode(frame.clone()).expect("decode");
    assert_eq!(cid, 0);
    match event {
        Event::Unknown { field_number, raw } => {
            assert_eq!(field_number, 500);
            assert_eq!(raw, frame);
        }
        other => panic!("expected Unknown, got {other:?}"),
    }
}

#[test]
fn garbage_is_a_decode_error() {
    let frame = common::bytes("garbage.bin");
    assert!(Event::decode(frame).is_err());
    assert_eq!(
        Event::decode(bytes::Bytes::new()),
        Err(DecodeError::NoVariant)
    );
    // Only a cid: no variant.
    let only_cid = Envelope {
        cid: 5,
        message: None,
    }
    .encode_to_vec();
    assert_eq!(Event::decode(only_cid.into()), Err(DecodeError::NoVariant));
}

#[test]
fn event_enum_stays_small() {
    let size = std::mem::size_of::<Event>();
    // The largest variant is `Unknown` (a `u32` and a `Bytes`); payloads are one `Arc`.
    assert!(size <= 40, "Event is {size} bytes");
}

#[test]
fn channel_and_clan_ids_are_the_ordering_keys() {
    let frame = common::bytes("envelope_006_channel_message.bin");
    let (_, event) = Event::decode(frame).expect("decode");
    assert_eq!(event.channel_id(), Some(1_800_000_001_046_003_139));
    assert_eq!(event.clan_id(), Some(1_800_000_001_045_003_136));

    // Zero ids (a DM with every field at its default) count as absent.
    let (_, dm) = Event::decode(common::bytes("channel_message_all_defaults.bin")).expect("decode");
    assert_eq!((dm.channel_id(), dm.clan_id()), (None, None));

    // A nested channel description provides the channel.
    let (_, added) =
        Event::decode(common::bytes("envelope_036_user_channel_added_event.bin")).expect("decode");
    let Event::UserChannelAddedEvent(p) = &added else {
        panic!("wrong variant")
    };
    let expected = p
        .channel_desc
        .as_ref()
        .map(|d| d.channel_id)
        .filter(|id| *id != 0);
    assert!(expected.is_some());
    assert_eq!(added.channel_id(), expected);
}

#[test]
fn debug_output_hides_session_tokens() {
    let frame = common::bytes("envelope_096_refresh_session_event.bin");
    let (_, event) = Event::decode(frame).expect("decode");
    let Event::RefreshSessionEvent(session) = &event else {
        panic!("wrong variant")
    };
    assert!(!session.token.is_empty());
    let debug = format!("{event:?}");
    assert!(!debug.contains(&session.token), "{debug}");
    assert!(!debug.contains(&session.refresh_token), "{debug}");
}

#[test]
fn kind_set_operations() {
    let mut set = EventKindSet::empty();
    assert!(set.is_empty());
    assert!(set.insert(EventKind::Ready));
    assert!(!set.insert(EventKind::Ready));
    set |= EventKind::ChannelMessage | EventKind::Channel;
    assert_eq!(
        set.iter().collect::<Vec<_>>(),
        [
            EventKind::Channel,
            EventKind::ChannelMessage,
            EventKind::Ready
        ]
    );
    assert!(set.remove(EventKind::Channel));
    assert!(!set.contains(EventKind::Channel));
    assert_eq!(EventKindSet::all().len(), EventKind::COUNT);
    assert_eq!(
        EventKindSet::all().iter().collect::<Vec<_>>(),
        EventKind::ALL
    );
    const FILTER: EventKindSet = EventKindSet::of(EventKind::Ping).with(EventKind::Pong);
    assert_eq!(FILTER & set, EventKindSet::empty());
    assert_eq!(set.into_iter().count(), 2);
    let _ = envelope::Message::Ping(Default::default());
}
