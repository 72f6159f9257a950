//! Helpers shared by the loopback tests.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::StreamExt as _;
use mezon_test_server::{ServerConfig, TestServer};
use mezon_transport::proto::realtime::{Envelope, envelope::Message};
use mezon_transport::{
    Credentials, Inbound, InboundStream, Lifecycle, RateLimits, TransportConfig,
};
use prost::Message as _;

pub async fn server(config: ServerConfig) -> TestServer {
    TestServer::start(config).await.expect("server starts")
}

pub fn creds(server: &TestServer) -> Credentials {
    Credentials::new(server.bot_id(), server.api_key())
}

/// Transport settings for tests: no pacing unless a test wants it.
pub fn config(server: &TestServer) -> TransportConfig {
    TransportConfig::new(server.base_url()).rate_limits(RateLimits::disabled())
}

/// The next inbound item, failing the test after `within` (virtual time under a paused clock).
pub async fn next(inbound: &mut InboundStream, within: Duration) -> Inbound {
    match tokio::time::timeout(within, inbound.next()).await {
        Ok(Some(item)) => item,
        Ok(None) => panic!("inbound stream ended"),
        Err(_) => panic!("no inbound item within {within:?}"),
    }
}

/// Waits for the next lifecycle item, skipping everything else.
pub async fn next_lifecycle(inbound: &mut InboundStream, within: Duration) -> Lifecycle {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if let Inbound::Lifecycle(lifecycle) = next(inbound, left).await {
            return lifecycle;
        }
    }
}

pub fn decode(bytes: &[u8]) -> Envelope {
    Envelope::decode(bytes).expect("valid envelope")
}

/// A pushed channel message whose id tells events apart.
pub fn numbered_event(n: i64) -> Message {
    Message::ChannelMessage(mezon_transport::proto::api::ChannelMessage {
        message_id: n,
        channel_id: 7,
        content: format!("{{\"t\":\"event {n}\"}}"),
        ..Default::default()
    })
}

pub fn event_number(bytes: &[u8]) -> Option<i64> {
    match decode(bytes).message {
        Some(Message::ChannelMessage(m)) => Some(m.message_id),
        _ => None,
    }
}

/// Under a paused clock tokio jumps to the next timer whenever every task waits, even when the
/// wait is for loopback I/O still in the kernel; a loaded machine can then see a 10 s request
/// timeout fire within a few real milliseconds. This ticker bounds how fast virtual time may
/// run (10 ms per 0.2 ms of real time, 50× real time), so in-flight I/O always lands first.
pub fn keep_clock_ticking() {
    tokio::spawn(async {
        loop {
            std::thread::sleep(Duration::from_micros(200));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
}
