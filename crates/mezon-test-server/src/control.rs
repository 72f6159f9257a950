//! The control operations: pushes, membership changes, faults, reset and waiting. Both the
//! in-process [`TestServer`](crate::TestServer) handle and the HTTP control API
//! (`/_control/...`) call these, so they behave the same.

use std::time::Duration;

use bytes::Bytes;
use mezon_proto::api;
use mezon_proto::realtime::{self, envelope::Message as M};
use tokio_tungstenite::tungstenite::Message;

use crate::error::{ControlError, WaitError};
use crate::shared::Shared;
use crate::state::{ConnId, State};
use crate::world::{Channel, Clan, User, channel_type};

/// Which connections a control call addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Every open connection.
    All,
    /// One connection.
    Conn(ConnId),
}

impl From<ConnId> for Target {
    fn from(conn: ConnId) -> Self {
        Self::Conn(conn)
    }
}

/// A frame sent as is, for fault injection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawFrame {
    /// A binary frame with these bytes.
    Binary(Bytes),
    /// A text frame (the protocol does not use them; clients must ignore them).
    Text(String),
}

impl RawFrame {
    /// Bytes that are no valid envelope (a truncated length-delimited field).
    pub fn garbage() -> Self {
        Self::Binary(Bytes::from_static(&[0x12, 0x7F, 0x01, 0x02]))
    }

    /// A binary frame of `len` bytes, for size limits.
    pub fn oversize(len: usize) -> Self {
        Self::Binary(Bytes::from(vec![0x0A; len]))
    }

    /// A pushed envelope whose only field is a oneof variant unknown to the schema (#200).
    pub fn unknown_variant() -> Self {
        // Field 200, wire type 2 (tag 1602 as a varint), then a zero length.
        Self::Binary(Bytes::from_static(&[0xC2, 0x0C, 0x00]))
    }

    pub(crate) fn into_message(self) -> Message {
        match self {
            Self::Binary(bytes) => Message::Binary(bytes),
            Self::Text(text) => Message::text(text),
        }
    }
}

impl From<Vec<u8>> for RawFrame {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Binary(Bytes::from(bytes))
    }
}

impl From<Bytes> for RawFrame {
    fn from(bytes: Bytes) -> Self {
        Self::Binary(bytes)
    }
}

impl From<String> for RawFrame {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for RawFrame {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

/// Longest wait a control call may ask for.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(60);

impl Shared {
    /// Runs `f` on the locked state, then wakes waiters.
    pub(crate) fn change<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let result = f(&mut self.lock());
        self.notify();
        result
    }

    /// The connections `target` names; an unknown connection is an error.
    fn targets(state: &State, target: Target) -> Result<Vec<ConnId>, ControlError> {
        match target {
            Target::All => Ok(state.conn_ids()),
            Target::Conn(conn) if state.conns.contains_key(&conn) => Ok(vec![conn]),
            Target::Conn(conn) => Err(ControlError::UnknownConn(conn.0)),
        }
    }

    /// Pushes an envelope (cid 0); returns how many connections it went to.
    pub(crate) fn push(&self, target: Target, message: &M) -> Result<usize, ControlError> {
        self.change(|state| {
            let targets = Self::targets(state, target)?;
            state.push_to_all(&targets, message);
            Ok(targets.len())
        })
    }

    /// Sends one WebSocket frame as given; returns how many connections it went to.
    pub(crate) fn send_frame(
        &self,
        target: Target,
        frame: &Message,
    ) -> Result<usize, ControlError> {
        self.change(|state| {
            let targets = Self::targets(state, target)?;
            for &conn in &targets {
                state.send_frame(conn, frame.clone());
            }
            Ok(targets.len())
        })
    }

    /// Pushes `refresh_session_event` with a fresh session to every connection; returns it.
    pub(crate) fn push_session_refresh(&self) -> api::Session {
        self.change(|state| {
            let session = state.new_session();
            let all = state.conn_ids();
            state.push_to_all(&all, &M::RefreshSessionEvent(session.clone()));
            session
        })
    }

    /// Adds the bot to a channel and pushes `user_channel_added_event` (listing the bot) to
    /// the bot's connections.
    pub(crate) fn add_bot_to_channel(
        &self,
        clan_id: i64,
        channel_id: i64,
    ) -> Result<(), ControlError> {
        self.change(|state| {
            let channel = channel_of_clan(state, clan_id, channel_id)?;
            state.bot_channels.insert(channel_id);
            let event = M::UserChannelAddedEvent(realtime::UserChannelAdded {
                channel_desc: Some(crate::api::channel_desc(state, &channel)),
                users: vec![bot_profile(state)],
                status: String::new(),
                clan_id,
                caller: None,
                create_time_seconds: state.clock.unix_seconds(),
                active: 1,
            });
            let targets = state.conns_of(state.config.bot_id);
            state.push_to_all(&targets, &event);
            Ok(())
        })
    }

    /// Takes the bot out of a channel: its connections leave it, and get
    /// `user_channel_removed_event` listing the bot.
    pub(crate) fn remove_bot_from_channel(&self, channel_id: i64) -> Result<(), ControlError> {
        self.change(|state| {
            let channel = state
                .world
                .find_channel(channel_id)
                .cloned()
                .ok_or(ControlError::UnknownChannel(channel_id))?;
            state.bot_channels.remove(&channel_id);
            let bot_id = state.config.bot_id;
            let targets = state.conns_of(bot_id);
            for id in &targets {
                if let Some(conn) = state.conns.get_mut(id) {
                    conn.channels.remove(&channel_id);
                }
            }
            let event = M::UserChannelRemovedEvent(realtime::UserChannelRemoved {
                channel_id,
                user_ids: vec![bot_id],
                channel_type: channel.channel_type,
                clan_id: channel.clan_id,
                badge_counts: Vec::new(),
            });
            state.push_to_all(&targets, &event);
            Ok(())
        })
    }

    /// Makes the bot a member of a clan (created with `name` if the world lacks it) and pushes
    /// `add_clan_user_event` for the bot to its connections.
    pub(crate) fn add_bot_to_clan(&self, clan_id: i64, name: &str) {
        self.change(|state| {
            if state.world.find_clan(clan_id).is_none() {
                state.world.clans.push(Clan {
                    id: clan_id,
                    name: name.to_owned(),
                });
            }
            state.left_clans.remove(&clan_id);
            let event = M::AddClanUserEvent(realtime::AddClanUserEvent {
                clan_id,
                user: Some(bot_profile(state)),
                invitor: String::new(),
            });
            let targets = state.conns_of(state.config.bot_id);
            state.push_to_all(&targets, &event);
        });
    }

    /// Takes the bot out of a clan: it is no longer listed or joinable, its connections leave
    /// the clan and its channels, and get `user_clan_removed_event` listing the bot.
    pub(crate) fn remove_bot_from_clan(&self, clan_id: i64) -> Result<(), ControlError> {
        self.change(|state| {
            if state.world.find_clan(clan_id).is_none() {
                return Err(ControlError::UnknownClan(clan_id));
            }
            state.left_clans.insert(clan_id);
            let in_clan: Vec<i64> = state
                .world
                .channels
                .iter()
                .filter(|c| c.clan_id == clan_id)
                .map(|c| c.id)
                .collect();
            let bot_id = state.config.bot_id;
            let targets = state.conns_of(bot_id);
            for id in &targets {
                if let Some(conn) = state.conns.get_mut(id) {
                    conn.clans.remove(&clan_id);
                    conn.channels.retain(|c| !in_clan.contains(c));
                }
            }
            let event = M::UserClanRemovedEvent(realtime::UserClanRemoved {
                clan_id,
                user_ids: vec![bot_id],
            });
            state.push_to_all(&targets, &event);
            Ok(())
        })
    }

    /// Adds a human user to the world (a fresh id when `id` is `None`); returns the id.
    pub(crate) fn add_user(&self, id: Option<i64>, username: &str) -> Result<i64, ControlError> {
        self.change(|state| {
            let id = id.unwrap_or_else(|| state.next_id());
            let taken = id == state.config.bot_id
                || state.world.find_user(id).is_some()
                || state.world.find_bot(id).is_some();
            if taken || id <= 0 {
                return Err(ControlError::IdTaken(id));
            }
            state.world.users.push(User {
                id,
                username: username.to_owned(),
            });
            Ok(id)
        })
    }

    /// Opens a thread under `parent_id` (as a human, `creator_id`): adds it to the world and
    /// pushes `channel_created_event` then `channel_updated_event` (type 7, status 1) to the
    /// connections that joined the clan.
    pub(crate) fn create_thread(
        &self,
        clan_id: i64,
        parent_id: i64,
        thread_id: i64,
        name: &str,
        creator_id: i64,
    ) -> Result<(), ControlError> {
        self.change(|state| {
            channel_of_clan(state, clan_id, parent_id)?;
            let thread = Channel {
                clan_id,
                id: thread_id,
                name: name.to_owned(),
                channel_type: channel_type::THREAD,
                private: false,
                parent_id,
                dm_peer: None,
                dm_bot: None,
            };
            state.world.channels.retain(|c| c.id != thread_id);
            state.world.channels.push(thread);
            let created = M::ChannelCreatedEvent(realtime::ChannelCreatedEvent {
                clan_id,
                creator_id,
                parent_id,
                channel_id: thread_id,
                channel_label: name.to_owned(),
                channel_private: 0,
                channel_type: channel_type::THREAD,
                status: 1,
                ..Default::default()
            });
            let updated = M::ChannelUpdatedEvent(realtime::ChannelUpdatedEvent {
                clan_id,
                creator_id,
                parent_id,
                channel_id: thread_id,
                channel_label: name.to_owned(),
                channel_type: channel_type::THREAD,
                status: 1,
                channel_private: false,
                active: 1,
                ..Default::default()
            });
            let targets: Vec<ConnId> = state
                .conns
                .iter()
                .filter(|(_, c)| c.clans.contains(&clan_id))
                .map(|(id, _)| *id)
                .collect();
            state.push_to_all(&targets, &created);
            state.push_to_all(&targets, &updated);
            Ok(())
        })
    }

    // ---- faults and switches ----

    /// Closes one socket (or all) without a close frame; returns how many were open.
    pub(crate) fn drop_connections(&self, target: Target) -> Result<usize, ControlError> {
        self.change(|state| {
            let targets = Self::targets(state, target)?;
            for &conn in &targets {
                state.remove_conn(conn);
            }
            Ok(targets.len())
        })
    }

    pub(crate) fn set_answer_pings(&self, answer: bool) {
        self.change(|state| state.answer_pings = answer);
    }

    pub(crate) fn set_stalled(&self, stalled: bool) {
        self.stalled.send_replace(stalled);
        self.notify();
    }

    pub(crate) fn set_answer_delay(&self, delay: Duration) {
        self.change(|state| state.answer_delay = delay);
    }

    pub(crate) fn set_echo_to_sender(&self, echo: bool) {
        self.change(|state| state.echo_to_sender = echo);
    }

    pub(crate) fn set_strict_joins(&self, strict: bool) {
        self.change(|state| state.strict_joins = strict);
    }

    pub(crate) fn refuse_logins(&self, n: u32) {
        self.change(|state| state.refuse_logins = n);
    }

    pub(crate) fn refuse_logins_for(&self, duration: Duration) {
        let until = tokio::time::Instant::now() + duration;
        self.change(|state| state.refuse_logins_until = Some(until));
    }

    pub(crate) fn revoke_tokens(&self) {
        self.change(|state| state.tokens.revoke_access());
    }

    /// Back to the start: see [`State::reset`]; also ends a stall, and with `drop_connections`
    /// closes every socket.
    pub(crate) fn reset(&self, drop_connections: bool) {
        self.stalled.send_replace(false);
        self.change(|state| {
            state.reset();
            if drop_connections {
                state.drop_all_conns();
            }
        });
    }

    /// Waits until `check` finds something, re-checking after every change; at most `timeout`.
    pub(crate) async fn wait_until<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&State) -> Option<T>,
    ) -> Result<T, WaitError> {
        let mut changes = self.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(found) = check(&self.lock()) {
                return Ok(found);
            }
            let changed = tokio::select! {
                changed = tokio::time::timeout_at(deadline, changes.changed()) => changed,
                () = self.shutdown.cancelled() => return Err(WaitError::Timeout(timeout)),
            };
            match changed {
                Ok(Ok(())) => {}
                // The sender lives in `self`.
                Ok(Err(_)) | Err(_) => return Err(WaitError::Timeout(timeout)),
            }
        }
    }
}

/// The channel, checked to be in `clan_id`.
fn channel_of_clan(state: &State, clan_id: i64, channel_id: i64) -> Result<Channel, ControlError> {
    let channel = state
        .world
        .find_channel(channel_id)
        .cloned()
        .ok_or(ControlError::UnknownChannel(channel_id))?;
    if channel.clan_id != clan_id {
        return Err(ControlError::WrongClan {
            clan: clan_id,
            channel: channel_id,
        });
    }
    Ok(channel)
}

fn bot_profile(state: &State) -> realtime::UserProfileRedis {
    realtime::UserProfileRedis {
        user_id: state.config.bot_id,
        username: state.config.bot_username.clone(),
        display_name: state.config.bot_username.clone(),
        is_bot: true,
        ..Default::default()
    }
}
