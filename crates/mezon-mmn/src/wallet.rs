//! One bot's wallet: its ephemeral key, the ZK proof, and the send loop (fresh nonce, one
//! retry on a stale nonce, one new proof on `invalid_signature`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mezon_transport::Secret;

use crate::address::Address;
use crate::amount::TokenAmount;
use crate::error::{LedgerError, ProverError};
use crate::grpc::GrpcLedger;
use crate::jsonrpc::JsonRpcLedger;
use crate::key::{EphemeralKey, KeyError};
use crate::ledger::{Ledger, LedgerRoute};
use crate::prover::{ProofRequest, Prover};
use crate::tx::{InvalidNote, TransferInfo, UnsignedTransfer, ZkProof, check_note};

/// Nonces this wallet remembers having used (see [`Wallet::pick_nonce`]).
const USED_NONCES: usize = 128;
/// How far below the node's nonce the wallet may go to find an unused one; well inside the
/// node's window of 150 slots.
const NONCE_STEPS_BACK: u64 = 100;

/// The production JSON-RPC endpoint of the ledger.
pub const DEFAULT_MMN_URL: &str = "https://dong.mezon.ai/mmn-api/";
/// The production ZK prover.
pub const DEFAULT_ZK_URL: &str = "https://dong.mezon.ai/zk-api";

/// Where the ledger and the prover are, and how to reach them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmnEndpoints {
    /// The ledger node's JSON-RPC URL (the URL itself is the endpoint).
    pub mmn_url: String,
    /// The ledger node's gRPC origin (a path prefix is allowed). No default: the public gRPC
    /// endpoint is not documented, so the gRPC route needs one set.
    pub grpc_url: Option<String>,
    /// The prover's base URL (`{zk_url}/prove`).
    pub zk_url: String,
    /// Which route reaches the node.
    pub route: LedgerRoute,
    /// Bound on each call to the node or the prover.
    pub timeout: Duration,
}

impl Default for MmnEndpoints {
    /// Production, over JSON-RPC (the route proven against it); 15 s per call.
    fn default() -> Self {
        Self {
            mmn_url: DEFAULT_MMN_URL.to_owned(),
            grpc_url: None,
            zk_url: DEFAULT_ZK_URL.to_owned(),
            route: LedgerRoute::JsonRpc,
            timeout: Duration::from_secs(15),
        }
    }
}

impl MmnEndpoints {
    /// The ledger client of the configured route.
    pub fn ledger(&self) -> Result<Arc<dyn Ledger>, LedgerError> {
        Ok(match self.route {
            LedgerRoute::JsonRpc => Arc::new(JsonRpcLedger::new(&self.mmn_url, self.timeout)?),
            LedgerRoute::Grpc => {
                let origin = self.grpc_url.as_deref().ok_or_else(|| {
                    LedgerError::protocol("the gRPC route needs a gRPC origin (none is set)")
                })?;
                Arc::new(GrpcLedger::new(origin, self.timeout)?)
            }
        })
    }
}

/// Why a transfer did not happen.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The recipient is the sender; nothing was sent.
    #[error("a bot cannot send tokens to itself")]
    SelfTransfer,
    /// The note cannot go on the ledger; nothing was sent.
    #[error(transparent)]
    InvalidNote(#[from] InvalidNote),
    /// No ZK proof, so no transaction can be signed (the prover is down or refused).
    #[error("no ZK proof for signing transfers: {0}")]
    Prover(#[from] ProverError),
    /// The ledger refused the transaction or could not be reached.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Who a wallet sends as.
#[derive(Debug)]
pub struct Sender {
    /// The bot's user id.
    pub user_id: i64,
    /// Its username (goes into `extra_info`; may be empty).
    pub username: String,
    /// The session's `id_token`, for the prover.
    pub id_token: Secret,
}

/// The bot's side of the ledger. Cheap to share behind an `Arc`; sends may run concurrently.
#[derive(Debug)]
pub struct Wallet {
    user_id: i64,
    username: String,
    address: Address,
    key: EphemeralKey,
    id_token: Mutex<Secret>,
    ledger: Arc<dyn Ledger>,
    prover: Prover,
    /// The current proof; held across a fetch so concurrent sends share one request.
    proof: tokio::sync::Mutex<Option<ZkProof>>,
    /// Nonces used lately, newest last.
    used_nonces: Mutex<VecDeque<u64>>,
}

impl Wallet {
    /// A wallet with a fresh ephemeral key (from the OS RNG). No network call is made.
    pub fn new(sender: Sender, ledger: Arc<dyn Ledger>, prover: Prover) -> Result<Self, KeyError> {
        Ok(Self::with_key(
            sender,
            ledger,
            prover,
            EphemeralKey::generate()?,
        ))
    }

    /// A wallet signing with `key`.
    pub fn with_key(
        sender: Sender,
        ledger: Arc<dyn Ledger>,
        prover: Prover,
        key: EphemeralKey,
    ) -> Self {
        Self {
            user_id: sender.user_id,
            address: Address::of_user(sender.user_id),
            username: sender.username,
            key,
            id_token: Mutex::new(sender.id_token),
            ledger,
            prover,
            proof: tokio::sync::Mutex::new(None),
            used_nonces: Mutex::new(VecDeque::with_capacity(USED_NONCES)),
        }
    }

    /// The bot's ledger address.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The ledger client.
    pub fn ledger(&self) -> &Arc<dyn Ledger> {
        &self.ledger
    }

    /// Replaces the `id_token` used for the next proof (after a session refresh).
    pub fn set_id_token(&self, id_token: Secret) {
        if !id_token.is_empty() {
            *self.id_token.lock().unwrap_or_else(PoisonError::into_inner) = id_token;
        }
    }

    /// Fetches the proof unless one is held. Meant to run in the background after login.
    pub async fn prefetch_proof(&self) -> Result<(), ProverError> {
        self.proof(None).await.map(drop)
    }

    /// The held proof, or a new one. With `stale`, a held proof equal to it is replaced.
    async fn proof(&self, stale: Option<&ZkProof>) -> Result<ZkProof, ProverError> {
        let mut held = self.proof.lock().await;
        if let Some(proof) = held.as_ref().filter(|p| Some(*p) != stale) {
            return Ok(proof.clone());
        }
        let jwt = self
            .id_token
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let fresh = self
            .prover
            .prove(&ProofRequest {
                user_id: self.user_id,
                ephemeral_pk: &self.key.public_key_base58(),
                jwt: &jwt,
                address: &self.address,
            })
            .await;
        match fresh {
            Ok(proof) => {
                tracing::debug!("ZK proof fetched");
                *held = Some(proof.clone());
                Ok(proof)
            }
            Err(error) => {
                tracing::warn!(%error, "ZK proof not available");
                Err(error)
            }
        }
    }

    /// Sends `amount` whole tokens to the user `to`, with a note, and returns the
    /// transaction hash. A self-transfer or a bad note fails before any network call.
    pub async fn send(
        &self,
        to: i64,
        amount: TokenAmount,
        note: &str,
    ) -> Result<String, TransferError> {
        if to == self.user_id {
            return Err(TransferError::SelfTransfer);
        }
        check_note(note)?;
        let transfer = UnsignedTransfer {
            sender: self.address.clone(),
            recipient: Address::of_user(to),
            amount,
            note: note.to_owned(),
            extra_info: TransferInfo::new(self.user_id, &self.username, to).to_json(),
        };
        let mut proof = self.proof(None).await?;
        let mut nonce_retry = true;
        let mut proof_retry = true;
        // At most three submissions: the first, one after a stale nonce, one with a new proof.
        loop {
            let nonce = self.pick_nonce(self.ledger.current_nonce(&self.address).await?);
            let signed = transfer.sign(&self.key, nonce, now_ms(), &proof);
            match self.ledger.add_tx(signed).await {
                Ok(tx_hash) => {
                    tracing::debug!(%tx_hash, to, tokens = amount.get(), "tokens sent");
                    return Ok(tx_hash);
                }
                Err(error) if error.is_stale_nonce() && nonce_retry => {
                    tracing::debug!(%error, "stale nonce; retrying once with a fresh one");
                    nonce_retry = false;
                }
                Err(LedgerError::InvalidSignature { .. }) if proof_retry => {
                    tracing::debug!("invalid_signature; fetching a new ZK proof once");
                    proof_retry = false;
                    proof = self.proof(Some(&proof)).await?;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
}

impl Wallet {
    /// The nonce for a transaction when the node's nonce is `current`: `current + 1`, unless
    /// this wallet already used it. The nonce is a slot number (400 ms), so two identical
    /// transfers within one slot would sign identical bytes and the second would be refused
    /// as a duplicate; the node accepts older slots too, so the wallet steps back to one it
    /// has not used.
    fn pick_nonce(&self, current: u64) -> u64 {
        let mut used = self
            .used_nonces
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let first = current.saturating_add(1);
        let nonce = (0..=NONCE_STEPS_BACK)
            .map(|back| first.saturating_sub(back))
            .find(|n| !used.contains(n))
            .unwrap_or(first);
        if used.len() == USED_NONCES {
            used.pop_front();
        }
        used.push_back(nonce);
        nonce
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
