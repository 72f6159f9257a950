//! No api key, token or token-bearing URL reaches the logs, `Debug` or `Display`, while the
//! transport logs in, reconnects, refreshes and fails.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{config, connect, creds, next_lifecycle, server};
use mezon_test_server::ServerConfig;
use mezon_transport::{Credentials, Lifecycle, ReconnectPolicy, Transport};

/// Everything every `tracing` event writes, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

#[tokio::test]
async fn secrets_stay_out_of_logs_debug_and_display() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = server(ServerConfig::default()).await;
    let mut shown = Vec::new();
    let mut secrets = vec![server.api_key()];
    let policy =
        ReconnectPolicy::default().delays(Duration::from_millis(5), Duration::from_millis(20));
    let config = config(&server).reconnect(policy);
    shown.push(format!("{config:?} {:?}", creds(&server)));

    // Log in and connect.
    let (handle, mut inbound) = connect(&server, config.clone(), None).await;
    let session = handle.session();
    secrets.push(session.token.expose().to_owned());
    secrets.push(session.refresh_token.expose().to_owned());
    shown.push(format!("{session:?} {handle:?}"));

    // A pushed session, then a refresh.
    let pushed = server.push_session_refresh();
    secrets.push(pushed.token.clone());
    secrets.push(pushed.refresh_token.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while handle.session().token.expose() != pushed.token {
        assert!(tokio::time::Instant::now() < deadline, "push not adopted");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    handle.refresh_session().await.expect("refresh");
    let refreshed = handle.session();
    secrets.push(refreshed.token.expose().to_owned());
    secrets.push(refreshed.refresh_token.expose().to_owned());
    shown.push(format!("{refreshed:?}"));

    // A reconnect.
    server.drop_connections();
    loop {
        match next_lifecycle(&mut inbound, Duration::from_secs(10)).await {
            Lifecycle::Reconnected { .. } => break,
            other => shown.push(format!("{other:?}")),
        }
    }
    handle.shutdown().await;

    // Failures: a refused login, a refused socket token, a dead address.
    let wrong = Credentials::new(server.bot_id(), "wrong-but-secret-key");
    secrets.push("wrong-but-secret-key".into());
    let refused = Transport::connect(config.clone(), wrong, None)
        .await
        .expect_err("refused");
    shown.push(format!("{refused} {refused:?}"));
    let dead = mezon_transport::TransportConfig::new("http://127.0.0.1:9");
    let failed = mezon_transport::login(&dead, &creds(&server))
        .await
        .expect_err("nothing listens on port 9");
    shown.push(format!("{failed} {failed:?}"));
    let mut source = std::error::Error::source(&failed);
    while let Some(cause) = source {
        shown.push(format!("{cause} {cause:?}"));
        source = cause.source();
    }

    let logs = captured.text();
    assert!(logs.contains("logged in"), "the capture works: {logs}");
    let everything = format!("{logs}\n{}", shown.join("\n"));
    for secret in &secrets {
        assert!(!secret.is_empty());
        assert!(
            !everything.contains(secret.as_str()),
            "a secret leaked:\n{everything}"
        );
    }
    assert!(
        !everything.contains("token="),
        "a token-bearing URL leaked:\n{everything}"
    );
}
