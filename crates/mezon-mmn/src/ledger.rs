//! The ledger node behind one trait, whichever route reaches it.

use async_trait::async_trait;
use mezon_proto::mmn::SignedTxMsg;

use crate::address::Address;
use crate::error::LedgerError;

/// The `tag` of `GetCurrentNonce` that counts transactions still in the mempool.
pub const PENDING_TAG: &str = "pending";

/// The calls a transfer needs from the ledger node. Implemented by
/// [`JsonRpcLedger`](crate::JsonRpcLedger) (the default route, proven against production) and
/// [`GrpcLedger`](crate::GrpcLedger).
#[async_trait]
pub trait Ledger: Send + Sync + std::fmt::Debug {
    /// `GetCurrentNonce{address, tag: "pending"}`: the node's current nonce for `address`
    /// (a recent slot); the next transaction uses this plus one.
    async fn current_nonce(&self, address: &Address) -> Result<u64, LedgerError>;

    /// `AddTx`: submits a signed transaction and returns its hash.
    async fn add_tx(&self, tx: SignedTxMsg) -> Result<String, LedgerError>;

    /// `GetAccount`: the balance of `address` in the smallest unit (a decimal string).
    async fn balance(&self, address: &Address) -> Result<String, LedgerError>;
}

/// Which route reaches the ledger node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LedgerRoute {
    /// JSON-RPC 2.0 over HTTP `POST` (the default).
    #[default]
    JsonRpc,
    /// gRPC (package `mmn`) over HTTP/2, with tonic.
    Grpc,
}
