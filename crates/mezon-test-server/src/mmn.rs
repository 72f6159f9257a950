//! A fake Mezon Money Network beside the chat server: a ZK prover and a ledger node reachable
//! over JSON-RPC (`mmn_http`) and gRPC (`mmn_grpc`), both on the one [`Ledger`] state below.
//!
//! The node checks a transaction in the order the protocol notes give (field lengths and
//! refused sequences, canonical amount, memo length, nonce window, the real Ed25519 signature,
//! the ZK fields, duplicates, balance), and after a successful `transfer_token` the chat side
//! pushes `token_sent_event` to both parties.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use mezon_mmn::Address;
use mezon_mmn::tx::{forbidden_sequence, verify_signed_tx};
use mezon_proto::api;
use mezon_proto::mmn::{SignedTxMsg, TransactionStatus, TransactionStatusInfo};
use mezon_proto::realtime::envelope::Message as M;
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::error::StartError;
use crate::server::TestServer;
use crate::shared::Shared;

/// Length of a slot on the node's clock.
pub const SLOT: Duration = Duration::from_millis(400);
/// How many slots back a nonce may be.
pub const NONCE_WINDOW: u64 = 150;
/// Smallest units per whole token.
const UNIT: u128 = 1_000_000;
/// The bot's starting balance in whole tokens.
pub const BOT_FUNDS: u64 = 1_000;
const MAX_MEMO: usize = 512;
const FIRST_SLOT: u64 = 1_000_000;

/// One transaction the node accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedTx {
    /// Its hash (what `AddTx` answered).
    pub tx_hash: String,
    /// The transaction, with the node's timestamp.
    pub tx: mezon_proto::mmn::TxMsg,
    /// The Ed25519 public key the signature was verified with, in base58 (the form the
    /// prover is shown as `ephemeral_pk`).
    pub verified_key: String,
    /// Which route it came in on.
    pub route: MmnRoute,
}

/// A route into the fake node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmnRoute {
    /// JSON-RPC over HTTP.
    JsonRpc,
    /// gRPC.
    Grpc,
}

/// One `POST /prove` the fake prover received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProveCall {
    /// `user_id`.
    pub user_id: String,
    /// `ephemeral_pk`.
    pub ephemeral_pk: String,
    /// `address`.
    pub address: String,
    /// Whether it was answered with a proof.
    pub granted: bool,
}

/// The node's and the prover's state.
#[derive(Debug)]
pub(crate) struct Ledger {
    started: Instant,
    /// Balances in smallest units, by address.
    balances: HashMap<String, u128>,
    /// Signed bytes of every accepted transaction (duplicates are refused).
    seen_signed: HashSet<String>,
    pub(crate) accepted: Vec<AcceptedTx>,
    pub(crate) prove_calls: Vec<ProveCall>,
    /// Proofs handed out, with the ephemeral key (base58) each one is bound to.
    proofs: HashMap<String, String>,
    proofs_issued: u64,
    pub(crate) prover_down: bool,
    pub(crate) prover_delay: Duration,
    stale_nonces: u32,
    pub(crate) statuses: broadcast::Sender<TransactionStatusInfo>,
}

impl Ledger {
    fn new(bot_id: i64) -> Self {
        let mut balances = HashMap::new();
        balances.insert(
            Address::of_user(bot_id).into_string(),
            u128::from(BOT_FUNDS) * UNIT,
        );
        Self {
            started: Instant::now(),
            balances,
            seen_signed: HashSet::new(),
            accepted: Vec::new(),
            prove_calls: Vec::new(),
            proofs: HashMap::new(),
            proofs_issued: 0,
            prover_down: false,
            prover_delay: Duration::ZERO,
            stale_nonces: 0,
            statuses: broadcast::channel(64).0,
        }
    }

    /// The current slot on tokio's clock.
    pub(crate) fn slot(&self) -> u64 {
        let elapsed = Instant::now().duration_since(self.started).as_millis();
        FIRST_SLOT + u64::try_from(elapsed / SLOT.as_millis()).unwrap_or(u64::MAX - FIRST_SLOT)
    }

    /// `GetCurrentNonce`: the current slot − 1 (or a scripted stale one).
    pub(crate) fn current_nonce(&mut self) -> u64 {
        if self.stale_nonces > 0 {
            self.stale_nonces -= 1;
            return self.slot().saturating_sub(10 * NONCE_WINDOW);
        }
        self.slot() - 1
    }

    /// The balance of `address` in smallest units (as the ledger prints it).
    pub(crate) fn balance_of(&self, address: &str) -> u128 {
        self.balances.get(address).copied().unwrap_or(0)
    }

    /// `POST /prove`: checks and hands out a proof bound to the ephemeral key.
    pub(crate) fn prove(
        &mut self,
        user_id: &str,
        ephemeral_pk: &str,
        address: &str,
        jwt_ok: bool,
    ) -> Result<(String, String), String> {
        let check = if !jwt_ok {
            Err("invalid jwt".to_owned())
        } else if Address::of_user_str(user_id).as_str() != address {
            Err("address does not match user_id".to_owned())
        } else if bs58::decode(ephemeral_pk)
            .into_vec()
            .map_or(true, |k| k.len() != 32)
        {
            Err("ephemeral_pk is not a 32-byte base58 key".to_owned())
        } else {
            Ok(())
        };
        self.prove_calls.push(ProveCall {
            user_id: user_id.to_owned(),
            ephemeral_pk: ephemeral_pk.to_owned(),
            address: address.to_owned(),
            granted: check.is_ok(),
        });
        check?;
        self.proofs_issued += 1;
        let proof = base64_of(&format!("proof-{}-{ephemeral_pk}", self.proofs_issued));
        self.proofs.insert(proof.clone(), ephemeral_pk.to_owned());
        Ok((proof, base64_of(&format!("public-input-{address}"))))
    }

    /// `AddTx`, checked in the protocol's order. `Ok(tx_hash)` or the error text
    /// (`{"code","message"}` JSON, or plain text where the node answers plain text).
    pub(crate) fn add_tx(
        &mut self,
        signed: SignedTxMsg,
        route: MmnRoute,
    ) -> Result<AcceptedTx, String> {
        let Some(mut tx) = signed.tx_msg else {
            return Err(coded("invalid_request", "missing tx_msg"));
        };
        // 1. Field lengths and refused sequences.
        for (name, address) in [("sender", &tx.sender), ("recipient", &tx.recipient)] {
            if !(43..=44).contains(&address.len()) || bs58::decode(address).into_vec().is_err() {
                return Err(coded("invalid_request", &format!("bad {name} address")));
            }
        }
        if tx.r#type != 0 {
            return Err(coded("invalid_request", "unknown transaction type"));
        }
        for text in [&tx.text_data, &tx.extra_info] {
            if let Some(seq) = forbidden_sequence(text) {
                return Err(coded("invalid_request", &format!("text contains {seq}")));
            }
        }
        // 2. Canonical non-zero amount.
        let canonical = !tx.amount.is_empty()
            && tx.amount.bytes().all(|b| b.is_ascii_digit())
            && !tx.amount.starts_with('0');
        let Some(amount) = canonical.then(|| tx.amount.parse::<u128>().ok()).flatten() else {
            return Err(coded(
                "invalid_amount",
                "amount must be a canonical positive integer",
            ));
        };
        // 3. Memo.
        if tx.text_data.len() > MAX_MEMO {
            return Err(format!(
                "memo too long: {} > {MAX_MEMO}",
                tx.text_data.len()
            ));
        }
        // 4. Nonce window.
        let slot = self.slot();
        if tx.nonce + NONCE_WINDOW < slot {
            return Err(coded(
                "nonce_too_low",
                &format!("nonce {} < {}", tx.nonce, slot - NONCE_WINDOW),
            ));
        }
        if tx.nonce > slot {
            return Err(coded(
                "nonce_too_high",
                &format!("nonce {} > {slot}", tx.nonce),
            ));
        }
        // 5. The real Ed25519 signature, with the key inside `signature`.
        let verified_key = verify_signed_tx(&tx, &signed.signature)
            .map_err(|e| coded("invalid_signature", &e.to_string()))?;
        // 6. The ZK fields: a proof this prover issued for that very key.
        let verified_key = bs58::encode(verified_key).into_string();
        if tx.zk_proof.is_empty() || tx.zk_pub.is_empty() {
            return Err(coded("invalid_signature", "missing zk proof"));
        }
        if self.proofs.get(&tx.zk_proof) != Some(&verified_key) {
            return Err(coded(
                "invalid_signature",
                "zk proof does not match the key",
            ));
        }
        // 7. Duplicates of the signed bytes.
        let signed_bytes = mezon_mmn::tx::signed_bytes(&tx);
        if self.seen_signed.contains(&signed_bytes) {
            return Err(coded("duplicate_transaction", "already submitted"));
        }
        // 8. Balance.
        let Some(balance) = self.balances.get(&tx.sender).copied() else {
            return Err(coded("account_not_found", "sender has no account"));
        };
        if balance < amount {
            return Err(coded(
                "insufficient_funds",
                &format!("balance {balance} < amount {amount}"),
            ));
        }
        self.seen_signed.insert(signed_bytes);
        self.balances.insert(tx.sender.clone(), balance - amount);
        *self.balances.entry(tx.recipient.clone()).or_default() += amount;
        tx.timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
        let tx_hash = tx_hash(&tx);
        for status in [
            TransactionStatus::Pending,
            TransactionStatus::Confirmed,
            TransactionStatus::Finalized,
        ] {
            // Nobody listening is fine.
            let _ = self.statuses.send(TransactionStatusInfo {
                tx_hash: tx_hash.clone(),
                status: status as i32,
                block_slot: slot,
                amount: tx.amount.clone(),
                text_data: tx.text_data.clone(),
                extra_info: tx.extra_info.clone(),
                timestamp: tx.timestamp,
                ..Default::default()
            });
        }
        let accepted = AcceptedTx {
            tx_hash,
            tx,
            verified_key,
            route,
        };
        self.accepted.push(accepted.clone());
        Ok(accepted)
    }
}

fn coded(code: &str, message: &str) -> String {
    serde_json::json!({"code": code, "message": message}).to_string()
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// `hex(SHA-256(JSON of the transaction))`, as the node computes it.
fn tx_hash(tx: &mezon_proto::mmn::TxMsg) -> String {
    let json = serde_json::json!({
        "type": tx.r#type, "sender": tx.sender, "recipient": tx.recipient, "amount": tx.amount,
        "timestamp": tx.timestamp, "text_data": tx.text_data, "nonce": tx.nonce,
        "extra_info": tx.extra_info,
    });
    Sha256::digest(json.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The fake MMN of one [`TestServer`]: its addresses and its control handle. Reach it with
/// [`TestServer::mmn`].
#[derive(Debug, Clone)]
pub struct MmnFakes {
    pub(crate) ledger: Arc<Mutex<Ledger>>,
    http_base: String,
    grpc_url: String,
}

impl MmnFakes {
    /// Binds the HTTP (JSON-RPC + prover) and gRPC listeners on 127.0.0.1 and serves both
    /// until the chat server shuts down.
    pub(crate) async fn start(shared: Arc<Shared>) -> Result<Self, StartError> {
        let bot_id = shared.lock().config.bot_id;
        let ledger = Arc::new(Mutex::new(Ledger::new(bot_id)));
        let bind = || async {
            let any = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
            let listener = TcpListener::bind(any)
                .await
                .map_err(|source| StartError::Bind { addr: any, source })?;
            let addr = listener
                .local_addr()
                .map_err(|source| StartError::Bind { addr: any, source })?;
            Ok::<_, StartError>((listener, addr))
        };
        let (http, http_addr) = bind().await?;
        let (grpc, grpc_addr) = bind().await?;
        let fakes = Self {
            ledger,
            http_base: format!("http://{http_addr}"),
            grpc_url: format!("http://{grpc_addr}"),
        };
        tokio::spawn(crate::mmn_http::serve(
            http,
            fakes.clone(),
            Arc::clone(&shared),
        ));
        tokio::spawn(crate::mmn_grpc::serve(grpc, fakes.clone(), shared));
        Ok(fakes)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The node's JSON-RPC URL (`http://127.0.0.1:P/mmn-api/`).
    pub fn jsonrpc_url(&self) -> String {
        format!("{}/mmn-api/", self.http_base)
    }

    /// The node's gRPC origin (`http://127.0.0.1:Q`, h2c).
    pub fn grpc_url(&self) -> String {
        self.grpc_url.clone()
    }

    /// The prover's base URL (`http://127.0.0.1:P/zk-api`).
    pub fn zk_url(&self) -> String {
        format!("{}/zk-api", self.http_base)
    }

    /// Sets the balance of `user_id` to `tokens` whole tokens.
    pub fn set_balance(&self, user_id: i64, tokens: u64) {
        self.lock().balances.insert(
            Address::of_user(user_id).into_string(),
            u128::from(tokens) * UNIT,
        );
    }

    /// The balance of `user_id` in the ledger's smallest unit (10^-6 token).
    pub fn balance(&self, user_id: i64) -> u128 {
        self.lock().balance_of(Address::of_user(user_id).as_str())
    }

    /// Every transaction accepted so far, oldest first.
    pub fn transactions(&self) -> Vec<AcceptedTx> {
        self.lock().accepted.clone()
    }

    /// Every `POST /prove` so far, oldest first.
    pub fn prove_calls(&self) -> Vec<ProveCall> {
        self.lock().prove_calls.clone()
    }

    /// While `down`, the prover answers `503 Service Unavailable`.
    pub fn set_prover_down(&self, down: bool) {
        self.lock().prover_down = down;
    }

    /// Delays each prover answer (on tokio's clock).
    pub fn set_prover_delay(&self, delay: Duration) {
        self.lock().prover_delay = delay;
    }

    /// The next `n` nonce queries answer a nonce far behind the node's window, so the
    /// transaction signed with it fails `nonce_too_low`.
    pub fn serve_stale_nonces(&self, n: u32) {
        self.lock().stale_nonces = n;
    }

    /// Forgets every proof handed out: transactions carrying one fail `invalid_signature`
    /// until the client fetches a new proof.
    pub fn revoke_proofs(&self) {
        self.lock().proofs.clear();
    }
}

impl TestServer {
    /// The fake Mezon Money Network (ZK prover and ledger node) of this server.
    pub fn mmn(&self) -> &MmnFakes {
        &self.mmn
    }
}

/// After an accepted `transfer_token`, the chat side pushes `token_sent_event` to the
/// connections of both parties.
pub(crate) fn announce(shared: &Shared, accepted: &AcceptedTx) {
    #[derive(serde::Deserialize)]
    struct Info {
        #[serde(rename = "type")]
        kind: String,
        #[serde(rename = "UserSenderId")]
        sender: String,
        #[serde(rename = "UserReceiverId")]
        receiver: String,
    }
    let Ok(info) = serde_json::from_str::<Info>(&accepted.tx.extra_info) else {
        return;
    };
    let (Ok(sender_id), Ok(receiver_id)) =
        (info.sender.parse::<i64>(), info.receiver.parse::<i64>())
    else {
        return;
    };
    // The ids must be the transaction's parties: extra_info is not signed by the ledger.
    if info.kind != "transfer_token"
        || Address::of_user(sender_id).as_str() != accepted.tx.sender
        || Address::of_user(receiver_id).as_str() != accepted.tx.recipient
    {
        return;
    }
    let tokens = accepted.tx.amount.parse::<u128>().unwrap_or(0) / UNIT;
    let mut state = shared.lock();
    let event = M::TokenSentEvent(api::TokenSentEvent {
        sender_id,
        sender_name: state.username(sender_id),
        receiver_id,
        amount: i32::try_from(tokens).unwrap_or(i32::MAX),
        note: accepted.tx.text_data.clone(),
        extra_attribute: accepted.tx.extra_info.clone(),
        transaction_id: accepted.tx_hash.clone(),
    });
    let mut conns = state.conns_of(sender_id);
    conns.extend(state.conns_of(receiver_id));
    state.push_to_all(&conns, &event);
    drop(state);
    shared.notify();
}

#[cfg(test)]
mod tests {
    use mezon_mmn::tx::{TransferInfo, UnsignedTransfer, ZkProof};
    use mezon_mmn::{EphemeralKey, TokenAmount};

    use super::*;

    const BOT: i64 = 1_000_000_001;
    const ALICE: i64 = 42;

    /// A ledger, a key with a granted proof, and a valid transfer of `tokens` to ALICE.
    fn setup(tokens: u64) -> (Ledger, EphemeralKey, ZkProof, UnsignedTransfer) {
        let mut ledger = Ledger::new(BOT);
        let key = EphemeralKey::from_seed(&[9; 32]);
        let address = Address::of_user(BOT);
        let (proof, public_input) = ledger
            .prove(
                &BOT.to_string(),
                &key.public_key_base58(),
                address.as_str(),
                true,
            )
            .expect("granted");
        let transfer = UnsignedTransfer {
            sender: address,
            recipient: Address::of_user(ALICE),
            amount: TokenAmount::new(tokens).expect("positive"),
            note: "hi".to_owned(),
            extra_info: TransferInfo::new(BOT, "", ALICE).to_json(),
        };
        (
            ledger,
            key,
            ZkProof {
                proof,
                public_input,
            },
            transfer,
        )
    }

    fn code(error: &str) -> String {
        serde_json::from_str::<serde_json::Value>(error)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| error.to_owned())
    }

    #[tokio::test]
    async fn accepts_a_real_signature_and_moves_the_balance() {
        let (mut ledger, key, proof, transfer) = setup(5);
        let nonce = ledger.current_nonce() + 1;
        let accepted = ledger
            .add_tx(transfer.sign(&key, nonce, 0, &proof), MmnRoute::JsonRpc)
            .expect("accepted");
        assert_eq!(accepted.verified_key, key.public_key_base58());
        assert_eq!(accepted.tx_hash.len(), 64);
        assert_eq!(
            ledger.balance_of(Address::of_user(ALICE).as_str()),
            5 * UNIT
        );
        assert_eq!(
            ledger.balance_of(Address::of_user(BOT).as_str()),
            (u128::from(BOT_FUNDS) - 5) * UNIT
        );
    }

    /// `signed` with one edit to its transaction (the signature is left as it was).
    fn edited(signed: &SignedTxMsg, edit: impl Fn(&mut mezon_proto::mmn::TxMsg)) -> SignedTxMsg {
        let mut signed = signed.clone();
        if let Some(tx) = signed.tx_msg.as_mut() {
            edit(tx);
        }
        signed
    }

    #[tokio::test]
    async fn refusals_come_in_the_protocol_order() {
        let (mut ledger, key, proof, transfer) = setup(5);
        let nonce = ledger.current_nonce() + 1;
        let signed = transfer.sign(&key, nonce, 0, &proof);
        let mut submit = |s: SignedTxMsg| {
            ledger
                .add_tx(s, MmnRoute::Grpc)
                .map(|a| a.tx_hash)
                .map_err(|e| code(&e))
        };
        // A refused sequence wins over a bad amount: lengths and sequences come first.
        let both = edited(&signed, |m| {
            m.text_data = "a}}b".into();
            m.amount = "0".into();
        });
        assert_eq!(submit(both), Err("invalid_request".into()));
        let short = edited(&signed, |m| m.recipient = "abc".into());
        assert_eq!(submit(short), Err("invalid_request".into()));
        let padded = edited(&signed, |m| m.amount = "05".into());
        assert_eq!(submit(padded), Err("invalid_amount".into()));
        let long = edited(&signed, |m| m.text_data = "x".repeat(513));
        assert!(submit(long).is_err_and(|e| e.starts_with("memo too long")));
        let ahead = edited(&signed, |m| m.nonce += 5);
        assert_eq!(submit(ahead), Err("nonce_too_high".into()));
        let behind = edited(&signed, |m| m.nonce = 1);
        assert_eq!(submit(behind), Err("nonce_too_low".into()));
        // Changing a signed field breaks the real Ed25519 signature.
        let forged = edited(&signed, |m| m.amount = "6000000".into());
        assert_eq!(submit(forged), Err("invalid_signature".into()));
        let unproven = edited(&signed, |m| m.zk_proof.clear());
        assert_eq!(submit(unproven), Err("invalid_signature".into()));
        assert!(submit(signed.clone()).is_ok());
        assert_eq!(submit(signed), Err("duplicate_transaction".into()));
    }

    #[tokio::test]
    async fn insufficient_funds() {
        let (mut ledger, key, proof, transfer) = setup(BOT_FUNDS + 1);
        let nonce = ledger.current_nonce() + 1;
        let refused = ledger.add_tx(transfer.sign(&key, nonce, 0, &proof), MmnRoute::JsonRpc);
        assert_eq!(
            refused.map_err(|e| code(&e)).err().as_deref(),
            Some("insufficient_funds")
        );
        assert!(ledger.accepted.is_empty());
    }

    #[test]
    fn the_prover_checks_the_address_and_the_key() {
        let mut ledger = Ledger::new(BOT);
        let key = EphemeralKey::from_seed(&[1; 32]).public_key_base58();
        let wrong = Address::of_user(ALICE);
        assert!(
            ledger
                .prove("1000000001", &key, wrong.as_str(), true)
                .is_err()
        );
        let right = Address::of_user(BOT);
        assert!(
            ledger
                .prove("1000000001", "short", right.as_str(), true)
                .is_err()
        );
        assert!(
            ledger
                .prove("1000000001", &key, right.as_str(), false)
                .is_err()
        );
        assert!(
            ledger
                .prove("1000000001", &key, right.as_str(), true)
                .is_ok()
        );
        assert_eq!(ledger.prove_calls.iter().filter(|c| c.granted).count(), 1);
    }
}
