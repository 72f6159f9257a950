//! Shared setup for the end-to-end tests: a local server with the demo world and a logged-in
//! client. Everything talks to 127.0.0.1 only.
#![allow(dead_code)]

use std::time::Duration;

use mezon::proto::realtime::envelope::Message as M;
use mezon::testing::{ServerConfig, TestServer, World};
use mezon::{Client, ClientBuilder, ReconnectPolicy};
use tokio::sync::mpsc;

pub use mezon::testing::demo;

/// Upper bound for anything a test waits on; nothing here sleeps.
pub const WAIT: Duration = Duration::from_secs(5);

pub const BOB_ID: i64 = 1_840_000_000_000_000_102;
pub const CAROL_ID: i64 = 1_840_000_000_000_000_103;

pub fn world() -> World {
    World::demo().user(BOB_ID, "bob").user(CAROL_ID, "carol")
}

pub async fn server_with(config: ServerConfig) -> TestServer {
    TestServer::start(config).await.expect("server starts")
}

pub async fn server() -> TestServer {
    server_with(ServerConfig {
        world: world(),
        ..ServerConfig::default()
    })
    .await
}

/// A builder for `server`'s bot, pointed at it, with default settings.
pub fn builder_for(server: &TestServer) -> ClientBuilder {
    Client::builder(server.bot_id(), server.api_key()).base_url(server.base_url())
}

/// A client for `server`, not yet logged in, with quick reconnects.
pub fn client_for(server: &TestServer) -> Client {
    builder_for(server)
        .request_timeout(Duration::from_secs(3))
        .reconnect(
            ReconnectPolicy::default().delays(Duration::from_millis(5), Duration::from_millis(20)),
        )
        .build()
        .expect("valid config")
}

pub async fn logged_in() -> (TestServer, Client) {
    let server = server().await;
    let client = client_for(&server);
    client.login().await.expect("login");
    (server, client)
}

/// Receives one item within [`WAIT`].
pub async fn recv<T>(rx: &mut mpsc::Receiver<T>) -> T {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("in time")
        .expect("channel open")
}

pub fn text_content(text: &str) -> String {
    serde_json::json!({ "t": text }).to_string()
}

/// The request bodies of every call of API method `name` the server received, over HTTP or
/// over the socket, in that order.
pub fn api_request_bodies(server: &TestServer, name: &str) -> Vec<bytes::Bytes> {
    let over_http = server
        .http_log()
        .into_iter()
        .filter(|c| c.method_name.as_deref() == Some(name))
        .map(|c| c.body);
    let over_socket = server
        .received()
        .into_iter()
        .filter_map(|r| match r.envelope.message {
            Some(M::ApiRequestEvent(call)) if call.api_name == name => Some(call.body),
            _ => None,
        });
    over_http.chain(over_socket).collect()
}
