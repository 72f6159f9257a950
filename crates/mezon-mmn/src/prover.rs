//! The ZK prover: `POST {zk}/prove` turns the session's `id_token` and the ephemeral public key
//! into the proof every transaction carries.

use std::time::Duration;

use mezon_transport::Secret;
use serde::Deserialize;
use serde_json::json;

use crate::address::Address;
use crate::error::{ProverError, TransportFailure};
use crate::tx::ZkProof;

/// `client_type` the prover is told.
const CLIENT_TYPE: &str = "mezon";

/// A client of the ZK prover at a base URL (`https://dong.mezon.ai/zk-api` by default).
#[derive(Debug, Clone)]
pub struct Prover {
    http: reqwest::Client,
    prove_url: String,
}

/// What the prover needs for one proof.
#[derive(Debug)]
pub struct ProofRequest<'a> {
    /// The bot's user id.
    pub user_id: i64,
    /// base58 of the ephemeral public key.
    pub ephemeral_pk: &'a str,
    /// The session's `id_token`.
    pub jwt: &'a Secret,
    /// The bot's address.
    pub address: &'a Address,
}

#[derive(Deserialize)]
struct ProveReply {
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    data: Option<ProofData>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ProofData {
    #[serde(default)]
    proof: String,
    #[serde(default)]
    public_input: String,
}

impl Prover {
    /// A prover client at `base_url` with a per-call timeout.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, ProverError> {
        let http = crate::http_client(timeout).map_err(|e| {
            ProverError::Unreachable(TransportFailure::Connection(std::sync::Arc::new(e)))
        })?;
        Ok(Self {
            http,
            prove_url: format!("{}/prove", base_url.trim_end_matches('/')),
        })
    }

    /// Asks for a proof. Any answer without a non-empty proof is an error.
    pub async fn prove(&self, request: &ProofRequest<'_>) -> Result<ZkProof, ProverError> {
        if request.jwt.is_empty() {
            return Err(ProverError::NoIdToken);
        }
        let body = json!({
            "user_id": request.user_id.to_string(),
            "ephemeral_pk": request.ephemeral_pk,
            "jwt": request.jwt.expose(),
            "address": request.address.as_str(),
            "client_type": CLIENT_TYPE,
        });
        let (status, bytes) = crate::post_json(&self.http, &self.prove_url, &body)
            .await
            .map_err(ProverError::Unreachable)?;
        if !status.is_success() {
            return Err(ProverError::Unreachable(TransportFailure::Status(
                status.as_u16(),
            )));
        }
        let reply: ProveReply = serde_json::from_slice(&bytes)
            .map_err(|e| ProverError::Refused(format!("unreadable answer: {e}")))?;
        let why = || {
            reply
                .error
                .as_ref()
                .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
                .or_else(|| reply.message.clone())
                .unwrap_or_else(|| "no proof in the answer".to_owned())
        };
        if reply.success == Some(false) {
            return Err(ProverError::Refused(why()));
        }
        match &reply.data {
            Some(data) if !data.proof.is_empty() && !data.public_input.is_empty() => Ok(ZkProof {
                proof: data.proof.clone(),
                public_input: data.public_input.clone(),
            }),
            _ => Err(ProverError::Refused(why())),
        }
    }
}
