//! The transport's error types.

use std::sync::Arc;

/// The underlying cause of an error, shared so the error stays `Clone`.
pub(crate) type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// An HTTP exchange that failed below the status-code level. [`HttpError::kind`] says what
/// went wrong; [`source`](std::error::Error::source) holds the library's cause (TLS, DNS,
/// connection…), which `Display` does not repeat.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}")]
pub struct HttpError {
    kind: HttpErrorKind,
    #[source]
    source: Option<Cause>,
}

/// What kind of HTTP failure an [`HttpError`] is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpErrorKind {
    /// The server's certificate did not verify (unknown issuer, wrong name, expired…).
    /// Retrying will not help: trust the issuer with
    /// [`TransportConfig::add_root_certificates_pem`](crate::TransportConfig::add_root_certificates_pem)
    /// or fix the server.
    #[error("the server's TLS certificate did not verify")]
    Certificate,
    /// The TCP or TLS connection could not be made (DNS, refused, reset, handshake).
    #[error("could not connect to the server")]
    Connect,
    /// The connection broke while the request or answer was in flight.
    #[error("the HTTP exchange broke off")]
    Exchange,
    /// The server answered with a redirect. Redirects are never followed: the login body
    /// carries the api key.
    #[error("the server answered with a redirect (HTTP {status}), which is not followed")]
    Redirect {
        /// The 3xx status.
        status: u16,
    },
    /// The answer is larger than the configured limit
    /// ([`TransportConfig::max_http_answer_size`](crate::TransportConfig::max_http_answer_size)).
    #[error("the answer is larger than the limit of {limit} bytes")]
    AnswerTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The URL uses plaintext where TLS is required, or is otherwise unusable.
    #[error(transparent)]
    Url(#[from] crate::url::UrlError),
    /// The HTTP client could not be built or the request not formed.
    #[error("the HTTP request could not be set up")]
    Setup,
}

impl HttpError {
    pub(crate) fn new(kind: HttpErrorKind, source: Option<Cause>) -> Self {
        Self { kind, source }
    }

    /// Classifies a reqwest error, keeping it (without its URL) as the cause.
    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        let kind = if crate::tls::is_certificate_error(&error) {
            HttpErrorKind::Certificate
        } else if error.is_connect() {
            HttpErrorKind::Connect
        } else if error.is_builder() {
            HttpErrorKind::Setup
        } else {
            HttpErrorKind::Exchange
        };
        Self::new(kind, Some(Arc::new(error.without_url())))
    }

    /// What went wrong.
    pub fn kind(&self) -> &HttpErrorKind {
        &self.kind
    }

    /// Whether the server's certificate did not verify (retrying will not help).
    pub fn is_certificate(&self) -> bool {
        self.kind == HttpErrorKind::Certificate
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
    /// The request did not complete (see [`HttpError::kind`]).
    #[error("login request failed")]
    Http(#[source] HttpError),
    /// No answer within the request timeout.
    #[error("login timed out")]
    Timeout,
    /// The answer is not a `mezon.api.Session`.
    #[error("login answer is not a session")]
    Decode(#[source] prost::DecodeError),
    /// The session's API or socket address is refused (it would move a TLS client onto
    /// plaintext, or use plaintext to a non-loopback host without the opt-in).
    #[error(transparent)]
    Url(#[from] crate::url::UrlError),
    /// The HTTP client could not be set up.
    #[error("login client setup failed")]
    Setup(#[source] SetupError),
}

impl LoginError {
    /// Whether the credentials were refused (no point retrying).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Unauthorized { .. })
    }

    /// Whether retrying cannot help: the credentials were refused, the server's certificate
    /// did not verify, or the URL is refused (plaintext where TLS is required).
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::Unauthorized { .. } | Self::Url(_) | Self::Setup(_) => true,
            Self::Http(e) => matches!(
                e.kind(),
                HttpErrorKind::Certificate | HttpErrorKind::Url(_) | HttpErrorKind::Setup
            ),
            _ => false,
        }
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
    /// The transport stopped for good (for example the login was rejected); the cause is the
    /// [`source`](std::error::Error::source).
    #[error("transport stopped")]
    Stopped(#[source] Arc<TransportError>),
    /// The answer could not be decoded.
    #[error("answer does not decode")]
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
    #[error("{method}: socket request failed")]
    Request {
        /// The method name.
        method: &'static str,
        /// What went wrong.
        #[source]
        source: RequestError,
    },
    /// The response does not decode as the method's response message.
    #[error("{method}: response does not decode")]
    Decode {
        /// The method name.
        method: &'static str,
        /// The decode error.
        #[source]
        source: prost::DecodeError,
    },
    /// The HTTP exchange failed.
    #[error("{method}: HTTP request failed")]
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
    #[error("socket connect failed")]
    Connect(#[source] SocketError),
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
    #[error("client setup failed")]
    Setup(#[source] SetupError),
}

/// Opening the WebSocket failed. `Display` says how; the socket library's error, if any, is
/// the [`source`](std::error::Error::source).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// The server's certificate did not verify. Retrying will not help.
    #[error("the server's TLS certificate did not verify")]
    Certificate(#[source] Cause),
    /// No socket within the connect timeout.
    #[error("socket connect timed out")]
    Timeout,
    /// The upgrade was answered with an HTTP status other than 101.
    #[error("socket upgrade answered with HTTP {status}")]
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// The socket URL is refused (plaintext where TLS is required) or cannot be built.
    #[error(transparent)]
    Url(#[from] crate::url::UrlError),
    /// DNS, TCP, TLS handshake or WebSocket protocol failure.
    #[error("could not open the socket")]
    Io(#[source] Cause),
}

impl SocketError {
    /// Classifies a failed socket open, keeping the library's error as the cause.
    pub(crate) fn from_tungstenite(error: tokio_tungstenite::tungstenite::Error) -> Self {
        use tokio_tungstenite::tungstenite::Error as WsError;
        if let WsError::Http(response) = &error {
            return Self::Status {
                status: response.status().as_u16(),
            };
        }
        if crate::tls::is_certificate_error(&error) {
            Self::Certificate(Arc::new(error))
        } else {
            Self::Io(Arc::new(error))
        }
    }

    /// Whether retrying cannot help (certificate or URL refused).
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Certificate(_) | Self::Url(_))
    }
}

/// The TLS or HTTP client could not be built.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The TLS configuration could not be built (for example a bad root certificate).
    #[error("TLS setup failed")]
    Tls(#[source] Cause),
    /// PEM data held no certificate.
    #[error("the PEM data holds no certificate")]
    NoCertificates,
    /// The HTTP client could not be built.
    #[error("HTTP client setup failed")]
    Http(#[source] Cause),
    /// The login base URL is refused (plaintext to a non-loopback host without opt-in).
    #[error(transparent)]
    Url(#[from] crate::url::UrlError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// Every error whose `source()` is set must not repeat the source's text in its own
    /// `Display` (a chain printer would print the cause twice).
    fn assert_cause_not_repeated(error: &(dyn std::error::Error + 'static)) {
        let mut current = error;
        while let Some(source) = current.source() {
            let outer = current.to_string();
            let inner = source.to_string();
            assert!(
                !outer.contains(&inner),
                "`{outer}` repeats its cause `{inner}`"
            );
            current = source;
        }
    }

    fn decode_error() -> prost::DecodeError {
        match <crate::proto::api::Session as prost::Message>::decode(&[0xff_u8][..]) {
            Err(e) => e,
            Ok(_) => panic!("a lone 0xff decodes"),
        }
    }

    #[test]
    fn causes_are_kept_and_printed_once() {
        let io = Arc::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused by peer",
        ));
        let http = HttpError::new(HttpErrorKind::Connect, Some(io.clone()));
        let errors: Vec<Box<dyn std::error::Error>> = vec![
            Box::new(LoginError::Http(http.clone())),
            Box::new(LoginError::Decode(decode_error())),
            Box::new(ApiError::Http {
                method: "M",
                source: http.clone(),
            }),
            Box::new(ApiError::Decode {
                method: "M",
                source: decode_error(),
            }),
            Box::new(ApiError::Request {
                method: "M",
                source: RequestError::Decode(decode_error()),
            }),
            Box::new(RequestError::Stopped(Arc::new(TransportError::Login(
                LoginError::Http(http.clone()),
            )))),
            Box::new(TransportError::Connect(SocketError::Io(io.clone()))),
            Box::new(TransportError::Connect(SocketError::Certificate(
                io.clone(),
            ))),
            Box::new(TransportError::Setup(SetupError::Tls(io.clone()))),
            Box::new(TransportError::Login(LoginError::Http(http))),
        ];
        for error in &errors {
            assert_cause_not_repeated(error.as_ref());
            // The root cause is reachable through the chain.
            let mut current: &dyn std::error::Error = error.as_ref();
            while let Some(source) = current.source() {
                current = source;
            }
            assert_ne!(
                current.to_string(),
                error.to_string(),
                "{error:?} lost its cause"
            );
        }
    }

    #[test]
    fn http_error_keeps_its_cause() {
        let io = Arc::new(std::io::Error::other("dns lookup failed"));
        let error = HttpError::new(HttpErrorKind::Connect, Some(io));
        assert_eq!(error.to_string(), "could not connect to the server");
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("dns lookup failed")
        );
    }
}
