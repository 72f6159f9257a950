//! How to start a [`TestServer`](crate::TestServer).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::world::World;

/// Server settings. Build with struct update syntax over [`Default`]:
///
/// ```
/// use mezon_test_server::{ServerConfig, World};
///
/// let config = ServerConfig {
///     strict_joins: true,
///     world: World::demo(),
///     ..ServerConfig::default()
/// };
/// assert_eq!(config.bot_id, 1_000_000_001);
/// ```
#[derive(Clone)]
pub struct ServerConfig {
    /// The bot's user id; its login `appid`.
    pub bot_id: i64,
    /// The bot's api key (never shown by `Debug`).
    pub api_key: String,
    /// The bot's username.
    pub bot_username: String,
    /// Address to listen on (default 127.0.0.1: reachable from this machine only).
    pub host: IpAddr,
    /// Port; `None` picks a free one.
    pub port: Option<u16>,
    /// Whether the session's `ws_url` carries a `ws://` scheme (default: bare `host:port`, as
    /// the real gateway sends it).
    pub ws_url_with_scheme: bool,
    /// Replaces the session's `ws_url` verbatim (for example `Some(String::new())`, to test a
    /// client's fallback to `api_url`'s host). Takes precedence over `ws_url_with_scheme`.
    pub session_ws_url: Option<String>,
    /// Leave `Session.user_id` at 0, so clients must take the id from the token's `uid` claim.
    pub omit_session_user_id: bool,
    /// Lifetime of access tokens (the `exp` claim, and when the server stops accepting them),
    /// measured on tokio's clock (see the crate docs on time). Refresh tokens live ten times
    /// longer.
    pub token_ttl: Duration,
    /// Require a `channel_join` before sending into any channel, public ones and DMs included
    /// (the strict join policy). Otherwise a public channel of a joined clan, and a DM of a
    /// participant that joined clan 0, are writable without one.
    pub strict_joins: bool,
    /// Also deliver a connection's own `channel_message` back to it (right after the ack), as
    /// the platform does; official clients find their own messages that way. Off by default
    /// in process (the binary turns it on).
    pub echo_to_sender: bool,
    /// Largest payload of one raw answer chunk; larger answers are split.
    pub raw_chunk_size: usize,
    /// Frames queued for one connection before the server gives up on it and drops it.
    pub outbound_queue: usize,
    /// Entries kept in [`received`](crate::TestServer::received) and
    /// [`http_log`](crate::TestServer::http_log) (oldest dropped first).
    pub log_capacity: usize,
    /// Largest HTTP request body accepted.
    pub max_body: usize,
    /// Clans, channels, users and DMs.
    pub world: World,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bot_id: 1_000_000_001,
            api_key: "local-api-key".to_owned(),
            bot_username: "local-bot".to_owned(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: None,
            ws_url_with_scheme: false,
            session_ws_url: None,
            omit_session_user_id: false,
            token_ttl: Duration::from_secs(3600),
            strict_joins: false,
            echo_to_sender: false,
            raw_chunk_size: 8 * 1024,
            outbound_queue: 1024,
            log_capacity: 10_000,
            max_body: 4 * 1024 * 1024,
            world: World::demo(),
        }
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("bot_id", &self.bot_id)
            .field("api_key", &"<redacted>")
            .field("bot_username", &self.bot_username)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("ws_url_with_scheme", &self.ws_url_with_scheme)
            .field("session_ws_url", &self.session_ws_url)
            .field("omit_session_user_id", &self.omit_session_user_id)
            .field("token_ttl", &self.token_ttl)
            .field("strict_joins", &self.strict_joins)
            .field("echo_to_sender", &self.echo_to_sender)
            .field("raw_chunk_size", &self.raw_chunk_size)
            .field("outbound_queue", &self.outbound_queue)
            .field("log_capacity", &self.log_capacity)
            .field("max_body", &self.max_body)
            .field("world", &self.world)
            .finish()
    }
}
