//! WebSocket-level pings (not the protocol's `ping` envelope) are answered with a pong
//! carrying the same payload, as `wire.md` §3 asks. The local Mezon server cannot send them,
//! so a bare WebSocket server plays the gateway here.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use mezon_transport::proto::api;
use mezon_transport::{
    Credentials, RateLimits, ReconnectPolicy, Session, Transport, TransportConfig,
};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn websocket_ping_is_answered_with_its_payload() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let gateway = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut socket = tokio_tungstenite::accept_async(tcp).await.expect("upgrade");
        socket
            .send(Message::Ping(b"are you there".to_vec().into()))
            .await
            .expect("ping sent");
        // Skip the transport's own traffic (its heartbeat envelope) until the pong.
        while let Some(message) = socket.next().await {
            if let Message::Pong(payload) = message.expect("frame") {
                return payload;
            }
        }
        panic!("socket closed without a pong");
    });

    let session = Session::from_proto(api::Session {
        token: "token".into(),
        user_id: 1,
        api_url: format!("http://{addr}"),
        ws_url: addr.to_string(),
        ..Default::default()
    });
    let config = TransportConfig::new(format!("http://{addr}"))
        .rate_limits(RateLimits::disabled())
        .reconnect(ReconnectPolicy::disabled());
    let (handle, _inbound) =
        Transport::connect_with_session(config, Credentials::new(1, "key"), session, None)
            .await
            .expect("connect");
    let pong = tokio::time::timeout(Duration::from_secs(5), gateway)
        .await
        .expect("pong within 5 s")
        .expect("gateway task");
    assert_eq!(&pong[..], b"are you there");
    handle.shutdown().await;
}
