//! The production path, TLS: https login, wss socket, events and sends, against the local
//! server's TLS mode (a self-signed certificate made at start, trusted explicitly).

mod common;

use common::*;
use mezon::testing::{ServerConfig, TestServer};
use mezon::transport::LoginError;
use mezon::transport::url::UrlError;
use mezon::{ChannelType, Client, Destination, Error, Message};
use tokio::sync::mpsc;

async fn tls_server(config: ServerConfig) -> (TestServer, String) {
    TestServer::start_tls(ServerConfig {
        world: world(),
        ..config
    })
    .await
    .expect("TLS server starts")
}

#[tokio::test]
async fn login_socket_events_and_send_over_tls() {
    let (server, pem) = tls_server(ServerConfig::default()).await;
    assert!(server.base_url().starts_with("https://127.0.0.1:"));
    let client = builder_for(&server)
        .add_root_certificates_pem(pem.as_bytes())
        .expect("PEM")
        .request_timeout(WAIT)
        .build()
        .expect("config");
    client.login().await.expect("login over TLS");
    let (tx, mut rx) = mpsc::channel::<Message>(4);
    let _ = client.on_channel_message(move |msg, _client| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(msg).await;
        }
    });
    server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "hello over tls")
        .expect("user sends");
    let msg = recv(&mut rx).await;
    assert_eq!(msg.text(), "hello over tls");
    let dest = Destination::new(
        demo::CLAN_ID,
        demo::TEXT_CHANNEL_ID,
        ChannelType::Text,
        true,
    );
    let sent = client.send(dest, "answer over tls").await.expect("send");
    server
        .wait_for_message(demo::TEXT_CHANNEL_ID, |m| m.message_id == sent.id(), WAIT)
        .await
        .expect("the server stored the answer");
    client.shutdown().await;
}

#[tokio::test]
async fn an_untrusted_certificate_fails_the_login_once_and_says_so() {
    let (server, _pem) = tls_server(ServerConfig::default()).await;
    let client = Client::builder(server.bot_id(), server.api_key())
        .base_url(server.base_url())
        .build()
        .expect("config");
    let error = client.login().await.expect_err("untrusted");
    match &error {
        Error::Login(LoginError::Http(http)) => assert!(http.is_certificate(), "{http:?}"),
        other => panic!("not a certificate error: {other:?}"),
    }
    // The handshake failed: no HTTP request ever reached the server, and nothing retries.
    assert!(server.http_log().is_empty());
    assert!(error.to_string().contains("login"), "{error}");
}

#[tokio::test]
async fn a_tls_login_refuses_a_plaintext_socket_address() {
    let (server, pem) = tls_server(ServerConfig {
        session_ws_url: Some("ws://127.0.0.1:9".into()),
        ..ServerConfig::default()
    })
    .await;
    let client = builder_for(&server)
        .add_root_certificates_pem(pem.as_bytes())
        .expect("PEM")
        .build()
        .expect("config");
    let error = client.login().await.expect_err("downgrade refused");
    assert!(
        matches!(
            error,
            Error::Login(LoginError::Url(UrlError::Downgrade { .. }))
        ),
        "{error:?}"
    );
}
