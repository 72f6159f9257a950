//! The fake MMN node over gRPC (tonic, h2c): `mmn.TxService`, `mmn.AccountService` and
//! `mmn.HealthService` on the same state as the JSON-RPC route.

use std::pin::Pin;
use std::sync::Arc;

use futures_util::Stream;
use mezon_proto::mmn::grpc::account_service_server::{AccountService, AccountServiceServer};
use mezon_proto::mmn::grpc::health_service_server::{HealthService, HealthServiceServer};
use mezon_proto::mmn::grpc::tx_service_server::{TxService, TxServiceServer};
use mezon_proto::mmn::health_check_response::ServingStatus;
use mezon_proto::mmn::{
    AddTxResponse, Empty, GetAccountRequest, GetAccountResponse, GetCurrentNonceRequest,
    GetCurrentNonceResponse, GetPendingTransactionsRequest, GetPendingTransactionsResponse,
    GetTxByHashRequest, GetTxByHashResponse, HealthCheckResponse, SignedTxMsg,
    SubscribeTransactionStatusRequest, TransactionStatus, TransactionStatusInfo, TxInfo,
};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

use crate::mmn::{MmnFakes, MmnRoute, announce};
use crate::shared::Shared;

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

#[derive(Clone)]
struct Node {
    fakes: MmnFakes,
    shared: Arc<Shared>,
}

pub(crate) async fn serve(listener: TcpListener, fakes: MmnFakes, shared: Arc<Shared>) {
    let node = Node {
        fakes,
        shared: Arc::clone(&shared),
    };
    let served = tonic::transport::Server::builder()
        .add_service(TxServiceServer::new(node.clone()))
        .add_service(AccountServiceServer::new(node.clone()))
        .add_service(HealthServiceServer::new(node))
        .serve_with_incoming_shutdown(
            TcpListenerStream::new(listener),
            shared.shutdown.clone().cancelled_owned(),
        )
        .await;
    if let Err(error) = served {
        tracing::warn!(%error, "fake MMN gRPC server ended");
    }
}

#[tonic::async_trait]
impl TxService for Node {
    async fn add_tx(
        &self,
        request: Request<SignedTxMsg>,
    ) -> Result<Response<AddTxResponse>, Status> {
        let outcome = self
            .fakes
            .lock()
            .add_tx(request.into_inner(), MmnRoute::Grpc);
        Ok(Response::new(match outcome {
            Ok(accepted) => {
                announce(&self.shared, &accepted);
                AddTxResponse {
                    ok: true,
                    tx_hash: accepted.tx_hash,
                    error: String::new(),
                }
            }
            Err(error) => AddTxResponse {
                ok: false,
                tx_hash: String::new(),
                error,
            },
        }))
    }

    async fn get_tx_by_hash(
        &self,
        request: Request<GetTxByHashRequest>,
    ) -> Result<Response<GetTxByHashResponse>, Status> {
        let hash = request.into_inner().tx_hash;
        let ledger = self.fakes.lock();
        let found = ledger.accepted.iter().find(|a| a.tx_hash == hash);
        Ok(Response::new(match found {
            Some(a) => GetTxByHashResponse {
                error: String::new(),
                tx: Some(TxInfo {
                    sender: a.tx.sender.clone(),
                    recipient: a.tx.recipient.clone(),
                    amount: a.tx.amount.clone(),
                    timestamp: a.tx.timestamp,
                    text_data: a.tx.text_data.clone(),
                    nonce: a.tx.nonce,
                    status: TransactionStatus::Finalized as i32,
                    extra_info: a.tx.extra_info.clone(),
                    tx_hash: a.tx_hash.clone(),
                    ..Default::default()
                }),
                decimals: 6,
            },
            None => GetTxByHashResponse {
                error: "transaction not found".to_owned(),
                ..Default::default()
            },
        }))
    }

    type SubscribeTransactionStatusStream = BoxStream<TransactionStatusInfo>;

    async fn subscribe_transaction_status(
        &self,
        _request: Request<SubscribeTransactionStatusRequest>,
    ) -> Result<Response<Self::SubscribeTransactionStatusStream>, Status> {
        let receiver = self.fakes.lock().statuses.subscribe();
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(status) => return Some((Ok(status), receiver)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn get_pending_transactions(
        &self,
        _request: Request<GetPendingTransactionsRequest>,
    ) -> Result<Response<GetPendingTransactionsResponse>, Status> {
        // Transfers settle at once here: the mempool is always empty.
        Ok(Response::new(GetPendingTransactionsResponse::default()))
    }
}

#[tonic::async_trait]
impl AccountService for Node {
    async fn get_account(
        &self,
        request: Request<GetAccountRequest>,
    ) -> Result<Response<GetAccountResponse>, Status> {
        let address = request.into_inner().address;
        let ledger = self.fakes.lock();
        Ok(Response::new(GetAccountResponse {
            balance: ledger.balance_of(&address).to_string(),
            nonce: ledger.slot(),
            decimals: 6,
            address,
        }))
    }

    async fn get_current_nonce(
        &self,
        request: Request<GetCurrentNonceRequest>,
    ) -> Result<Response<GetCurrentNonceResponse>, Status> {
        let request = request.into_inner();
        Ok(Response::new(GetCurrentNonceResponse {
            nonce: self.fakes.lock().current_nonce(),
            address: request.address,
            tag: request.tag,
            error: String::new(),
        }))
    }
}

impl Node {
    fn health(&self) -> HealthCheckResponse {
        HealthCheckResponse {
            status: ServingStatus::Serving as i32,
            node_id: "fake-node".to_owned(),
            current_slot: self.fakes.lock().slot(),
            is_leader: true,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ..Default::default()
        }
    }
}

#[tonic::async_trait]
impl HealthService for Node {
    async fn check(
        &self,
        _request: Request<Empty>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(self.health()))
    }

    type WatchStream = BoxStream<HealthCheckResponse>;

    async fn watch(&self, _request: Request<Empty>) -> Result<Response<Self::WatchStream>, Status> {
        Ok(Response::new(Box::pin(futures_util::stream::once(
            std::future::ready(Ok(self.health())),
        ))))
    }
}
