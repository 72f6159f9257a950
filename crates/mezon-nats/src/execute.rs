//! The relay's side of the commands: decode a [`Command`], run it on the client, answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_nats::{HeaderMap, Subscriber};
use bytes::Bytes;
use futures_util::StreamExt as _;
use mezon::modes::StreamMode;
use mezon::proto::realtime::envelope::Message as Outgoing;
use mezon::proto::realtime::{ChannelMessageSend, Envelope};
use mezon::transport::api::{ApiMethod, methods};
use mezon::transport::{ApiError, RequestError};
use mezon::{ApiClient, ChannelType, Client, Destination};
use prost::Message as _;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::subjects::HEADER_STATUS;
use crate::wire::{Command, Failure, FailureKind, Op};

type Answer = Result<Bytes, Failure>;

fn failure(kind: FailureKind, code: i32, message: impl Into<String>) -> Failure {
    Failure {
        kind: kind as i32,
        code,
        message: message.into(),
    }
}

fn from_request(e: &RequestError) -> Failure {
    match e {
        RequestError::Server { code, message } => failure(FailureKind::Server, *code, message),
        RequestError::Timeout => failure(FailureKind::Timeout, 0, e.to_string()),
        RequestError::ConnectionLost => failure(FailureKind::ConnectionLost, 0, e.to_string()),
        RequestError::NotConnected => failure(FailureKind::NotLoggedIn, 0, e.to_string()),
        RequestError::Closed => failure(FailureKind::Shutdown, 0, e.to_string()),
        other => failure(FailureKind::Other, 0, other.to_string()),
    }
}

fn from_api(e: &ApiError) -> Failure {
    match e {
        ApiError::Request { source, .. } => {
            let mut f = from_request(source);
            f.message = e.to_string();
            f
        }
        ApiError::Status { status, .. } => {
            failure(FailureKind::Api, i32::from(*status), e.to_string())
        }
        ApiError::Timeout { .. } => failure(FailureKind::Timeout, 0, e.to_string()),
        other => failure(FailureKind::Api, 0, other.to_string()),
    }
}

fn from_mezon(e: &mezon::Error) -> Failure {
    match e {
        mezon::Error::Request(r) => from_request(r),
        mezon::Error::Api(a) => from_api(a),
        mezon::Error::NotLoggedIn => failure(FailureKind::NotLoggedIn, 0, e.to_string()),
        mezon::Error::Shutdown => failure(FailureKind::Shutdown, 0, e.to_string()),
        other => failure(FailureKind::Other, 0, other.to_string()),
    }
}

fn is_must_join(e: &RequestError) -> bool {
    matches!(e, RequestError::Server { message, .. } if message.contains("Must join channel"))
}

/// The destination a message's own fields describe.
fn destination(clan_id: i64, channel_id: i64, mode: i32, is_public: bool) -> Destination {
    Destination::new(
        clan_id,
        channel_id,
        ChannelType::for_join(StreamMode::from_i32(mode)),
        is_public,
    )
}

/// Sends a socket request into a channel; on "Must join channel", joins and sends once more
/// (what the client's own sends do).
async fn request_in_channel(
    client: &Client,
    dest: Destination,
    message: Outgoing,
) -> Result<Envelope, Failure> {
    let handle = client.transport().map_err(|e| from_mezon(&e))?;
    match handle.request(message.clone()).await {
        Err(e) if is_must_join(&e) => {
            client
                .join_channel(dest)
                .await
                .map_err(|e| from_mezon(&e))?;
            handle.request(message).await.map_err(|e| from_request(&e))
        }
        other => other.map_err(|e| from_request(&e)),
    }
}

fn ack_of(answer: &Envelope) -> Bytes {
    match &answer.message {
        Some(Outgoing::ChannelMessageAck(ack)) => Bytes::from(ack.encode_to_vec()),
        _ => Bytes::new(),
    }
}

async fn send(client: &Client, send: ChannelMessageSend) -> Answer {
    let dest = destination(send.clan_id, send.channel_id, send.mode, send.is_public);
    let answer = request_in_channel(client, dest, Outgoing::ChannelMessageSend(send)).await?;
    Ok(ack_of(&answer))
}

fn api(client: &Client) -> Result<ApiClient, Failure> {
    client.api().map_err(|e| from_mezon(&e))
}

async fn call_typed<M: ApiMethod>(api: ApiClient, body: Bytes) -> Answer {
    let request = M::Request::decode(body)
        .map_err(|e| failure(FailureKind::BadRequest, 0, format!("{}: {e}", M::NAME)))?;
    let response = api.call::<M>(request).await.map_err(|e| from_api(&e))?;
    Ok(Bytes::from(response.encode_to_vec()))
}

/// Calls API method `M` with a request the command carries decoded.
async fn call_message<M: ApiMethod>(client: &Client, request: &impl prost::Message) -> Answer {
    call_typed::<M>(api(client)?, Bytes::from(request.encode_to_vec())).await
}

type Call = Pin<Box<dyn Future<Output = Answer> + Send>>;

macro_rules! by_name {
    ($(($fn_name:ident, $marker:ident, $request:ty, $response:ty)),* $(,)?) => {
        /// The call of the API method `method`, `None` if there is no such method.
        fn call_by_name(api: ApiClient, method: &str, body: Bytes) -> Option<Call> {
            match method {
                $(stringify!($marker) => Some(Box::pin(
                    call_typed::<mezon::transport::api::methods::$marker>(api, body),
                )),)*
                _ => None,
            }
        }
    };
}

mezon::transport::for_each_api_method!(by_name);

/// Runs one command on the client.
pub(crate) async fn run(client: &Client, op: Op) -> Answer {
    match op {
        Op::Send(message) => send(client, message).await,
        Op::Edit(update) => call_message::<methods::UpdateChannelMessage>(client, &update).await,
        Op::Delete(remove) => call_message::<methods::DeleteChannelMessage>(client, &remove).await,
        Op::React(r) => {
            let dest = destination(r.clan_id, r.channel_id, r.mode, r.is_public);
            request_in_channel(client, dest, Outgoing::MessageReactionEvent(r)).await?;
            Ok(Bytes::new())
        }
        Op::Ephemeral(ephemeral) => {
            let Some(inner) = &ephemeral.message else {
                return Err(failure(FailureKind::BadRequest, 0, "ephemeral: no message"));
            };
            let dest = destination(inner.clan_id, inner.channel_id, inner.mode, inner.is_public);
            let answer =
                request_in_channel(client, dest, Outgoing::EphemeralMessageSend(ephemeral)).await?;
            Ok(match answer.message {
                Some(Outgoing::ChannelMessage(m)) => Bytes::from(m.encode_to_vec()),
                _ => Bytes::new(),
            })
        }
        Op::Dm(dm) => {
            let Some(mut message) = dm.message else {
                return Err(failure(FailureKind::BadRequest, 0, "dm: no message"));
            };
            let channel = client
                .dm_channel(dm.user_id)
                .await
                .map_err(|e| from_mezon(&e))?;
            let dest = channel.destination();
            message.clan_id = dest.clan_id;
            message.channel_id = dest.channel_id;
            message.mode = dest.mode().as_i32();
            message.is_public = dest.is_public;
            send(client, message).await
        }
        Op::Typing(t) => {
            let dest = destination(t.clan_id, t.channel_id, t.mode, t.is_public);
            request_in_channel(client, dest, Outgoing::MessageTypingEvent(t)).await?;
            Ok(Bytes::new())
        }
        Op::Api(call) => {
            let Some(future) = call_by_name(api(client)?, &call.method, call.body) else {
                return Err(failure(
                    FailureKind::UnknownMethod,
                    0,
                    format!("no API method is named {:?}", call.method),
                ));
            };
            future.await
        }
    }
}

/// Decodes and runs one request body.
async fn handle(client: &Client, body: Bytes) -> Answer {
    let command = Command::decode(body)
        .map_err(|e| failure(FailureKind::BadRequest, 0, format!("command: {e}")))?;
    let Some(op) = command.op else {
        return Err(failure(
            FailureKind::BadRequest,
            0,
            "command without an operation",
        ));
    };
    let name = op.name();
    let result = run(client, op).await;
    if let Err(f) = &result {
        tracing::debug!(command = name, kind = f.kind, message = %f.message, "command failed");
    }
    result
}

/// Answers the commands arriving on `commands` until `cancel`, at most `limit` at once;
/// then waits for those running.
pub(crate) async fn serve(
    client: Client,
    nats: async_nats::Client,
    mut commands: Subscriber,
    limit: usize,
    cancel: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limit.max(1)));
    loop {
        let request = tokio::select! {
            _ = cancel.cancelled() => break,
            request = commands.next() => request,
        };
        let Some(request) = request else { break };
        let Some(reply) = request.reply.clone() else {
            tracing::debug!("command without a reply subject ignored");
            continue;
        };
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        let (client, nats) = (client.clone(), nats.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let (status, body) = match handle(&client, request.payload).await {
                Ok(body) => ("ok", body),
                Err(f) => ("error", Bytes::from(f.encode_to_vec())),
            };
            let mut headers = HeaderMap::new();
            headers.insert(HEADER_STATUS, status);
            if let Err(e) = nats.publish_with_headers(reply, headers, body).await {
                tracing::warn!(error = %e, "could not answer a command");
            }
        });
    }
    // Later commands find no subscriber (and are retried elsewhere by the caller).
    let _ = commands.unsubscribe().await;
    let all = u32::try_from(limit.max(1)).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}
