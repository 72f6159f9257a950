//! Payloads of the SDK lifecycle events, which the connection (not the server) produces.

use std::time::Duration;

/// The socket is open (a first connect or a reconnect).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connected {
    /// Counts connections of this client, from 1; a reconnect gets a new number.
    pub connection: u64,
}

/// The socket closed or was found dead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disconnected {
    /// The connection that ended (see [`Connected::connection`]).
    pub connection: u64,
    /// Why, for humans (close reason, error text). Never holds credentials.
    pub reason: String,
    /// Whether the client will try to reconnect.
    pub will_reconnect: bool,
}

/// A reconnect attempt is scheduled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconnecting {
    /// The attempt number, from 1.
    pub attempt: u32,
    /// How long the client waits before the attempt.
    pub delay: Duration,
}

/// A reconnect succeeded and clan/channel joins were redone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconnected {
    /// How many attempts it took.
    pub attempts: u32,
}

/// The connect sequence finished: the bot is logged in and its clans are joined.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ready {
    /// The bot's user id.
    pub user_id: i64,
    /// How many clans were joined (clan 0, for DMs, not counted).
    pub clans: usize,
}
