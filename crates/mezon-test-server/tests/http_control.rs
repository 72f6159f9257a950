//! The HTTP control API (`/_control/...`), driven with a bare HTTP client and checked with
//! the bare wire parser of `common`: no SDK code on the client side.

mod common;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use common::*;
use futures_util::{SinkExt as _, StreamExt as _};
use mezon_proto::api;
use mezon_proto::prost::Message as _;
use mezon_proto::realtime::{self, Envelope, envelope::Message as M};
use mezon_test_server::{ServerConfig, TestServer, demo};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// The next pushed envelope's payload.
async fn next_push(socket: &mut Socket) -> M {
    let envelope = next_envelope(socket).await;
    assert_eq!(envelope.cid, 0, "a push: {envelope:?}");
    envelope.message.expect("a payload")
}

/// The next WebSocket message of any kind.
async fn next_message(socket: &mut Socket) -> Option<Message> {
    tokio::time::timeout(PATIENCE, socket.next())
        .await
        .expect("something in time")
        .and_then(Result::ok)
}

#[tokio::test]
async fn status_shows_connections_joins_counters_and_settings() {
    let server = start().await;
    let _socket = joined_bot(&server).await;
    let (code, status) = control_get(server.addr(), "status").await;
    assert_eq!(code, 200, "{status}");
    assert_eq!(status["bot_id"], server.bot_id().to_string());
    let conns = status["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["clans"], json!(["0", demo::CLAN_ID.to_string()]));
    assert_eq!(status["counters"]["logins"], 1);
    assert_eq!(status["counters"]["connections_opened"], 1);
    assert_eq!(status["counters"]["frames_received"], 2);
    assert_eq!(status["settings"]["join_policy"], "clan");
    assert_eq!(status["settings"]["echo"], false);

    let (code, joins) = control_get(server.addr(), "connections").await;
    assert_eq!(code, 200);
    assert_eq!(joins["items"], status["connections"]);
    server.shutdown().await;
}

#[tokio::test]
async fn connections_can_be_waited_for() {
    let server = start().await;
    let addr = server.addr();
    let waiting =
        tokio::spawn(async move { control_get(addr, "connections?min=1&timeout_ms=4000").await });
    let (_, _socket) = login_and_connect(&server).await;
    let (code, answer) = waiting.await.unwrap();
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["count"], 1);

    // Not enough within the bound: 408 with what there is.
    let (code, answer) = control_get(addr, "connections?min=2&timeout_ms=100").await;
    assert_eq!(code, 408, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("1 of 2"));
    assert_eq!(answer["items"].as_array().unwrap().len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn any_envelope_can_be_pushed_as_json_or_bytes() {
    let server = start().await;
    let mut socket = joined_bot(&server).await;
    let conn = server.connections()[0];

    let answer = control_ok(
        server.addr(),
        "push",
        json!({"envelope": {"channel_deleted_event": {"channel_id": "1850000000000000007", "clan_id": 5}}}),
    )
    .await;
    assert_eq!(answer["sent"], 1);
    let pushed = next_push(&mut socket).await;
    assert_eq!(
        pushed,
        M::ChannelDeletedEvent(realtime::ChannelDeletedEvent {
            channel_id: 1_850_000_000_000_000_007,
            clan_id: 5,
            ..Default::default()
        })
    );

    // Bytes go out exactly as given, to one connection.
    let bytes = Envelope {
        cid: 0,
        message: Some(M::Pong(realtime::Pong {})),
    }
    .encode_to_vec();
    control_ok(
        server.addr(),
        "push",
        json!({"conn": conn.0, "base64": STANDARD.encode(&bytes)}),
    )
    .await;
    assert_eq!(
        next_message(&mut socket).await,
        Some(Message::Binary(Bytes::from(bytes)))
    );

    // Bad input is a 4xx with a reason, and the server carries on.
    for (body, status) in [
        (json!({"envelope": {"no_such_variant": {}}}), 400),
        (json!({"envelope": {"cid": "x"}}), 400),
        (json!({"base64": "!!"}), 400),
        (json!({}), 400),
        (json!({"envelope": {}, "base64": ""}), 400),
        (json!({"conn": 999, "envelope": {"ping": {}}}), 404),
        (json!({"envelope": {"ping": {}}, "surprise": 1}), 400),
    ] {
        let (code, answer) = control_post(server.addr(), "push", body.clone()).await;
        assert_eq!(code, status, "{body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    assert_nothing_pending(&mut socket).await;
    server.shutdown().await;
}

#[tokio::test]
async fn humans_send_reply_dm_react_click_and_select() {
    let server = start().await;
    let addr = server.addr();
    let mut socket = joined_bot(&server).await;
    let channel = demo::TEXT_CHANNEL_ID.to_string();

    let sent = control_ok(
        addr,
        "users/send",
        json!({"channel_id": channel, "text": "hello bot"}),
    )
    .await;
    let message_id = id_of(&sent["message_id"]);
    let M::ChannelMessage(message) = next_push(&mut socket).await else {
        panic!("expected a channel_message")
    };
    assert_eq!(
        (message.message_id, message.sender_id),
        (message_id, demo::ALICE_ID)
    );
    assert_eq!(message.content, r#"{"t":"hello bot"}"#);
    assert_eq!(sent["message"]["content"], message.content);

    // A whole content object and extra ChannelMessageSend fields.
    let mention = json!({"mentions": [{"user_id": server.bot_id().to_string(), "s": 0, "e": 4}]});
    control_ok(
        addr,
        "users/send",
        json!({"user": demo::ALICE_ID.to_string(), "channel_id": channel,
               "content": {"t": "@bot hi", "mk": []}, "extra": mention}),
    )
    .await;
    let M::ChannelMessage(message) = next_push(&mut socket).await else {
        panic!("expected a channel_message")
    };
    let mentions = api::MessageMentionList::decode(message.mentions).unwrap();
    assert_eq!(mentions.mentions[0].user_id, server.bot_id());

    let reply = control_ok(
        addr,
        "users/reply",
        json!({"channel_id": channel, "message_id": message_id.to_string(), "text": "re"}),
    )
    .await;
    let M::ChannelMessage(message) = next_push(&mut socket).await else {
        panic!("expected the reply")
    };
    assert_eq!(message.message_id, id_of(&reply["message_id"]));
    let refs = api::MessageRefList::decode(message.references).unwrap();
    assert_eq!(refs.refs[0].message_ref_id, message_id);

    let dm = control_ok(addr, "users/dm", json!({"text": "psst"})).await;
    assert_eq!(id_of(&dm["channel_id"]), demo::ALICE_DM_ID);
    let M::ChannelMessage(message) = next_push(&mut socket).await else {
        panic!("expected the DM")
    };
    assert_eq!(message.channel_id, demo::ALICE_DM_ID);

    control_ok(
        addr,
        "users/react",
        json!({"channel_id": channel, "message_id": message_id.to_string(), "emoji_id": 7}),
    )
    .await;
    let M::MessageReactionEvent(reaction) = next_push(&mut socket).await else {
        panic!("expected a reaction")
    };
    assert_eq!(
        (reaction.message_id, reaction.emoji_id, reaction.action),
        (message_id, 7, false)
    );

    control_ok(
        addr,
        "users/click",
        json!({"channel_id": channel, "message_id": message_id.to_string(),
               "button_id": "ok", "extra": {"v": 1}}),
    )
    .await;
    let M::MessageButtonClicked(click) = next_push(&mut socket).await else {
        panic!("expected a click")
    };
    assert_eq!(
        (click.button_id.as_str(), click.extra_data.as_str()),
        ("ok", r#"{"v":1}"#)
    );

    control_ok(
        addr,
        "users/select",
        json!({"channel_id": channel, "message_id": message_id.to_string(),
               "selectbox_id": "pick", "values": ["a", "b"]}),
    )
    .await;
    let M::DropdownBoxSelected(selected) = next_push(&mut socket).await else {
        panic!("expected a selection")
    };
    assert_eq!(selected.values, ["a", "b"]);
    assert_eq!(selected.user_id, demo::ALICE_ID);

    // Unknown users, channels and messages are 404s; a stranger's DM is a 409.
    for (route, body, status) in [
        (
            "users/send",
            json!({"user": 4242, "channel_id": channel, "text": "x"}),
            404,
        ),
        ("users/send", json!({"channel_id": 4242, "text": "x"}), 404),
        (
            "users/reply",
            json!({"channel_id": channel, "message_id": 1, "text": "x"}),
            404,
        ),
        (
            "users/send",
            json!({"channel_id": channel, "text": "x", "content": {}}),
            400,
        ),
        ("users/send", json!({"channel_id": "abc", "text": "x"}), 400),
    ] {
        let (code, answer) = control_post(addr, route, body.clone()).await;
        assert_eq!(code, status, "{route} {body}: {answer}");
    }
    assert_nothing_pending(&mut socket).await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_dm_from_a_new_partner_opens_a_dm_the_world_then_lists() {
    let config = ServerConfig {
        world: mezon_test_server::World::demo().user(77, "bob"),
        ..Default::default()
    };
    let server = TestServer::start(config).await.unwrap();
    let mut socket = joined_bot(&server).await;
    let dm = control_ok(server.addr(), "users/dm", json!({"user": 77, "text": "hi"})).await;
    let dm_id = id_of(&dm["channel_id"]);
    let M::ChannelMessage(message) = next_push(&mut socket).await else {
        panic!("expected the DM")
    };
    assert_eq!((message.channel_id, message.clan_id), (dm_id, 0));
    let (_, world) = control_get(server.addr(), "world").await;
    let dms = world["dms"].as_array().unwrap();
    assert!(
        dms.iter()
            .any(|d| d["id"] == json!(dm_id) && d["user_id"] == json!(77)),
        "{world}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_bot_is_added_to_and_removed_from_clans_and_channels() {
    let server = start().await;
    let addr = server.addr();
    let mut socket = joined_bot(&server).await;

    control_ok(
        addr,
        "bot/add_to_clan",
        json!({"clan_id": 555, "name": "new"}),
    )
    .await;
    let M::AddClanUserEvent(added) = next_push(&mut socket).await else {
        panic!("expected add_clan_user_event")
    };
    assert_eq!(added.clan_id, 555);

    control_ok(
        addr,
        "bot/add_to_channel",
        json!({"channel_id": demo::PRIVATE_CHANNEL_ID.to_string()}),
    )
    .await;
    let M::UserChannelAddedEvent(added) = next_push(&mut socket).await else {
        panic!("expected user_channel_added_event")
    };
    assert_eq!(
        added.channel_desc.map(|d| d.channel_id),
        Some(demo::PRIVATE_CHANNEL_ID)
    );
    request(
        &mut socket,
        3,
        channel_join(demo::CLAN_ID, demo::PRIVATE_CHANNEL_ID, 1),
    )
    .await;

    control_ok(
        addr,
        "bot/remove_from_channel",
        json!({"channel_id": demo::PRIVATE_CHANNEL_ID.to_string()}),
    )
    .await;
    let M::UserChannelRemovedEvent(removed) = next_push(&mut socket).await else {
        panic!("expected user_channel_removed_event")
    };
    assert_eq!(removed.user_ids, [server.bot_id()]);
    assert!(server.joined_channels(server.connections()[0]).is_empty());

    control_ok(
        addr,
        "bot/remove_from_clan",
        json!({"clan_id": demo::CLAN_ID.to_string()}),
    )
    .await;
    let M::UserClanRemovedEvent(removed) = next_push(&mut socket).await else {
        panic!("expected user_clan_removed_event")
    };
    assert_eq!(removed.clan_id, demo::CLAN_ID);
    // No longer a member: not joinable, and pushes about its channels stop.
    let answer = request(&mut socket, 4, clan_join(demo::CLAN_ID)).await;
    assert!(matches!(&answer, M::Error(e) if e.code == 3), "{answer:?}");
    server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "anyone?")
        .unwrap();
    assert_nothing_pending(&mut socket).await;

    let (code, _) = control_post(addr, "bot/remove_from_clan", json!({"clan_id": 1})).await;
    assert_eq!(code, 404);
    let (code, _) = control_post(
        addr,
        "bot/add_to_channel",
        json!({"clan_id": 1, "channel_id": demo::PRIVATE_CHANNEL_ID}),
    )
    .await;
    assert_eq!(code, 409, "wrong clan");

    let thread = control_ok(
        addr,
        "threads",
        json!({"parent_id": demo::TEXT_CHANNEL_ID.to_string(), "name": "topic"}),
    )
    .await;
    assert!(id_of(&thread["thread_id"]) > 0);
    server.shutdown().await;
}

#[tokio::test]
async fn frames_both_ways_are_decoded_filterable_and_waitable() {
    let server = start().await;
    let addr = server.addr();
    let mut socket = joined_bot(&server).await;
    let send = realtime::ChannelMessageSend {
        clan_id: demo::CLAN_ID,
        channel_id: demo::TEXT_CHANNEL_ID,
        content: r#"{"t":"hi"}"#.into(),
        ..Default::default()
    };
    request(&mut socket, 7, M::ChannelMessageSend(send)).await;

    let (code, received) =
        control_get(addr, "frames/received?kind=channel_message_send&min=1").await;
    assert_eq!(code, 200, "{received}");
    let frame = &received["items"][0];
    assert_eq!(frame["cid"], 7);
    assert_eq!(
        frame["envelope"]["channel_message_send"]["content"],
        r#"{"t":"hi"}"#
    );
    assert_eq!(
        frame["envelope"]["channel_message_send"]["channel_id"],
        demo::TEXT_CHANNEL_ID.to_string()
    );

    let (_, sent) = control_get(addr, "frames/sent?cid=7").await;
    assert_eq!(sent["count"], 1);
    assert_eq!(sent["items"][0]["kind"], "channel_message_ack");

    let conn = server.connections()[0].0;
    let (_, all) = control_get(addr, &format!("frames/received?conn={conn}")).await;
    assert_eq!(all["count"], 3, "two joins and the send");
    let (_, none) = control_get(addr, "frames/received?conn=99").await;
    assert_eq!(none["count"], 0);
    let last = all["items"][2]["seq"].as_u64().unwrap();
    let (_, after) = control_get(addr, &format!("frames/received?after={last}")).await;
    assert_eq!(after["count"], 0);

    // Raw API answers, binary pings and bad frames get kinds of their own.
    api_socket(&mut socket, 8, 0, Vec::new()).await;
    socket
        .send(Message::Binary(Bytes::from_static(&[0, 0, 9])))
        .await
        .unwrap();
    assert_eq!(next_frame(&mut socket).await, Frame::BinaryPong { cid: 9 });
    socket
        .send(Message::Binary(Bytes::from_static(&[0x12, 0x7F])))
        .await
        .unwrap();
    let (_, raw) = control_get(addr, "frames/sent?kind=raw_answer&min=1").await;
    assert_eq!(raw["items"][0]["cid"], 8);
    assert_eq!(raw["items"][0]["final"], true);
    let (_, pings) = control_get(addr, "frames/received?kind=binary_ping&min=1").await;
    assert_eq!(pings["items"][0]["cid"], 9);
    let (_, pongs) = control_get(addr, "frames/sent?kind=binary_pong&min=1").await;
    assert_eq!(pongs["items"][0]["cid"], 9);
    let (_, bad) = control_get(addr, "frames/received?kind=undecodable&min=1").await;
    assert_eq!(bad["items"][0]["base64"], STANDARD.encode([0x12, 0x7F]));

    // A long-poll returns as soon as enough frames match.
    let waiting = tokio::spawn(async move {
        control_get(addr, "frames/received?kind=ping&min=2&timeout_ms=4000").await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_pong(&mut socket).await;
    assert_pong(&mut socket).await;
    let (code, pings) = waiting.await.unwrap();
    assert_eq!(code, 200, "{pings}");
    assert_eq!(pings["count"], 2);
    assert_eq!(pings["items"][0]["envelope"], json!({"cid": 1, "ping": {}}));

    for query in [
        "frames/sent?min=x",
        "frames/sent?conn=-1",
        "messages?channel_id=z",
    ] {
        let (code, answer) = control_get(addr, query).await;
        assert_eq!(code, 400, "{query}: {answer}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn messages_world_and_http_log_are_readable() {
    let server = start().await;
    let addr = server.addr();
    let (session, mut socket) = login_and_connect(&server).await;
    request(&mut socket, 1, clan_join(demo::CLAN_ID)).await;
    control_ok(
        addr,
        "users/send",
        json!({"channel_id": demo::TEXT_CHANNEL_ID, "text": "one"}),
    )
    .await;
    let ack = request(
        &mut socket,
        2,
        M::ChannelMessageSend(realtime::ChannelMessageSend {
            channel_id: demo::TEXT_CHANNEL_ID,
            content: r#"{"t":"two"}"#.into(),
            ..Default::default()
        }),
    )
    .await;
    assert!(matches!(ack, M::ChannelMessageAck(_)));

    let (_, all) = control_get(
        addr,
        &format!("messages?channel_id={}", demo::TEXT_CHANNEL_ID),
    )
    .await;
    assert_eq!(all["count"], 2);
    let (_, from_bot) = control_get(
        addr,
        &format!("messages?sender_id={}&min=1", server.bot_id()),
    )
    .await;
    assert_eq!(from_bot["items"][0]["content"], r#"{"t":"two"}"#);

    let (_, world) = control_get(addr, "world").await;
    assert_eq!(world["clans"][0]["name"], "demo");
    assert_eq!(world["bots"][0]["id"], json!(server.bot_id()));
    assert_eq!(world["channels"][2]["type"], "thread");
    assert_eq!(world["dms"][0]["id"], json!(demo::ALICE_DM_ID));

    let (status, _) = api_http(
        &server,
        &session.token,
        "ListClanDescs",
        &api::ListClanDescRequest::default(),
    )
    .await;
    assert_eq!(status, 200);
    let (_, log) = control_get(addr, "http_log?path=ListClanDescs").await;
    assert_eq!(log["count"], 1);
    assert_eq!(log["items"][0]["method_name"], "ListClanDescs");
    assert_eq!(log["items"][0]["status"], 200);
    let (_, log) = control_get(addr, "http_log").await;
    assert_eq!(log["items"][0]["path"], "/v2/apps/authenticate/token");
    assert!(
        log["items"][0].get("body").is_none(),
        "login bodies (api keys) are not shown"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn fault_drop_closes_one_or_all_sockets() {
    let server = start().await;
    let (_, mut first) = login_and_connect(&server).await;
    let (_, mut second) = login_and_connect(&server).await;
    let conns = server.wait_for_connections(2, PATIENCE).await.unwrap();
    let answer = control_ok(server.addr(), "faults/drop", json!({"conn": conns[0].0})).await;
    assert_eq!(answer["dropped"], 1);
    assert!(!matches!(
        next_message(&mut first).await,
        Some(Message::Binary(_))
    ));
    assert_pong(&mut second).await;
    let (code, _) = control_post(server.addr(), "faults/drop", json!({"conn": conns[0].0})).await;
    assert_eq!(code, 404, "already gone");
    // An empty body drops every connection.
    let (code, _) = http(server.addr(), "POST", "/_control/faults/drop", Vec::new()).await;
    assert_eq!(code, 200);
    assert!(!matches!(
        next_message(&mut second).await,
        Some(Message::Binary(_))
    ));
    assert!(server.connections().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn fault_pings_go_unanswered_until_switched_back() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    control_ok(server.addr(), "faults/pings", json!({"answer": false})).await;
    send(&mut socket, 1, M::Ping(realtime::Ping {})).await;
    send(&mut socket, 2, clan_join(0)).await;
    assert_eq!(next_envelope(&mut socket).await.cid, 2, "no pong first");
    control_ok(server.addr(), "faults/pings", json!({"answer": true})).await;
    assert_nothing_pending(&mut socket).await;
    server.shutdown().await;
}

#[tokio::test]
async fn fault_stall_silences_sockets_until_resumed() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    server.wait_for_connections(1, PATIENCE).await.unwrap();
    control_ok(server.addr(), "faults/stall", json!({"stalled": true})).await;
    send(&mut socket, 1, M::Ping(realtime::Ping {})).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(150), socket.next())
            .await
            .is_err(),
        "nothing while stalled"
    );
    control_ok(server.addr(), "faults/stall", json!({"stalled": false})).await;
    let answer = next_envelope(&mut socket).await;
    assert_eq!(answer.cid, 1);
    server.shutdown().await;
}

#[tokio::test]
async fn fault_delay_holds_answers_back() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    control_ok(server.addr(), "faults/delay", json!({"ms": 300})).await;
    let started = std::time::Instant::now();
    assert_pong(&mut socket).await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "answered after {:?}",
        started.elapsed()
    );
    let (_, status) = control_get(server.addr(), "status").await;
    assert_eq!(status["settings"]["answer_delay_ms"], 300);
    control_ok(server.addr(), "faults/delay", json!({"ms": 0})).await;
    server.shutdown().await;
}

#[tokio::test]
async fn fault_frames_of_every_kind_are_sent_as_asked() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    server.wait_for_connections(1, PATIENCE).await.unwrap();
    let addr = server.addr();
    let cases = [
        (
            json!({"kind": "garbage"}),
            Message::Binary(Bytes::from_static(&[0x12, 0x7F, 0x01, 0x02])),
        ),
        (
            json!({"kind": "unknown_variant"}),
            Message::Binary(Bytes::from_static(&[0xC2, 0x0C, 0x00])),
        ),
        (json!({"kind": "text", "text": "hey"}), Message::text("hey")),
        (
            json!({"kind": "bytes", "base64": STANDARD.encode([1, 2, 3])}),
            Message::Binary(Bytes::from_static(&[1, 2, 3])),
        ),
        (
            json!({"kind": "oversize", "size": 2048}),
            Message::Binary(Bytes::from(vec![0x0A; 2048])),
        ),
    ];
    for (body, expected) in cases {
        let answer = control_ok(addr, "faults/frame", body.clone()).await;
        assert_eq!(answer["sent"], 1, "{body}");
        assert_eq!(next_message(&mut socket).await, Some(expected), "{body}");
    }
    for body in [
        json!({"kind": "nope"}),
        json!({"kind": "bytes"}),
        json!({"kind": "oversize", "size": 1_000_000_000}),
    ] {
        let (code, answer) = control_post(addr, "faults/frame", body.clone()).await;
        assert_eq!(code, 400, "{body}: {answer}");
    }
    let (_, sent) = control_get(addr, "frames/sent?kind=text").await;
    assert_eq!(sent["items"][0]["text"], "hey");
    assert_nothing_pending(&mut socket).await;
    server.shutdown().await;
}

#[tokio::test]
async fn fault_refused_logins_by_count_and_by_time() {
    let server = start().await;
    let addr = server.addr();
    let headers = [("authorization", basic(&server.api_key()))];
    let path = "/v2/apps/authenticate/token";
    control_ok(addr, "faults/refuse_logins", json!({"count": 1})).await;
    assert_eq!(post(addr, path, &headers, Vec::new()).await.0, 401);
    assert_eq!(post(addr, path, &headers, Vec::new()).await.0, 200);
    control_ok(addr, "faults/refuse_logins", json!({"ms": 60_000})).await;
    assert_eq!(post(addr, path, &headers, Vec::new()).await.0, 401);
    control_ok(addr, "faults/refuse_logins", json!({"ms": 0})).await;
    assert_eq!(post(addr, path, &headers, Vec::new()).await.0, 200);
    let (code, _) = control_post(addr, "faults/refuse_logins", json!({})).await;
    assert_eq!(code, 400);
    let (_, status) = control_get(addr, "status").await;
    assert_eq!(status["counters"]["logins_refused"], 2);
    server.shutdown().await;
}

#[tokio::test]
async fn fault_revoked_tokens_are_refused() {
    let server = start().await;
    let session = login(&server).await;
    control_ok(server.addr(), "faults/revoke_tokens", json!({})).await;
    let (status, _) = api_http(
        &server,
        &session.token,
        "GetAccount",
        &api::ListClanDescRequest::default(),
    )
    .await;
    assert_eq!(status, 401);
    server.shutdown().await;
}

#[tokio::test]
async fn fault_websocket_pings_reach_clients() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    server.wait_for_connections(1, PATIENCE).await.unwrap();
    control_ok(
        server.addr(),
        "faults/websocket_ping",
        json!({"payload": "alive?"}),
    )
    .await;
    assert_eq!(
        next_message(&mut socket).await,
        Some(Message::Ping(Bytes::from_static(b"alive?")))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn config_switches_echo_and_the_join_policy() {
    let server = start().await;
    let addr = server.addr();
    let mut socket = joined_bot(&server).await;
    let send = M::ChannelMessageSend(realtime::ChannelMessageSend {
        channel_id: demo::TEXT_CHANNEL_ID,
        content: r#"{"t":"me"}"#.into(),
        ..Default::default()
    });
    let settings = control_ok(addr, "config", json!({"echo": true})).await;
    assert_eq!(settings["echo"], true);
    request(&mut socket, 3, send.clone()).await;
    let M::ChannelMessage(echo) = next_push(&mut socket).await else {
        panic!("expected the echo")
    };
    assert_eq!(echo.sender_id, server.bot_id());

    control_ok(
        addr,
        "config",
        json!({"join_policy": "strict", "echo": false}),
    )
    .await;
    let answer = request(&mut socket, 4, send).await;
    assert!(matches!(&answer, M::Error(e) if e.code == 3), "{answer:?}");
    let (code, _) = control_post(addr, "config", json!({"join_policy": "lax"})).await;
    assert_eq!(code, 400);
    server.shutdown().await;
}

#[tokio::test]
async fn reset_restores_the_world_and_clears_logs_and_faults() {
    let server = start().await;
    let addr = server.addr();
    let mut socket = joined_bot(&server).await;
    control_ok(
        addr,
        "users/send",
        json!({"channel_id": demo::TEXT_CHANNEL_ID, "text": "old"}),
    )
    .await;
    next_push(&mut socket).await;
    control_ok(addr, "bot/add_to_clan", json!({"clan_id": 9})).await;
    next_push(&mut socket).await;
    control_ok(addr, "faults/pings", json!({"answer": false})).await;

    control_ok(addr, "reset", json!({})).await;
    let (_, messages) = control_get(addr, "messages").await;
    assert_eq!(messages["count"], 0);
    let (_, world) = control_get(addr, "world").await;
    assert_eq!(world["clans"].as_array().unwrap().len(), 1);
    let (_, frames) = control_get(addr, "frames/received").await;
    assert_eq!(frames["count"], 0);
    // The connection stays, joins included, and pings are answered again.
    assert_pong(&mut socket).await;
    assert_eq!(
        server.joined_clans(server.connections()[0]),
        [0, demo::CLAN_ID]
    );

    let answer = control_ok(addr, "reset", json!({"drop_connections": true})).await;
    assert_eq!(answer, json!({}));
    assert!(!matches!(
        next_message(&mut socket).await,
        Some(Message::Binary(_))
    ));
    server.shutdown().await;
}

#[tokio::test]
async fn bad_requests_get_json_errors_and_never_crash_the_server() {
    let config = ServerConfig {
        max_body: 1024,
        ..Default::default()
    };
    let server = TestServer::start(config).await.unwrap();
    let addr = server.addr();
    let cases: [(&str, &str, Vec<u8>, u16); 7] = [
        ("GET", "/_control/nope", Vec::new(), 404),
        ("GET", "/_control/push", Vec::new(), 405),
        ("POST", "/_control/status", Vec::new(), 405),
        ("POST", "/_control/push", b"{not json".to_vec(), 400),
        ("POST", "/_control/push", vec![0xFF, 0xFE], 400),
        ("POST", "/_control/users/send", b"[]".to_vec(), 400),
        ("POST", "/_control/push", vec![b' '; 4096], 413),
    ];
    for (method, path, body, status) in cases {
        let (code, body) = http(addr, method, path, body).await;
        assert_eq!(code, status, "{method} {path}");
        let value: Value = serde_json::from_slice(&body).expect("a JSON error");
        assert!(
            value["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{value}"
        );
    }
    // Still serving.
    let (code, _) = control_get(addr, "status").await;
    assert_eq!(code, 200);
    server.shutdown().await;
}
