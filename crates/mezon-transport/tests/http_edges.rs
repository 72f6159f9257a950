//! The HTTP client against hostile loopback servers: huge answers, endless bodies, redirects,
//! and addresses that would move the client onto plaintext.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mezon_transport::url::UrlError;
use mezon_transport::{
    Credentials, HttpErrorKind, LoginError, RateLimits, SetupError, Transport, TransportConfig,
    TransportError,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// A one-route HTTP server: reads each request's head and body, then lets `answer` write the
/// response on the raw socket. Returns the base URL and a count of requests served.
async fn raw_server<F, Fut>(answer: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&requests);
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let answer = Arc::clone(&answer);
            tokio::spawn(async move {
                if read_request(&mut tcp).await.is_some() {
                    answer(tcp).await;
                }
            });
        }
    });
    (format!("http://{addr}"), requests)
}

/// Reads a request head and its `Content-Length` body.
async fn read_request(tcp: &mut TcpStream) -> Option<()> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    tcp.read_exact(&mut body).await.ok()?;
    Some(())
}

fn config(base_url: &str) -> TransportConfig {
    TransportConfig::new(base_url)
        .rate_limits(RateLimits::disabled())
        .request_timeout(Duration::from_secs(20))
        .max_http_answer_size(64 * 1024)
}

fn creds() -> Credentials {
    Credentials::new(1, "the-api-key")
}

fn http_kind(error: &LoginError) -> Option<&HttpErrorKind> {
    match error {
        LoginError::Http(e) => Some(e.kind()),
        _ => None,
    }
}

/// Logs in at `base` and expects the answer to be refused as too large.
async fn assert_login_answer_too_large(base: &str) {
    let error = mezon_transport::login(&config(base), &creds())
        .await
        .expect_err("refused");
    assert_eq!(
        http_kind(&error),
        Some(&HttpErrorKind::AnswerTooLarge { limit: 64 * 1024 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_declared_length_above_the_limit_is_refused_before_reading() {
    // Declares 1 GiB and sends nothing: only the header can have refused it.
    let (base, _) = raw_server(|mut tcp| async move {
        let _ = tcp
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1073741824\r\n\r\n")
            .await;
        tokio::time::sleep(Duration::from_secs(60)).await;
    })
    .await;
    assert_login_answer_too_large(&base).await;
}

#[tokio::test]
async fn an_endless_body_stops_at_the_limit() {
    let written = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&written);
    let (base, _) = raw_server(move |mut tcp| {
        let counter = Arc::clone(&counter);
        async move {
            let _ = tcp
                .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .await;
            let chunk = format!("{:x}\r\n{}\r\n", 4096, "x".repeat(4096));
            // Endless, until the client hangs up.
            while tcp.write_all(chunk.as_bytes()).await.is_ok() {
                counter.fetch_add(4096, Ordering::SeqCst);
            }
        }
    })
    .await;
    assert_login_answer_too_large(&base).await;
    // The client hung up: the server stops writing soon after (socket buffers aside).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after_hangup = written.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(written.load(Ordering::SeqCst), after_hangup);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    // The target of the redirect counts what reaches it: the api key must not.
    let (target, reached) = raw_server(|mut tcp| async move {
        let _ = tcp
            .write_all(b"HTTP/1.1 500 Nope\r\ncontent-length: 0\r\n\r\n")
            .await;
    })
    .await;
    let location = format!("{target}/v2/apps/authenticate/token");
    for status in [301u16, 302, 307, 308] {
        let location = location.clone();
        let (base, _) = raw_server(move |mut tcp| {
            let head = format!(
                "HTTP/1.1 {status} Moved\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n"
            );
            async move {
                let _ = tcp.write_all(head.as_bytes()).await;
            }
        })
        .await;
        let error = mezon_transport::login(&config(&base), &creds())
            .await
            .expect_err("redirect");
        assert_eq!(
            http_kind(&error),
            Some(&HttpErrorKind::Redirect { status }),
            "{error:?}"
        );
        assert!(error.is_fatal() || !error.is_unauthorized());
    }
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}

#[tokio::test]
async fn plaintext_to_a_remote_host_needs_the_opt_in() {
    // Nothing listens there; the check happens before any connection.
    let config =
        TransportConfig::new("http://192.0.2.1:7350").connect_timeout(Duration::from_secs(1));
    let error = Transport::connect(config.clone(), creds(), None)
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            TransportError::Setup(SetupError::Url(UrlError::Plaintext { .. }))
        ),
        "{error:?}"
    );
    let login = mezon_transport::login(&config, &creds())
        .await
        .expect_err("refused");
    assert!(
        matches!(
            http_kind(&login),
            Some(HttpErrorKind::Url(UrlError::Plaintext { .. }))
        ),
        "{login:?}"
    );
    assert!(login.is_fatal());
}
