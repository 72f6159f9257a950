//! [`TestServer`]: starting, stopping, and the control handle tests drive it with.

use std::collections::HashSet;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use mezon_proto::api;
use mezon_proto::realtime::{Envelope, envelope::Message as M};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::config::ServerConfig;
use crate::control::{RawFrame, Target};
use crate::error::{ControlError, StartError, WaitError};
use crate::human::HumanUser;
use crate::shared::Shared;
use crate::state::{Conn, ConnId, HttpCall, Received, State};

/// A local Mezon server on 127.0.0.1, with a control handle for tests.
///
/// ```no_run
/// use std::time::Duration;
/// use mezon_test_server::{ServerConfig, TestServer, demo};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let server = TestServer::start(ServerConfig::default()).await?;
/// println!("log in at {}/v2/apps/authenticate/token", server.base_url());
/// // … start a bot against server.base_url() …
/// server.wait_for_connections(1, Duration::from_secs(5)).await?;
/// server.user(demo::ALICE_ID).send_message(demo::TEXT_CHANNEL_ID, "hello bot")?;
/// server.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct TestServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
    accept_loop: Option<JoinHandle<()>>,
    pub(crate) mmn: crate::mmn::MmnFakes,
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Binds `config.host` (127.0.0.1 by default) on `config.port` (or any free port) and
    /// starts serving.
    pub async fn start(config: ServerConfig) -> Result<Self, StartError> {
        let (host, port) = (config.host, config.port.unwrap_or(0));
        let bind_error = |source| StartError::Bind {
            addr: SocketAddr::new(host, port),
            source,
        };
        let listener = TcpListener::bind((host, port)).await.map_err(bind_error)?;
        let bound = listener.local_addr().map_err(bind_error)?;
        // Clients cannot connect to "any address": advertise loopback for it.
        let addr = if bound.ip().is_unspecified() {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), bound.port())
        } else {
            bound
        };
        let base_url = format!("http://{addr}");
        let ws_url = match (&config.session_ws_url, config.ws_url_with_scheme) {
            (Some(verbatim), _) => verbatim.clone(),
            (None, true) => format!("ws://{addr}"),
            (None, false) => addr.to_string(),
        };
        let mut state = State::new(config);
        state.base_url = base_url.clone();
        state.ws_url = ws_url;
        let shared = Arc::new(Shared::new(state));
        let mmn = crate::mmn::MmnFakes::start(Arc::clone(&shared)).await?;
        let accept_loop = tokio::spawn(accept_loop(Arc::clone(&shared), listener));
        tracing::info!(%addr, "local Mezon server listening");
        Ok(Self {
            shared,
            addr,
            base_url,
            accept_loop: Some(accept_loop),
            mmn,
        })
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Sets the addresses clients are told (the TLS front's, in TLS mode).
    pub(crate) fn set_public_urls(&mut self, base_url: String, ws_url: String) {
        let mut state = self.shared.lock();
        state.base_url = base_url.clone();
        state.ws_url = ws_url;
        drop(state);
        self.base_url = base_url;
    }

    /// `http://127.0.0.1:PORT`: the login base and the sessions' `api_url`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The socket URL without a token: `ws://127.0.0.1:PORT/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// The bot's user id.
    pub fn bot_id(&self) -> i64 {
        self.shared.lock().config.bot_id
    }

    /// The bot's api key (what a bot logs in with).
    pub fn api_key(&self) -> String {
        self.shared.lock().config.api_key.clone()
    }

    /// A fresh bot session, as a login would return it (for tests that skip the login).
    pub fn new_session(&self) -> api::Session {
        self.shared.lock().new_session()
    }

    // ---- pushes ----

    /// Pushes an envelope (cid 0) to every open connection.
    pub fn push(&self, message: M) {
        let _ = self.shared.push(Target::All, &message);
    }

    /// Pushes an envelope (cid 0) to one connection (nothing if it is not open).
    pub fn push_to(&self, conn: ConnId, message: M) {
        let _ = self.shared.push(Target::Conn(conn), &message);
    }

    /// Sends a frame exactly as given (garbage, text, oversize, unknown variant, a crafted
    /// raw answer, …).
    pub fn send_raw_frame(&self, target: impl Into<Target>, frame: impl Into<RawFrame>) {
        let _ = self
            .shared
            .send_frame(target.into(), &frame.into().into_message());
    }

    /// Pushes `refresh_session_event` with a fresh session to every connection; returns it.
    pub fn push_session_refresh(&self) -> api::Session {
        self.shared.push_session_refresh()
    }

    /// Adds the bot to a channel and pushes `user_channel_added_event` (listing the bot) to
    /// the bot's connections, which should then `channel_join` it.
    pub fn add_bot_to_channel(&self, clan_id: i64, channel_id: i64) -> Result<(), ControlError> {
        self.shared.add_bot_to_channel(clan_id, channel_id)
    }

    /// Takes the bot out of a channel: its connections leave it and get
    /// `user_channel_removed_event` listing the bot.
    pub fn remove_bot_from_channel(&self, channel_id: i64) -> Result<(), ControlError> {
        self.shared.remove_bot_from_channel(channel_id)
    }

    /// Makes the bot a member of a clan (created with `name` if the world lacks it) and pushes
    /// `add_clan_user_event` for the bot to its connections, which should then `clan_join` it.
    pub fn add_bot_to_clan(&self, clan_id: i64, name: &str) {
        self.shared.add_bot_to_clan(clan_id, name);
    }

    /// Takes the bot out of a clan: no longer listed nor joinable; its connections leave the
    /// clan and its channels and get `user_clan_removed_event` listing the bot.
    pub fn remove_bot_from_clan(&self, clan_id: i64) -> Result<(), ControlError> {
        self.shared.remove_bot_from_clan(clan_id)
    }

    /// Opens a thread under `parent_id` (as a human, `creator_id`): adds it to the world and
    /// pushes `channel_created_event` then `channel_updated_event` (type 7, status 1, the
    /// signal bots join threads on) to the connections that joined the clan.
    pub fn create_thread(
        &self,
        clan_id: i64,
        parent_id: i64,
        thread_id: i64,
        name: &str,
        creator_id: i64,
    ) -> Result<(), ControlError> {
        self.shared
            .create_thread(clan_id, parent_id, thread_id, name, creator_id)
    }

    /// Adds a human user to the world (a fresh id when `id` is `None`); returns its id.
    pub fn add_user(&self, id: Option<i64>, username: &str) -> Result<i64, ControlError> {
        self.shared.add_user(id, username)
    }

    /// Acts as a human user of the world.
    pub fn user(&self, user_id: i64) -> HumanUser<'_> {
        HumanUser::new(&self.shared, user_id)
    }

    // ---- inspection ----

    /// Open connections, oldest first.
    pub fn connections(&self) -> Vec<ConnId> {
        self.shared.lock().conn_ids()
    }

    /// Waits until at least `n` connections are open; returns them.
    pub async fn wait_for_connections(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ConnId>, WaitError> {
        self.wait_until(timeout, |state| {
            let ids = state.conn_ids();
            (ids.len() >= n).then_some(ids)
        })
        .await
    }

    /// Clans a connection joined, sorted.
    pub fn joined_clans(&self, conn: ConnId) -> Vec<i64> {
        self.joined(conn, |c| &c.clans)
    }

    /// Channels a connection joined, sorted.
    pub fn joined_channels(&self, conn: ConnId) -> Vec<i64> {
        self.joined(conn, |c| &c.channels)
    }

    fn joined(&self, conn: ConnId, set: impl Fn(&Conn) -> &HashSet<i64>) -> Vec<i64> {
        let state = self.shared.lock();
        let mut ids: Vec<i64> = state
            .conns
            .get(&conn)
            .map(|c| set(c).iter().copied().collect())
            .unwrap_or_default();
        ids.sort_unstable();
        ids
    }

    /// WebSocket-level pongs clients sent (answers to [`ping_websocket`](Self::ping_websocket)),
    /// oldest first (up to `log_capacity`).
    pub fn websocket_pongs(&self) -> Vec<(ConnId, Bytes)> {
        self.shared.lock().ws_pongs.iter().cloned().collect()
    }

    /// Waits until `conn` has sent a WebSocket-level pong (earlier ones count); returns its
    /// payload.
    pub async fn wait_for_websocket_pong(
        &self,
        conn: ConnId,
        timeout: Duration,
    ) -> Result<Bytes, WaitError> {
        self.wait_until(timeout, |state| {
            state
                .ws_pongs
                .iter()
                .find(|(from, _)| *from == conn)
                .map(|(_, payload)| payload.clone())
        })
        .await
    }

    /// Every envelope clients sent, oldest first (up to `log_capacity`).
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.iter().cloned().collect()
    }

    /// Waits until some client has sent an envelope matching `predicate` (already received
    /// ones count); returns the first match.
    pub async fn wait_for_received(
        &self,
        mut predicate: impl FnMut(&Envelope) -> bool,
        timeout: Duration,
    ) -> Result<Envelope, WaitError> {
        self.wait_until(timeout, |state| {
            state
                .received
                .iter()
                .find(|r| predicate(&r.envelope))
                .map(|r| r.envelope.clone())
        })
        .await
    }

    /// Every HTTP request handled (login, API calls, upgrades), oldest first.
    pub fn http_log(&self) -> Vec<HttpCall> {
        self.shared.lock().http_log.iter().cloned().collect()
    }

    /// Waits until an HTTP request matching `predicate` was handled (earlier ones count);
    /// returns the first match.
    pub async fn wait_for_http(
        &self,
        mut predicate: impl FnMut(&HttpCall) -> bool,
        timeout: Duration,
    ) -> Result<HttpCall, WaitError> {
        self.wait_until(timeout, |state| {
            state.http_log.iter().find(|c| predicate(c)).cloned()
        })
        .await
    }

    /// Waits until a channel holds a message matching `predicate` (for example the bot's
    /// reply); returns the first match.
    pub async fn wait_for_message(
        &self,
        channel_id: i64,
        mut predicate: impl FnMut(&api::ChannelMessage) -> bool,
        timeout: Duration,
    ) -> Result<api::ChannelMessage, WaitError> {
        self.wait_until(timeout, |state| {
            state
                .messages(channel_id)
                .iter()
                .find(|m| predicate(m))
                .cloned()
        })
        .await
    }

    /// The messages stored for a channel, oldest first, edits and deletions applied.
    pub fn messages(&self, channel_id: i64) -> Vec<api::ChannelMessage> {
        self.shared.lock().messages(channel_id).to_vec()
    }

    // ---- fault injection ----

    /// Closes every socket at once, without a close frame.
    pub fn drop_connections(&self) {
        let _ = self.shared.drop_connections(Target::All);
    }

    /// Closes one socket without a close frame; `false` if it was not open.
    pub fn drop_connection(&self, conn: ConnId) -> bool {
        self.shared.drop_connections(Target::Conn(conn)).is_ok()
    }

    /// Whether `ping` envelopes and binary pings get answers. WebSocket-level pings are
    /// still answered (the WebSocket layer does that, as `wire.md` §3 asks of any peer); to
    /// silence a link completely, use [`set_stalled`](Self::set_stalled).
    pub fn set_answer_pings(&self, answer: bool) {
        self.shared.set_answer_pings(answer);
    }

    /// Stalls every socket (`true`) or lets them run again (`false`). A stalled socket stays
    /// open but neither reads nor writes: no answers, no pongs of any kind (WebSocket-level
    /// included), no pushes. What is queued for it meanwhile is sent when it runs again,
    /// unless more than `outbound_queue` frames pile up, which drops the connection.
    pub fn set_stalled(&self, stalled: bool) {
        self.shared.set_stalled(stalled);
    }

    /// Sends a WebSocket-level ping with `payload`; a live client answers with a pong carrying
    /// the same payload (see [`wait_for_websocket_pong`](Self::wait_for_websocket_pong)).
    pub fn ping_websocket(&self, target: impl Into<Target>, payload: impl Into<Bytes>) {
        let _ = self
            .shared
            .send_frame(target.into(), &Message::Ping(payload.into()));
    }

    /// Delays every answer to a client request by `delay` (pushes are not delayed).
    pub fn set_answer_delay(&self, delay: Duration) {
        self.shared.set_answer_delay(delay);
    }

    /// Whether a connection's own `channel_message` is also delivered back to it.
    pub fn set_echo_to_sender(&self, echo: bool) {
        self.shared.set_echo_to_sender(echo);
    }

    /// Whether sends into any channel need a `channel_join` (the strict join policy).
    pub fn set_strict_joins(&self, strict: bool) {
        self.shared.set_strict_joins(strict);
    }

    /// Answers the next `n` logins with 401, even with good credentials.
    pub fn refuse_logins(&self, n: u32) {
        self.shared.refuse_logins(n);
    }

    /// Answers every login with 401 for `duration` from now, on tokio's clock (so a test on a
    /// paused clock ends the refusal with `tokio::time::advance`). `Duration::ZERO` ends a
    /// refusal early.
    pub fn refuse_logins_for(&self, duration: Duration) {
        self.shared.refuse_logins_for(duration);
    }

    /// Invalidates every access token handed out so far (API calls and upgrades get 401 until
    /// the client refreshes or logs in again); refresh tokens stay valid.
    pub fn revoke_tokens(&self) {
        self.shared.revoke_tokens();
    }

    /// Back to the state at start: the configured world, no stored messages, empty logs, no
    /// faults, the configured echo and join policy. Open connections (with their joins) and
    /// tokens stay, unless `drop_connections`.
    pub fn reset(&self, drop_connections: bool) {
        self.shared.reset(drop_connections);
    }

    /// Stops accepting, closes every connection, and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.cancel();
        if let Some(task) = self.accept_loop.take() {
            let _ = task.await;
        }
    }

    async fn wait_until<T>(
        &self,
        timeout: Duration,
        check: impl FnMut(&State) -> Option<T>,
    ) -> Result<T, WaitError> {
        self.shared.wait_until(timeout, check).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(error) => {
                // Typically out of file descriptors: back off briefly instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = {
                let shared = Arc::clone(&shared);
                service_fn(move |request| crate::http::handle(Arc::clone(&shared), request))
            };
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "HTTP connection ended with an error");
                    }
                }
                () = shared.shutdown.cancelled() => {}
            }
        });
    }
    shared.lock().drop_all_conns();
}
