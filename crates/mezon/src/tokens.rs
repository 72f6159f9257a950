//! Token transfers on the Mezon Money Network: [`Client::send_tokens`], the typed
//! [`Client::on_token_send`] event, and the endpoints' settings.
//!
//! The transfer itself lives in `mezon-mmn` (re-exported as [`crate::mmn`]); this module
//! gives each logged-in client one wallet, fetches the ZK proof in the background after login
//! (a failing prover never fails the login), and optionally DMs a receipt to the receiver.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mezon_events::dispatch::HandlerReturn;
use mezon_events::{Payload, Subscription};
use mezon_mmn::{LedgerRoute, MmnEndpoints, Sender, TokenAmount, TransferError, Wallet};
use mezon_proto::api;

use crate::client::Client;
use crate::config::ClientBuilder;
use crate::error::{Error, Result};

/// Where token transfers go, and what the client does after one. The default is production
/// over JSON-RPC, without receipts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenConfig {
    /// The ledger and prover endpoints (production over JSON-RPC by default).
    pub endpoints: MmnEndpoints,
    /// DM the receiver a short receipt after each transfer (off by default).
    pub dm_receipt: bool,
}

/// Builder options for token transfers.
impl ClientBuilder {
    /// The ledger's JSON-RPC URL (default [`mezon_mmn::DEFAULT_MMN_URL`]).
    pub fn mmn_url(mut self, url: impl Into<String>) -> Self {
        self.tokens.endpoints.mmn_url = url.into();
        self
    }

    /// The ledger's gRPC origin, a path prefix allowed (no default: the public gRPC endpoint
    /// is not documented). Needed for [`LedgerRoute::Grpc`].
    pub fn mmn_grpc_url(mut self, origin: impl Into<String>) -> Self {
        self.tokens.endpoints.grpc_url = Some(origin.into());
        self
    }

    /// The ZK prover's base URL (default [`mezon_mmn::DEFAULT_ZK_URL`]).
    pub fn zk_url(mut self, url: impl Into<String>) -> Self {
        self.tokens.endpoints.zk_url = url.into();
        self
    }

    /// Which route reaches the ledger (default [`LedgerRoute::JsonRpc`], the route proven
    /// against production).
    pub fn ledger_route(mut self, route: LedgerRoute) -> Self {
        self.tokens.endpoints.route = route;
        self
    }

    /// Bound on each ledger or prover call (default 15 s).
    pub fn mmn_timeout(mut self, timeout: Duration) -> Self {
        self.tokens.endpoints.timeout = timeout;
        self
    }

    /// DM the receiver a receipt after each transfer (default off).
    pub fn token_dm_receipt(mut self, enabled: bool) -> Self {
        self.tokens.dm_receipt = enabled;
        self
    }
}

/// A `token_sent_event`, typed: who sent how many whole tokens to whom, with the note and
/// the ledger's transaction id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenSend {
    /// The sender's user id.
    pub sender_id: i64,
    /// The sender's name as the server knows it.
    pub sender_name: String,
    /// The receiver's user id.
    pub receiver_id: i64,
    /// Whole tokens (as the server reports them; not checked to be positive).
    pub amount: i64,
    /// The note.
    pub note: String,
    /// The transaction hash on the ledger.
    pub transaction_id: String,
    /// The transfer's `extra_info` JSON as the server passed it on.
    pub extra_attribute: String,
}

impl From<&api::TokenSentEvent> for TokenSend {
    fn from(event: &api::TokenSentEvent) -> Self {
        Self {
            sender_id: event.sender_id,
            sender_name: event.sender_name.clone(),
            receiver_id: event.receiver_id,
            amount: i64::from(event.amount),
            note: event.note.clone(),
            transaction_id: event.transaction_id.clone(),
            extra_attribute: event.extra_attribute.clone(),
        }
    }
}

/// The client's wallet, made at login.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    wallet: Mutex<Option<Arc<Wallet>>>,
}

/// After a successful login: a fresh wallet, and its ZK proof fetched in the background.
pub(crate) fn after_login(client: &Client) {
    *client
        .inner
        .tokens
        .wallet
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = None;
    match client.wallet() {
        Ok(wallet) => {
            tokio::spawn(async move {
                // A failure is logged by the wallet and retried by the first transfer.
                let _ = wallet.prefetch_proof().await;
            });
        }
        Err(error) => tracing::warn!(%error, "token transfers are unavailable"),
    }
}

impl Client {
    /// The wallet of this login, made on first use.
    fn wallet(&self) -> Result<Arc<Wallet>> {
        let handle = self.handle()?;
        let mut slot = self
            .inner
            .tokens
            .wallet
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(wallet) = slot.as_ref() {
            return Ok(Arc::clone(wallet));
        }
        let endpoints = &self.inner.config.tokens.endpoints;
        let ledger = endpoints.ledger().map_err(TransferError::from)?;
        let prover = mezon_mmn::Prover::new(&endpoints.zk_url, endpoints.timeout)
            .map_err(TransferError::from)?;
        let sender = Sender {
            user_id: self.user_id(),
            username: String::new(),
            id_token: handle.session().id_token,
        };
        let wallet = Arc::new(Wallet::new(sender, ledger, prover).map_err(Error::TokenKey)?);
        *slot = Some(Arc::clone(&wallet));
        Ok(wallet)
    }

    /// Sends `amount` whole tokens to the user `user_id` with a note (`""` for none), and
    /// returns the ledger's transaction hash once the node accepted it.
    ///
    /// The nonce is fetched right before sending (and once more if the node calls it stale);
    /// a transfer to the bot itself, or a note the ledger would refuse, fails before any
    /// network call. The receiver's client (and the bot) then get `token_sent_event`.
    ///
    /// ```no_run
    /// # async fn demo(client: mezon::Client) -> Result<(), mezon::Error> {
    /// use mezon::mmn::TokenAmount;
    ///
    /// let five = TokenAmount::new(5).expect("positive");
    /// let tx_hash = client.send_tokens(1_840_000_000_000_000_001, five, "thanks!").await?;
    /// println!("sent: {tx_hash}");
    /// # Ok(()) }
    /// ```
    pub async fn send_tokens(
        &self,
        user_id: i64,
        amount: TokenAmount,
        note: &str,
    ) -> Result<String> {
        if user_id == self.user_id() {
            return Err(TransferError::SelfTransfer.into());
        }
        let wallet = self.wallet()?;
        // The session may have been refreshed since the wallet was made.
        wallet.set_id_token(self.handle()?.session().id_token);
        let tx_hash = wallet.send(user_id, amount, note).await?;
        if self.inner.config.tokens.dm_receipt {
            let receipt = format!("You received {amount} tokens. Transaction: {tx_hash}");
            if let Err(error) = self.send_dm(user_id, receipt).await {
                tracing::warn!(%error, user_id, "token receipt DM failed");
            }
        }
        Ok(tx_hash)
    }

    /// The bot's balance on the ledger, in whole tokens (rounded down).
    pub async fn token_balance(&self) -> Result<u64> {
        let wallet = self.wallet()?;
        let units = wallet
            .ledger()
            .balance(wallet.address())
            .await
            .map_err(TransferError::from)?;
        let units: u128 = units.parse().unwrap_or(0);
        Ok(u64::try_from(units / 10u128.pow(mezon_mmn::DECIMALS)).unwrap_or(u64::MAX))
    }

    /// Runs `handler` for every `token_sent_event` (a transfer the bot sent or received),
    /// typed as a [`TokenSend`]. [`Client::on_token_sent`] gives the raw payload.
    pub fn on_token_send<F, R, M>(&self, handler: F) -> Subscription
    where
        F: Fn(TokenSend, Client) -> R + Send + Sync + 'static,
        R: HandlerReturn<M>,
    {
        self.on_token_sent(move |event: Payload<api::TokenSentEvent>, client| {
            handler(TokenSend::from(&*event), client)
        })
    }
}
