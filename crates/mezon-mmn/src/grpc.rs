//! The gRPC route: tonic clients of `mmn.TxService` and `mmn.AccountService` on one channel.

use std::time::Duration;

use async_trait::async_trait;
use http::Uri;
use mezon_proto::mmn::grpc::account_service_client::AccountServiceClient;
use mezon_proto::mmn::grpc::tx_service_client::TxServiceClient;
use mezon_proto::mmn::{GetAccountRequest, GetCurrentNonceRequest, SignedTxMsg};
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

use crate::address::Address;
use crate::error::{LedgerError, TransportFailure};
use crate::ledger::{Ledger, PENDING_TAG};

/// The ledger over gRPC (h2c for `http://`, TLS with the webpki roots for `https://`).
///
/// The origin may carry a path prefix (`https://host/mmn-grpc/`): calls go to
/// `/mmn-grpc/mmn.TxService/AddTx`, never `//mmn.TxService…`.
#[derive(Debug, Clone)]
pub struct GrpcLedger {
    tx: TxServiceClient<Channel>,
    account: AccountServiceClient<Channel>,
}

impl GrpcLedger {
    /// A client of the node at `origin`; the connection is made on first use.
    pub fn new(origin: &str, timeout: Duration) -> Result<Self, LedgerError> {
        let origin: Uri = origin
            .parse()
            .map_err(|e| LedgerError::protocol(format!("bad gRPC origin {origin:?}: {e}")))?;
        let (base, prefixed) = split_origin(&origin)?;
        let mut endpoint = Endpoint::from_shared(base)
            .map_err(LedgerError::connection)?
            .timeout(timeout)
            .connect_timeout(timeout);
        if origin.scheme_str() == Some("https") {
            endpoint = endpoint
                .tls_config(ClientTlsConfig::new().with_webpki_roots())
                .map_err(LedgerError::connection)?;
        }
        let channel = endpoint.connect_lazy();
        Ok(Self {
            tx: TxServiceClient::with_origin(channel.clone(), prefixed.clone()),
            account: AccountServiceClient::with_origin(channel, prefixed),
        })
    }
}

/// `scheme://authority` to connect to, and the origin tonic prefixes each call path with:
/// the path without its trailing slashes (tonic appends `/pkg.Service/Method` as is).
fn split_origin(origin: &Uri) -> Result<(String, Uri), LedgerError> {
    let (Some(scheme), Some(authority)) = (origin.scheme_str(), origin.authority()) else {
        return Err(LedgerError::protocol(format!(
            "gRPC origin {origin} needs a scheme and a host"
        )));
    };
    let base = format!("{scheme}://{authority}");
    let prefix = origin.path().trim_end_matches('/');
    let prefixed = format!("{base}{prefix}")
        .parse()
        .map_err(|e| LedgerError::protocol(format!("bad gRPC origin {origin}: {e}")))?;
    Ok((base, prefixed))
}

fn status(status: tonic::Status) -> LedgerError {
    match status.code() {
        tonic::Code::ResourceExhausted => LedgerError::RateLimited {
            message: status.message().to_owned(),
        },
        tonic::Code::DeadlineExceeded => LedgerError::Transport(TransportFailure::Timeout),
        code => LedgerError::Transport(TransportFailure::Grpc {
            code,
            message: status.message().to_owned(),
        }),
    }
}

#[async_trait]
impl Ledger for GrpcLedger {
    async fn current_nonce(&self, address: &Address) -> Result<u64, LedgerError> {
        let reply = self
            .account
            .clone()
            .get_current_nonce(GetCurrentNonceRequest {
                address: address.as_str().to_owned(),
                tag: PENDING_TAG.to_owned(),
            })
            .await
            .map_err(status)?
            .into_inner();
        if reply.error.is_empty() {
            Ok(reply.nonce)
        } else {
            Err(LedgerError::from_node_error(&reply.error))
        }
    }

    async fn add_tx(&self, tx: SignedTxMsg) -> Result<String, LedgerError> {
        let reply = self
            .tx
            .clone()
            .add_tx(tx)
            .await
            .map_err(status)?
            .into_inner();
        crate::add_tx_outcome(reply.ok, reply.tx_hash, &reply.error)
    }

    async fn balance(&self, address: &Address) -> Result<String, LedgerError> {
        let reply = self
            .account
            .clone()
            .get_account(GetAccountRequest {
                address: address.as_str().to_owned(),
            })
            .await
            .map_err(status)?
            .into_inner();
        Ok(reply.balance)
    }
}

#[cfg(test)]
mod tests {
    use super::split_origin;

    fn split(origin: &str) -> (String, String) {
        let (base, prefixed) = split_origin(&origin.parse().expect("uri")).expect("valid");
        (base, prefixed.to_string())
    }

    #[test]
    fn a_path_prefix_never_doubles_the_slash() {
        // tonic joins the origin's path and "/mmn.TxService/AddTx" as they are.
        assert_eq!(split("http://127.0.0.1:9001").1, "http://127.0.0.1:9001/");
        assert_eq!(split("http://127.0.0.1:9001/").1, "http://127.0.0.1:9001/");
        assert_eq!(
            split("https://dong.mezon.ai/mmn-grpc/"),
            (
                "https://dong.mezon.ai".to_owned(),
                "https://dong.mezon.ai/mmn-grpc".to_owned()
            )
        );
        assert_eq!(split("https://h/a/b//").1, "https://h/a/b");
        assert!(split_origin(&"/only/a/path".parse().expect("uri")).is_err());
    }
}
