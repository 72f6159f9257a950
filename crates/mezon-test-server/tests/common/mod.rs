//! A bare client for the tests: a hand-driven HTTP/1.1 client (hyper), a tungstenite socket,
//! prost types, and a frame parser written here from `wire.md` §3.1–§3.2. No SDK client code:
//! the server encodes frames with the SDK's codec, so decoding them with that same codec would
//! hide a layout mistake shared by both.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use mezon_proto::api::Session;
use mezon_proto::prost::Message as _;
use mezon_proto::realtime::{self, Envelope, envelope};
use mezon_test_server::TestServer;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for something that should happen at once.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// One HTTP/1.1 POST; returns the status and body.
pub async fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> (u16, Bytes) {
    let mut request = http::Request::post(path);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    send_http(addr, request, body).await
}

/// Sends one HTTP/1.1 request on a fresh connection; returns the status and body.
async fn send_http(
    addr: SocketAddr,
    request: http::request::Builder,
    body: Vec<u8>,
) -> (u16, Bytes) {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let request = request
        .header("host", addr.to_string())
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    // Long-polls of the control API wait up to a few seconds themselves.
    let response = tokio::time::timeout(PATIENCE * 2, sender.send_request(request))
        .await
        .expect("answer in time")
        .expect("response");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body)
}

pub fn basic(api_key: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{api_key}:"))
    )
}

pub fn login_body(bot_id: i64, api_key: &str) -> Vec<u8> {
    serde_json::json!({ "account": { "appid": bot_id.to_string(), "token": api_key } })
        .to_string()
        .into_bytes()
}

/// Logs in the way the official SDKs do: Basic auth plus the JSON body labelled as proto.
pub async fn login(server: &TestServer) -> Session {
    let headers = [
        ("authorization", basic(&server.api_key())),
        ("content-type", "application/proto".to_owned()),
        ("accept", "application/x-protobuf".to_owned()),
    ];
    let (status, body) = post(
        server.addr(),
        "/v2/apps/authenticate/token",
        &headers,
        login_body(server.bot_id(), &server.api_key()),
    )
    .await;
    assert_eq!(status, 200, "login failed: {body:?}");
    Session::decode(body).expect("a Session")
}

/// Calls an API method over HTTP with a bearer token.
pub async fn api_http(
    server: &TestServer,
    token: &str,
    method: &str,
    request: &impl mezon_proto::prost::Message,
) -> (u16, Bytes) {
    let headers = [
        ("authorization", format!("Bearer {token}")),
        ("content-type", "application/proto".to_owned()),
    ];
    post(
        server.addr(),
        &format!("/mezon.api.Mezon/{method}"),
        &headers,
        request.encode_to_vec(),
    )
    .await
}

/// Opens the socket with the session's token, the URL built as `wire.md` §3 says.
pub async fn connect(session: &Session) -> Socket {
    let host = session
        .ws_url
        .trim_start_matches("ws://")
        .trim_start_matches("wss://");
    let url = format!(
        "ws://{host}/ws?lang=en&status=true&token={}&format=protobuf",
        session.token
    );
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade");
    socket
}

/// A server with the default configuration (the demo world).
pub async fn start() -> TestServer {
    TestServer::start(mezon_test_server::ServerConfig::default())
        .await
        .expect("server starts")
}

/// A bot connection that joined the demo clan and clan 0 (cids 1 and 2).
pub async fn joined_bot(server: &TestServer) -> Socket {
    let (_, mut socket) = login_and_connect(server).await;
    request(&mut socket, 1, clan_join(mezon_test_server::demo::CLAN_ID)).await;
    request(&mut socket, 2, clan_join(0)).await;
    socket
}

pub async fn login_and_connect(server: &TestServer) -> (Session, Socket) {
    let session = login(server).await;
    let socket = connect(&session).await;
    (session, socket)
}

pub async fn send(socket: &mut Socket, cid: i32, message: envelope::Message) {
    let frame = Envelope {
        cid,
        message: Some(message),
    }
    .encode_to_vec();
    socket
        .send(Message::Binary(Bytes::from(frame)))
        .await
        .expect("send");
}

/// A server frame, told apart by its first byte (`wire.md` §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A serialized `Envelope`.
    Envelope(Bytes),
    /// One chunk of a raw API answer (`0xFF`).
    RawChunk(RawChunk),
    /// `[0x00, cid_hi, cid_lo]`.
    BinaryPong { cid: u16 },
}

/// One raw answer chunk (`wire.md` §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChunk {
    pub cid: u16,
    pub status: u16,
    pub fin: bool,
    pub payload: Bytes,
}

/// Parses a server frame strictly: a raw chunk has its 7-byte header, and a non-final one
/// also the 4-byte payload length the desktop client reads, which must match the frame.
pub fn parse_frame(frame: Bytes) -> Frame {
    match frame.first() {
        Some(0xFF) => {
            assert!(
                frame.len() >= 7,
                "raw chunk shorter than its header: {frame:?}"
            );
            let cid = u16::from_be_bytes([frame[1], frame[2]]);
            let code = u32::from_be_bytes([frame[3], frame[4], frame[5], frame[6]]);
            let status = u16::try_from(code >> 16).expect("16 bits");
            let fin = code & 0xFFFF == 0xFF;
            if !fin {
                assert_eq!(
                    code & 0xFFFF,
                    0,
                    "low 16 bits of a non-final chunk: {code:#x}"
                );
            }
            let payload = if fin {
                frame.slice(7..)
            } else {
                assert!(
                    frame.len() >= 11,
                    "non-final chunk without a length: {frame:?}"
                );
                let len = u32::from_be_bytes([frame[7], frame[8], frame[9], frame[10]]);
                assert_eq!(
                    usize::try_from(len).unwrap(),
                    frame.len() - 11,
                    "non-final chunk length"
                );
                frame.slice(11..)
            };
            Frame::RawChunk(RawChunk {
                cid,
                status,
                fin,
                payload,
            })
        }
        Some(0x00) if frame.len() == 3 => Frame::BinaryPong {
            cid: u16::from_be_bytes([frame[1], frame[2]]),
        },
        _ => Frame::Envelope(frame),
    }
}

/// The next binary frame, parsed.
pub async fn next_frame(socket: &mut Socket) -> Frame {
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a frame in time")
            .expect("socket open")
            .expect("frame");
        if let Message::Binary(bytes) = message {
            return parse_frame(bytes);
        }
    }
}

/// The next envelope frame, decoded.
pub async fn next_envelope(socket: &mut Socket) -> Envelope {
    match next_frame(socket).await {
        Frame::Envelope(bytes) => Envelope::decode(bytes).expect("envelope"),
        other => panic!("expected an envelope, got {other:?}"),
    }
}

/// Sends a request and returns the envelope answering it (skipping pushes).
pub async fn request(
    socket: &mut Socket,
    cid: i32,
    message: envelope::Message,
) -> envelope::Message {
    send(socket, cid, message).await;
    loop {
        let envelope = next_envelope(socket).await;
        if envelope.cid == cid {
            return envelope.message.expect("an answer with a payload");
        }
    }
}

/// Asserts nothing was queued for this socket: the server answers in order, so the answer to
/// a fresh ping must be the very next frame.
pub async fn assert_nothing_pending(socket: &mut Socket) {
    const PROBE_CID: i32 = 65_000;
    send(
        socket,
        PROBE_CID,
        envelope::Message::Ping(Default::default()),
    )
    .await;
    let next = next_envelope(socket).await;
    assert_eq!(
        next.cid, PROBE_CID,
        "unexpected frame before the pong: {next:?}"
    );
    assert!(matches!(next.message, Some(envelope::Message::Pong(_))));
}

/// Asserts the socket is live: a ping gets its pong.
pub async fn assert_pong(socket: &mut Socket) {
    let answer = request(socket, 1, envelope::Message::Ping(Default::default())).await;
    assert!(
        matches!(answer, envelope::Message::Pong(_)),
        "expected a pong, got {answer:?}"
    );
}

/// The next envelope, waited for without any tokio timer (for tests on a paused clock):
/// a thread gives up after [`PATIENCE`] of real time.
pub async fn next_envelope_guarded(socket: &mut Socket) -> Envelope {
    let (give_up, mut gave_up) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(PATIENCE);
        let _ = give_up.send(());
    });
    loop {
        let message = tokio::select! {
            message = socket.next() => message.expect("socket open").expect("frame"),
            _ = &mut gave_up => panic!("no frame within {PATIENCE:?} of real time"),
        };
        if let Message::Binary(bytes) = message {
            return match parse_frame(bytes) {
                Frame::Envelope(bytes) => Envelope::decode(bytes).expect("envelope"),
                other => panic!("expected an envelope, got {other:?}"),
            };
        }
    }
}

/// `clan_join` (clan 0 = DMs and groups).
pub fn clan_join(clan_id: i64) -> envelope::Message {
    envelope::Message::ClanJoin(realtime::ClanJoin {
        clan_id,
        is_last_field: false,
    })
}

/// `channel_join`, as for a private channel.
pub fn channel_join(clan_id: i64, channel_id: i64, channel_type: i32) -> envelope::Message {
    envelope::Message::ChannelJoin(realtime::ChannelJoin {
        clan_id,
        channel_id,
        channel_type,
        is_public: false,
    })
}

/// One HTTP/1.1 request with any method and a JSON body; returns the status and body.
pub async fn http(addr: SocketAddr, method: &str, path: &str, body: Vec<u8>) -> (u16, Bytes) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    send_http(addr, request, body).await
}

/// `GET /_control/<route>`; returns the status and the JSON body.
pub async fn control_get(addr: SocketAddr, route: &str) -> (u16, serde_json::Value) {
    let (status, body) = http(addr, "GET", &format!("/_control/{route}"), Vec::new()).await;
    (status, parse_json(&body))
}

/// `POST /_control/<route>` with a JSON body; returns the status and the JSON body.
pub async fn control_post(
    addr: SocketAddr,
    route: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let body = body.to_string().into_bytes();
    let (status, body) = http(addr, "POST", &format!("/_control/{route}"), body).await;
    (status, parse_json(&body))
}

/// Like [`control_post`], asserting a 200.
pub async fn control_ok(
    addr: SocketAddr,
    route: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, answer) = control_post(addr, route, body.clone()).await;
    assert_eq!(status, 200, "POST {route} {body}: {answer}");
    answer
}

fn parse_json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(body)))
}

/// A string id field of a JSON answer.
pub fn id_of(value: &serde_json::Value) -> i64 {
    match value {
        serde_json::Value::String(s) => s.parse().expect("an integer id"),
        other => other.as_i64().expect("an integer id"),
    }
}

/// The `mezon-test-server` binary running as a child process on a free loopback port;
/// killed when dropped.
pub struct ServerProcess {
    child: std::process::Child,
    pub addr: SocketAddr,
    pub base_url: String,
}

impl ServerProcess {
    /// Starts the binary with `--port 0` and `args`; waits (bounded) for its address line.
    pub fn spawn(args: &[&str]) -> Self {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mezon-test-server"))
            .args(["--port", "0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("the server binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("local Mezon server at ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let base_url = match rx.recv_timeout(STARTUP) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("the server binary printed no address within {STARTUP:?}");
            }
        };
        let addr = base_url
            .trim_start_matches("http://")
            .parse()
            .expect("host:port");
        Self {
            child,
            addr,
            base_url,
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long a child process may take to come up (a loaded CI machine).
pub const STARTUP: Duration = Duration::from_secs(30);

/// Logs in against any address the way the official SDKs do; returns the session.
pub async fn login_at(addr: SocketAddr, bot_id: i64, api_key: &str) -> Session {
    let headers = [
        ("authorization", basic(api_key)),
        ("content-type", "application/proto".to_owned()),
        ("accept", "application/x-protobuf".to_owned()),
    ];
    let (status, body) = post(
        addr,
        "/v2/apps/authenticate/token",
        &headers,
        login_body(bot_id, api_key),
    )
    .await;
    assert_eq!(status, 200, "login failed: {body:?}");
    Session::decode(body).expect("a Session")
}

/// Sends an `api_request_event` and gathers its raw answer (`wire.md` §3.2): the status and
/// the concatenated payload. Pushes and other frames met on the way are returned too.
pub async fn api_socket(
    socket: &mut Socket,
    cid: i32,
    api_index: i32,
    body: Vec<u8>,
) -> (u16, Bytes, Vec<Envelope>) {
    let request = envelope::Message::ApiRequestEvent(realtime::ApiRequestEvent {
        api_index,
        api_name: String::new(),
        body: Bytes::from(body),
    });
    send(socket, cid, request).await;
    let mut payload = Vec::new();
    let mut others = Vec::new();
    loop {
        match next_frame(socket).await {
            Frame::RawChunk(chunk) if i32::from(chunk.cid) == cid => {
                payload.extend_from_slice(&chunk.payload);
                if chunk.fin {
                    return (chunk.status, Bytes::from(payload), others);
                }
            }
            Frame::Envelope(bytes) => others.push(Envelope::decode(bytes).expect("envelope")),
            _ => {}
        }
    }
}
