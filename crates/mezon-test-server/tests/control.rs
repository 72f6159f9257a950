//! The control handle: pushes, acting as a human, and fault injection; plus the remaining
//! request kinds of `wire.md` §3.3.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use futures_util::{SinkExt as _, StreamExt as _};
use mezon_proto::api;
use mezon_proto::prost::Message as _;
use mezon_proto::realtime::{self, Envelope, envelope::Message as M};
use mezon_test_server::{RawFrame, ServerConfig, Target, TestServer, demo};
use tokio_tungstenite::tungstenite::Message;

fn send_in(channel_id: i64, text: &str) -> realtime::ChannelMessageSend {
    realtime::ChannelMessageSend {
        clan_id: demo::CLAN_ID,
        channel_id,
        content: serde_json::json!({ "t": text }).to_string(),
        ..Default::default()
    }
}

#[tokio::test]
async fn ephemeral_messages_reach_only_the_receivers() {
    let server = start().await;
    let mut sender = joined_bot(&server).await;
    let mut other = joined_bot(&server).await;

    let to_alice = M::EphemeralMessageSend(realtime::EphemeralMessageSend {
        message: Some(send_in(demo::TEXT_CHANNEL_ID, "only alice")),
        receiver_ids: vec![demo::ALICE_ID],
    });
    let answer = request(&mut sender, 3, to_alice).await;
    let M::ChannelMessage(message) = answer else {
        panic!("expected channel_message, got {answer:?}")
    };
    assert_eq!(message.code, 12, "ephemeral code");
    assert!(message.message_id > 0);
    assert_nothing_pending(&mut other).await;
    assert!(
        server.messages(demo::TEXT_CHANNEL_ID).is_empty(),
        "ephemeral messages are not history"
    );

    // The bot's other connection is a receiver when the bot is listed.
    let to_bot = M::EphemeralMessageSend(realtime::EphemeralMessageSend {
        message: Some(send_in(demo::TEXT_CHANNEL_ID, "bot")),
        receiver_ids: vec![server.bot_id()],
    });
    request(&mut sender, 4, to_bot).await;
    let push = next_envelope(&mut other).await;
    assert!(matches!(push.message, Some(M::ChannelMessage(m)) if m.content.contains("bot")));
    server.shutdown().await;
}

#[tokio::test]
async fn pushes_about_private_channels_go_only_to_joined_connections() {
    let server = start().await;
    let mut member = joined_bot(&server).await;
    let mut clan_only = joined_bot(&server).await;
    let join = channel_join(demo::CLAN_ID, demo::PRIVATE_CHANNEL_ID, 1);
    request(&mut member, 3, join).await;
    let id = server
        .user(demo::ALICE_ID)
        .send_message(demo::PRIVATE_CHANNEL_ID, "secret")
        .unwrap();
    let push = next_envelope(&mut member).await;
    assert!(
        matches!(push.message, Some(M::ChannelMessage(m)) if m.message_id == id && !m.is_public)
    );
    assert_nothing_pending(&mut clan_only).await;

    // After channel_leave, nothing more arrives.
    let leave = M::ChannelLeave(realtime::ChannelLeave {
        clan_id: demo::CLAN_ID,
        channel_id: demo::PRIVATE_CHANNEL_ID,
        channel_type: 1,
        is_public: false,
    });
    request(&mut member, 4, leave).await;
    server
        .user(demo::ALICE_ID)
        .send_message(demo::PRIVATE_CHANNEL_ID, "again")
        .unwrap();
    assert_nothing_pending(&mut member).await;
    server.shutdown().await;
}

#[tokio::test]
async fn reactions_are_answered_and_fanned_out() {
    let server = start().await;
    let mut reactor = joined_bot(&server).await;
    let mut watcher = joined_bot(&server).await;
    let message_id = server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "react")
        .unwrap();
    next_envelope(&mut reactor).await;
    next_envelope(&mut watcher).await;

    let reaction = api::MessageReaction {
        emoji_id: 5,
        channel_id: demo::TEXT_CHANNEL_ID,
        message_id,
        clan_id: demo::CLAN_ID,
        mode: 2,
        is_public: true,
        ..Default::default()
    };
    let answer = request(&mut reactor, 3, M::MessageReactionEvent(reaction)).await;
    let M::MessageReactionEvent(answered) = answer else {
        panic!("expected the reaction back")
    };
    assert_eq!(
        (answered.message_id, answered.sender_id),
        (message_id, server.bot_id())
    );
    let push = next_envelope(&mut watcher).await;
    assert!(matches!(push.message, Some(M::MessageReactionEvent(r)) if r.id == answered.id));
    server.shutdown().await;
}

#[tokio::test]
async fn every_request_kind_gets_its_answer() {
    let server = start().await;
    let mut socket = joined_bot(&server).await;
    let echoed = [
        M::MessageTypingEvent(realtime::MessageTypingEvent {
            channel_id: demo::TEXT_CHANNEL_ID,
            ..Default::default()
        }),
        M::LastSeenMessageEvent(realtime::LastSeenMessageEvent {
            channel_id: demo::TEXT_CHANNEL_ID,
            message_id: 9,
            ..Default::default()
        }),
        M::LastPinMessageEvent(realtime::LastPinMessageEvent {
            channel_id: demo::TEXT_CHANNEL_ID,
            ..Default::default()
        }),
        M::CustomStatusEvent(realtime::CustomStatusEvent {
            status: "busy".into(),
            ..Default::default()
        }),
        M::VoiceJoinedEvent(realtime::VoiceJoinedEvent {
            id: "v".into(),
            ..Default::default()
        }),
        M::VoiceLeavedEvent(realtime::VoiceLeavedEvent {
            id: "v".into(),
            ..Default::default()
        }),
    ];
    for (cid, message) in (10..).zip(echoed) {
        let answer = request(&mut socket, cid, message.clone()).await;
        assert_eq!(answer, message, "cid {cid} echoes its payload");
    }
    let answer = request(
        &mut socket,
        20,
        M::StatusUpdate(realtime::StatusUpdate::default()),
    )
    .await;
    assert!(matches!(answer, M::Status(_)));
    let answer = request(
        &mut socket,
        21,
        M::StatusFollow(realtime::StatusFollow::default()),
    )
    .await;
    assert!(
        matches!(answer, M::Error(e) if e.code == 1),
        "unrecognized payload"
    );

    // An envelope without a variant is not a ping: with a cid it fails as a request missing
    // its payload; a variant unknown to the schema is an unrecognized payload; at cid 0
    // neither is answered.
    let empty = Envelope {
        cid: 22,
        message: None,
    }
    .encode_to_vec();
    let unknown_with_cid = [0x08, 23, 0xC2, 0x0C, 0x00];
    for frame in [
        Envelope::default().encode_to_vec(),
        empty,
        unknown_with_cid.to_vec(),
    ] {
        socket
            .send(Message::Binary(Bytes::from(frame)))
            .await
            .unwrap();
    }
    let answer = next_envelope(&mut socket).await;
    assert_eq!(answer.cid, 22, "the cid-0 envelope is not answered");
    assert!(
        matches!(&answer.message, Some(M::Error(e)) if e.code == 2),
        "missing payload: {answer:?}"
    );
    let answer = next_envelope(&mut socket).await;
    assert_eq!(answer.cid, 23);
    assert!(
        matches!(&answer.message, Some(M::Error(e)) if e.code == 1),
        "unrecognized payload: {answer:?}"
    );

    // Everything sent is on record.
    let envelope = server
        .wait_for_received(|e| e.cid == 21, PATIENCE)
        .await
        .unwrap();
    assert!(matches!(envelope.message, Some(M::StatusFollow(_))));
    assert_eq!(server.received().len(), 2 + 6 + 2 + 3);
    server.shutdown().await;
}

#[tokio::test]
async fn pushes_reach_all_or_one_connection() {
    let server = start().await;
    let (_, mut first) = login_and_connect(&server).await;
    let (_, mut second) = login_and_connect(&server).await;
    let conns = server.wait_for_connections(2, PATIENCE).await.unwrap();
    let notice = M::ChannelDeletedEvent(realtime::ChannelDeletedEvent {
        channel_id: 3,
        ..Default::default()
    });

    server.push(notice.clone());
    for socket in [&mut first, &mut second] {
        let push = next_envelope(socket).await;
        assert_eq!((push.cid, push.message.as_ref()), (0, Some(&notice)));
    }
    server.push_to(conns[1], notice.clone());
    assert_eq!(next_envelope(&mut second).await.message, Some(notice));
    assert_nothing_pending(&mut first).await;
    server.shutdown().await;
}

#[tokio::test]
async fn adding_the_bot_to_a_channel_announces_it() {
    let server = start().await;
    let mut socket = joined_bot(&server).await;
    server
        .add_bot_to_channel(demo::CLAN_ID, demo::PRIVATE_CHANNEL_ID)
        .unwrap();
    let push = next_envelope(&mut socket).await;
    let Some(M::UserChannelAddedEvent(added)) = push.message else {
        panic!("expected user_channel_added_event")
    };
    let desc = added.channel_desc.expect("channel_desc");
    assert_eq!(
        (desc.channel_id, desc.channel_private),
        (demo::PRIVATE_CHANNEL_ID, 1)
    );
    assert!(added.users.iter().any(|u| u.user_id == server.bot_id()));
    assert_eq!(added.clan_id, demo::CLAN_ID);

    assert!(server.add_bot_to_channel(demo::CLAN_ID, 12345).is_err());
    assert!(
        server
            .add_bot_to_channel(99, demo::PRIVATE_CHANNEL_ID)
            .is_err()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn button_clicks_come_from_the_human() {
    let server = start().await;
    let mut socket = joined_bot(&server).await;
    let answer = request(
        &mut socket,
        3,
        M::ChannelMessageSend(send_in(demo::TEXT_CHANNEL_ID, "press")),
    )
    .await;
    let M::ChannelMessageAck(ack) = answer else {
        panic!("expected an ack")
    };
    server
        .user(demo::ALICE_ID)
        .click_button(ack.message_id, demo::TEXT_CHANNEL_ID, "ok", r#"{"v":1}"#)
        .unwrap();
    let push = next_envelope(&mut socket).await;
    let Some(M::MessageButtonClicked(click)) = push.message else {
        panic!("expected a click")
    };
    assert_eq!(click.message_id, ack.message_id);
    assert_eq!(
        (click.user_id, click.sender_id),
        (demo::ALICE_ID, server.bot_id())
    );
    assert_eq!(
        (click.button_id.as_str(), click.extra_data.as_str()),
        ("ok", r#"{"v":1}"#)
    );
    assert!(
        server
            .user(4242)
            .send_message(demo::TEXT_CHANNEL_ID, "who")
            .is_err()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn session_refresh_pushes_a_usable_session() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    server.wait_for_connections(1, PATIENCE).await.unwrap();
    let pushed = server.push_session_refresh();
    let push = next_envelope(&mut socket).await;
    let Some(M::RefreshSessionEvent(session)) = push.message else {
        panic!("expected refresh_session_event")
    };
    assert_eq!(session, pushed);
    let mut fresh = connect(&session).await;
    assert_pong(&mut fresh).await;
    server.shutdown().await;
}

#[tokio::test]
async fn dropped_connections_end_without_a_close_frame() {
    let server = start().await;
    let (session, mut socket) = login_and_connect(&server).await;
    server.wait_for_connections(1, PATIENCE).await.unwrap();
    server.drop_connections();
    let next = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .expect("the socket ends");
    assert!(
        !matches!(next, Some(Ok(Message::Close(_)))),
        "no close frame: {next:?}"
    );
    assert!(server.connections().is_empty());
    // Reconnecting works.
    let mut again = connect(&session).await;
    assert_pong(&mut again).await;
    server.shutdown().await;
}

#[tokio::test]
async fn one_connection_can_be_dropped_alone() {
    let server = start().await;
    let (_, mut first) = login_and_connect(&server).await;
    let (_, mut second) = login_and_connect(&server).await;
    let conns = server.wait_for_connections(2, PATIENCE).await.unwrap();
    assert!(server.drop_connection(conns[0]));
    assert!(!server.drop_connection(conns[0]), "already gone");
    let next = tokio::time::timeout(PATIENCE, first.next())
        .await
        .expect("the dropped socket ends");
    assert!(!matches!(next, Some(Ok(Message::Binary(_)))), "{next:?}");
    assert_eq!(server.connections(), [conns[1]]);
    assert_pong(&mut second).await;
    server.shutdown().await;
}

#[tokio::test]
async fn raw_frames_are_sent_as_given() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    let conn = server.wait_for_connections(1, PATIENCE).await.unwrap()[0];
    let frames = [
        RawFrame::garbage(),
        RawFrame::from("text"),
        RawFrame::unknown_variant(),
        RawFrame::oversize(1 << 20),
        RawFrame::from(vec![1, 2, 3]),
    ];
    for frame in frames.clone() {
        server.send_raw_frame(conn, frame);
    }
    for expected in frames {
        let got = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match (expected, got) {
            (RawFrame::Binary(want), Message::Binary(got)) => assert_eq!(got, want),
            (RawFrame::Text(want), Message::Text(got)) => assert_eq!(got.as_str(), want),
            (want, got) => panic!("expected {want:?}, got {got:?}"),
        }
    }
    // An unknown variant decodes as an envelope without a payload.
    let decoded = Envelope::decode(&[0xC2, 0x0C, 0x00][..]).unwrap();
    assert_eq!(
        decoded,
        Envelope {
            cid: 0,
            message: None
        }
    );
    server.send_raw_frame(Target::All, vec![9]);
    assert_eq!(
        tokio::time::timeout(PATIENCE, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap(),
        Message::Binary(Bytes::from_static(&[9]))
    );
    // The connection survives all of it.
    assert_nothing_pending(&mut socket).await;
    server.shutdown().await;
}

#[tokio::test]
async fn bad_client_frames_are_not_fatal() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    socket
        .send(Message::Binary(Bytes::from_static(&[0x12, 0x7F, 0x01])))
        .await
        .unwrap();
    socket.send(Message::text("hello")).await.unwrap();
    assert_nothing_pending(&mut socket).await;
    server.shutdown().await;
}

#[tokio::test]
async fn websocket_pings_are_answered() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    socket
        .send(Message::Ping(Bytes::from_static(b"hb")))
        .await
        .unwrap();
    let got = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got, Message::Pong(Bytes::from_static(b"hb")));
    server.shutdown().await;
}

#[tokio::test]
async fn pings_can_go_unanswered() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    server.set_answer_pings(false);
    send(&mut socket, 1, M::Ping(realtime::Ping {})).await;
    socket
        .send(Message::Binary(Bytes::from_static(&[0, 0, 2])))
        .await
        .unwrap();
    server
        .wait_for_received(|e| e.cid == 1, PATIENCE)
        .await
        .unwrap();
    send(&mut socket, 3, clan_join(0)).await;
    // Other requests are still answered, and come first.
    assert_eq!(next_envelope(&mut socket).await.cid, 3);
    server.set_answer_pings(true);
    assert_nothing_pending(&mut socket).await;
    server.shutdown().await;
}

/// The delay runs on tokio's paused clock. Socket I/O is real, so waiting for it must not
/// race a tokio timer (an idle runtime would jump the paused clock to that timer): the waits
/// here are bounded by a real-time guard instead.
#[tokio::test]
async fn answers_can_be_delayed() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    server.wait_for_connections(1, PATIENCE).await.unwrap();
    tokio::time::pause();
    let delay = Duration::from_secs(30);
    server.set_answer_delay(delay);
    let sent = tokio::time::Instant::now();
    send(&mut socket, 1, M::Ping(realtime::Ping {})).await;
    // A push is not delayed: it overtakes the answer.
    server.push(M::Pong(realtime::Pong {}));
    assert_eq!(next_envelope_guarded(&mut socket).await.cid, 0);
    let answer = next_envelope_guarded(&mut socket).await;
    assert_eq!(answer.cid, 1);
    assert!(
        sent.elapsed() >= delay,
        "answered after {:?}",
        sent.elapsed()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_does_not_read_is_dropped() {
    let config = ServerConfig {
        outbound_queue: 4,
        ..Default::default()
    };
    let server = TestServer::start(config).await.unwrap();
    let (_, _socket) = login_and_connect(&server).await;
    server.wait_for_connections(1, PATIENCE).await.unwrap();
    // On this single-threaded runtime the writer cannot drain the queue during the loop.
    for _ in 0..100 {
        server.push(M::Pong(realtime::Pong {}));
    }
    assert!(server.connections().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn humans_dm_and_react() {
    let server = start().await;
    let mut socket = joined_bot(&server).await;
    let alice = server.user(demo::ALICE_ID);
    let id = alice.send_dm("dm me").unwrap();
    let push = next_envelope(&mut socket).await;
    assert!(
        matches!(push.message, Some(M::ChannelMessage(m)) if m.message_id == id && m.channel_id == demo::ALICE_DM_ID)
    );

    let message_id = alice.send_message(demo::TEXT_CHANNEL_ID, "mine").unwrap();
    next_envelope(&mut socket).await;
    alice
        .react(demo::TEXT_CHANNEL_ID, message_id, 7, false)
        .unwrap();
    let push = next_envelope(&mut socket).await;
    let Some(M::MessageReactionEvent(reaction)) = push.message else {
        panic!("expected a reaction")
    };
    assert_eq!(
        (reaction.sender_id, reaction.emoji_id, reaction.action),
        (demo::ALICE_ID, 7, false)
    );
    assert_eq!(reaction.message_sender_id, demo::ALICE_ID);

    // The stored message keeps its reactions; taking one back removes it.
    let reactions = |server: &TestServer| {
        let stored = server.messages(demo::TEXT_CHANNEL_ID);
        let message = stored.iter().find(|m| m.message_id == message_id).unwrap();
        api::MessageReactionList::decode(message.reactions.clone())
            .unwrap()
            .reactions
    };
    assert_eq!(reactions(&server).len(), 1);
    assert_eq!(reactions(&server)[0].emoji_id, 7);
    alice
        .react(demo::TEXT_CHANNEL_ID, message_id, 7, true)
        .unwrap();
    assert!(reactions(&server).is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn clan_and_thread_announcements() {
    let server = start().await;
    let mut socket = joined_bot(&server).await;

    server.add_bot_to_clan(555, "new clan");
    let push = next_envelope(&mut socket).await;
    let Some(M::AddClanUserEvent(added)) = push.message else {
        panic!("expected add_clan_user_event")
    };
    assert_eq!(added.clan_id, 555);
    assert_eq!(added.user.map(|u| u.user_id), Some(server.bot_id()));
    let answer = request(&mut socket, 3, clan_join(555)).await;
    assert!(
        matches!(answer, M::ClanJoin(_)),
        "the new clan can be joined"
    );

    server
        .create_thread(
            demo::CLAN_ID,
            demo::TEXT_CHANNEL_ID,
            777,
            "topic",
            demo::ALICE_ID,
        )
        .unwrap();
    let created = next_envelope(&mut socket).await;
    assert!(matches!(created.message, Some(M::ChannelCreatedEvent(c)) if c.channel_id == 777));
    let updated = next_envelope(&mut socket).await;
    let Some(M::ChannelUpdatedEvent(updated)) = updated.message else {
        panic!("expected channel_updated_event")
    };
    assert_eq!(
        (updated.channel_type, updated.status, updated.parent_id),
        (7, 1, demo::TEXT_CHANNEL_ID)
    );
    // Threads need a join before sending.
    let send = M::ChannelMessageSend(send_in(777, "in thread"));
    assert!(matches!(request(&mut socket, 4, send.clone()).await, M::Error(e) if e.code == 3));
    let join = channel_join(demo::CLAN_ID, 777, 7);
    request(&mut socket, 5, join).await;
    assert!(matches!(
        request(&mut socket, 6, send).await,
        M::ChannelMessageAck(_)
    ));
    server.shutdown().await;
}

#[tokio::test]
async fn waits_for_http_calls_and_stored_messages() {
    let server = start().await;
    let (session, mut socket) = login_and_connect(&server).await;
    let login = server
        .wait_for_http(|c| c.path.ends_with("/authenticate/token"), PATIENCE)
        .await
        .unwrap();
    assert_eq!((login.status, login.authorized), (200, true));
    request(&mut socket, 1, clan_join(demo::CLAN_ID)).await;

    let waiting = server.wait_for_message(
        demo::TEXT_CHANNEL_ID,
        |m| m.content.contains("pong"),
        PATIENCE,
    );
    let sending = async {
        request(
            &mut socket,
            2,
            M::ChannelMessageSend(send_in(demo::TEXT_CHANNEL_ID, "pong")),
        )
        .await
    };
    let (found, acked) = tokio::join!(waiting, sending);
    let M::ChannelMessageAck(ack) = acked else {
        panic!("expected an ack")
    };
    assert_eq!(found.unwrap().message_id, ack.message_id);

    let missing = server
        .wait_for_http(
            |c| c.method_name.as_deref() == Some("Never"),
            Duration::from_millis(50),
        )
        .await;
    assert!(missing.is_err());
    drop(session);
    server.shutdown().await;
}

#[tokio::test]
async fn pongs_are_the_golden_pong_byte_for_byte() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    send(&mut socket, 114, M::Ping(realtime::Ping {})).await;
    let Frame::Envelope(bytes) = next_frame(&mut socket).await else {
        panic!("expected an envelope")
    };
    let golden = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../mezon-proto/tests/data/fixtures/envelope_023_pong.bin"),
    )
    .unwrap();
    // `{cid: 114, pong {}}`: the empty pong is on the wire as a zero-length field 23.
    assert_eq!(bytes.as_ref(), golden.as_slice());
    assert_eq!(bytes.as_ref(), &[0x08, 0x72, 0xBA, 0x01, 0x00]);
    server.shutdown().await;
}

/// A short real-time wait for something that must not happen.
const QUIET: Duration = Duration::from_millis(150);

#[tokio::test]
async fn stalled_sockets_answer_nothing_until_resumed() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    let conn = server.wait_for_connections(1, PATIENCE).await.unwrap()[0];
    server.set_stalled(true);
    send(&mut socket, 1, M::Ping(realtime::Ping {})).await;
    socket
        .send(Message::Ping(Bytes::from_static(b"ws")))
        .await
        .unwrap();
    server.push(M::Pong(realtime::Pong {}));
    assert!(
        tokio::time::timeout(QUIET, socket.next()).await.is_err(),
        "a stalled socket sends nothing, WebSocket pongs included"
    );
    assert!(server.received().is_empty(), "nor reads anything");
    assert_eq!(server.connections(), [conn], "but stays open");

    server.set_stalled(false);
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("frames after the stall")
            .unwrap()
            .unwrap();
        seen.push(match message {
            Message::Pong(payload) => format!("ws pong {payload:?}"),
            Message::Binary(bytes) => {
                let envelope = Envelope::decode(bytes).unwrap();
                format!("cid {} {:?}", envelope.cid, envelope.message)
            }
            other => panic!("unexpected {other:?}"),
        });
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "cid 0 Some(Pong(Pong))",
            "cid 1 Some(Pong(Pong))",
            "ws pong b\"ws\"",
        ]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn websocket_pings_reach_the_client_and_its_pongs_are_recorded() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    let conn = server.wait_for_connections(1, PATIENCE).await.unwrap()[0];
    server.ping_websocket(conn, Bytes::from_static(b"alive?"));
    let got = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got, Message::Ping(Bytes::from_static(b"alive?")));
    // tungstenite queued the pong while reading; any write flushes it.
    assert_nothing_pending(&mut socket).await;
    let pong = server
        .wait_for_websocket_pong(conn, PATIENCE)
        .await
        .unwrap();
    assert_eq!(pong, Bytes::from_static(b"alive?"));
    assert_eq!(server.websocket_pongs(), [(conn, pong)]);
    server.shutdown().await;
}

/// The refusal runs on tokio's clock; real I/O runs with the clock resumed.
#[tokio::test]
async fn logins_are_refused_for_a_while() {
    let server = start().await;
    login(&server).await;
    tokio::time::pause();
    server.refuse_logins_for(Duration::from_secs(30));
    tokio::time::advance(Duration::from_secs(29)).await;
    tokio::time::resume();
    let headers = [("authorization", basic(&server.api_key()))];
    let path = "/v2/apps/authenticate/token";
    let (status, _) = post(server.addr(), path, &headers, Vec::new()).await;
    assert_eq!(status, 401, "still refused after 29 s");
    tokio::time::pause();
    tokio::time::advance(Duration::from_secs(2)).await;
    tokio::time::resume();
    let (status, _) = post(server.addr(), path, &headers, Vec::new()).await;
    assert_eq!(status, 200, "accepted again after 31 s");

    // A zero duration ends a refusal early.
    server.refuse_logins_for(Duration::from_secs(3600));
    let (status, _) = post(server.addr(), path, &headers, Vec::new()).await;
    assert_eq!(status, 401);
    server.refuse_logins_for(Duration::ZERO);
    let (status, _) = post(server.addr(), path, &headers, Vec::new()).await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

fn dm_send(text: &str) -> M {
    M::ChannelMessageSend(realtime::ChannelMessageSend {
        clan_id: 0,
        channel_id: demo::ALICE_DM_ID,
        mode: 4,
        content: serde_json::json!({ "t": text }).to_string(),
        ..Default::default()
    })
}

fn is_must_join(answer: &M) -> bool {
    matches!(answer, M::Error(e) if e.code == 3 && e.message.contains(mezon_test_server::MUST_JOIN))
}

/// `wire.md` §3.3: a participant sends into a DM listed at login without joining it, once it
/// joined clan 0; the strict policy still asks for the join.
#[tokio::test]
async fn participants_send_into_their_dm_without_joining_it() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    let answer = request(&mut socket, 1, dm_send("too early")).await;
    assert!(is_must_join(&answer), "before clan_join(0): {answer:?}");
    request(&mut socket, 2, clan_join(0)).await;
    let answer = request(&mut socket, 3, dm_send("hi alice")).await;
    assert!(matches!(answer, M::ChannelMessageAck(_)), "{answer:?}");
    assert_eq!(server.messages(demo::ALICE_DM_ID).len(), 1);
    assert!(server.joined_channels(server.connections()[0]).is_empty());

    server.set_strict_joins(true);
    let answer = request(&mut socket, 4, dm_send("strict")).await;
    assert!(is_must_join(&answer), "strict: {answer:?}");
    request(&mut socket, 5, channel_join(0, demo::ALICE_DM_ID, 3)).await;
    let answer = request(&mut socket, 6, dm_send("joined")).await;
    assert!(matches!(answer, M::ChannelMessageAck(_)), "{answer:?}");
    server.shutdown().await;
}

/// Only the DM's participants may write there: another bot of the world is refused, joined
/// or not, and so is a human who is not its peer.
#[tokio::test]
async fn non_participants_cannot_write_into_a_dm() {
    let world = mezon_test_server::World::demo()
        .bot(77, "other-bot", "other-key")
        .user(78, "bob");
    let server = TestServer::start(ServerConfig {
        world,
        ..Default::default()
    })
    .await
    .unwrap();
    let headers = [("authorization", basic("other-key"))];
    let (status, body) = post(
        server.addr(),
        "/v2/apps/authenticate/token",
        &headers,
        login_body(77, "other-key"),
    )
    .await;
    assert_eq!(status, 200);
    let session = api::Session::decode(body).unwrap();
    let mut other = connect(&session).await;
    request(&mut other, 1, clan_join(0)).await;
    let answer = request(&mut other, 2, dm_send("not mine")).await;
    assert!(is_must_join(&answer), "{answer:?}");
    let answer = request(&mut other, 3, channel_join(0, demo::ALICE_DM_ID, 3)).await;
    assert!(matches!(&answer, M::Error(e) if e.code == 3), "{answer:?}");
    assert!(server.messages(demo::ALICE_DM_ID).is_empty());
    assert_nothing_pending(&mut other).await;

    let bob = server.user(78).send_message(demo::ALICE_DM_ID, "hi");
    assert!(
        matches!(
            bob,
            Err(mezon_test_server::ControlError::NotParticipant { .. })
        ),
        "{bob:?}"
    );
    server.shutdown().await;
}
