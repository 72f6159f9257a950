//! Login and session refresh against the local server.

mod common;

use std::time::Duration;

use common::{config, creds, server};
use mezon_test_server::ServerConfig;
use mezon_transport::proto::realtime::envelope::Message;
use mezon_transport::proto::realtime::{Envelope, Ping};
use mezon_transport::{Credentials, Inbound, LoginError, Transport, TransportError, login};
use prost::Message as _;

fn logins(server: &mezon_test_server::TestServer) -> usize {
    server
        .http_log()
        .iter()
        .filter(|call| call.path.ends_with("/v2/apps/authenticate/token"))
        .count()
}

#[tokio::test]
async fn login_returns_a_session_with_claims() {
    let server = server(ServerConfig::default()).await;
    let session = login(&config(&server), &creds(&server))
        .await
        .expect("login");
    assert_eq!(session.user_id, server.bot_id());
    assert!(!session.token.is_empty() && !session.refresh_token.is_empty());
    let left = session.remaining().expect("token has exp");
    assert!(
        left > Duration::from_secs(3500) && left <= Duration::from_secs(3600),
        "{left:?}"
    );
    assert_eq!(session.api_url, server.base_url());
    let shown = format!("{session:?}");
    assert!(
        !shown.contains(session.token.expose()),
        "token leaked: {shown}"
    );
}

#[tokio::test]
async fn bad_credentials_are_unauthorized_without_retrying() {
    let server = server(ServerConfig::default()).await;
    let wrong = Credentials::new(server.bot_id(), "wrong-key");
    let error = login(&config(&server), &wrong).await.expect_err("refused");
    assert!(
        matches!(error, LoginError::Unauthorized { status: 401 }),
        "{error:?}"
    );
    assert_eq!(logins(&server), 1);

    let error = Transport::connect(config(&server), wrong, None)
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            TransportError::Login(LoginError::Unauthorized { .. })
        ),
        "{error:?}"
    );
    assert_eq!(
        logins(&server),
        2,
        "exactly one more attempt, no retry loop"
    );
}

async fn ping_round_trip(with_scheme: bool) {
    let server = server(ServerConfig {
        ws_url_with_scheme: with_scheme,
        ..ServerConfig::default()
    })
    .await;
    let (handle, _inbound) = Transport::connect(config(&server), creds(&server), None)
        .await
        .expect("connect");
    assert_eq!(handle.session().ws_url.starts_with("ws://"), with_scheme);
    let answer = handle.request(Message::Ping(Ping {})).await.expect("pong");
    assert!(matches!(answer.message, Some(Message::Pong(_))));
    handle.shutdown().await;
}

#[tokio::test]
async fn ws_url_without_scheme() {
    ping_round_trip(false).await;
}

#[tokio::test]
async fn ws_url_with_scheme() {
    ping_round_trip(true).await;
}

#[tokio::test(start_paused = true)]
async fn session_is_refreshed_before_it_expires() {
    common::keep_clock_ticking();
    let server = server(ServerConfig {
        token_ttl: Duration::from_secs(8),
        ..ServerConfig::default()
    })
    .await;
    let (handle, _inbound) = Transport::connect(config(&server), creds(&server), None)
        .await
        .expect("connect");
    let first = handle.session().token;
    // Refresh is due at half the remaining lifetime (about 4 s) on the paused clock.
    let refreshed = tokio::time::timeout(Duration::from_secs(6), async {
        loop {
            if handle.session().token != first {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(refreshed.is_ok(), "no refresh within 6 s");
    let refreshes: Vec<_> = server
        .http_log()
        .into_iter()
        .filter(|c| c.method_name.as_deref() == Some("SessionRefresh"))
        .collect();
    assert_eq!(refreshes.len(), 1);
    assert!(refreshes[0].authorized);
    // The refreshed token works for HTTP calls.
    handle
        .call_http::<mezon_transport::api::methods::ListClanDescs>(Default::default())
        .await
        .expect("call with the refreshed token");
    handle.shutdown().await;
}

#[tokio::test]
async fn pushed_session_is_adopted() {
    let server = server(ServerConfig::default()).await;
    let (handle, mut inbound) = Transport::connect(config(&server), creds(&server), None)
        .await
        .expect("connect");
    let pushed = server.push_session_refresh();
    let mut saw_event = false;
    while !saw_event {
        if let Inbound::Envelope(bytes) = common::next(&mut inbound, Duration::from_secs(5)).await {
            let envelope = Envelope::decode(bytes).expect("envelope");
            saw_event = matches!(envelope.message, Some(Message::RefreshSessionEvent(_)));
        }
    }
    assert_eq!(handle.session().token.expose(), pushed.token);
    assert_eq!(
        handle.session().refresh_token.expose(),
        pushed.refresh_token
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn connect_with_an_existing_session_skips_the_login() {
    let server = server(ServerConfig::default()).await;
    let session = login(&config(&server), &creds(&server))
        .await
        .expect("login");
    let (handle, _inbound) =
        Transport::connect_with_session(config(&server), creds(&server), session.clone(), None)
            .await
            .expect("connect");
    assert_eq!(logins(&server), 1, "no second login");
    assert_eq!(handle.session().token, session.token);
    handle.request(Message::Ping(Ping {})).await.expect("pong");
    handle.shutdown().await;
}

#[tokio::test]
async fn failed_refresh_falls_back_to_a_fresh_login() {
    let server = server(ServerConfig::default()).await;
    let mut session = login(&config(&server), &creds(&server))
        .await
        .expect("login");
    session.refresh_token = mezon_transport::Secret::new("not-a-refresh-token");
    let (handle, _inbound) =
        Transport::connect_with_session(config(&server), creds(&server), session.clone(), None)
            .await
            .expect("connect");
    handle.refresh_session().await.expect("re-authenticated");
    assert_ne!(handle.session().token, session.token);
    let paths: Vec<String> = server
        .http_log()
        .into_iter()
        .filter(|c| !c.path.starts_with("/ws"))
        .map(|c| c.path)
        .collect();
    assert_eq!(
        paths,
        [
            "/v2/apps/authenticate/token",
            "/mezon.api.Mezon/SessionRefresh",
            "/v2/apps/authenticate/token"
        ]
    );
    handle
        .call_http::<mezon_transport::api::methods::ListClanDescs>(Default::default())
        .await
        .expect("the new session works");
    handle.shutdown().await;
}
