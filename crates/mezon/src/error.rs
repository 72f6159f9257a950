//! The errors a bot author sees.

use mezon_transport::{ApiError, LoginError, RequestError, TransportError};

/// Anything the client can fail with.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is incomplete or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Opening the socket failed.
    #[error(transparent)]
    Connect(TransportError),
    /// The login was refused (see [`LoginError::is_unauthorized`]) or failed.
    #[error(transparent)]
    Login(#[from] LoginError),
    /// A socket request failed (server error, timeout, connection lost…).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// An API call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The client is not logged in (call [`Client::login`](crate::Client::login) first).
    #[error("the client is not logged in")]
    NotLoggedIn,
    /// A token transfer failed (see [`mezon_mmn::TransferError`]).
    #[error(transparent)]
    Transfer(#[from] mezon_mmn::TransferError),
    /// No signing key for token transfers (the OS random number generator failed).
    #[error(transparent)]
    TokenKey(mezon_mmn::KeyError),
    /// The client was shut down.
    #[error("the client was shut down")]
    Shutdown,
    /// `login` was called twice.
    #[error("the client is already logged in")]
    AlreadyLoggedIn,
    /// Something the client looked up does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// What kind of thing (`"channel"`, `"clan"`…).
        what: &'static str,
        /// Its id.
        id: i64,
    },
    /// The server answered with something other than what the request expects.
    #[error("unexpected answer to {request}")]
    UnexpectedAnswer {
        /// The request.
        request: &'static str,
    },
}

/// A configuration problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required environment variable is not set.
    #[error("environment variable {0} is not set")]
    MissingEnv(&'static str),
    /// An environment variable has a value that does not parse.
    #[error("environment variable {name} has an invalid value")]
    InvalidEnv {
        /// The variable.
        name: &'static str,
    },
    /// The bot id must be a positive number.
    #[error("the bot id must be positive")]
    InvalidBotId,
    /// The api key is empty.
    #[error("the api key is empty")]
    EmptyApiKey,
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Login(login) => Error::Login(login),
            other => Error::Connect(other),
        }
    }
}

impl Error {
    /// Whether this is the server's refusal to accept a send into a channel not yet joined.
    pub(crate) fn is_must_join(&self) -> bool {
        matches!(self, Error::Request(RequestError::Server { message, .. })
            if message.contains("Must join channel"))
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
