//! The transport's error types.

use std::sync::Arc;

/// An HTTP exchange that failed below the status-code level (connect, TLS, I/O).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(pub(crate) Arc<dyn std::error::Error + Send + Sync>);

impl HttpError {
    pub(crate) fn message(message: String) -> Self {
        Self(Arc::from(Box::<dyn std::error::Error + Send + Sync>::from(
            message,
        )))
    }
}

/// A failed login (or session refresh).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The server refused the bot id / api key (HTTP 401 or 403). Retrying will not help.
    #[error("login rejected: bad bot id or api key (HTTP {status})")]
    Unauthorized {
        /// The HTTP status.
        status: u16,
    },
    /// Any other non-2xx answer.
    #[error("login failed with HTTP status {status}")]
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// The request did not complete.
    #[error("login request failed: {0}")]
    Http(#[source] HttpError),
    /// No answer within the request timeout.
    #[error("login timed out")]
    Timeout,
    /// The answer is not a `mezon.api.Session`.
    #[error("login answer is not a session: {0}")]
    Decode(#[source] prost::DecodeError),
}

impl LoginError {
    /// Whether the credentials were refused (no point retrying).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Unauthorized { .. })
    }
}

/// A socket request that did not get its answer.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The server answered with an `error` envelope.
    #[error("server error {code}: {message}")]
    Server {
        /// `mezon.realtime.Error.code`.
        code: i32,
        /// `mezon.realtime.Error.message`.
        message: String,
    },
    /// No answer within the request timeout.
    #[error("request timed out")]
    Timeout,
    /// The link dropped while the request was in flight.
    #[error("connection lost before the answer arrived")]
    ConnectionLost,
    /// The link was down and did not come back within the reconnect wait.
    #[error("not connected: the link did not come back in time")]
    NotConnected,
    /// Too many requests are already waiting for the link.
    #[error("too many requests are waiting for the link")]
    QueueFull,
    /// Every cid in 1..=65535 is in flight.
    #[error("all 65535 request ids are in flight")]
    TooManyInFlight,
    /// The transport was shut down.
    #[error("transport shut down")]
    Closed,
    /// The transport stopped for good (for example the login was rejected).
    #[error("transport stopped: {0}")]
    Stopped(String),
    /// The answer could not be decoded.
    #[error("answer does not decode: {0}")]
    Decode(#[source] prost::DecodeError),
    /// The reassembled raw answer grew beyond the configured maximum.
    #[error("answer larger than {max} bytes")]
    AnswerTooLarge {
        /// The configured maximum.
        max: usize,
    },
    /// A raw API answer arrived where an envelope was expected, or the other way round.
    #[error("unexpected kind of answer")]
    UnexpectedAnswer,
}

/// Which route an API call took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST {api_url}/mezon.api.Mezon/<Method>`.
    Http,
    /// `api_request_event` with a raw answer.
    Socket,
}

/// A failed typed API call. Every variant names the method.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The server answered with a non-success status (HTTP status, or the raw-answer status).
    #[error("{method} failed with status {status} ({route:?})")]
    Status {
        /// The method name.
        method: &'static str,
        /// The status.
        status: u16,
        /// The route taken.
        route: Route,
    },
    /// The token was refused even after re-authenticating.
    #[error("{method}: unauthorized")]
    Unauthorized {
        /// The method name.
        method: &'static str,
    },
    /// The socket request failed.
    #[error("{method}: {source}")]
    Request {
        /// The method name.
        method: &'static str,
        /// What went wrong.
        #[source]
        source: RequestError,
    },
    /// The response does not decode as the method's response message.
    #[error("{method}: response does not decode: {source}")]
    Decode {
        /// The method name.
        method: &'static str,
        /// The decode error.
        #[source]
        source: prost::DecodeError,
    },
    /// The HTTP exchange failed.
    #[error("{method}: {source}")]
    Http {
        /// The method name.
        method: &'static str,
        /// What went wrong.
        #[source]
        source: HttpError,
    },
    /// No HTTP answer within the request timeout.
    #[error("{method}: timed out")]
    Timeout {
        /// The method name.
        method: &'static str,
    },
    /// The method has no socket index, so it cannot go over the socket.
    #[error("{method} has no socket route")]
    NoSocketRoute {
        /// The method name.
        method: &'static str,
    },
}

impl ApiError {
    /// The method the call was for.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Status { method, .. }
            | Self::Unauthorized { method }
            | Self::Request { method, .. }
            | Self::Decode { method, .. }
            | Self::Http { method, .. }
            | Self::Timeout { method }
            | Self::NoSocketRoute { method } => method,
        }
    }

    /// The status code, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::Unauthorized { .. } => Some(401),
            _ => None,
        }
    }
}

/// Starting the transport failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The login failed.
    #[error(transparent)]
    Login(#[from] LoginError),
    /// The socket URL could not be built from the session.
    #[error(transparent)]
    Url(#[from] crate::url::UrlError),
    /// The socket could not be opened.
    #[error("socket connect failed: {0}")]
    Connect(String),
    /// The socket upgrade was refused with 401/403 even with a fresh session.
    #[error("socket upgrade refused (HTTP {status})")]
    SocketUnauthorized {
        /// The HTTP status of the refused upgrade.
        status: u16,
    },
    /// Reconnecting gave up after the configured number of attempts.
    #[error("gave up reconnecting after {attempts} attempts")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
    },
    /// The TLS or HTTP client could not be set up.
    #[error("client setup failed: {0}")]
    Setup(String),
}
