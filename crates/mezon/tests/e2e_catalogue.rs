//! Every documented event constant of the catalogue (wire.md §4) has a typed registration
//! method on `Client`, and each one receives its event pushed by the local server.

mod common;

use std::collections::BTreeMap;

use common::*;
use mezon::proto::api;
use mezon::proto::realtime::{self as rt, envelope::Message as M};
use mezon::{EventKind, Message};
use tokio::sync::mpsc;

/// Each pushed payload carries `MARK + i` (`i` = its row in the catalogue), so the test sees
/// that each handler got its own event's payload, not just that it ran.
const MARK: i64 = 4242;

#[tokio::test]
async fn each_documented_constant_reaches_its_typed_handler() {
    let (server, client) = logged_in().await;
    let (tx, mut rx) = mpsc::channel::<(&'static str, i64)>(64);

    macro_rules! register {
        ($($constant:literal => $method:ident, |$p:ident| $mark:expr;)*) => {
            $(
                let t = tx.clone();
                let _ = client.$method(move |$p, _client| {
                    let _ = t.try_send(($constant, $mark));
                });
            )*
        };
    }
    register! {
        "MESSAGE_REACTION" => on_message_reaction, |p| p.message_id;
        "MESSAGE_TYPING_EVENT" => on_message_typing, |p| p.sender_id;
        "MESSAGE_BUTTON_CLICKED" => on_message_button_clicked, |p| p.message_id;
        "CHANNEL_CREATED" => on_channel_created, |p| p.channel_id;
        "CHANNEL_UPDATED" => on_channel_updated, |p| p.channel_id;
        "CHANNEL_DELETED" => on_channel_deleted, |p| p.channel_id;
        "CHANNEL_PRESENCE_EVENT" => on_channel_presence, |p| p.channel_id;
        "USER_CHANNEL_ADDED" => on_user_channel_added, |p| p.clan_id;
        "USER_CHANNEL_REMOVED" => on_user_channel_removed, |p| p.channel_id;
        "USER_CLAN_REMOVED" => on_user_clan_removed, |p| p.clan_id;
        "ADD_CLAN_USER" => on_add_clan_user, |p| p.user.as_ref().map_or(0, |u| u.user_id);
        "VOICE_STARTED_EVENT" => on_voice_started, |p| p.voice_channel_id;
        "VOICE_ENDED_EVENT" => on_voice_ended, |p| p.id;
        "VOICE_JOINED_EVENT" => on_voice_joined, |p| p.user_id;
        "VOICE_LEAVED_EVENT" => on_voice_leaved, |p| p.voice_user_id;
        "CLAN_UPDATED_EVENT" => on_clan_updated, |p| p.clan_id;
        "CLAN_EVENT_CREATED" => on_clan_event_created, |p| p.clan_id;
        "GIVE_COFFEE" => on_give_coffee, |p| p.sender_id;
        "TOKEN_SEND" => on_token_sent, |p| p.sender_id;
        "NOTIFICATION" => on_notifications, |p| p.notifications.first().map_or(0, |n| n.id);
    }
    let t = tx.clone();
    let _ = client.on_channel_message(move |msg: Message, _client| {
        let _ = t.try_send(("CHANNEL_MESSAGE", msg.sender_id()));
    });
    drop(tx);

    let pushes = vec![
        M::MessageReactionEvent(api::MessageReaction {
            message_id: MARK + 1,
            emoji: "🔥".into(),
            ..Default::default()
        }),
        M::MessageTypingEvent(rt::MessageTypingEvent {
            sender_id: MARK + 2,
            ..Default::default()
        }),
        M::MessageButtonClicked(rt::MessageButtonClicked {
            message_id: MARK + 3,
            button_id: "b".into(),
            ..Default::default()
        }),
        M::ChannelCreatedEvent(rt::ChannelCreatedEvent {
            channel_id: MARK + 4,
            channel_type: 1,
            ..Default::default()
        }),
        M::ChannelUpdatedEvent(rt::ChannelUpdatedEvent {
            channel_id: MARK + 5,
            channel_type: 1,
            ..Default::default()
        }),
        M::ChannelDeletedEvent(rt::ChannelDeletedEvent {
            channel_id: MARK + 6,
            ..Default::default()
        }),
        M::ChannelPresenceEvent(rt::ChannelPresenceEvent {
            channel_id: MARK + 7,
            ..Default::default()
        }),
        M::UserChannelAddedEvent(rt::UserChannelAdded {
            clan_id: MARK + 8,
            ..Default::default()
        }),
        M::UserChannelRemovedEvent(rt::UserChannelRemoved {
            channel_id: MARK + 9,
            ..Default::default()
        }),
        M::UserClanRemovedEvent(rt::UserClanRemoved {
            clan_id: MARK + 10,
            ..Default::default()
        }),
        M::AddClanUserEvent(rt::AddClanUserEvent {
            clan_id: 1,
            user: Some(rt::UserProfileRedis {
                user_id: MARK + 11,
                ..Default::default()
            }),
            ..Default::default()
        }),
        M::VoiceStartedEvent(rt::VoiceStartedEvent {
            voice_channel_id: MARK + 12,
            ..Default::default()
        }),
        M::VoiceEndedEvent(rt::VoiceEndedEvent {
            id: MARK + 13,
            ..Default::default()
        }),
        M::VoiceJoinedEvent(rt::VoiceJoinedEvent {
            user_id: MARK + 14,
            ..Default::default()
        }),
        M::VoiceLeavedEvent(rt::VoiceLeavedEvent {
            voice_user_id: MARK + 15,
            ..Default::default()
        }),
        M::ClanUpdatedEvent(rt::ClanUpdatedEvent {
            clan_id: MARK + 16,
            ..Default::default()
        }),
        M::ClanEventCreated(api::CreateEventRequest {
            clan_id: MARK + 17,
            ..Default::default()
        }),
        M::GiveCoffeeEvent(api::GiveCoffeeEvent {
            sender_id: MARK + 18,
            ..Default::default()
        }),
        M::TokenSentEvent(api::TokenSentEvent {
            sender_id: MARK + 19,
            ..Default::default()
        }),
        M::Notifications(rt::Notifications {
            notifications: vec![api::Notification {
                id: MARK + 20,
                ..Default::default()
            }],
        }),
    ];
    for push in pushes {
        server.push(push);
    }
    server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "hi")
        .unwrap();

    let mut seen = BTreeMap::new();
    while seen.len() < 21 {
        let (name, mark) = recv(&mut rx).await;
        let earlier = seen.insert(name, mark);
        assert_eq!(earlier, None, "{name} delivered twice");
    }
    // The documented constants of wire.md §4, each checked against the catalogue.
    let documented = [
        "CHANNEL_MESSAGE",
        "MESSAGE_REACTION",
        "MESSAGE_TYPING_EVENT",
        "MESSAGE_BUTTON_CLICKED",
        "CHANNEL_CREATED",
        "CHANNEL_UPDATED",
        "CHANNEL_DELETED",
        "CHANNEL_PRESENCE_EVENT",
        "USER_CHANNEL_ADDED",
        "USER_CHANNEL_REMOVED",
        "USER_CLAN_REMOVED",
        "ADD_CLAN_USER",
        "VOICE_STARTED_EVENT",
        "VOICE_ENDED_EVENT",
        "VOICE_JOINED_EVENT",
        "VOICE_LEAVED_EVENT",
        "CLAN_UPDATED_EVENT",
        "CLAN_EVENT_CREATED",
        "GIVE_COFFEE",
        "TOKEN_SEND",
        "NOTIFICATION",
    ];
    for (row, constant) in documented.into_iter().enumerate() {
        let kind = EventKind::from_name(constant).expect("a catalogue constant");
        assert_eq!(kind.constant_name(), constant);
        assert!(
            seen.contains_key(constant),
            "no typed handler received {constant}"
        );
        let expected = if constant == "CHANNEL_MESSAGE" {
            demo::ALICE_ID
        } else {
            MARK + row as i64
        };
        assert_eq!(seen[constant], expected, "{constant} payload");
    }
    client.shutdown().await;
}
