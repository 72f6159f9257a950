//! The JSON-RPC 2.0 route: `POST {mmn url}` with `{"jsonrpc":"2.0","method":…,"params":…}`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use mezon_proto::mmn::SignedTxMsg;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::address::Address;
use crate::error::{LedgerError, TransportFailure};
use crate::ledger::{Ledger, PENDING_TAG};

/// JSON-RPC error code of the node's service errors (`data` holds `{code, message}`).
const SERVICE_ERROR: i64 = -32000;

/// The ledger over JSON-RPC 2.0 (`POST {url}`, `Content-Type: application/json`).
#[derive(Debug)]
pub struct JsonRpcLedger {
    http: reqwest::Client,
    url: String,
    next_id: AtomicU64,
}

impl JsonRpcLedger {
    /// A client of the node at `url` (the URL itself is the endpoint), with a per-call
    /// timeout.
    pub fn new(url: impl Into<String>, timeout: Duration) -> Result<Self, LedgerError> {
        Ok(Self {
            http: crate::http_client(timeout).map_err(LedgerError::connection)?,
            url: url.into(),
            next_id: AtomicU64::new(1),
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, LedgerError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "method": method, "params": params, "id": id});
        let (status, bytes) = crate::post_json(&self.http, &self.url, &body)
            .await
            .map_err(LedgerError::Transport)?;
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(LedgerError::RateLimited {
                message: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        if !status.is_success() {
            return Err(LedgerError::Transport(TransportFailure::Status(
                status.as_u16(),
            )));
        }
        let reply: Reply<T> = serde_json::from_slice(&bytes)
            .map_err(|e| LedgerError::protocol(format!("{method}: {e}")))?;
        match (reply.result, reply.error) {
            (_, Some(error)) => Err(error.into_ledger_error()),
            (Some(result), None) => Ok(result),
            (None, None) => Err(LedgerError::protocol(format!(
                "{method}: neither result nor error"
            ))),
        }
    }
}

#[derive(Deserialize)]
struct Reply<T> {
    result: Option<T>,
    error: Option<RpcError>,
}

#[derive(Deserialize)]
struct RpcError {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

impl RpcError {
    fn into_ledger_error(self) -> LedgerError {
        match self.data {
            // The service error: `data` is `{code, message}` (or the plain text).
            Some(Value::Object(data))
                if self.code == SERVICE_ERROR || data.contains_key("code") =>
            {
                LedgerError::from_node_error(&Value::Object(data).to_string())
            }
            Some(Value::String(text)) => LedgerError::from_node_error(&text),
            _ => LedgerError::Other {
                code: self.code.to_string(),
                message: self.message,
            },
        }
    }
}

#[derive(Deserialize)]
struct AddTxResult {
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    tx_hash: String,
    #[serde(default)]
    error: String,
}

#[derive(Deserialize)]
struct NonceResult {
    #[serde(default)]
    nonce: u64,
    #[serde(default)]
    error: String,
}

#[derive(Deserialize)]
struct AccountResult {
    #[serde(default)]
    balance: String,
}

/// `tx_msg` as the JSON-RPC route spells it (the proto field names).
pub(crate) fn tx_msg_json(tx: &SignedTxMsg) -> Value {
    let msg = tx.tx_msg.clone().unwrap_or_default();
    json!({
        "tx_msg": {
            "type": msg.r#type,
            "sender": msg.sender,
            "recipient": msg.recipient,
            "amount": msg.amount,
            "timestamp": msg.timestamp,
            "text_data": msg.text_data,
            "nonce": msg.nonce,
            "extra_info": msg.extra_info,
            "zk_proof": msg.zk_proof,
            "zk_pub": msg.zk_pub,
        },
        "signature": tx.signature,
    })
}

#[async_trait]
impl Ledger for JsonRpcLedger {
    async fn current_nonce(&self, address: &Address) -> Result<u64, LedgerError> {
        let result: NonceResult = self
            .call(
                "account.getcurrentnonce",
                json!({"address": address.as_str(), "tag": PENDING_TAG}),
            )
            .await?;
        if result.error.is_empty() {
            Ok(result.nonce)
        } else {
            Err(LedgerError::from_node_error(&result.error))
        }
    }

    async fn add_tx(&self, tx: SignedTxMsg) -> Result<String, LedgerError> {
        let result: AddTxResult = self.call("tx.addtx", tx_msg_json(&tx)).await?;
        crate::add_tx_outcome(result.ok, result.tx_hash, &result.error)
    }

    async fn balance(&self, address: &Address) -> Result<String, LedgerError> {
        let result: AccountResult = self
            .call("account.getaccount", json!({"address": address.as_str()}))
            .await?;
        Ok(result.balance)
    }
}
