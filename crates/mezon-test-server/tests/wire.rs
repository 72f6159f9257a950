//! Drives the server with a bare client (tungstenite + prost + plain HTTP) to show it follows
//! `wire.md`, independently of the SDK's client code.

mod common;

use common::*;
use mezon_proto::realtime::{self, envelope::Message as M};
use mezon_test_server::{MUST_JOIN, ServerConfig, TestServer, channel_type, demo};

async fn start() -> TestServer {
    TestServer::start(ServerConfig::default())
        .await
        .expect("server starts")
}

fn text_send(clan_id: i64, channel_id: i64, text: &str) -> M {
    M::ChannelMessageSend(realtime::ChannelMessageSend {
        clan_id,
        channel_id,
        content: serde_json::json!({ "t": text }).to_string(),
        mode: 2,
        is_public: true,
        ..Default::default()
    })
}

#[tokio::test]
async fn login_returns_a_session_pointing_at_the_server() {
    let server = start().await;
    let session = login(&server).await;
    assert_eq!(session.user_id, server.bot_id());
    assert_eq!(session.api_url, server.base_url());
    assert_eq!(
        session.ws_url,
        server.addr().to_string(),
        "no scheme by default"
    );
    assert_eq!(session.token.split('.').count(), 3);
    assert_eq!(session.refresh_token.split('.').count(), 3);
    assert_ne!(session.token, session.refresh_token);

    // The JSON body alone is enough, labelled application/json.
    let (status, _) = post(
        server.addr(),
        "/v2/apps/authenticate/token",
        &[("content-type", "application/json".to_owned())],
        login_body(server.bot_id(), &server.api_key()),
    )
    .await;
    assert_eq!(status, 200);
    // So is the Basic header alone.
    let (status, _) = post(
        server.addr(),
        "/v2/apps/authenticate/token",
        &[("authorization", basic(&server.api_key()))],
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn login_with_bad_credentials_is_401() {
    let server = start().await;
    let cases = [
        (
            vec![("authorization", basic("wrong"))],
            login_body(server.bot_id(), &server.api_key()),
        ),
        (
            vec![("authorization", basic(&server.api_key()))],
            login_body(42, &server.api_key()),
        ),
        (vec![], login_body(server.bot_id(), "wrong")),
        (vec![], Vec::new()),
    ];
    for (headers, body) in cases {
        let (status, _) = post(server.addr(), "/v2/apps/authenticate/token", &headers, body).await;
        assert_eq!(status, 401);
    }
    assert!(
        server
            .http_log()
            .iter()
            .all(|call| !call.authorized && call.status == 401)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn ws_url_carries_a_scheme_when_configured() {
    let config = ServerConfig {
        ws_url_with_scheme: true,
        ..Default::default()
    };
    let server = TestServer::start(config).await.unwrap();
    let session = login(&server).await;
    assert_eq!(session.ws_url, format!("ws://{}", server.addr()));
    // The client strips it and connects.
    let mut socket = connect(&session).await;
    assert_pong(&mut socket).await;
    server.shutdown().await;
}

#[tokio::test]
async fn session_fields_can_be_shaped_for_client_fallbacks() {
    let config = ServerConfig {
        session_ws_url: Some(String::new()),
        omit_session_user_id: true,
        ..Default::default()
    };
    let server = TestServer::start(config).await.unwrap();
    let session = login(&server).await;
    assert_eq!((session.ws_url.as_str(), session.user_id), ("", 0));
    // The id is still in the token's `uid` claim.
    use base64::Engine as _;
    let payload = session.token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["uid"].as_i64(), Some(server.bot_id()));
    server.shutdown().await;
}

#[tokio::test]
async fn refused_logins_get_401_then_succeed() {
    let server = start().await;
    server.refuse_logins(2);
    let headers = [("authorization", basic(&server.api_key()))];
    for expected in [401, 401, 200] {
        let (status, _) = post(
            server.addr(),
            "/v2/apps/authenticate/token",
            &headers,
            Vec::new(),
        )
        .await;
        assert_eq!(status, expected);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn upgrade_with_a_bad_token_is_401() {
    let server = start().await;
    for query in ["token=not.a.token", "lang=en"] {
        let url = format!("ws://{}/ws?{query}", server.addr());
        match tokio_tungstenite::connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401);
            }
            other => panic!("expected a 401, got {:?}", other.map(|_| ())),
        }
    }
    assert!(server.connections().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn ping_is_answered_with_pong_of_the_same_cid() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    send(&mut socket, 7, M::Ping(realtime::Ping {})).await;
    let answer = next_envelope(&mut socket).await;
    assert_eq!(answer.cid, 7);
    assert!(matches!(answer.message, Some(M::Pong(_))));

    // The desktop client's binary ping gets a binary pong.
    use futures_util::SinkExt as _;
    socket
        .send(tokio_tungstenite::tungstenite::Message::Binary(
            bytes::Bytes::from_static(&[0, 1, 2]),
        ))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut socket).await,
        Frame::BinaryPong { cid: 0x0102 }
    );
    server.shutdown().await;
}

#[tokio::test]
async fn join_send_and_receive_the_ack() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    let conn = server.wait_for_connections(1, PATIENCE).await.unwrap()[0];

    let joined = request(&mut socket, 1, clan_join(demo::CLAN_ID)).await;
    assert!(matches!(joined, M::ClanJoin(j) if j.clan_id == demo::CLAN_ID));
    let joined = request(&mut socket, 2, clan_join(0)).await;
    assert!(matches!(joined, M::ClanJoin(j) if j.clan_id == 0));
    assert_eq!(server.joined_clans(conn), vec![0, demo::CLAN_ID]);

    // A public channel of a joined clan is writable without channel_join.
    let answer = request(
        &mut socket,
        3,
        text_send(demo::CLAN_ID, demo::TEXT_CHANNEL_ID, "hi"),
    )
    .await;
    let M::ChannelMessageAck(ack) = answer else {
        panic!("expected an ack, got {answer:?}")
    };
    assert_eq!(ack.channel_id, demo::TEXT_CHANNEL_ID);
    assert!(ack.message_id > 0);

    let answer = request(
        &mut socket,
        4,
        text_send(demo::CLAN_ID, demo::TEXT_CHANNEL_ID, "again"),
    )
    .await;
    let M::ChannelMessageAck(second) = answer else {
        panic!("expected an ack")
    };
    assert!(second.message_id > ack.message_id, "ids increase");

    let stored = server.messages(demo::TEXT_CHANNEL_ID);
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].message_id, ack.message_id);
    assert_eq!(stored[0].sender_id, server.bot_id());
    assert!(stored[0].content.contains("\"hi\""));

    let sent = server.received();
    assert_eq!(sent.len(), 4);
    assert!(sent.iter().all(|r| r.conn == conn));

    // A joined channel answers `channel`.
    let answer = request(
        &mut socket,
        5,
        channel_join(demo::CLAN_ID, demo::PRIVATE_CHANNEL_ID, 1),
    )
    .await;
    assert!(matches!(answer, M::Channel(c) if c.id == demo::PRIVATE_CHANNEL_ID));
    assert_eq!(server.joined_channels(conn), vec![demo::PRIVATE_CHANNEL_ID]);
    server.shutdown().await;
}

#[tokio::test]
async fn sends_that_need_a_join_fail_with_code_3() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    request(&mut socket, 1, clan_join(demo::CLAN_ID)).await;
    request(&mut socket, 2, clan_join(0)).await;

    // A DM listed at login is not among them: its participant sends unjoined (`wire.md` §3.3).
    for (cid, clan, channel) in [
        (10, demo::CLAN_ID, demo::PRIVATE_CHANNEL_ID),
        (11, demo::CLAN_ID, demo::THREAD_ID),
    ] {
        let answer = request(&mut socket, cid, text_send(clan, channel, "x")).await;
        let M::Error(error) = answer else {
            panic!("expected an error, got {answer:?}")
        };
        assert_eq!(error.code, 3);
        assert!(error.message.contains(MUST_JOIN));
    }
    // After the join, the retry works.
    request(
        &mut socket,
        13,
        channel_join(demo::CLAN_ID, demo::THREAD_ID, channel_type::THREAD),
    )
    .await;
    let answer = request(
        &mut socket,
        14,
        text_send(demo::CLAN_ID, demo::THREAD_ID, "x"),
    )
    .await;
    assert!(matches!(answer, M::ChannelMessageAck(_)));
    let answer = request(&mut socket, 15, text_send(0, demo::ALICE_DM_ID, "x")).await;
    assert!(matches!(answer, M::ChannelMessageAck(_)), "{answer:?}");
    // A public channel of a clan not joined is refused too, and so is a DM before clan 0.
    let (_, mut other) = login_and_connect(&server).await;
    let answer = request(
        &mut other,
        1,
        text_send(demo::CLAN_ID, demo::TEXT_CHANNEL_ID, "x"),
    )
    .await;
    assert!(matches!(answer, M::Error(e) if e.code == 3));
    let answer = request(&mut other, 2, text_send(0, demo::ALICE_DM_ID, "x")).await;
    assert!(matches!(answer, M::Error(e) if e.code == 3));
    server.shutdown().await;
}

#[tokio::test]
async fn strict_mode_requires_a_join_for_public_channels() {
    let config = ServerConfig {
        strict_joins: true,
        ..Default::default()
    };
    let server = TestServer::start(config).await.unwrap();
    let (_, mut socket) = login_and_connect(&server).await;
    request(&mut socket, 1, clan_join(demo::CLAN_ID)).await;
    let answer = request(
        &mut socket,
        2,
        text_send(demo::CLAN_ID, demo::TEXT_CHANNEL_ID, "x"),
    )
    .await;
    assert!(matches!(answer, M::Error(e) if e.code == 3 && e.message.contains(MUST_JOIN)));
    request(
        &mut socket,
        3,
        channel_join(demo::CLAN_ID, demo::TEXT_CHANNEL_ID, 1),
    )
    .await;
    let answer = request(
        &mut socket,
        4,
        text_send(demo::CLAN_ID, demo::TEXT_CHANNEL_ID, "x"),
    )
    .await;
    assert!(matches!(answer, M::ChannelMessageAck(_)));
    server.shutdown().await;
}

#[tokio::test]
async fn messages_fan_out_to_joined_connections_only() {
    let server = start().await;
    let (_, mut sender) = login_and_connect(&server).await;
    let (_, mut listener) = login_and_connect(&server).await;
    let (_, mut outsider) = login_and_connect(&server).await;
    request(&mut sender, 1, clan_join(demo::CLAN_ID)).await;
    request(&mut listener, 1, clan_join(demo::CLAN_ID)).await;

    let M::ChannelMessageAck(ack) = request(
        &mut sender,
        2,
        text_send(demo::CLAN_ID, demo::TEXT_CHANNEL_ID, "fan"),
    )
    .await
    else {
        panic!("expected an ack")
    };
    let push = next_envelope(&mut listener).await;
    assert_eq!(push.cid, 0);
    let Some(M::ChannelMessage(message)) = push.message else {
        panic!("expected channel_message")
    };
    assert_eq!(message.message_id, ack.message_id);
    assert_eq!(message.sender_id, server.bot_id());
    assert_eq!(message.channel_id, demo::TEXT_CHANNEL_ID);
    assert_eq!(message.clan_id, demo::CLAN_ID);

    // Not back to the sender by default, never to a connection that joined nothing.
    assert_nothing_pending(&mut sender).await;
    assert_nothing_pending(&mut outsider).await;

    // A human's message reaches both joined connections.
    let id = server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "hello bot")
        .unwrap();
    for socket in [&mut sender, &mut listener] {
        let push = next_envelope(socket).await;
        let Some(M::ChannelMessage(message)) = push.message else {
            panic!("expected channel_message")
        };
        assert_eq!(
            (message.message_id, message.sender_id),
            (id, demo::ALICE_ID)
        );
        assert_eq!(message.username, "alice");
        assert_eq!(message.content, r#"{"t":"hello bot"}"#);
    }
    assert_nothing_pending(&mut outsider).await;
    server.shutdown().await;
}

#[tokio::test]
async fn echo_to_sender_delivers_own_messages_back() {
    let config = ServerConfig {
        echo_to_sender: true,
        ..Default::default()
    };
    let server = TestServer::start(config).await.unwrap();
    let (_, mut socket) = login_and_connect(&server).await;
    request(&mut socket, 1, clan_join(demo::CLAN_ID)).await;
    let M::ChannelMessageAck(ack) = request(
        &mut socket,
        2,
        text_send(demo::CLAN_ID, demo::TEXT_CHANNEL_ID, "echo"),
    )
    .await
    else {
        panic!("expected an ack")
    };
    let push = next_envelope(&mut socket).await;
    assert!(matches!(push.message, Some(M::ChannelMessage(m)) if m.message_id == ack.message_id));
    server.shutdown().await;
}

#[tokio::test]
async fn dm_messages_reach_the_bot_after_clan_0_join() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    request(&mut socket, 1, clan_join(0)).await;
    let id = server
        .user(demo::ALICE_ID)
        .send_message(demo::ALICE_DM_ID, "psst")
        .unwrap();
    let push = next_envelope(&mut socket).await;
    let Some(M::ChannelMessage(message)) = push.message else {
        panic!("expected channel_message")
    };
    assert_eq!(
        (message.message_id, message.clan_id, message.mode),
        (id, 0, 4)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn replies_carry_the_referenced_message() {
    let server = start().await;
    let (_, mut socket) = login_and_connect(&server).await;
    request(&mut socket, 1, clan_join(demo::CLAN_ID)).await;
    let question = server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "question")
        .unwrap();
    next_envelope(&mut socket).await;
    let M::ChannelMessageSend(mut reply) =
        text_send(demo::CLAN_ID, demo::TEXT_CHANNEL_ID, "answer")
    else {
        unreachable!()
    };
    reply.references = vec![mezon_proto::api::MessageRef {
        message_ref_id: question,
        message_sender_id: demo::ALICE_ID,
        message_sender_username: "alice".into(),
        content: r#"{"t":"question"}"#.into(),
        ..Default::default()
    }];
    let answer = request(&mut socket, 2, M::ChannelMessageSend(reply)).await;
    assert!(matches!(answer, M::ChannelMessageAck(_)));

    use mezon_proto::prost::Message as _;
    let stored = server.messages(demo::TEXT_CHANNEL_ID);
    let reply = stored.last().unwrap();
    let refs = mezon_proto::api::MessageRefList::decode(reply.references.clone()).unwrap();
    assert_eq!(refs.refs[0].message_ref_id, question);
    let quoted =
        mezon_proto::api::ChannelMessage::decode(reply.referenced_message.clone()).unwrap();
    assert_eq!(
        (quoted.message_id, quoted.sender_id),
        (question, demo::ALICE_ID)
    );
    server.shutdown().await;
}

/// The acceptance scenario, byte by byte, with nothing but HTTP, tungstenite and prost:
/// login, open the socket, join, send and get the ack, ping (envelope, binary and
/// WebSocket-level), and an API call over the socket answered in raw chunks.
#[tokio::test]
async fn a_bare_client_session_follows_the_wire_document() {
    use bytes::Bytes;
    use futures_util::{SinkExt as _, StreamExt as _};
    use mezon_proto::api;
    use mezon_proto::prost::Message as _;
    use mezon_proto::realtime::Envelope;
    use tokio_tungstenite::tungstenite::Message;

    async fn next_message(socket: &mut Socket) -> Message {
        tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a frame in time")
            .expect("socket open")
            .expect("frame")
    }
    async fn next_binary(socket: &mut Socket) -> Bytes {
        match next_message(socket).await {
            Message::Binary(bytes) => bytes,
            other => panic!("expected a binary frame, got {other:?}"),
        }
    }
    async fn send_envelope(socket: &mut Socket, cid: i32, message: M) {
        let bytes = Envelope {
            cid,
            message: Some(message),
        }
        .encode_to_vec();
        socket.send(Message::Binary(bytes.into())).await.unwrap();
    }
    async fn answer(socket: &mut Socket) -> Envelope {
        Envelope::decode(next_binary(socket).await).expect("an Envelope")
    }

    let config = ServerConfig {
        raw_chunk_size: 16,
        ..Default::default()
    };
    let server = TestServer::start(config).await.unwrap();

    // §1: Basic auth + JSON body labelled as proto; a binary Session back.
    let session = login(&server).await;
    assert_eq!(session.user_id, server.bot_id());
    assert!(session.api_url.starts_with("http://127.0.0.1:"));
    assert!(!session.ws_url.contains("://"), "{}", session.ws_url);

    // §3: the URL the official SDKs build; usable as soon as the upgrade succeeds.
    let url = format!(
        "ws://{}/ws?lang=en&status=true&token={}&format=protobuf",
        session.ws_url, session.token
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(response.status(), 101);

    // §3.4 + §3.3: ping → pong with the same cid.
    send_envelope(&mut socket, 1, M::Ping(realtime::Ping {})).await;
    let pong = answer(&mut socket).await;
    assert_eq!(
        (pong.cid, pong.message),
        (1, Some(M::Pong(realtime::Pong {})))
    );

    // clan_join → clan_join.
    send_envelope(&mut socket, 2, clan_join(demo::CLAN_ID)).await;
    let joined = answer(&mut socket).await;
    assert_eq!(joined.cid, 2);
    assert_eq!(joined.message, Some(clan_join(demo::CLAN_ID)));

    // channel_message_send → channel_message_ack, and the message is stored under that id.
    send_envelope(
        &mut socket,
        3,
        text_send(demo::CLAN_ID, demo::TEXT_CHANNEL_ID, "hi"),
    )
    .await;
    let acked = answer(&mut socket).await;
    assert_eq!(acked.cid, 3);
    let Some(M::ChannelMessageAck(ack)) = acked.message else {
        panic!("expected channel_message_ack, got {acked:?}")
    };
    assert_eq!(ack.channel_id, demo::TEXT_CHANNEL_ID);
    let stored = server.messages(demo::TEXT_CHANNEL_ID);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].message_id, ack.message_id);

    // §3.1: the desktop client's binary ping gets exactly `[0x00, cid_hi, cid_lo]`.
    socket
        .send(Message::Binary(Bytes::from_static(&[0x00, 0x01, 0x05])))
        .await
        .unwrap();
    assert_eq!(next_binary(&mut socket).await.as_ref(), [0x00, 0x01, 0x05]);

    // §3: WebSocket-level pings are answered.
    socket
        .send(Message::Ping(Bytes::from_static(b"hb")))
        .await
        .unwrap();
    assert_eq!(
        next_message(&mut socket).await,
        Message::Pong(Bytes::from_static(b"hb"))
    );

    // §2 + §3.2: an API call over the socket, with a cid above 255 to pin the byte order.
    let cid: u16 = 0x0104;
    let request = api::ListClanUsersRequest {
        clan_id: demo::CLAN_ID,
    };
    // Row 3 of `api-methods.tsv`, written out rather than taken from the SDK's table.
    const LIST_CLAN_USERS: i32 = 3;
    send_envelope(
        &mut socket,
        i32::from(cid),
        M::ApiRequestEvent(realtime::ApiRequestEvent {
            api_index: LIST_CLAN_USERS,
            api_name: "ListClanUsers".into(),
            body: request.encode_to_vec().into(),
        }),
    )
    .await;
    let mut payload = Vec::new();
    let mut chunks = 0;
    loop {
        let frame = next_binary(&mut socket).await;
        chunks += 1;
        assert_eq!(frame[..3], [0xFF, 0x01, 0x04], "marker and cid (u16 BE)");
        if frame[3..7] == [0, 0, 0, 0xFF] {
            payload.extend_from_slice(&frame[7..]);
            break;
        }
        // Non-final: status 0, no fin flag, then the payload length (u32 BE).
        assert_eq!(frame[3..7], [0, 0, 0, 0]);
        let len = u32::from_be_bytes([frame[7], frame[8], frame[9], frame[10]]);
        assert_eq!(len, 16);
        assert_eq!(frame.len(), 11 + 16);
        payload.extend_from_slice(&frame[11..]);
    }
    assert!(chunks > 1, "a large answer comes in several chunks");
    let users = api::ClanUserList::decode(payload.as_slice()).expect("the response message");
    assert_eq!(users.clan_id, demo::CLAN_ID);
    assert!(
        users
            .clan_users
            .iter()
            .any(|u| u.user.as_ref().is_some_and(|u| u.id == demo::ALICE_ID))
    );

    // Nothing else was sent: the next frame answers the next request.
    assert_nothing_pending(&mut socket).await;
    server.shutdown().await;
}
