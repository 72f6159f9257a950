//! The binary with its default flags, used the way the official bot SDKs use the platform:
//! a bare client (hand-built frames, the wire parser of `common`) does every flow an
//! official client does, and the HTTP control API plays the humans and reads back.

mod common;

use common::*;
use mezon_proto::api;
use mezon_proto::prost::Message as _;
use mezon_proto::realtime::{self, Envelope, envelope::Message as M};
use mezon_test_server::{ServerConfig, demo};
use serde_json::json;

/// `api-methods.tsv` rows.
const LIST_CHANNEL_DESCS: i32 = 0;
const LIST_CLAN_DESCS: i32 = 2;
const CREATE_CHANNEL_DESC: i32 = 66;
const UPDATE_CHANNEL_MESSAGE: i32 = 181;
const DELETE_CHANNEL_MESSAGE: i32 = 182;

/// Sends a request and collects frames until its answer: returns the answer and the pushes
/// that came before it.
async fn request_collecting(socket: &mut Socket, cid: i32, message: M) -> (M, Vec<Envelope>) {
    send(socket, cid, message).await;
    let mut pushes = Vec::new();
    loop {
        let envelope = next_envelope(socket).await;
        if envelope.cid == cid {
            return (envelope.message.expect("an answer with a payload"), pushes);
        }
        pushes.push(envelope);
    }
}

/// The next push that is a `channel_message`.
async fn next_channel_message(socket: &mut Socket) -> api::ChannelMessage {
    loop {
        let envelope = next_envelope(socket).await;
        if let (0, Some(M::ChannelMessage(message))) = (envelope.cid, envelope.message) {
            return message;
        }
    }
}

fn text(channel_id: i64, clan_id: i64, text: &str) -> realtime::ChannelMessageSend {
    realtime::ChannelMessageSend {
        clan_id,
        channel_id,
        mode: if clan_id == 0 { 4 } else { 2 },
        is_public: clan_id != 0,
        content: json!({ "t": text }).to_string(),
        ..Default::default()
    }
}

#[tokio::test]
async fn official_client_flows_work_against_the_binary_with_default_flags() {
    let server = ServerProcess::spawn(&[]);
    let addr = server.addr;
    let defaults = ServerConfig::default();
    let bot_id = defaults.bot_id;

    // Login (Basic header + JSON body labelled proto), then the socket at the session's
    // bare ws_url.
    let session = login_at(addr, bot_id, &defaults.api_key).await;
    assert_eq!(session.user_id, bot_id);
    let mut socket = connect(&session).await;

    // The connect sequence: list clans, join clan 0 and each clan, list DMs.
    let (status, body, _) = api_socket(&mut socket, 1, LIST_CLAN_DESCS, Vec::new()).await;
    assert_eq!(status, 0);
    let clans = api::ClanDescList::decode(body).unwrap().clandesc;
    request(&mut socket, 2, clan_join(0)).await;
    for (cid, clan) in (3..).zip(&clans) {
        request(&mut socket, cid, clan_join(clan.clan_id)).await;
    }
    let dm_request = api::ListChannelDescsRequest {
        channel_type: 3,
        ..Default::default()
    };
    let (_, body, _) = api_socket(
        &mut socket,
        10,
        LIST_CHANNEL_DESCS,
        dm_request.encode_to_vec(),
    )
    .await;
    let dms = api::ChannelDescList::decode(body).unwrap().channeldesc;
    assert_eq!(dms.len(), 1);
    assert_eq!(
        (dms[0].channel_id, dms[0].user_ids.as_slice()),
        (demo::ALICE_DM_ID, &[demo::ALICE_ID][..])
    );

    // Receive: a human writes in the public channel.
    control_ok(
        addr,
        "users/send",
        json!({"channel_id": demo::TEXT_CHANNEL_ID, "text": "!ping"}),
    )
    .await;
    let incoming = next_channel_message(&mut socket).await;
    assert_eq!(incoming.sender_id, demo::ALICE_ID);

    // Send into the public channel without joining it: acked, then echoed back to the bot,
    // which is how the official clients learn their own message.
    let send = text(demo::TEXT_CHANNEL_ID, demo::CLAN_ID, "pong");
    let (answer, _) = request_collecting(&mut socket, 11, M::ChannelMessageSend(send)).await;
    let M::ChannelMessageAck(ack) = answer else {
        panic!("expected an ack, got {answer:?}")
    };
    let own = next_channel_message(&mut socket).await;
    assert_eq!(
        (own.message_id, own.sender_id),
        (ack.message_id, bot_id),
        "the echo is the bot's own message"
    );

    // Reply to the human's message.
    let mut reply = text(demo::TEXT_CHANNEL_ID, demo::CLAN_ID, "pong!");
    reply.references = vec![api::MessageRef {
        message_ref_id: incoming.message_id,
        message_sender_id: incoming.sender_id,
        message_sender_username: incoming.username.clone(),
        content: incoming.content.clone(),
        ..Default::default()
    }];
    let (answer, _) = request_collecting(&mut socket, 12, M::ChannelMessageSend(reply)).await;
    assert!(matches!(answer, M::ChannelMessageAck(_)), "{answer:?}");
    let echoed = next_channel_message(&mut socket).await;
    let refs = api::MessageRefList::decode(echoed.references).unwrap();
    assert_eq!(refs.refs[0].message_ref_id, incoming.message_id);

    // Edit and delete its own message, over the socket API route.
    let update = realtime::ChannelMessageUpdate {
        clan_id: demo::CLAN_ID,
        channel_id: demo::TEXT_CHANNEL_ID,
        message_id: own.message_id,
        content: json!({"t": "pong (edited)"}).to_string(),
        mode: 2,
        is_public: true,
        ..Default::default()
    };
    let (status, _, _) = api_socket(
        &mut socket,
        13,
        UPDATE_CHANNEL_MESSAGE,
        update.encode_to_vec(),
    )
    .await;
    assert_eq!(status, 0, "edit accepted");
    let own_messages = format!(
        "messages?channel_id={}&sender_id={bot_id}",
        demo::TEXT_CHANNEL_ID
    );
    let (_, stored) = control_get(addr, &own_messages).await;
    assert_eq!(stored["items"][0]["content"], r#"{"t":"pong (edited)"}"#);
    let remove = realtime::ChannelMessageRemove {
        clan_id: demo::CLAN_ID,
        channel_id: demo::TEXT_CHANNEL_ID,
        message_id: own.message_id,
        mode: 2,
        is_public: true,
        ..Default::default()
    };
    let (status, _, _) = api_socket(
        &mut socket,
        14,
        DELETE_CHANNEL_MESSAGE,
        remove.encode_to_vec(),
    )
    .await;
    assert_eq!(status, 0, "delete accepted");
    let (_, stored) = control_get(addr, &own_messages).await;
    assert_eq!(stored["count"], 1, "only the reply is left");

    // React to the human's message.
    let reaction = api::MessageReaction {
        emoji_id: 5,
        emoji: "👍".into(),
        channel_id: demo::TEXT_CHANNEL_ID,
        message_id: incoming.message_id,
        clan_id: demo::CLAN_ID,
        mode: 2,
        is_public: true,
        ..Default::default()
    };
    let (answer, _) = request_collecting(&mut socket, 15, M::MessageReactionEvent(reaction)).await;
    assert!(
        matches!(answer, M::MessageReactionEvent(r) if r.sender_id == bot_id),
        "reaction answered"
    );

    // Ephemeral message to the human.
    let ephemeral = realtime::EphemeralMessageSend {
        message: Some(text(demo::TEXT_CHANNEL_ID, demo::CLAN_ID, "just you")),
        receiver_ids: vec![demo::ALICE_ID],
    };
    let (answer, _) = request_collecting(&mut socket, 16, M::EphemeralMessageSend(ephemeral)).await;
    assert!(
        matches!(&answer, M::ChannelMessage(m) if m.code == 12),
        "{answer:?}"
    );

    // DM an existing partner: the DM listed at login, without joining it.
    let (answer, _) = request_collecting(
        &mut socket,
        17,
        M::ChannelMessageSend(text(demo::ALICE_DM_ID, 0, "hi alice")),
    )
    .await;
    assert!(matches!(answer, M::ChannelMessageAck(_)), "{answer:?}");

    // DM a new partner: create the DM, join it, send.
    let bob = control_ok(addr, "users", json!({"username": "bob"})).await;
    let bob_id = id_of(&bob["user_id"]);
    let create = api::CreateChannelDescRequest {
        clan_id: 0,
        r#type: 3,
        channel_private: 1,
        user_ids: vec![bob_id],
        ..Default::default()
    };
    let (status, body, _) =
        api_socket(&mut socket, 18, CREATE_CHANNEL_DESC, create.encode_to_vec()).await;
    assert_eq!(status, 0);
    let dm = api::ChannelDescription::decode(body).unwrap();
    assert_eq!((dm.clan_id, dm.r#type), (0, 3));
    request(&mut socket, 19, channel_join(0, dm.channel_id, 3)).await;
    let (answer, _) = request_collecting(
        &mut socket,
        20,
        M::ChannelMessageSend(text(dm.channel_id, 0, "hi bob")),
    )
    .await;
    assert!(matches!(answer, M::ChannelMessageAck(_)), "{answer:?}");
    let (_, world) = control_get(addr, "world").await;
    assert!(
        world["dms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == json!(dm.channel_id)),
        "the new DM is in the world: {world}"
    );
}

#[tokio::test]
async fn flags_change_echo_join_policy_tokens_and_chunks() {
    let server = ServerProcess::spawn(&[
        "--no-echo",
        "--join-policy",
        "strict",
        "--token-ttl",
        "120",
        "--raw-chunk-size",
        "16",
    ]);
    let defaults = ServerConfig::default();
    let session = login_at(server.addr, defaults.bot_id, &defaults.api_key).await;
    let exp = jwt_exp(&session.token);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        (now + 100..=now + 125).contains(&exp),
        "exp {exp}, now {now}"
    );

    let (_, status) = control_get(server.addr, "status").await;
    assert_eq!(status["settings"]["echo"], false);
    assert_eq!(status["settings"]["join_policy"], "strict");
    assert_eq!(status["settings"]["raw_chunk_size"], 16);

    let mut socket = connect(&session).await;
    request(&mut socket, 1, clan_join(demo::CLAN_ID)).await;
    request(&mut socket, 2, clan_join(0)).await;
    // Strict: even the public channel and the DM need a join.
    for (cid, channel, clan) in [
        (3, demo::TEXT_CHANNEL_ID, demo::CLAN_ID),
        (4, demo::ALICE_DM_ID, 0),
    ] {
        let answer = request(
            &mut socket,
            cid,
            M::ChannelMessageSend(text(channel, clan, "x")),
        )
        .await;
        assert!(
            matches!(&answer, M::Error(e) if e.code == 3 && e.message.contains(mezon_test_server::MUST_JOIN)),
            "{answer:?}"
        );
    }
    // A listing larger than 16 bytes comes in several chunks.
    send(
        &mut socket,
        5,
        M::ApiRequestEvent(realtime::ApiRequestEvent {
            api_index: LIST_CLAN_DESCS,
            api_name: String::new(),
            body: Default::default(),
        }),
    )
    .await;
    let mut chunks = 0;
    loop {
        if let Frame::RawChunk(chunk) = next_frame(&mut socket).await {
            chunks += 1;
            assert!(chunk.payload.len() <= 16);
            if chunk.fin {
                break;
            }
        }
    }
    assert!(chunks > 1, "{chunks} chunk(s)");
}

/// The `exp` claim of a JWT.
fn jwt_exp(token: &str) -> u64 {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    let claims: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON claims");
    claims["exp"].as_u64().expect("exp")
}

#[test]
fn print_world_round_trips_through_world() {
    let dir = std::env::temp_dir().join(format!("mezon-world-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let binary = env!("CARGO_BIN_EXE_mezon-test-server");
    let printed = std::process::Command::new(binary)
        .arg("--print-world")
        .output()
        .unwrap();
    assert!(printed.status.success());
    let json_text = String::from_utf8(printed.stdout).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(parsed["clans"][0]["id"], json!(demo::CLAN_ID));

    // TOML in, TOML out, with an extra clan.
    let toml_path = dir.join("world.toml");
    std::fs::write(
        &toml_path,
        "[[bots]]\nid = 5\napi_key = \"k\"\n\n[[clans]]\nid = 1\nname = \"one\"\n\n\
         [[channels]]\nid = 2\nclan_id = 1\nname = \"general\"\n",
    )
    .unwrap();
    let printed = std::process::Command::new(binary)
        .args(["--world", toml_path.to_str().unwrap(), "--print-world"])
        .output()
        .unwrap();
    assert!(printed.status.success(), "{printed:?}");
    let toml_text = String::from_utf8(printed.stdout).unwrap();
    assert!(toml_text.contains("[[clans]]"), "{toml_text}");
    assert!(toml_text.contains("name = \"general\""), "{toml_text}");

    // A bad file is a clear error, not a panic.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"channels": [{"id": 2, "clan_id": 9, "name": "x"}]}"#,
    )
    .unwrap();
    let failed = std::process::Command::new(binary)
        .args(["--world", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!failed.status.success());
    let message = String::from_utf8(failed.stderr).unwrap();
    assert!(
        message.contains("bad.json") && message.contains("clan 9 is not in the world"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_world_file_sets_the_bot_and_more_bots_that_may_not_write_into_others_dms() {
    let dir = std::env::temp_dir().join(format!("mezon-bots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("world.json");
    std::fs::write(
        &path,
        json!({
            "bots": [
                {"id": 11, "username": "main", "api_key": "key-a"},
                {"id": 12, "username": "other", "api_key": "key-b"}
            ],
            "users": [{"id": 21, "username": "alice"}],
            "dms": [{"id": 31, "user_id": 21}, {"id": 32, "user_id": 21, "bot_id": 12}]
        })
        .to_string(),
    )
    .unwrap();
    let server = ServerProcess::spawn(&["--world", path.to_str().unwrap()]);
    let main = login_at(server.addr, 11, "key-a").await;
    let other = login_at(server.addr, 12, "key-b").await;
    assert_eq!(other.user_id, 12);
    let mut main_socket = connect(&main).await;
    let mut other_socket = connect(&other).await;
    request(&mut main_socket, 1, clan_join(0)).await;
    request(&mut other_socket, 1, clan_join(0)).await;

    // Each bot lists only its own DM and may write there unjoined...
    let dm_request = api::ListChannelDescsRequest {
        channel_type: 3,
        ..Default::default()
    };
    let (_, body, _) = api_socket(
        &mut other_socket,
        2,
        LIST_CHANNEL_DESCS,
        dm_request.encode_to_vec(),
    )
    .await;
    let listed: Vec<i64> = api::ChannelDescList::decode(body)
        .unwrap()
        .channeldesc
        .iter()
        .map(|d| d.channel_id)
        .collect();
    assert_eq!(listed, [32]);
    let answer = request(
        &mut other_socket,
        3,
        M::ChannelMessageSend(text(32, 0, "mine")),
    )
    .await;
    assert!(matches!(answer, M::ChannelMessageAck(_)), "{answer:?}");
    // ...but not into another bot's DM, joined or not.
    let answer = request(
        &mut other_socket,
        4,
        M::ChannelMessageSend(text(31, 0, "theirs")),
    )
    .await;
    assert!(matches!(&answer, M::Error(e) if e.code == 3), "{answer:?}");
    let answer = request(&mut other_socket, 5, channel_join(0, 31, 3)).await;
    assert!(matches!(&answer, M::Error(e) if e.code == 3), "{answer:?}");
    let answer = request(
        &mut main_socket,
        2,
        M::ChannelMessageSend(text(31, 0, "ok")),
    )
    .await;
    assert!(matches!(answer, M::ChannelMessageAck(_)), "{answer:?}");
    // Wrong pairings of id and key are refused.
    let headers = [("authorization", basic("key-b"))];
    let (status, _) = post(
        server.addr,
        "/v2/apps/authenticate/token",
        &headers,
        login_body(11, "key-b"),
    )
    .await;
    assert_eq!(status, 401);
    let _ = std::fs::remove_dir_all(&dir);
}
