//! Token transfers on the Mezon Money Network (MMN).
//!
//! Sending tokens is not a chat API call: it is a transaction signed with an ephemeral
//! Ed25519 key, carrying a ZK proof that the key belongs to the bot, submitted to the MMN
//! ledger node. This crate holds each piece:
//!
//! - [`Address`]: `base58(SHA-256(user id))`; [`EphemeralKey`]: the signing key (from the OS
//!   RNG); [`tx`]: the signed bytes, the flat `extra_info` and the `signature` encoding;
//!   [`TokenAmount`]: whole tokens, never zero.
//! - [`Prover`]: the ZK prover client.
//! - [`Ledger`]: the node behind one trait, over JSON-RPC ([`JsonRpcLedger`], the default and
//!   the route proven against production) or gRPC ([`GrpcLedger`], tonic).
//! - [`Wallet`]: the send loop: nonce fetched right before each send, one retry on a stale
//!   nonce, one new proof on `invalid_signature`; errors typed ([`LedgerError`] has every code
//!   of the protocol and keeps the node's raw text).
//!
//! Bot authors use it through `mezon::Client::send_tokens`; the pieces are public for tools
//! and for the local server's fake node, which verifies real signatures with [`tx`].
//!
//! ```
//! use mezon_mmn::{Address, EphemeralKey, TokenAmount, tx};
//!
//! let key = EphemeralKey::from_seed(&[7; 32]);
//! let transfer = tx::UnsignedTransfer {
//!     sender: Address::of_user(1),
//!     recipient: Address::of_user(2),
//!     amount: TokenAmount::new(5).unwrap(),
//!     note: "thanks".into(),
//!     extra_info: tx::TransferInfo::new(1, "bot", 2).to_json(),
//! };
//! let proof = tx::ZkProof { proof: "cA==".into(), public_input: "cQ==".into() };
//! let signed = transfer.sign(&key, 101, 0, &proof);
//! let msg = signed.tx_msg.as_ref().unwrap();
//! assert_eq!(msg.amount, "5000000");
//! assert_eq!(tx::verify_signed_tx(msg, &signed.signature), Ok(key.public_key()));
//! ```
#![deny(missing_docs)]

mod address;
mod amount;
mod error;
mod grpc;
mod jsonrpc;
mod key;
mod ledger;
mod prover;
pub mod tx;
mod wallet;

use std::time::Duration;

pub use address::Address;
pub use amount::{DECIMALS, InvalidAmount, TokenAmount};
pub use error::{LedgerError, ProverError, TransportFailure};
pub use grpc::GrpcLedger;
pub use jsonrpc::JsonRpcLedger;
pub use key::{EphemeralKey, KeyError};
pub use ledger::{Ledger, LedgerRoute, PENDING_TAG};
pub use prover::{ProofRequest, Prover};
pub use wallet::{DEFAULT_MMN_URL, DEFAULT_ZK_URL, MmnEndpoints, Sender, TransferError, Wallet};

/// `POST url` with a JSON body; the status and the whole answer body (JSON-RPC and prover).
async fn post_json(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> Result<(reqwest::StatusCode, bytes::Bytes), TransportFailure> {
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(transport_failure)?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(transport_failure)?;
    Ok((status, bytes))
}

fn transport_failure(error: reqwest::Error) -> TransportFailure {
    if error.is_timeout() {
        TransportFailure::Timeout
    } else {
        TransportFailure::Connection(std::sync::Arc::new(error))
    }
}

/// The HTTP client of the JSON-RPC route and the prover (rustls with the webpki roots).
fn http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(timeout)
        .build()
}

/// `AddTxResponse{ok, tx_hash, error}` → the hash or the typed refusal (either route).
fn add_tx_outcome(ok: bool, tx_hash: String, error: &str) -> Result<String, LedgerError> {
    match (ok, tx_hash.is_empty()) {
        (true, false) => Ok(tx_hash),
        (true, true) => Err(LedgerError::protocol("AddTx succeeded without a tx_hash")),
        (false, _) => Err(LedgerError::from_node_error(error)),
    }
}
