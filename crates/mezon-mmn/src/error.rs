//! What can go wrong talking to the ledger and the prover.

use std::sync::Arc;

/// A refusal by the ledger node, or a failure reaching it. Every code of the protocol has
/// its variant; `message` is always the node's raw error text (the JSON or plain string as
/// it came), so nothing is lost when a new code appears.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// `invalid_request`: a field is too long or holds a refused sequence.
    #[error("the ledger refused the request as invalid: {message}")]
    InvalidRequest {
        /// The node's raw error.
        message: String,
    },
    /// `invalid_amount`: not a canonical non-zero decimal.
    #[error("the ledger refused the amount: {message}")]
    InvalidAmount {
        /// The node's raw error.
        message: String,
    },
    /// `mempool_full`: try again later.
    #[error("the ledger's mempool is full: {message}")]
    MempoolFull {
        /// The node's raw error.
        message: String,
    },
    /// `nonce_too_low`: the nonce is older than the node's window.
    #[error("the nonce is too low: {message}")]
    NonceTooLow {
        /// The node's raw error.
        message: String,
    },
    /// `nonce_too_high`: the nonce is ahead of the node's slot.
    #[error("the nonce is too high: {message}")]
    NonceTooHigh {
        /// The node's raw error.
        message: String,
    },
    /// `invalid_signature`: a bad signature or ZK proof.
    #[error("the ledger refused the signature or ZK proof: {message}")]
    InvalidSignature {
        /// The node's raw error.
        message: String,
    },
    /// `duplicate_transaction`: identical signed bytes were already submitted.
    #[error("the same transaction was already submitted: {message}")]
    DuplicateTransaction {
        /// The node's raw error.
        message: String,
    },
    /// `account_not_found`.
    #[error("the ledger has no such account: {message}")]
    AccountNotFound {
        /// The node's raw error.
        message: String,
    },
    /// `insufficient_funds`: the sender's balance is below the amount.
    #[error("insufficient funds: {message}")]
    InsufficientFunds {
        /// The node's raw error.
        message: String,
    },
    /// Plain `invalid tx`.
    #[error("the ledger refused the transaction: {message}")]
    InvalidTx {
        /// The node's raw error.
        message: String,
    },
    /// Plain `memo too long: …`.
    #[error("the note is too long for the ledger: {message}")]
    MemoTooLong {
        /// The node's raw error.
        message: String,
    },
    /// `Too many requests for user content transactions`, or HTTP 429.
    #[error("rate limited by the ledger: {message}")]
    RateLimited {
        /// The node's raw error.
        message: String,
    },
    /// A refusal with a code this SDK does not know (yet).
    #[error("the ledger refused the transaction ({code}): {message}")]
    Other {
        /// The code, or empty for a plain-text error.
        code: String,
        /// The node's raw error.
        message: String,
    },
    /// The node could not be reached or answered with something else than the protocol.
    #[error("ledger transport error: {0}")]
    Transport(#[source] TransportFailure),
}

/// A failure below the protocol (connection, HTTP status, timeout, unreadable answer).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TransportFailure {
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// A non-2xx HTTP status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// A gRPC status other than OK.
    #[error("gRPC status {code:?}: {message}")]
    Grpc {
        /// The status code.
        code: tonic::Code,
        /// Its message.
        message: String,
    },
    /// The answer could not be read.
    #[error("unreadable answer: {0}")]
    Protocol(String),
    /// Connection-level error.
    #[error("{0}")]
    Connection(Arc<dyn std::error::Error + Send + Sync>),
}

/// The JSON form of a node error; its `message` stays inside the raw text.
#[derive(serde::Deserialize)]
struct CodedError {
    code: String,
}

impl LedgerError {
    /// Parses the node's error text: JSON `{"code","message"}` or one of the plain texts.
    pub fn from_node_error(raw: &str) -> Self {
        let message = raw.to_owned();
        if let Ok(coded) = serde_json::from_str::<CodedError>(raw) {
            return Self::from_code(&coded.code, message);
        }
        let trimmed = raw.trim();
        if trimmed.eq_ignore_ascii_case("invalid tx") {
            Self::InvalidTx { message }
        } else if trimmed.starts_with("memo too long") {
            Self::MemoTooLong { message }
        } else if trimmed.starts_with("Too many requests") {
            Self::RateLimited { message }
        } else {
            Self::Other {
                code: String::new(),
                message,
            }
        }
    }

    /// The variant of a protocol error code; `message` is kept as given.
    pub fn from_code(code: &str, message: String) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest { message },
            "invalid_amount" => Self::InvalidAmount { message },
            "mempool_full" => Self::MempoolFull { message },
            "nonce_too_low" => Self::NonceTooLow { message },
            "nonce_too_high" => Self::NonceTooHigh { message },
            "invalid_signature" => Self::InvalidSignature { message },
            "duplicate_transaction" => Self::DuplicateTransaction { message },
            "account_not_found" => Self::AccountNotFound { message },
            "insufficient_funds" => Self::InsufficientFunds { message },
            other => Self::Other {
                code: other.to_owned(),
                message,
            },
        }
    }

    /// The protocol's code for this error (`"insufficient_funds"`, …); `None` for transport
    /// failures and plain-text errors without one.
    pub fn code(&self) -> Option<&str> {
        Some(match self {
            Self::InvalidRequest { .. } => "invalid_request",
            Self::InvalidAmount { .. } => "invalid_amount",
            Self::MempoolFull { .. } => "mempool_full",
            Self::NonceTooLow { .. } => "nonce_too_low",
            Self::NonceTooHigh { .. } => "nonce_too_high",
            Self::InvalidSignature { .. } => "invalid_signature",
            Self::DuplicateTransaction { .. } => "duplicate_transaction",
            Self::AccountNotFound { .. } => "account_not_found",
            Self::InsufficientFunds { .. } => "insufficient_funds",
            Self::Other { code, .. } if !code.is_empty() => code,
            _ => return None,
        })
    }

    /// The node's raw error text (`None` for transport failures).
    pub fn raw_message(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest { message }
            | Self::InvalidAmount { message }
            | Self::MempoolFull { message }
            | Self::NonceTooLow { message }
            | Self::NonceTooHigh { message }
            | Self::InvalidSignature { message }
            | Self::DuplicateTransaction { message }
            | Self::AccountNotFound { message }
            | Self::InsufficientFunds { message }
            | Self::InvalidTx { message }
            | Self::MemoTooLong { message }
            | Self::RateLimited { message }
            | Self::Other { message, .. } => Some(message),
            Self::Transport(_) => None,
        }
    }

    /// Whether a fresh nonce may fix it (`nonce_too_low`, `nonce_too_high`).
    pub fn is_stale_nonce(&self) -> bool {
        matches!(self, Self::NonceTooLow { .. } | Self::NonceTooHigh { .. })
    }

    pub(crate) fn protocol(what: impl Into<String>) -> Self {
        Self::Transport(TransportFailure::Protocol(what.into()))
    }

    pub(crate) fn connection(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Transport(TransportFailure::Connection(Arc::new(error)))
    }
}

/// Why the ZK prover gave no proof.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ProverError {
    /// The prover could not be reached or timed out.
    #[error("the ZK prover is unreachable: {0}")]
    Unreachable(#[source] TransportFailure),
    /// It answered without a proof (`success: false`, an `error`, empty `data`).
    #[error("the ZK prover refused: {0}")]
    Refused(String),
    /// The session has no `id_token` to prove with.
    #[error("the session has no id_token; the prover needs one")]
    NoIdToken,
}

#[cfg(test)]
mod tests {
    use super::LedgerError;

    #[test]
    fn every_code_of_the_protocol_parses_and_keeps_the_raw_text() {
        let codes = [
            "invalid_request",
            "invalid_amount",
            "mempool_full",
            "nonce_too_low",
            "nonce_too_high",
            "invalid_signature",
            "duplicate_transaction",
            "account_not_found",
            "insufficient_funds",
        ];
        for code in codes {
            let raw = format!(r#"{{"code":"{code}","message":"because"}}"#);
            let error = LedgerError::from_node_error(&raw);
            assert_eq!(error.code(), Some(code));
            assert!(
                !matches!(error, LedgerError::Other { .. }),
                "{code} has its variant"
            );
            assert_eq!(error.raw_message(), Some(raw.as_str()));
        }
        assert!(LedgerError::from_node_error(r#"{"code":"nonce_too_low"}"#).is_stale_nonce());
    }

    #[test]
    fn plain_text_errors() {
        assert!(matches!(
            LedgerError::from_node_error("invalid tx"),
            LedgerError::InvalidTx { .. }
        ));
        assert!(matches!(
            LedgerError::from_node_error("memo too long: 600 > 512"),
            LedgerError::MemoTooLong { .. }
        ));
        assert!(matches!(
            LedgerError::from_node_error("Too many requests for user content transactions"),
            LedgerError::RateLimited { .. }
        ));
        let other = LedgerError::from_node_error("something new");
        assert_eq!(other.code(), None);
        assert_eq!(other.raw_message(), Some("something new"));
        let unknown = LedgerError::from_node_error(r#"{"code":"frozen","message":"m"}"#);
        assert_eq!(unknown.code(), Some("frozen"));
    }
}
