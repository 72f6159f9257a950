//! A real `nats-server -js` per test (random loopback port, temporary store, killed on
//! drop), and a local Mezon server with a clan of text channels.
#![allow(dead_code)]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mezon::testing::{ServerConfig, TestServer, World, channel_type};

/// The clan of the test world.
pub const CLAN: i64 = 1;
/// The human who writes the messages.
pub const ALICE: i64 = 500;
/// The first text channel; there are [`CHANNELS`] of them, consecutive ids.
pub const FIRST_CHANNEL: i64 = 100;
/// How many text channels the world has.
pub const CHANNELS: i64 = 10;

/// A running `nats-server -js`, killed (and its store removed) on drop.
pub struct Nats {
    child: Child,
    port: u16,
    store: PathBuf,
}

impl Nats {
    /// Starts a server, or `None` (after saying so) when `nats-server` is not installed and
    /// `MEZON_REQUIRE_NATS=1` is not set.
    pub fn start(test: &str) -> Option<Nats> {
        let found = Command::new("nats-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            assert!(
                std::env::var("MEZON_REQUIRE_NATS").as_deref() != Ok("1"),
                "nats-server is not on PATH but MEZON_REQUIRE_NATS=1 (install the Debian package nats-server)"
            );
            eprintln!("SKIPPED {test}: nats-server is not on PATH (apt-get install nats-server)");
            return None;
        }
        // The free port can be taken by someone else before the server binds it (other tests
        // open loopback ports concurrently): a server that exits is started again on another.
        for _attempt in 0..5 {
            let port = free_port();
            let store =
                std::env::temp_dir().join(format!("mezon-nats-test-{}-{port}", std::process::id()));
            let child = Command::new("nats-server")
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
                .arg(&store)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("nats-server starts");
            let mut nats = Nats { child, port, store };
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if nats.child.try_wait().is_ok_and(|status| status.is_some()) {
                    break; // exited: the port was taken
                }
                if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                    std::thread::sleep(Duration::from_millis(50));
                    if nats.child.try_wait().is_ok_and(|status| status.is_none()) {
                        return Some(nats);
                    }
                    break;
                }
                assert!(Instant::now() < deadline, "nats-server did not listen");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("nats-server could not start on a free port in 5 attempts");
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// A new client connection.
    pub async fn connect(&self) -> async_nats::Client {
        async_nats::connect(self.url())
            .await
            .expect("connect to nats")
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    listener.local_addr().expect("addr").port()
}

/// One clan, [`CHANNELS`] public text channels, and alice.
pub fn world() -> World {
    world_with(CHANNELS)
}

/// One clan, `channels` public text channels from [`FIRST_CHANNEL`] on, and alice.
pub fn world_with(channels: i64) -> World {
    let mut world = World::new().clan(CLAN, "scale").user(ALICE, "alice");
    for i in 0..channels {
        world = world.channel(
            CLAN,
            FIRST_CHANNEL + i,
            format!("ch{i}"),
            channel_type::TEXT,
            false,
        );
    }
    world
}

/// A local Mezon server holding [`world`], with room for bursts.
pub async fn mezon_server() -> TestServer {
    mezon_server_with(world()).await
}

/// A local Mezon server holding `world`, with room for bursts.
pub async fn mezon_server_with(world: World) -> TestServer {
    TestServer::start(ServerConfig {
        world,
        outbound_queue: 50_000,
        ..ServerConfig::default()
    })
    .await
    .expect("local server starts")
}

/// A client of the server's bot.
pub fn client_of(server: &TestServer) -> mezon::Client {
    mezon::Client::builder(server.bot_id(), server.api_key())
        .base_url(server.base_url())
        .build()
        .expect("client config")
}

/// Polls `condition` every 10 ms until it holds, failing after `limit`.
pub async fn until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The text of a plain message.
pub fn text_of(message: &mezon::proto::api::ChannelMessage) -> String {
    mezon::MessageContent::parse(&message.content)
        .map(|c| c.as_text().to_owned())
        .unwrap_or_default()
}
