//! Everything the server knows, behind one mutex: the world, stored messages, open
//! connections with their joins, tokens, logs and fault-injection switches.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use mezon_proto::api;
use mezon_proto::prost::Message as _;
use mezon_proto::realtime::{Envelope, envelope};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::token::{TokenKind, Tokens};
use crate::world::{Channel, World};

/// Identifies one WebSocket connection for the server's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

/// One envelope a client sent over its socket.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The connection it came in on.
    pub conn: ConnId,
    /// The decoded envelope.
    pub envelope: Envelope,
}

/// One HTTP request the server handled. `Debug` shows the body's length, not its bytes
/// (a login body holds the api key).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpCall {
    /// The request path.
    pub path: String,
    /// The API method for `/mezon.api.Mezon/<Method>` paths, `None` otherwise.
    pub method_name: Option<String>,
    /// Whether the request carried valid credentials.
    pub authorized: bool,
    /// The HTTP status answered (101 for an accepted upgrade).
    pub status: u16,
    /// The request body.
    pub body: Bytes,
}

impl fmt::Debug for HttpCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpCall")
            .field("path", &self.path)
            .field("method_name", &self.method_name)
            .field("authorized", &self.authorized)
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Which way a logged frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// From a client to the server.
    In,
    /// From the server to a client.
    Out,
}

/// One WebSocket frame as it crossed the socket (binary or text), for inspection.
#[derive(Debug, Clone)]
pub(crate) struct FrameRecord {
    /// Position in its log; increases by one per frame and never restarts (not even on reset).
    pub(crate) seq: u64,
    pub(crate) conn: ConnId,
    pub(crate) frame: LoggedFrame,
}

/// The content of a logged frame.
#[derive(Debug, Clone)]
pub(crate) enum LoggedFrame {
    Binary(Bytes),
    Text(String),
}

/// Totals since start (not cleared by a reset).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counters {
    pub(crate) connections_opened: u64,
    pub(crate) frames_received: u64,
    pub(crate) frames_sent: u64,
    pub(crate) http_requests: u64,
    pub(crate) logins: u64,
    pub(crate) logins_refused: u64,
    pub(crate) messages_stored: u64,
}

/// One open WebSocket connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) user_id: i64,
    outbound: mpsc::Sender<Message>,
    kill: CancellationToken,
    pub(crate) clans: HashSet<i64>,
    pub(crate) channels: HashSet<i64>,
}

/// The server's state; every field is read and written under one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: ServerConfig,
    /// Events of the AI-agent stream, oldest first (`agent_sse`).
    pub(crate) agent_events: Vec<crate::agent_sse::AgentSseEvent>,
    pub(crate) world: World,
    /// Private channels the bot has been added to.
    pub(crate) bot_channels: HashSet<i64>,
    /// Clans the bot was removed from.
    pub(crate) left_clans: HashSet<i64>,
    messages: HashMap<i64, Vec<api::ChannelMessage>>,
    next_id: i64,
    pub(crate) conns: BTreeMap<ConnId, Conn>,
    next_conn: u64,
    pub(crate) received: VecDeque<Received>,
    pub(crate) http_log: VecDeque<HttpCall>,
    /// WebSocket-level pongs clients sent.
    pub(crate) ws_pongs: VecDeque<(ConnId, Bytes)>,
    /// Every frame clients sent, decodable or not.
    pub(crate) frames_in: VecDeque<FrameRecord>,
    /// Every frame queued for a client.
    pub(crate) frames_out: VecDeque<FrameRecord>,
    next_seq: u64,
    pub(crate) counters: Counters,
    pub(crate) tokens: Tokens,
    pub(crate) quick_menus: Vec<api::QuickMenuAccess>,
    pub(crate) answer_pings: bool,
    pub(crate) answer_delay: Duration,
    pub(crate) refuse_logins: u32,
    /// Logins are refused until then (tokio's clock).
    pub(crate) refuse_logins_until: Option<tokio::time::Instant>,
    /// "Now" for token expiry and timestamps; follows tokio's clock.
    pub(crate) clock: Clock,
    pub(crate) echo_to_sender: bool,
    /// Sends into any channel need a `channel_join` (the strict join policy).
    pub(crate) strict_joins: bool,
    /// `http://127.0.0.1:PORT`, the session's `api_url`.
    pub(crate) base_url: String,
    /// The session's `ws_url`.
    pub(crate) ws_url: String,
}

/// The first id handed out, above 2^53 like the platform's snowflake ids.
const FIRST_ID: i64 = 1_850_000_000_000_000_000;

impl State {
    pub(crate) fn new(config: ServerConfig) -> Self {
        Self {
            world: config.world.clone(),
            echo_to_sender: config.echo_to_sender,
            strict_joins: config.strict_joins,
            config,
            bot_channels: HashSet::new(),
            left_clans: HashSet::new(),
            messages: HashMap::new(),
            next_id: FIRST_ID,
            conns: BTreeMap::new(),
            next_conn: 1,
            received: VecDeque::new(),
            agent_events: Vec::new(),
            http_log: VecDeque::new(),
            ws_pongs: VecDeque::new(),
            frames_in: VecDeque::new(),
            frames_out: VecDeque::new(),
            next_seq: 1,
            counters: Counters::default(),
            tokens: Tokens::default(),
            quick_menus: Vec::new(),
            answer_pings: true,
            answer_delay: Duration::ZERO,
            refuse_logins: 0,
            refuse_logins_until: None,
            clock: Clock::start(),
            base_url: String::new(),
            ws_url: String::new(),
        }
    }

    /// A fresh id for a message, channel or other object; strictly increasing.
    pub(crate) fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    // ---- connections ----

    pub(crate) fn add_conn(
        &mut self,
        user_id: i64,
        outbound: mpsc::Sender<Message>,
        kill: CancellationToken,
    ) -> ConnId {
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        self.counters.connections_opened += 1;
        self.conns.insert(
            id,
            Conn {
                user_id,
                outbound,
                kill,
                clans: HashSet::new(),
                channels: HashSet::new(),
            },
        );
        id
    }

    /// Forgets a connection and ends its socket; `false` if it was not open.
    pub(crate) fn remove_conn(&mut self, id: ConnId) -> bool {
        let Some(conn) = self.conns.remove(&id) else {
            return false;
        };
        conn.kill.cancel();
        true
    }

    /// Closes every socket without a close frame.
    pub(crate) fn drop_all_conns(&mut self) {
        for (_, conn) in std::mem::take(&mut self.conns) {
            conn.kill.cancel();
        }
    }

    /// Queues a frame for one connection. A connection whose queue is full is not reading:
    /// it is dropped rather than buffered without bound.
    pub(crate) fn send_frame(&mut self, id: ConnId, frame: Message) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let logged = match &frame {
            Message::Binary(bytes) => Some(LoggedFrame::Binary(bytes.clone())),
            Message::Text(text) => Some(LoggedFrame::Text(text.as_str().to_owned())),
            _ => None,
        };
        match conn.outbound.try_send(frame) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(conn = %id, "outbound queue full, dropping the connection");
                self.remove_conn(id);
                return;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.remove_conn(id);
                return;
            }
        }
        if let Some(frame) = logged {
            self.counters.frames_sent += 1;
            self.log_frame(Direction::Out, id, frame);
        }
    }

    /// Records a frame in the log of its direction.
    pub(crate) fn log_frame(&mut self, direction: Direction, conn: ConnId, frame: LoggedFrame) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let record = FrameRecord { seq, conn, frame };
        let capacity = self.config.log_capacity;
        let log = match direction {
            Direction::In => &mut self.frames_in,
            Direction::Out => &mut self.frames_out,
        };
        push_bounded(log, record, capacity);
    }

    pub(crate) fn send_envelope(&mut self, id: ConnId, cid: i32, message: envelope::Message) {
        let frame = Envelope {
            cid,
            message: Some(message),
        }
        .encode_to_vec();
        self.send_frame(id, Message::Binary(Bytes::from(frame)));
    }

    /// Pushes (cid 0) to each listed connection.
    pub(crate) fn push_to_all(&mut self, ids: &[ConnId], message: &envelope::Message) {
        for &id in ids {
            self.send_envelope(id, 0, message.clone());
        }
    }

    pub(crate) fn conn_ids(&self) -> Vec<ConnId> {
        self.conns.keys().copied().collect()
    }

    /// Connections of the given user.
    pub(crate) fn conns_of(&self, user_id: i64) -> Vec<ConnId> {
        self.conns
            .iter()
            .filter(|(_, c)| c.user_id == user_id)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Whether `id` may send into `channel` (`wire.md` §3.3). A joined channel is writable,
    /// except a DM by a non-participant; under the clan policy a public channel of a joined
    /// clan, and a DM of a participant that joined clan 0, need no `channel_join`.
    pub(crate) fn may_send(&self, id: ConnId, channel: &Channel) -> bool {
        let Some(conn) = self.conns.get(&id) else {
            return false;
        };
        let is_dm = channel.dm_peer.is_some();
        if is_dm && !channel.is_dm_participant(conn.user_id, self.config.bot_id) {
            return false;
        }
        if conn.channels.contains(&channel.id) {
            return true;
        }
        if self.strict_joins {
            return false;
        }
        if is_dm {
            return conn.clans.contains(&0);
        }
        !channel.needs_join() && conn.clans.contains(&channel.clan_id)
    }

    /// The connections that receive pushes about `channel`: those that joined it; for a public
    /// clan channel also those that joined its clan; for a DM also the connections of its
    /// participants that joined clan 0 (a new DM reaches the bot before it joins the channel).
    pub(crate) fn audience(&self, channel: &Channel) -> Vec<ConnId> {
        let bot_id = self.config.bot_id;
        self.conns
            .iter()
            .filter(|(_, c)| {
                c.channels.contains(&channel.id)
                    || (!channel.needs_join() && c.clans.contains(&channel.clan_id))
                    || (c.clans.contains(&0) && channel.is_dm_participant(c.user_id, bot_id))
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Pushes a `channel_message` to the channel's audience, except `exclude`.
    pub(crate) fn fan_out(
        &mut self,
        channel: &Channel,
        message: &api::ChannelMessage,
        exclude: Option<ConnId>,
    ) {
        let targets: Vec<ConnId> = self
            .audience(channel)
            .into_iter()
            .filter(|id| Some(*id) != exclude)
            .collect();
        self.push_to_all(
            &targets,
            &envelope::Message::ChannelMessage(message.clone()),
        );
    }

    // ---- messages ----

    pub(crate) fn store_message(&mut self, message: api::ChannelMessage) {
        self.counters.messages_stored += 1;
        let list = self.messages.entry(message.channel_id).or_default();
        if list.len() >= self.config.log_capacity {
            list.remove(0);
        }
        list.push(message);
    }

    pub(crate) fn messages(&self, channel_id: i64) -> &[api::ChannelMessage] {
        self.messages
            .get(&channel_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Every stored message, by channel then oldest first.
    pub(crate) fn all_messages(&self) -> impl Iterator<Item = &api::ChannelMessage> {
        let mut channels: Vec<&i64> = self.messages.keys().collect();
        channels.sort_unstable();
        channels
            .into_iter()
            .flat_map(|id| self.messages(*id).iter())
    }

    /// Back to the state at start: the configured world, switches and faults; no messages,
    /// logs or quick menus. Open connections, their joins, tokens and counters stay.
    pub(crate) fn reset(&mut self) {
        self.world = self.config.world.clone();
        self.bot_channels.clear();
        self.left_clans.clear();
        self.messages.clear();
        self.received.clear();
        self.http_log.clear();
        self.ws_pongs.clear();
        self.frames_in.clear();
        self.frames_out.clear();
        self.quick_menus.clear();
        self.answer_pings = true;
        self.answer_delay = Duration::ZERO;
        self.refuse_logins = 0;
        self.refuse_logins_until = None;
        self.echo_to_sender = self.config.echo_to_sender;
        self.strict_joins = self.config.strict_joins;
    }

    pub(crate) fn find_message(
        &self,
        channel_id: i64,
        message_id: i64,
    ) -> Option<&api::ChannelMessage> {
        self.messages(channel_id)
            .iter()
            .find(|m| m.message_id == message_id)
    }

    /// Applies an edit; returns the edited message.
    pub(crate) fn edit_message(
        &mut self,
        channel_id: i64,
        message_id: i64,
        content: String,
        hide_edited: bool,
    ) -> Option<api::ChannelMessage> {
        let now = self.clock.unix_seconds();
        let message = self
            .messages
            .get_mut(&channel_id)?
            .iter_mut()
            .find(|m| m.message_id == message_id)?;
        message.content = content;
        message.update_time_seconds = now;
        message.hide_editted = hide_edited;
        Some(message.clone())
    }

    /// Records a reaction on the stored message (if any) in its `reactions` list: added, or
    /// for `action = true` the sender's reactions with that emoji removed.
    pub(crate) fn apply_reaction(&mut self, reaction: &api::MessageReaction) {
        let Some(message) = self
            .messages
            .get_mut(&reaction.channel_id)
            .and_then(|list| {
                list.iter_mut()
                    .find(|m| m.message_id == reaction.message_id)
            })
        else {
            return;
        };
        // Stored lists are always written by this server, in the current (protobuf) form.
        let mut list =
            api::MessageReactionList::decode(message.reactions.clone()).unwrap_or_default();
        if reaction.action {
            list.reactions.retain(|r| {
                !(r.emoji_id == reaction.emoji_id && r.sender_id == reaction.sender_id)
            });
        } else {
            list.reactions.push(reaction.clone());
        }
        message.reactions = if list.reactions.is_empty() {
            Bytes::new()
        } else {
            Bytes::from(list.encode_to_vec())
        };
    }

    /// Removes a message; returns it.
    pub(crate) fn delete_message(
        &mut self,
        channel_id: i64,
        message_id: i64,
    ) -> Option<api::ChannelMessage> {
        let list = self.messages.get_mut(&channel_id)?;
        let at = list.iter().position(|m| m.message_id == message_id)?;
        Some(list.remove(at))
    }

    // ---- names and sessions ----

    pub(crate) fn username(&self, user_id: i64) -> String {
        if user_id == self.config.bot_id {
            return self.config.bot_username.clone();
        }
        if let Some(bot) = self.world.find_bot(user_id) {
            return bot.username.clone();
        }
        self.world
            .find_user(user_id)
            .map(|u| u.username.clone())
            .unwrap_or_default()
    }

    /// The bot a login names: the server's own one, or an extra bot of the world. `key` is
    /// the api key given, `appid` the bot id when the login names one.
    pub(crate) fn bot_for_login(&self, key: &str, appid: Option<&str>) -> Option<i64> {
        let own = (self.config.bot_id, self.config.api_key.as_str());
        std::iter::once(own)
            .chain(self.world.bots.iter().map(|b| (b.id, b.api_key.as_str())))
            .find(|(id, api_key)| {
                *api_key == key && appid.is_none_or(|appid| appid == id.to_string())
            })
            .map(|(id, _)| id)
    }

    /// The DM owner key of a bot: `None` for the server's own bot.
    pub(crate) fn dm_bot_key(&self, bot_id: i64) -> Option<i64> {
        (bot_id != self.config.bot_id).then_some(bot_id)
    }

    /// Mints a fresh session for the server's own bot.
    pub(crate) fn new_session(&mut self) -> api::Session {
        self.new_session_for(self.config.bot_id)
    }

    /// Mints a fresh session for a bot.
    pub(crate) fn new_session_for(&mut self, bot_id: i64) -> api::Session {
        let username = self.username(bot_id);
        let ttl = self.config.token_ttl;
        let now = self.clock.now();
        let token = self
            .tokens
            .mint(bot_id, &username, TokenKind::Access, ttl, now);
        let refresh_ttl = ttl.saturating_mul(10);
        let refresh_token =
            self.tokens
                .mint(bot_id, &username, TokenKind::Refresh, refresh_ttl, now);
        // What the ZK prover checks (the fake MMN accepts a live access token).
        let id_token = token.clone();
        api::Session {
            created: false,
            token,
            refresh_token,
            user_id: if self.config.omit_session_user_id {
                0
            } else {
                bot_id
            },
            is_remember: false,
            api_url: self.base_url.clone(),
            id_token,
            ws_url: self.ws_url.clone(),
            session_id: format!("local-session-{}", self.next_id()),
            tcp_url: String::new(),
        }
    }

    /// The user a live token of `kind` belongs to.
    pub(crate) fn check_token(&self, token: &str, kind: TokenKind) -> Option<i64> {
        self.tokens.check(token, kind, self.clock.now())
    }

    /// Whether a login with good credentials is refused now (a pending count is used up).
    pub(crate) fn take_login_refusal(&mut self) -> bool {
        if self.refuse_logins > 0 {
            self.refuse_logins -= 1;
            return true;
        }
        self.refuse_logins_until
            .is_some_and(|until| tokio::time::Instant::now() < until)
    }

    // ---- logs ----

    pub(crate) fn log_received(&mut self, received: Received) {
        push_bounded(&mut self.received, received, self.config.log_capacity);
    }

    pub(crate) fn log_http(&mut self, call: HttpCall) {
        self.counters.http_requests += 1;
        push_bounded(&mut self.http_log, call, self.config.log_capacity);
    }

    pub(crate) fn log_ws_pong(&mut self, conn: ConnId, payload: Bytes) {
        push_bounded(
            &mut self.ws_pongs,
            (conn, payload),
            self.config.log_capacity,
        );
    }
}

/// Appends to a log that keeps at most `capacity` entries (at least one), oldest dropped first.
fn push_bounded<T>(log: &mut VecDeque<T>, entry: T, capacity: usize) {
    while log.len() >= capacity.max(1) {
        log.pop_front();
    }
    log.push_back(entry);
}
