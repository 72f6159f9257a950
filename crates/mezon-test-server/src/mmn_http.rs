//! The fake MMN over HTTP: the prover (`POST /zk-api/prove`, `GET /zk-api/health/check`) and
//! the node's JSON-RPC 2.0 route (`POST /mmn-api/`).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use mezon_proto::mmn::{SignedTxMsg, TxMsg};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::mmn::{MmnFakes, MmnRoute, announce};
use crate::shared::Shared;
use crate::token::TokenKind;

type Reply = Response<Full<Bytes>>;

const MAX_BODY: usize = 64 * 1024;

pub(crate) async fn serve(listener: TcpListener, fakes: MmnFakes, shared: Arc<Shared>) {
    loop {
        let tcp = tokio::select! {
            () = shared.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(error) => {
                    // Typically out of file descriptors: back off briefly instead of spinning.
                    tracing::warn!(%error, "fake MMN accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (fakes, shared) = (fakes.clone(), Arc::clone(&shared));
        tokio::spawn(async move {
            let cancel = shared.shutdown.clone();
            let service =
                service_fn(move |request| handle(fakes.clone(), Arc::clone(&shared), request));
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service);
            tokio::select! {
                _ = connection => {}
                () = cancel.cancelled() => {}
            }
        });
    }
}

async fn handle(
    fakes: MmnFakes,
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let path = request.uri().path().to_owned();
    let is_json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let reply = match (request.method(), path.as_str()) {
        (&Method::GET, "/zk-api/health/check") => {
            json_reply(StatusCode::OK, &json!({"status": "healthy"}))
        }
        (&Method::POST, "/zk-api/prove") => match read_json(request).await {
            Ok(body) => prove(&fakes, &shared, &body).await,
            Err(reply) => reply,
        },
        (&Method::POST, "/mmn-api/" | "/mmn-api") if !is_json => text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        ),
        (&Method::POST, "/mmn-api/" | "/mmn-api") => match read_json(request).await {
            Ok(body) => json_reply(StatusCode::OK, &rpc(&fakes, &shared, &body)),
            Err(reply) => reply,
        },
        _ => text(StatusCode::NOT_FOUND, "not found"),
    };
    Ok(reply)
}

async fn read_json(request: Request<Incoming>) -> Result<Value, Reply> {
    let body = Limited::new(request.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|_| text(StatusCode::PAYLOAD_TOO_LARGE, "body too large"))?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|_| text(StatusCode::BAD_REQUEST, "not JSON"))
}

fn text(status: StatusCode, body: &str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::copy_from_slice(body.as_bytes())));
    *reply.status_mut() = status;
    reply
}

fn json_reply(status: StatusCode, body: &Value) -> Reply {
    let mut reply = text(status, &body.to_string());
    reply.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    reply
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body.get(name).and_then(Value::as_str).unwrap_or_default()
}

async fn prove(fakes: &MmnFakes, shared: &Shared, body: &Value) -> Reply {
    let (down, delay) = {
        let ledger = fakes.lock();
        (ledger.prover_down, ledger.prover_delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if down {
        return text(StatusCode::SERVICE_UNAVAILABLE, "prover unavailable");
    }
    let jwt_ok = shared
        .lock()
        .check_token(field(body, "jwt"), TokenKind::Access)
        .is_some();
    let answer = fakes.lock().prove(
        field(body, "user_id"),
        field(body, "ephemeral_pk"),
        field(body, "address"),
        jwt_ok,
    );
    match answer {
        Ok((proof, public_input)) => json_reply(
            StatusCode::OK,
            &json!({"success": true, "data": {"proof": proof, "public_input": public_input}, "message": "ok"}),
        ),
        Err(message) => json_reply(
            StatusCode::BAD_REQUEST,
            &json!({"success": false, "data": null, "message": message}),
        ),
    }
}

/// One JSON-RPC 2.0 call.
fn rpc(fakes: &MmnFakes, shared: &Shared, body: &Value) -> Value {
    let id = body.get("id").cloned().unwrap_or(Value::Null);
    let params = body.get("params").cloned().unwrap_or(Value::Null);
    let result = match field(body, "method") {
        "account.getcurrentnonce" => {
            let address = field(&params, "address");
            let nonce = fakes.lock().current_nonce();
            Ok(
                json!({"address": address, "nonce": nonce, "tag": field(&params, "tag"), "error": ""}),
            )
        }
        "account.getaccount" => {
            let address = field(&params, "address");
            let ledger = fakes.lock();
            Ok(
                json!({"address": address, "balance": ledger.balance_of(address).to_string(),
                      "nonce": ledger.slot(), "decimals": 6}),
            )
        }
        "health.check" => {
            Ok(json!({"status": 1, "node_id": "fake-node", "current_slot": fakes.lock().slot()}))
        }
        "tx.addtx" => match signed_tx(&params) {
            None => Err((-32602, "invalid params".to_owned(), Value::Null)),
            Some(signed) => {
                let outcome = fakes.lock().add_tx(signed, MmnRoute::JsonRpc);
                match outcome {
                    Ok(accepted) => {
                        announce(shared, &accepted);
                        Ok(json!({"ok": true, "tx_hash": accepted.tx_hash, "error": ""}))
                    }
                    // Service errors: −32000 with the `{code, message}` object as `data`.
                    Err(error) => Err((
                        -32000,
                        "transaction rejected".to_owned(),
                        serde_json::from_str(&error).unwrap_or(Value::String(error)),
                    )),
                }
            }
        },
        other => Err((-32601, format!("method not found: {other}"), Value::Null)),
    };
    match result {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message, data)) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message, "data": data}})
        }
    }
}

fn signed_tx(params: &Value) -> Option<SignedTxMsg> {
    let tx = params.get("tx_msg")?;
    let number = |name: &str| tx.get(name).and_then(Value::as_u64).unwrap_or_default();
    Some(SignedTxMsg {
        tx_msg: Some(TxMsg {
            r#type: i32::try_from(tx.get("type").and_then(Value::as_i64).unwrap_or_default())
                .ok()?,
            sender: field(tx, "sender").to_owned(),
            recipient: field(tx, "recipient").to_owned(),
            amount: field(tx, "amount").to_owned(),
            timestamp: number("timestamp"),
            text_data: field(tx, "text_data").to_owned(),
            nonce: number("nonce"),
            extra_info: field(tx, "extra_info").to_owned(),
            zk_proof: field(tx, "zk_proof").to_owned(),
            zk_pub: field(tx, "zk_pub").to_owned(),
        }),
        signature: field(params, "signature").to_owned(),
    })
}
