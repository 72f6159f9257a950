//! The world the server pretends to host: clans, channels, users and DMs, built in code.

/// Channel type numbers (`wire.md` §6).
pub mod channel_type {
    /// A clan text channel.
    pub const TEXT: i32 = 1;
    /// A group conversation.
    pub const GROUP: i32 = 2;
    /// A direct message channel (clan 0).
    pub const DM: i32 = 3;
    /// A thread under a text channel.
    pub const THREAD: i32 = 7;
}

/// Ids used by [`World::demo`], so tests can address its parts without looking them up.
///
/// Some ids are above 2^53 on purpose: a client that squeezes ids through `f64` gets caught.
pub mod demo {
    /// The demo clan.
    pub const CLAN_ID: i64 = 1_840_000_000_000_000_001;
    /// Its public text channel (writable after `clan_join`, no `channel_join` needed).
    pub const TEXT_CHANNEL_ID: i64 = 1_840_000_000_000_000_011;
    /// Its private text channel (needs `channel_join`).
    pub const PRIVATE_CHANNEL_ID: i64 = 1_840_000_000_000_000_012;
    /// A thread under the public channel (needs `channel_join`).
    pub const THREAD_ID: i64 = 1_840_000_000_000_000_013;
    /// The human user "alice".
    pub const ALICE_ID: i64 = 1_840_000_000_000_000_101;
    /// The DM channel between alice and the bot.
    pub const ALICE_DM_ID: i64 = 1_840_000_000_000_000_201;
}

/// A clan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clan {
    /// Clan id.
    pub id: i64,
    /// Clan name.
    pub name: String,
}

/// A channel of any type, DMs included (clan 0, type 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// The clan it belongs to (0 for DMs and groups).
    pub clan_id: i64,
    /// Channel id.
    pub id: i64,
    /// Channel label.
    pub name: String,
    /// Channel type ([`channel_type`]).
    pub channel_type: i32,
    /// Whether the channel is private (`channel_private = 1`).
    pub private: bool,
    /// The parent channel of a thread, else 0.
    pub parent_id: i64,
    /// For a DM: the human on the other side.
    pub dm_peer: Option<i64>,
    /// For a DM: the bot on this side, when it is one of the world's extra [`bots`]
    /// (`None`: the server's own bot).
    ///
    /// [`bots`]: World::bots
    pub dm_bot: Option<i64>,
}

impl Channel {
    /// Whether a connection must `channel_join` before sending here (outside strict mode):
    /// private channels, threads, DMs and groups do; public clan channels do not.
    pub fn needs_join(&self) -> bool {
        self.private
            || matches!(
                self.channel_type,
                channel_type::DM | channel_type::GROUP | channel_type::THREAD
            )
    }

    /// Whether `user_id` takes part in this DM (`false` for any channel that is not a DM).
    /// `bot_id` is the server's own bot.
    pub fn is_dm_participant(&self, user_id: i64, bot_id: i64) -> bool {
        self.dm_peer
            .is_some_and(|peer| peer == user_id || self.dm_bot.unwrap_or(bot_id) == user_id)
    }

    /// The stream mode messages in this channel carry (`wire.md` §6).
    pub fn stream_mode(&self) -> i32 {
        match self.channel_type {
            channel_type::GROUP => 3,
            channel_type::DM => 4,
            channel_type::THREAD => 6,
            _ => 2,
        }
    }
}

/// A human user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// User id.
    pub id: i64,
    /// Username.
    pub username: String,
}

/// A bot besides the server's own one ([`ServerConfig::bot_id`](crate::ServerConfig::bot_id)):
/// it logs in with its own id and api key.
#[derive(Clone, PartialEq, Eq)]
pub struct Bot {
    /// The bot's user id (its login `appid`).
    pub id: i64,
    /// Its username.
    pub username: String,
    /// Its api key (never shown by `Debug`).
    pub api_key: String,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

/// Clans, channels, users and DMs. Every user and bot is a member of every clan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct World {
    /// Clans, in listing order.
    pub clans: Vec<Clan>,
    /// Channels, DMs included, in listing order.
    pub channels: Vec<Channel>,
    /// Human users (the bot is added from the server configuration).
    pub users: Vec<User>,
    /// Bots besides the server's own one.
    pub bots: Vec<Bot>,
}

impl World {
    /// An empty world.
    pub fn new() -> Self {
        Self::default()
    }

    /// One clan "demo" with a public text channel "general", a private channel "staff", a
    /// thread "general-thread", the human "alice" and a DM between alice and the bot; ids in
    /// [`demo`].
    pub fn demo() -> Self {
        Self::new()
            .clan(demo::CLAN_ID, "demo")
            .channel(
                demo::CLAN_ID,
                demo::TEXT_CHANNEL_ID,
                "general",
                channel_type::TEXT,
                false,
            )
            .channel(
                demo::CLAN_ID,
                demo::PRIVATE_CHANNEL_ID,
                "staff",
                channel_type::TEXT,
                true,
            )
            .thread(
                demo::CLAN_ID,
                demo::TEXT_CHANNEL_ID,
                demo::THREAD_ID,
                "general-thread",
            )
            .user(demo::ALICE_ID, "alice")
            .dm(demo::ALICE_ID, demo::ALICE_DM_ID)
    }

    /// Adds a clan.
    pub fn clan(mut self, id: i64, name: impl Into<String>) -> Self {
        self.clans.push(Clan {
            id,
            name: name.into(),
        });
        self
    }

    /// Adds a channel to a clan.
    pub fn channel(
        mut self,
        clan_id: i64,
        id: i64,
        name: impl Into<String>,
        channel_type: i32,
        private: bool,
    ) -> Self {
        self.channels.push(Channel {
            clan_id,
            id,
            name: name.into(),
            channel_type,
            private,
            parent_id: 0,
            dm_peer: None,
            dm_bot: None,
        });
        self
    }

    /// Adds a thread (type 7) under `parent_id`.
    pub fn thread(
        mut self,
        clan_id: i64,
        parent_id: i64,
        id: i64,
        name: impl Into<String>,
    ) -> Self {
        self.channels.push(Channel {
            clan_id,
            id,
            name: name.into(),
            channel_type: channel_type::THREAD,
            private: false,
            parent_id,
            dm_peer: None,
            dm_bot: None,
        });
        self
    }

    /// Adds a human user.
    pub fn user(mut self, id: i64, username: impl Into<String>) -> Self {
        self.users.push(User {
            id,
            username: username.into(),
        });
        self
    }

    /// Adds a DM channel between `user_id` and the bot.
    pub fn dm(mut self, user_id: i64, channel_id: i64) -> Self {
        let name = self
            .find_user(user_id)
            .map(|u| u.username.clone())
            .unwrap_or_default();
        self.channels
            .push(dm_channel(channel_id, user_id, None, name));
        self
    }

    /// Adds a bot besides the server's own one.
    pub fn bot(mut self, id: i64, username: impl Into<String>, api_key: impl Into<String>) -> Self {
        self.bots.push(Bot {
            id,
            username: username.into(),
            api_key: api_key.into(),
        });
        self
    }

    /// Adds a DM channel between `user_id` and the extra bot `bot_id` (see [`bot`](Self::bot)).
    pub fn dm_with_bot(mut self, bot_id: i64, user_id: i64, channel_id: i64) -> Self {
        let name = self
            .find_user(user_id)
            .map(|u| u.username.clone())
            .unwrap_or_default();
        self.channels
            .push(dm_channel(channel_id, user_id, Some(bot_id), name));
        self
    }

    /// Looks an extra bot up by id.
    pub fn find_bot(&self, id: i64) -> Option<&Bot> {
        self.bots.iter().find(|b| b.id == id)
    }

    /// Looks a channel up by id.
    pub fn find_channel(&self, id: i64) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// Looks a clan up by id.
    pub fn find_clan(&self, id: i64) -> Option<&Clan> {
        self.clans.iter().find(|c| c.id == id)
    }

    /// Looks a human user up by id.
    pub fn find_user(&self, id: i64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The DM channel between `user_id` and the server's own bot, if any.
    pub fn find_dm(&self, user_id: i64) -> Option<&Channel> {
        self.find_dm_of(None, user_id)
    }

    /// The DM between `user_id` and `bot` (`None`: the server's own bot), if any.
    pub(crate) fn find_dm_of(&self, bot: Option<i64>, user_id: i64) -> Option<&Channel> {
        self.channels
            .iter()
            .find(|c| c.dm_peer == Some(user_id) && c.dm_bot == bot)
    }
}

pub(crate) fn dm_channel(channel_id: i64, peer: i64, bot: Option<i64>, name: String) -> Channel {
    Channel {
        clan_id: 0,
        id: channel_id,
        name,
        channel_type: channel_type::DM,
        private: true,
        parent_id: 0,
        dm_peer: Some(peer),
        dm_bot: bot,
    }
}
