//! The transport does not strand the bot on addresses a pushed session moved it to.

mod common;

use std::time::Duration;

use common::{config, connect, next_lifecycle, server};
use mezon_test_server::ServerConfig;
use mezon_transport::proto::realtime::envelope::Message;
use mezon_transport::{Lifecycle, ReconnectPolicy};

#[tokio::test]
async fn dead_addresses_from_a_pushed_session_lead_back_to_the_base_url() {
    let server = server(ServerConfig::default()).await;
    // A port nothing listens on: every connect to it is refused at once.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead_addr = dead.local_addr().expect("addr");
    drop(dead);
    let policy =
        ReconnectPolicy::default().delays(Duration::from_millis(5), Duration::from_millis(20));
    let (handle, mut inbound) = connect(&server, config(&server).reconnect(policy), None).await;

    let mut session = server.new_session();
    session.ws_url = dead_addr.to_string();
    session.api_url = format!("http://{dead_addr}");
    server.push(Message::RefreshSessionEvent(session));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while handle.session().ws_url != dead_addr.to_string() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "session not adopted"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    server.drop_connections();
    let reconnected = async {
        loop {
            match next_lifecycle(&mut inbound, Duration::from_secs(20)).await {
                Lifecycle::Reconnected { .. } => break,
                Lifecycle::Stopped { error } => panic!("stopped: {error:?}"),
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), reconnected)
        .await
        .expect("stranded on the pushed addresses");
    assert_eq!(handle.session().api_url, server.base_url());
    let logins = server
        .http_log()
        .iter()
        .filter(|call| call.path.ends_with("/v2/apps/authenticate/token"))
        .count();
    assert_eq!(
        logins, 2,
        "one login at start, one to leave the dead addresses"
    );
    handle.shutdown().await;
}
