//! The HTTP side (`wire.md` §1–§3): login, the `/mezon.api.Mezon/<Method>` route, and the
//! `/ws` upgrade.

use std::convert::Infallible;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONNECTION, CONTENT_TYPE, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE,
};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use mezon_proto::prost::Message as _;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::api::{self, Caller};
use crate::control_http;
use crate::shared::Shared;
use crate::socket;
use crate::state::HttpCall;
use crate::token::TokenKind;

/// Login path.
pub(crate) const LOGIN_PATH: &str = "/v2/apps/authenticate/token";
/// Prefix of API paths; the method name follows.
pub(crate) const API_PREFIX: &str = "/mezon.api.Mezon/";
/// The socket path.
pub(crate) const WS_PATH: &str = "/ws";

const PROTO: &str = "application/proto";

type Reply = Response<Full<Bytes>>;

/// Routes one request. Never fails: problems become status codes.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let path = request.uri().path().to_owned();
    let reply = match (request.method(), path.as_str()) {
        (&Method::POST, LOGIN_PATH) => login(&shared, request).await,
        (&Method::POST, p) if p.starts_with(API_PREFIX) => {
            let method = p[API_PREFIX.len()..].to_owned();
            api_call(&shared, request, method).await
        }
        (&Method::GET, WS_PATH) => upgrade(&shared, request),
        (&Method::GET, crate::agent_sse::SSE_PATH) => {
            crate::agent_sse::serve(&shared, &request).await
        }
        (_, p) if p.starts_with(control_http::PREFIX) => control(&shared, request).await,
        _ => status(StatusCode::NOT_FOUND, "not found"),
    };
    // Waiters on the HTTP log or on stored messages (an HTTP edit) look again.
    shared.notify();
    Ok(reply)
}

/// A `/_control/...` request: JSON in and out.
async fn control(shared: &Shared, request: Request<Incoming>) -> Reply {
    let (parts, body) = request.into_parts();
    let body = match read_body(shared, body).await {
        Ok(body) => body,
        Err(_) => {
            let error = serde_json::json!({ "error": "body too large or unreadable" });
            return json_reply(StatusCode::PAYLOAD_TOO_LARGE, &error);
        }
    };
    let path = parts.uri.path();
    let route = path
        .strip_prefix(control_http::PREFIX)
        .unwrap_or_default()
        .trim_end_matches('/');
    let request = control_http::ControlRequest {
        method: &parts.method,
        route,
        query: parts.uri.query(),
        body,
    };
    match control_http::handle(shared, request).await {
        Ok(value) => json_reply(StatusCode::OK, &value),
        Err(failure) => json_reply(failure.status, &failure.body()),
    }
}

fn json_reply(code: StatusCode, value: &serde_json::Value) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(value.to_string())));
    *reply.status_mut() = code;
    reply.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    reply
}

fn status(code: StatusCode, text: &str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::copy_from_slice(text.as_bytes())));
    *reply.status_mut() = code;
    reply
}

fn proto_reply(body: Bytes) -> Reply {
    let mut reply = Response::new(Full::new(body));
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, http::HeaderValue::from_static(PROTO));
    reply
}

async fn read_body(shared: &Shared, body: Incoming) -> Result<Bytes, Reply> {
    let limit = shared.lock().config.max_body;
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body too large or unreadable",
        )),
    }
}

/// The api key of a `Basic base64("<key>:")` header, if that is the scheme used.
fn basic_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split(':').next().unwrap_or_default().to_owned())
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// `(appid, token)` from a `{"account":{"appid":..,"token":..}}` body; the appid may be a
/// string or a number.
fn json_credentials(body: &[u8]) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let account = value.get("account")?;
    let appid = match account.get("appid")? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let token = account.get("token")?.as_str()?.to_owned();
    Some((appid, token))
}

/// Accepts the Basic header, the JSON body, or both; every credential given must be right.
/// The content type is not checked: official SDKs label this JSON body `application/proto`.
async fn login(shared: &Shared, request: Request<Incoming>) -> Reply {
    let (parts, body) = request.into_parts();
    let body = match read_body(shared, body).await {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let basic = basic_key(&parts.headers);
    let json = json_credentials(&body);
    let mut state = shared.lock();
    let bot = match (&basic, &json) {
        (None, None) => None,
        (Some(key), None) => state.bot_for_login(key, None),
        (None, Some((appid, token))) => state.bot_for_login(token, Some(appid)),
        (Some(key), Some((appid, token))) if key == token => {
            state.bot_for_login(token, Some(appid))
        }
        (Some(_), Some(_)) => None,
    };
    let refused = bot.is_some() && state.take_login_refusal();
    let authorized = bot.is_some() && !refused;
    if authorized {
        state.counters.logins += 1;
    } else {
        state.counters.logins_refused += 1;
    }
    let reply = match bot.filter(|_| !refused) {
        Some(bot) => {
            let session = state.new_session_for(bot);
            proto_reply(Bytes::from(session.encode_to_vec()))
        }
        None => {
            tracing::debug!(refused, "login refused");
            status(StatusCode::UNAUTHORIZED, "bad credentials")
        }
    };
    state.log_http(HttpCall {
        path: LOGIN_PATH.to_owned(),
        method_name: None,
        authorized,
        status: reply.status().as_u16(),
        body,
    });
    reply
}

/// `Bearer <access token>`; `SessionRefresh` uses `Basic <api key>` instead (bearer also
/// accepted, since its refresh token in the body is what is checked).
async fn api_call(shared: &Shared, request: Request<Incoming>, method: String) -> Reply {
    let (parts, body) = request.into_parts();
    let body = match read_body(shared, body).await {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let mut state = shared.lock();
    let bearer_user =
        bearer_token(&parts.headers).and_then(|t| state.check_token(t, TokenKind::Access));
    let user_id = match bearer_user {
        Some(user) => Some(user),
        None if method == "SessionRefresh" => {
            basic_key(&parts.headers).and_then(|key| state.bot_for_login(&key, None))
        }
        None => None,
    };
    let reply = match user_id {
        None => status(StatusCode::UNAUTHORIZED, "missing or invalid token"),
        Some(user_id) => {
            let caller = Caller {
                user_id,
                conn: None,
            };
            match api::call(&mut state, caller, &method, &body) {
                Ok(response) => proto_reply(response),
                Err(error) => {
                    tracing::debug!(%method, %error, "API call failed");
                    status(error.http_status(), &error.to_string())
                }
            }
        }
    };
    state.log_http(HttpCall {
        path: format!("{API_PREFIX}{method}"),
        method_name: Some(method),
        authorized: user_id.is_some(),
        status: reply.status().as_u16(),
        body,
    });
    reply
}

/// The `token` query parameter, percent-decoded.
fn query_token(query: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(percent_decode)
}

pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or_default() * 16 + hex(l).unwrap_or_default();
                out.push(u8::try_from(value).unwrap_or_default());
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Checks the token (401 when bad, before any upgrade), answers 101, and serves the socket
/// once hyper hands the connection over.
fn upgrade(shared: &Arc<Shared>, request: Request<Incoming>) -> Reply {
    let token = request.uri().query().and_then(query_token);
    let user_id = token
        .as_deref()
        .and_then(|t| shared.lock().check_token(t, TokenKind::Access));
    let reply = match user_id {
        Some(user_id) => accept_upgrade(shared, request, user_id),
        None => status(StatusCode::UNAUTHORIZED, "missing or invalid token"),
    };
    shared.lock().log_http(HttpCall {
        path: WS_PATH.to_owned(),
        method_name: None,
        authorized: user_id.is_some(),
        status: reply.status().as_u16(),
        body: Bytes::new(),
    });
    reply
}

fn accept_upgrade(shared: &Arc<Shared>, request: Request<Incoming>, user_id: i64) -> Reply {
    let is_websocket = request
        .headers()
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(key) = request
        .headers()
        .get(SEC_WEBSOCKET_KEY)
        .filter(|_| is_websocket)
    else {
        return status(StatusCode::BAD_REQUEST, "expected a WebSocket upgrade");
    };
    let accept = derive_accept_key(key.as_bytes());
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        match hyper::upgrade::on(request).await {
            Ok(upgraded) => {
                let ws =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                        .await;
                socket::serve(shared, ws, user_id).await;
            }
            Err(error) => tracing::warn!(%error, "WebSocket upgrade failed"),
        }
    });
    let mut reply = status(StatusCode::SWITCHING_PROTOCOLS, "");
    let headers = reply.headers_mut();
    headers.insert(UPGRADE, http::HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, http::HeaderValue::from_static("Upgrade"));
    if let Ok(value) = http::HeaderValue::from_str(&accept) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, value);
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tokens_from_queries() {
        assert_eq!(
            query_token("lang=en&status=true&token=a.b%2Dc.d%3D&format=protobuf").as_deref(),
            Some("a.b-c.d=")
        );
        assert_eq!(query_token("lang=en"), None);
    }

    #[test]
    fn reads_login_credentials() {
        let body = br#"{"account":{"appid":"12","token":"k"}}"#;
        assert_eq!(json_credentials(body), Some(("12".into(), "k".into())));
        let numeric = br#"{"account":{"appid":12,"token":"k"}}"#;
        assert_eq!(json_credentials(numeric), Some(("12".into(), "k".into())));
        assert_eq!(json_credentials(b"not json"), None);

        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode("key:"));
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        assert_eq!(basic_key(&headers).as_deref(), Some("key"));
    }
}
