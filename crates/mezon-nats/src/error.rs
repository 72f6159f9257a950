//! The errors of this crate: [`Error`] for setting things up, [`CommandError`] for commands.

use std::time::Duration;

use crate::wire::FailureKind;

/// A boxed NATS client error.
pub type NatsError = Box<dyn std::error::Error + Send + Sync>;

/// Setting up or running a relay or a worker failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A NATS or JetStream call failed.
    #[error("NATS: {context}: {source}")]
    Nats {
        /// What was being done.
        context: &'static str,
        /// The client's error.
        #[source]
        source: NatsError,
    },
    /// The stream exists with another partition count than configured; changing it would
    /// reorder the channels' events, so it is refused.
    #[error(
        "stream {stream} uses {found} partitions but {expected} are configured; delete the stream (after draining it) to change the count"
    )]
    Partitions {
        /// The stream.
        stream: String,
        /// The count the stream was created with.
        found: u16,
        /// The configured count.
        expected: u16,
    },
    /// The stream does not say how many partitions it has (it was not created by a relay).
    #[error(
        "stream {0} was not created by a mezon-nats relay (its description lacks partitions=N)"
    )]
    ForeignStream(String),
    /// The event stream does not exist (yet): start a relay first.
    #[error("stream {0} does not exist; start a relay for this bot first")]
    NoStream(String),
    /// The Mezon client failed.
    #[error(transparent)]
    Mezon(#[from] mezon::Error),
}

impl Error {
    pub(crate) fn nats(context: &'static str, source: impl Into<NatsError>) -> Self {
        Self::Nats {
            context,
            source: source.into(),
        }
    }
}

/// A command sent to the relay failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// No relay answered in time. With `no_relay`, nothing was listening the whole time (no
    /// relay running, or a failover that took longer than the timeout): the command was not
    /// delivered. Otherwise the relay got it but did not answer in time: it may still run.
    #[error("{op}: no answer from a relay on {subject} within {after:?}{}", if *no_relay { " (no relay is listening: is one running and holding the lease?)" } else { "" })]
    Timeout {
        /// The command.
        op: &'static str,
        /// Where it was sent.
        subject: String,
        /// How long the caller waited.
        after: Duration,
        /// Whether no relay was listening at all.
        no_relay: bool,
    },
    /// The relay ran the command and it failed.
    #[error("{op}: the relay reports {kind:?} (code {code}): {message}")]
    Relay {
        /// The command.
        op: &'static str,
        /// The class of failure.
        kind: FailureKind,
        /// The Mezon error code or API status, 0 when there is none.
        code: i32,
        /// The relay's description.
        message: String,
    },
    /// Sending the request over NATS failed.
    #[error("{op}: NATS request failed: {message}")]
    Nats {
        /// The command.
        op: &'static str,
        /// The client's error.
        message: String,
    },
    /// The answer did not decode.
    #[error("{op}: the answer does not decode: {source}")]
    Decode {
        /// The command.
        op: &'static str,
        /// The decoder's error.
        #[source]
        source: prost::DecodeError,
    },
}
