//! Client settings and the [`ClientBuilder`].

use std::time::Duration;

use mezon_events::{DispatchConfig, DispatchMode};
use mezon_transport::{
    Credentials, DEFAULT_BASE_URL, RateLimits, ReconnectPolicy, Secret, TransportConfig,
};

use crate::client::Client;
use crate::error::ConfigError;
use crate::state::CacheSizes;

/// Everything a [`Client`] is configured with (the api key lives in [`Credentials`], whose
/// `Debug` output hides it).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Bot id and api key.
    pub credentials: Credentials,
    /// Transport settings: login URL, timeouts, reconnect policy, rate limits, sizes.
    pub transport: TransportConfig,
    /// How handlers are run.
    pub dispatch: DispatchConfig,
    /// Cache capacities.
    pub cache: CacheSizes,
    /// Deliver the bot's own messages to handlers (off by default).
    pub receive_own_messages: bool,
    /// Capacity of each [`Client::events`] stream; when a stream's reader falls this far
    /// behind, further events for it are dropped (and logged) rather than stalling the bot.
    pub event_stream_capacity: usize,
    /// How long [`Client::shutdown`] waits for handlers to finish.
    pub shutdown_grace: Duration,
    /// Token transfers: ledger and prover endpoints, receipts.
    pub tokens: crate::tokens::TokenConfig,
    /// Where the AI-agent event stream is served, when the bot reads it (see
    /// [`ClientBuilder::agent_events`]).
    pub agent_event_url: Option<String>,
}

/// Builds a [`Client`].
///
/// ```no_run
/// use std::time::Duration;
/// # fn demo() -> Result<(), mezon::Error> {
/// let client = mezon::Client::builder(1_234_567, "my-api-key")
///     .host("gw.mezon.ai")
///     .port(443)
///     .use_tls(true)
///     .request_timeout(Duration::from_secs(10))
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    bot_id: i64,
    api_key: Secret,
    host: Option<String>,
    port: Option<u16>,
    use_tls: Option<bool>,
    base_url: Option<String>,
    transport: TransportConfig,
    dispatch: DispatchConfig,
    cache: CacheSizes,
    receive_own_messages: bool,
    event_stream_capacity: usize,
    shutdown_grace: Duration,
    pub(crate) tokens: crate::tokens::TokenConfig,
    agent_event_url: Option<String>,
}

impl ClientBuilder {
    pub(crate) fn new(bot_id: i64, api_key: impl Into<String>) -> Self {
        Self {
            bot_id,
            api_key: Secret::new(api_key),
            host: None,
            port: None,
            use_tls: None,
            base_url: None,
            transport: TransportConfig::new(DEFAULT_BASE_URL),
            dispatch: DispatchConfig::default(),
            cache: CacheSizes::default(),
            receive_own_messages: false,
            event_stream_capacity: 1024,
            shutdown_grace: Duration::from_secs(10),
            tokens: crate::tokens::TokenConfig::default(),
            agent_event_url: None,
        }
    }

    /// Reads `MEZON_BOT_ID` and `MEZON_API_KEY` (required) and `MEZON_HOST`, `MEZON_PORT`,
    /// `MEZON_USE_SSL` (`true`/`false`/`1`/`0`) or `MEZON_BASE_URL` (optional).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let bot_id = get("MEZON_BOT_ID").ok_or(ConfigError::MissingEnv("MEZON_BOT_ID"))?;
        let bot_id: i64 = bot_id.trim().parse().map_err(|_| ConfigError::InvalidEnv {
            name: "MEZON_BOT_ID",
        })?;
        let api_key = get("MEZON_API_KEY").ok_or(ConfigError::MissingEnv("MEZON_API_KEY"))?;
        let mut builder = Self::new(bot_id, api_key.trim());
        if let Some(url) = get("MEZON_BASE_URL") {
            builder = builder.base_url(url.trim());
        }
        if let Some(host) = get("MEZON_HOST") {
            builder = builder.host(host.trim());
        }
        if let Some(port) = get("MEZON_PORT") {
            let port = port
                .trim()
                .parse()
                .map_err(|_| ConfigError::InvalidEnv { name: "MEZON_PORT" })?;
            builder = builder.port(port);
        }
        if let Some(tls) = get("MEZON_USE_SSL") {
            let tls = match tls.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(ConfigError::InvalidEnv {
                        name: "MEZON_USE_SSL",
                    });
                }
            };
            builder = builder.use_tls(tls);
        }
        Ok(builder)
    }

    /// Sets the full login base URL, e.g. `http://127.0.0.1:7350` (overrides host/port/TLS).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Sets the login host (default `gw.mezon.ai`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Sets the login port (default 443).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Uses TLS (`https`) for the login (default true).
    pub fn use_tls(mut self, tls: bool) -> Self {
        self.use_tls = Some(tls);
        self
    }

    /// Allows plaintext (`http`/`ws`) to a host that is not loopback, e.g. with
    /// `use_tls(false)` (off by default; logged as a warning). Loopback plaintext is always
    /// allowed, and a server can never move a TLS login onto plaintext.
    pub fn allow_plaintext(mut self, allow: bool) -> Self {
        self.transport = self.transport.allow_plaintext(allow);
        self
    }

    /// Trusts the certificates of `pem` (one or more `CERTIFICATE` blocks) besides the
    /// built-in roots: a self-hosted server's CA, or a corporate proxy's.
    pub fn add_root_certificates_pem(
        mut self,
        pem: &[u8],
    ) -> Result<Self, mezon_transport::SetupError> {
        self.transport = self.transport.add_root_certificates_pem(pem)?;
        Ok(self)
    }

    /// How long a request waits for its answer.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.transport = self.transport.request_timeout(timeout);
        self
    }

    /// How long opening the socket may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.transport = self.transport.connect_timeout(timeout);
        self
    }

    /// Heartbeat interval and pong timeout.
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.transport = self.transport.heartbeat(interval, timeout);
        self
    }

    /// The reconnect policy.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.transport = self.transport.reconnect(policy);
        self
    }

    /// Client-side rate limits.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.transport = self.transport.rate_limits(limits);
        self
    }

    /// Replaces the whole transport configuration (its base URL is still set from
    /// host/port/TLS or [`ClientBuilder::base_url`] when those were given).
    pub fn transport(mut self, config: TransportConfig) -> Self {
        self.transport = config;
        self
    }

    /// How handlers are spread over tasks.
    pub fn dispatch_mode(mut self, mode: DispatchMode) -> Self {
        self.dispatch = self.dispatch.mode(mode);
        self
    }

    /// The full dispatcher configuration.
    pub fn dispatch(mut self, config: DispatchConfig) -> Self {
        self.dispatch = config;
        self
    }

    /// Cache capacities.
    pub fn cache_sizes(mut self, sizes: CacheSizes) -> Self {
        self.cache = sizes;
        self
    }

    /// Delivers the bot's own messages to handlers too.
    pub fn receive_own_messages(mut self, receive: bool) -> Self {
        self.receive_own_messages = receive;
        self
    }

    /// Capacity of each [`Client::events`] stream.
    pub fn event_stream_capacity(mut self, capacity: usize) -> Self {
        self.event_stream_capacity = capacity.max(1);
        self
    }

    /// How long shutdown waits for running handlers.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Reads the AI-agent session events (`on_session_started`, `on_session_ended`,
    /// `on_room_summary_done`) from the agent event stream at `url` (its base, e.g.
    /// `https://agent.example.com`), from login to shutdown. Off by default.
    pub fn agent_events(mut self, url: impl Into<String>) -> Self {
        self.agent_event_url = Some(url.into());
        self
    }

    fn resolved_base_url(&self) -> String {
        if let Some(url) = &self.base_url {
            return url.trim_end_matches('/').to_owned();
        }
        if self.host.is_none() && self.port.is_none() && self.use_tls.is_none() {
            return self.transport.base_url.clone();
        }
        let tls = self.use_tls.unwrap_or(true);
        let host = self.host.as_deref().unwrap_or("gw.mezon.ai");
        let port = self.port.unwrap_or(if tls { 443 } else { 80 });
        let scheme = if tls { "https" } else { "http" };
        format!("{scheme}://{host}:{port}")
    }

    /// The finished configuration.
    pub fn into_config(self) -> Result<ClientConfig, ConfigError> {
        if self.bot_id <= 0 {
            return Err(ConfigError::InvalidBotId);
        }
        if self.api_key.is_empty() {
            return Err(ConfigError::EmptyApiKey);
        }
        let mut transport = self.transport.clone();
        transport.base_url = self.resolved_base_url();
        Ok(ClientConfig {
            credentials: Credentials::new(self.bot_id, self.api_key.expose()),
            transport,
            dispatch: self.dispatch,
            cache: self.cache,
            receive_own_messages: self.receive_own_messages,
            event_stream_capacity: self.event_stream_capacity,
            shutdown_grace: self.shutdown_grace,
            tokens: self.tokens,
            agent_event_url: self.agent_event_url,
        })
    }

    /// Builds the client (not yet connected: register handlers, then call
    /// [`Client::login`]).
    pub fn build(self) -> Result<Client, ConfigError> {
        Ok(Client::with_config(self.into_config()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn env_gives_credentials_and_address() {
        let b = ClientBuilder::from_lookup(env(&[
            ("MEZON_BOT_ID", "42"),
            ("MEZON_API_KEY", "k"),
            ("MEZON_HOST", "127.0.0.1"),
            ("MEZON_PORT", "7350"),
            ("MEZON_USE_SSL", "false"),
        ]))
        .unwrap();
        let config = b.into_config().unwrap();
        assert_eq!(config.transport.base_url, "http://127.0.0.1:7350");
        assert_eq!(config.credentials.bot_id, 42);
        assert!(!format!("{config:?}").contains("\"k\""));
        let secret = ClientBuilder::new(1, "very-secret-key");
        assert!(!format!("{secret:?}").contains("very-secret-key"));
    }

    #[test]
    fn env_errors_name_the_variable() {
        assert_eq!(
            ClientBuilder::from_lookup(env(&[("MEZON_API_KEY", "k")])).err(),
            Some(ConfigError::MissingEnv("MEZON_BOT_ID"))
        );
        assert_eq!(
            ClientBuilder::from_lookup(env(&[("MEZON_BOT_ID", "x"), ("MEZON_API_KEY", "k")])).err(),
            Some(ConfigError::InvalidEnv {
                name: "MEZON_BOT_ID"
            })
        );
        assert_eq!(
            ClientBuilder::from_lookup(env(&[
                ("MEZON_BOT_ID", "1"),
                ("MEZON_API_KEY", "k"),
                ("MEZON_USE_SSL", "maybe")
            ]))
            .err(),
            Some(ConfigError::InvalidEnv {
                name: "MEZON_USE_SSL"
            })
        );
    }

    #[test]
    fn defaults_and_validation() {
        let c = ClientBuilder::new(1, "k").into_config().unwrap();
        assert_eq!(c.transport.base_url, DEFAULT_BASE_URL);
        assert!(!c.receive_own_messages);
        let tls_host = ClientBuilder::new(1, "k")
            .host("example.org")
            .into_config()
            .unwrap();
        assert_eq!(tls_host.transport.base_url, "https://example.org:443");
        assert_eq!(
            ClientBuilder::new(0, "k").into_config().err(),
            Some(ConfigError::InvalidBotId)
        );
        assert_eq!(
            ClientBuilder::new(1, "").into_config().err(),
            Some(ConfigError::EmptyApiKey)
        );
    }
}
