//! Helpers shared by the loopback tests.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::StreamExt as _;
use mezon_test_server::{ServerConfig, TestServer};
use mezon_transport::proto::realtime::{Envelope, envelope::Message};
use mezon_transport::{
    Credentials, Inbound, InboundStream, Lifecycle, RateLimits, RejoinHook, Transport,
    TransportConfig, TransportHandle,
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

/// Connects to `server` and checks that the first inbound item is `Connected`.
pub async fn connect(
    server: &TestServer,
    config: TransportConfig,
    hook: Option<std::sync::Arc<dyn RejoinHook>>,
) -> (TransportHandle, InboundStream) {
    let (handle, mut inbound) = Transport::connect(config, creds(server), hook)
        .await
        .expect("connect");
    match next(&mut inbound, Duration::from_secs(1)).await {
        Inbound::Lifecycle(Lifecycle::Connected) => {}
        other => panic!("first item is {other:?}, not Connected"),
    }
    (handle, inbound)
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
/// timeout fire within a few real milliseconds. This ticker caps how fast virtual time may
/// run: it blocks the (single-threaded) test runtime for 0.2 ms of real time per 10 ms of
/// virtual time, giving in-flight I/O time to land before the clock moves on.
///
/// Why this and nothing cleaner: moving the server to a thread with its own real-time runtime
/// does not help, because the client's runtime still auto-advances while *it* waits on the
/// socket; and pausing the clock only around the timing-critical part still leaves the
/// loopback I/O inside that part.
///
/// No assertion depends on real time: tests assert on outcomes and on virtual durations of
/// waits that involve little I/O, where the ticker adds at most one 10 ms step. Real time only
/// sets the slack I/O gets: 0.2 s of real time per 10 s of virtual time, far above loopback
/// latency. Around heavy I/O (thousands of frames) the ticker lets virtual time advance while
/// the frames are read, so tests assert outcomes there, not durations.
pub fn keep_clock_ticking() {
    tokio::spawn(async {
        loop {
            std::thread::sleep(Duration::from_micros(200));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
}
