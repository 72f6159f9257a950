//! The API methods over both routes: HTTP (`POST /mezon.api.Mezon/<Method>`) and the socket's
//! `api_request_event` answered with raw frames.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use mezon_proto::api;
use mezon_proto::prost::Message as _;
use mezon_proto::realtime::{self, envelope::Message as M};
use mezon_test_server::{ServerConfig, TestServer, World, channel_type, demo};
use mezon_transport::api::{ApiMethod, methods};

async fn start() -> TestServer {
    TestServer::start(ServerConfig::default())
        .await
        .expect("server starts")
}

/// Calls `M` over HTTP and decodes the answer; panics on a non-200 status.
async fn call<Method: ApiMethod>(
    server: &TestServer,
    token: &str,
    request: &Method::Request,
) -> Method::Response {
    let (status, body) = api_http(server, token, Method::NAME, request).await;
    assert_eq!(status, 200, "{} failed: {body:?}", Method::NAME);
    Method::Response::decode(body).expect("response decodes")
}

/// Reassembles the raw answer to `cid`: (status, payload).
async fn raw_answer(socket: &mut Socket, cid: u16) -> (u16, Bytes, usize) {
    let mut payload = BytesMut::new();
    let mut chunks = 0;
    loop {
        match next_frame(socket).await {
            Frame::RawChunk(chunk) if chunk.cid == cid => {
                chunks += 1;
                payload.extend_from_slice(&chunk.payload);
                if chunk.fin {
                    return (chunk.status, payload.freeze(), chunks);
                }
            }
            Frame::Envelope(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

fn api_request<Method: ApiMethod>(request: &Method::Request) -> M {
    M::ApiRequestEvent(realtime::ApiRequestEvent {
        api_index: i32::from(Method::INDEX.expect("socket-routable")),
        api_name: Method::NAME.to_owned(),
        body: Bytes::from(request.encode_to_vec()),
    })
}

#[tokio::test]
async fn http_api_needs_a_valid_bearer_token_and_a_known_method() {
    let server = start().await;
    let session = login(&server).await;
    let request = api::ListClanDescRequest::default();
    let (status, _) = api_http(&server, "bogus", "ListClanDescs", &request).await;
    assert_eq!(status, 401);
    let (status, _) = post(
        server.addr(),
        "/mezon.api.Mezon/ListClanDescs",
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = api_http(&server, &session.token, "NoSuchMethod", &request).await;
    assert_eq!(status, 404);
    let (status, _) = api_http(&server, &session.token, "ListEvents", &request).await;
    assert_eq!(status, 404, "not implemented by the local server");
    let (status, _) = api_http(&server, &session.token, "ListClanDescs", &request).await;
    assert_eq!(status, 200);

    let log = server.http_log();
    let calls: Vec<(Option<&str>, bool)> = log
        .iter()
        .filter(|c| c.method_name.is_some())
        .map(|c| (c.method_name.as_deref(), c.authorized))
        .collect();
    assert_eq!(
        calls,
        [
            (Some("ListClanDescs"), false),
            (Some("ListClanDescs"), false),
            (Some("NoSuchMethod"), true),
            (Some("ListEvents"), true),
            (Some("ListClanDescs"), true),
        ]
    );
    // Revoked tokens are refused until a new login.
    server.revoke_tokens();
    let (status, _) = api_http(&server, &session.token, "ListClanDescs", &request).await;
    assert_eq!(status, 401);
    server.shutdown().await;
}

#[tokio::test]
async fn clans_page_by_limit_and_cursor() {
    let world = World::new().clan(1, "a").clan(2, "b").clan(3, "c");
    let server = TestServer::start(ServerConfig {
        world,
        ..Default::default()
    })
    .await
    .unwrap();
    let token = login(&server).await.token;
    let all = call::<methods::ListClanDescs>(&server, &token, &Default::default()).await;
    let ids =
        |list: &api::ClanDescList| list.clandesc.iter().map(|c| c.clan_id).collect::<Vec<_>>();
    assert_eq!(ids(&all), [1, 2, 3]);
    assert_eq!(all.clandesc[1].clan_name, "b");

    let first = api::ListClanDescRequest {
        limit: 2,
        ..Default::default()
    };
    let page = call::<methods::ListClanDescs>(&server, &token, &first).await;
    assert_eq!(ids(&page), [1, 2]);
    let next = api::ListClanDescRequest {
        limit: 2,
        cursor: "2".into(),
        ..Default::default()
    };
    let page = call::<methods::ListClanDescs>(&server, &token, &next).await;
    assert_eq!(ids(&page), [3]);
    server.shutdown().await;
}

#[tokio::test]
async fn channels_dms_and_details() {
    let server = start().await;
    let token = login(&server).await.token;
    let text = api::ListChannelDescsRequest {
        channel_type: channel_type::TEXT,
        clan_id: demo::CLAN_ID,
        ..Default::default()
    };
    let list = call::<methods::ListChannelDescs>(&server, &token, &text).await;
    let ids: Vec<i64> = list.channeldesc.iter().map(|c| c.channel_id).collect();
    assert_eq!(
        ids,
        [demo::TEXT_CHANNEL_ID],
        "the private channel is hidden until the bot is added"
    );

    server
        .add_bot_to_channel(demo::CLAN_ID, demo::PRIVATE_CHANNEL_ID)
        .unwrap();
    let list = call::<methods::ListChannelDescs>(&server, &token, &text).await;
    assert_eq!(list.channeldesc.len(), 2);
    assert_eq!(list.channeldesc[1].channel_private, 1);

    let dms = api::ListChannelDescsRequest {
        channel_type: channel_type::DM,
        ..Default::default()
    };
    let list = call::<methods::ListChannelDescs>(&server, &token, &dms).await;
    assert_eq!(list.channeldesc.len(), 1);
    let dm = &list.channeldesc[0];
    assert_eq!(
        (dm.channel_id, dm.clan_id, dm.r#type),
        (demo::ALICE_DM_ID, 0, channel_type::DM)
    );
    assert_eq!(dm.user_ids, [demo::ALICE_ID], "the DM peer is user_ids[0]");

    let detail = call::<methods::ListChannelDetail>(
        &server,
        &token,
        &api::ListChannelDetailRequest {
            channel_id: demo::THREAD_ID,
        },
    )
    .await;
    assert_eq!(
        (detail.r#type, detail.parent_id),
        (channel_type::THREAD, demo::TEXT_CHANNEL_ID)
    );
    let (status, _) = api_http(
        &server,
        &token,
        "ListChannelDetail",
        &api::ListChannelDetailRequest { channel_id: 5 },
    )
    .await;
    assert_eq!(status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn creating_a_dm_returns_a_joinable_channel() {
    let world = World::demo().user(77, "bob");
    let server = TestServer::start(ServerConfig {
        world,
        ..Default::default()
    })
    .await
    .unwrap();
    let (session, mut socket) = login_and_connect(&server).await;
    let request = api::CreateChannelDescRequest {
        clan_id: 0,
        r#type: channel_type::DM,
        user_ids: vec![77],
        channel_private: 1,
        ..Default::default()
    };
    let dm = call::<methods::CreateChannelDesc>(&server, &session.token, &request).await;
    assert_eq!(
        (dm.clan_id, dm.r#type, dm.user_ids.as_slice()),
        (0, channel_type::DM, &[77][..])
    );
    let again = call::<methods::CreateChannelDesc>(&server, &session.token, &request).await;
    assert_eq!(again.channel_id, dm.channel_id, "one DM per peer");

    // A clan channel is created with its label.
    let create = api::CreateChannelDescRequest {
        clan_id: demo::CLAN_ID,
        r#type: channel_type::TEXT,
        channel_label: "news".into(),
        ..Default::default()
    };
    let news = call::<methods::CreateChannelDesc>(&server, &session.token, &create).await;
    assert_eq!(
        (
            news.clan_id,
            news.channel_label.as_str(),
            news.channel_private
        ),
        (demo::CLAN_ID, "news", 0)
    );
    assert!(news.channel_id > 0);

    // The bot joins the DM and can then write there.
    let join = M::ChannelJoin(realtime::ChannelJoin {
        clan_id: 0,
        channel_id: dm.channel_id,
        channel_type: 3,
        is_public: false,
    });
    assert!(
        matches!(request_answer(&mut socket, 1, join).await, M::Channel(c) if c.id == dm.channel_id)
    );
    let send = M::ChannelMessageSend(realtime::ChannelMessageSend {
        channel_id: dm.channel_id,
        content: "{}".into(),
        mode: 4,
        ..Default::default()
    });
    assert!(matches!(
        request_answer(&mut socket, 2, send).await,
        M::ChannelMessageAck(_)
    ));
    server.shutdown().await;
}

async fn request_answer(socket: &mut Socket, cid: i32, message: M) -> M {
    request(socket, cid, message).await
}

#[tokio::test]
async fn users_account_and_history() {
    let server = start().await;
    let token = login(&server).await.token;
    let users = call::<methods::ListClanUsers>(
        &server,
        &token,
        &api::ListClanUsersRequest {
            clan_id: demo::CLAN_ID,
        },
    )
    .await;
    let names: Vec<String> = users
        .clan_users
        .iter()
        .filter_map(|u| u.user.as_ref())
        .map(|u| u.username.clone())
        .collect();
    assert_eq!(names, ["local-bot", "alice"]);

    let account = call::<methods::GetAccount>(&server, &token, &()).await;
    assert_eq!(account.user.map(|u| u.id), Some(server.bot_id()));

    let alice = server.user(demo::ALICE_ID);
    let ids: Vec<i64> = (0..5)
        .map(|i| {
            alice
                .send_message(demo::TEXT_CHANNEL_ID, &format!("m{i}"))
                .unwrap()
        })
        .collect();
    let history = |message_id, direction, limit| api::ListChannelMessagesRequest {
        clan_id: demo::CLAN_ID,
        channel_id: demo::TEXT_CHANNEL_ID,
        message_id,
        limit,
        direction,
        ..Default::default()
    };
    let got = |list: api::ChannelMessageList| {
        list.messages
            .iter()
            .map(|m| m.message_id)
            .collect::<Vec<_>>()
    };
    let latest = call::<methods::ListChannelMessages>(&server, &token, &history(0, 0, 2)).await;
    assert_eq!(
        latest.last_sent_message.as_ref().map(|h| h.id),
        Some(ids[4])
    );
    assert_eq!(got(latest), [ids[4], ids[3]], "newest first");
    let before =
        call::<methods::ListChannelMessages>(&server, &token, &history(ids[3], 1, 2)).await;
    assert_eq!(got(before), [ids[2], ids[1]]);
    let after = call::<methods::ListChannelMessages>(&server, &token, &history(ids[1], 2, 2)).await;
    assert_eq!(got(after), [ids[3], ids[2]]);
    server.shutdown().await;
}

#[tokio::test]
async fn session_refresh_takes_the_api_key_and_a_refresh_token() {
    let server = start().await;
    let session = login(&server).await;
    let refresh = api::SessionRefreshRequest {
        token: session.refresh_token.clone(),
        ..Default::default()
    };
    let path = "/mezon.api.Mezon/SessionRefresh";
    let headers = [("authorization", basic(&server.api_key()))];
    let (status, body) = post(server.addr(), path, &headers, refresh.encode_to_vec()).await;
    assert_eq!(status, 200);
    let fresh = api::Session::decode(body).unwrap();
    assert_ne!(fresh.token, session.token);
    assert_eq!(fresh.user_id, server.bot_id());

    // An access token is no refresh token; a wrong api key is refused.
    let wrong = api::SessionRefreshRequest {
        token: session.token.clone(),
        ..Default::default()
    };
    let (status, _) = post(server.addr(), path, &headers, wrong.encode_to_vec()).await;
    assert_eq!(status, 401);
    let (status, _) = post(
        server.addr(),
        path,
        &[("authorization", basic("nope"))],
        refresh.encode_to_vec(),
    )
    .await;
    assert_eq!(status, 401);
    // The fresh token works for the socket.
    let mut socket = connect(&fresh).await;
    assert_pong(&mut socket).await;
    server.shutdown().await;
}

#[tokio::test]
async fn roles_and_voice_users_are_empty_lists() {
    let server = start().await;
    let token = login(&server).await.token;
    let roles = call::<methods::ListRoles>(
        &server,
        &token,
        &api::RoleListEventRequest {
            clan_id: demo::CLAN_ID,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(roles.clan_id, demo::CLAN_ID);
    assert_eq!(roles.roles.map(|r| r.roles.len()), Some(0));
    let (status, _) = api_http(
        &server,
        &token,
        "ListRoles",
        &api::RoleListEventRequest {
            clan_id: 9,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, 404);
    let voice = call::<methods::ListChannelVoiceUsers>(&server, &token, &Default::default()).await;
    assert!(voice.voice_channel_users.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn channel_lists_page_by_limit_and_page() {
    let world = World::new()
        .clan(1, "c")
        .channel(1, 11, "a", channel_type::TEXT, false)
        .channel(1, 12, "b", channel_type::TEXT, false)
        .channel(1, 13, "c", channel_type::TEXT, false);
    let server = TestServer::start(ServerConfig {
        world,
        ..Default::default()
    })
    .await
    .unwrap();
    let token = login(&server).await.token;
    let page = |page| api::ListChannelDescsRequest {
        channel_type: channel_type::TEXT,
        limit: 2,
        page,
        ..Default::default()
    };
    let ids = |list: api::ChannelDescList| {
        list.channeldesc
            .iter()
            .map(|c| c.channel_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(call::<methods::ListChannelDescs>(&server, &token, &page(1)).await),
        [11, 12]
    );
    assert_eq!(
        ids(call::<methods::ListChannelDescs>(&server, &token, &page(2)).await),
        [13]
    );
    assert_eq!(
        ids(call::<methods::ListChannelDescs>(&server, &token, &page(0)).await),
        [11, 12],
        "page 0 = first"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn quick_menus_are_added_listed_and_deleted() {
    let server = start().await;
    let token = login(&server).await.token;
    let menu = api::QuickMenuAccess {
        channel_id: demo::TEXT_CHANNEL_ID,
        menu_name: "deploy".into(),
        action_msg: "/deploy".into(),
        menu_type: 1,
        ..Default::default()
    };
    call::<methods::AddQuickMenuAccess>(&server, &token, &menu).await;
    let listed = call::<methods::ListQuickMenuAccess>(
        &server,
        &token,
        &api::ListQuickMenuAccessRequest {
            bot_id: server.bot_id(),
            channel_id: demo::TEXT_CHANNEL_ID,
            menu_type: 1,
        },
    )
    .await;
    assert_eq!(listed.list_menus.len(), 1);
    let stored = &listed.list_menus[0];
    assert!(stored.id != 0);
    assert_eq!(
        (stored.bot_id, stored.menu_name.as_str()),
        (server.bot_id(), "deploy")
    );

    call::<methods::DeleteQuickMenuAccess>(&server, &token, stored).await;
    let listed = call::<methods::ListQuickMenuAccess>(&server, &token, &Default::default()).await;
    assert!(listed.list_menus.is_empty());
    let (status, _) = api_http(&server, &token, "DeleteQuickMenuAccess", stored).await;
    assert_eq!(status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn socket_api_answers_with_chunked_raw_frames() {
    let config = ServerConfig {
        raw_chunk_size: 16,
        ..Default::default()
    };
    let server = TestServer::start(config).await.unwrap();
    let (session, mut socket) = login_and_connect(&server).await;
    let request = api::ListClanUsersRequest {
        clan_id: demo::CLAN_ID,
    };
    send(
        &mut socket,
        300,
        api_request::<methods::ListClanUsers>(&request),
    )
    .await;
    let (status, payload, chunks) = raw_answer(&mut socket, 300).await;
    assert_eq!(status, 0);
    assert!(
        chunks > 2,
        "a {}-byte answer in 16-byte chunks came in {chunks}",
        payload.len()
    );
    let users = api::ClanUserList::decode(payload).unwrap();
    // The same answer as the HTTP route.
    let over_http = call::<methods::ListClanUsers>(&server, &session.token, &request).await;
    assert_eq!(users, over_http);

    // A failing call has a non-zero status; an unknown index too.
    let missing = api::ListChannelDetailRequest { channel_id: 1 };
    send(
        &mut socket,
        301,
        api_request::<methods::ListChannelDetail>(&missing),
    )
    .await;
    let (status, _, _) = raw_answer(&mut socket, 301).await;
    assert_ne!(status, 0);
    let unknown = M::ApiRequestEvent(realtime::ApiRequestEvent {
        api_index: 9999,
        api_name: "Nope".into(),
        body: Bytes::new(),
    });
    send(&mut socket, 302, unknown).await;
    let (status, _, _) = raw_answer(&mut socket, 302).await;
    assert_ne!(status, 0);
    server.shutdown().await;
}

#[tokio::test]
async fn edits_and_deletes_apply_over_both_routes() {
    let server = start().await;
    let (session, mut bot) = login_and_connect(&server).await;
    let (_, mut listener) = login_and_connect(&server).await;
    request(&mut bot, 1, clan_join(demo::CLAN_ID)).await;
    request(&mut listener, 1, clan_join(demo::CLAN_ID)).await;
    let alice = server.user(demo::ALICE_ID);
    let first = alice.send_message(demo::TEXT_CHANNEL_ID, "one").unwrap();
    let second = alice.send_message(demo::TEXT_CHANNEL_ID, "two").unwrap();
    for _ in 0..2 {
        next_envelope(&mut listener).await;
    }

    // Socket API edit (index 181), answered with the echoed request.
    let update = realtime::ChannelMessageUpdate {
        clan_id: demo::CLAN_ID,
        channel_id: demo::TEXT_CHANNEL_ID,
        message_id: first,
        content: r#"{"t":"one, edited"}"#.into(),
        ..Default::default()
    };
    send(
        &mut bot,
        5,
        api_request::<methods::UpdateChannelMessage>(&update),
    )
    .await;
    let (status, payload, _) = raw_answer(&mut bot, 5).await;
    assert_eq!(status, 0);
    assert_eq!(
        realtime::ChannelMessageUpdate::decode(payload).unwrap(),
        update
    );
    let push = next_envelope(&mut listener).await;
    assert!(
        matches!(push.message, Some(M::ChannelMessage(m)) if m.message_id == first && m.code == 1)
    );

    // HTTP delete (182).
    let remove = realtime::ChannelMessageRemove {
        clan_id: demo::CLAN_ID,
        channel_id: demo::TEXT_CHANNEL_ID,
        message_id: second,
        ..Default::default()
    };
    call::<methods::DeleteChannelMessage>(&server, &session.token, &remove).await;
    let push = next_envelope(&mut listener).await;
    assert!(
        matches!(push.message, Some(M::ChannelMessage(m)) if m.message_id == second && m.code == 2)
    );

    let stored = server.messages(demo::TEXT_CHANNEL_ID);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].message_id, stored[0].content.as_str()),
        (first, r#"{"t":"one, edited"}"#)
    );

    // The older envelope route answers with an ack.
    let remove_first = realtime::ChannelMessageRemove {
        message_id: first,
        ..remove
    };
    let answer = request(&mut bot, 6, M::ChannelMessageRemove(remove_first)).await;
    assert!(matches!(answer, M::ChannelMessageAck(a) if a.message_id == first));
    assert!(server.messages(demo::TEXT_CHANNEL_ID).is_empty());
    let answer = request(&mut bot, 7, M::ChannelMessageUpdate(update)).await;
    assert!(
        matches!(answer, M::Error(e) if e.code == 3),
        "editing a deleted message fails"
    );
    server.shutdown().await;
}

/// Token lifetimes run on tokio's clock: advancing a paused clock past `token_ttl` expires
/// access tokens (HTTP and upgrade get 401) while the refresh token, ten times longer-lived,
/// still brings a working session whose `exp` claim moved with the clock.
#[tokio::test]
async fn tokens_expire_on_tokios_clock() {
    let ttl = std::time::Duration::from_secs(60);
    let config = ServerConfig {
        token_ttl: ttl,
        ..Default::default()
    };
    let server = TestServer::start(config).await.unwrap();
    let session = login(&server).await;
    call::<methods::ListClanDescs>(&server, &session.token, &Default::default()).await;

    // Real I/O must not run on the paused clock (it would jump to the next timer).
    tokio::time::pause();
    tokio::time::advance(ttl - std::time::Duration::from_secs(1)).await;
    tokio::time::resume();
    call::<methods::ListClanDescs>(&server, &session.token, &Default::default()).await;
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(2)).await;
    tokio::time::resume();

    let (status, _) = api_http(
        &server,
        &session.token,
        "ListClanDescs",
        &api::ListClanDescRequest::default(),
    )
    .await;
    assert_eq!(status, 401, "expired access token");
    let url = format!("ws://{}/ws?token={}", server.addr(), session.token);
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!("expected a 401, got {:?}", other.map(|_| ())),
    }

    let refresh = api::SessionRefreshRequest {
        token: session.refresh_token.clone(),
        ..Default::default()
    };
    let headers = [("authorization", basic(&server.api_key()))];
    let (status, body) = post(
        server.addr(),
        "/mezon.api.Mezon/SessionRefresh",
        &headers,
        refresh.encode_to_vec(),
    )
    .await;
    assert_eq!(status, 200, "the refresh token outlives the access token");
    let fresh = api::Session::decode(body).unwrap();
    assert!(
        exp_claim(&fresh.token) >= exp_claim(&session.token) + 60,
        "exp follows tokio's clock"
    );
    call::<methods::ListClanDescs>(&server, &fresh.token, &Default::default()).await;
    server.shutdown().await;
}

fn exp_claim(token: &str) -> u64 {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("payload part");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("JSON claims");
    claims["exp"].as_u64().expect("numeric exp")
}
