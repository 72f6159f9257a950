//! Errors of the control API.

use std::time::Duration;

/// The server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Binding the listening socket failed (port taken, …).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address (port 0 = any).
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// A `wait_for_*` call gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The condition did not hold within the timeout.
    #[error("condition not met within {0:?}")]
    Timeout(Duration),
}

/// A control call named something the world does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No such channel.
    #[error("no channel {0}")]
    UnknownChannel(i64),
    /// No such clan.
    #[error("no clan {0}")]
    UnknownClan(i64),
    /// No such human user.
    #[error("no user {0}")]
    UnknownUser(i64),
    /// The user has no DM with the bot.
    #[error("user {0} has no DM with the bot")]
    NoDm(i64),
    /// The id is not positive or already names a user or bot.
    #[error("id {0} is not free")]
    IdTaken(i64),
    /// No open connection with this number.
    #[error("no open connection {0}")]
    UnknownConn(u64),
    /// No stored message with this id in the channel.
    #[error("no message {message} in channel {channel}")]
    UnknownMessage {
        /// The channel given.
        channel: i64,
        /// The message given.
        message: i64,
    },
    /// A human tried to write into a DM they are not part of.
    #[error("user {user} is not a member of DM {channel}")]
    NotParticipant {
        /// The user.
        user: i64,
        /// The DM channel.
        channel: i64,
    },
    /// The channel belongs to another clan than the one given.
    #[error("channel {channel} is not in clan {clan}")]
    WrongClan {
        /// The clan given.
        clan: i64,
        /// The channel given.
        channel: i64,
    },
}
