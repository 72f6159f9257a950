//! The AI-agent event stream: `GET /api/sse/metadata?appid={bot_id}&token={api_key}`, a
//! server-sent-events response (`id:`, `event:`, `data:` lines, a blank line after each
//! event). Events pushed with [`TestServer::push_agent_event`] are kept in order with ids
//! 1, 2, …; a request gets every event after its `Last-Event-ID` header. When there is none
//! yet the request waits up to [`LONG_POLL`] for one, then the response ends, so a client
//! exercises its reconnect (with `Last-Event-ID`) after every batch.

use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;

use crate::server::TestServer;
use crate::shared::Shared;

/// The route.
pub(crate) const SSE_PATH: &str = "/api/sse/metadata";

/// How long a request with nothing to send waits for an event before the response ends.
pub const LONG_POLL: Duration = Duration::from_secs(2);

/// One pushed agent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgentSseEvent {
    id: u64,
    name: String,
    data: String,
}

impl TestServer {
    /// Queues an AI-agent event (`session_started`, `session_ended`, `room_summary_done`, or
    /// any name) with JSON `data` for clients of the agent event stream; returns its SSE id.
    pub fn push_agent_event(&self, name: &str, data: &serde_json::Value) -> u64 {
        let shared = self.shared();
        let id = {
            let mut state = shared.lock();
            let id = state.agent_events.last().map_or(1, |e| e.id + 1);
            state.agent_events.push(AgentSseEvent {
                id,
                name: name.to_owned(),
                data: data.to_string(),
            });
            id
        };
        shared.notify();
        id
    }

    /// How many authorized requests the agent event stream has had (each reconnect is one).
    pub fn agent_stream_requests(&self) -> usize {
        self.http_log()
            .iter()
            .filter(|c| c.path == SSE_PATH && c.authorized)
            .count()
    }
}

/// Answers one request of the stream.
pub(crate) async fn serve<B>(shared: &Shared, request: &Request<B>) -> Response<Full<Bytes>> {
    let query = request.uri().query().unwrap_or_default();
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_default()
            .to_owned()
    };
    let authorized = {
        let state = shared.lock();
        param("appid") == state.config.bot_id.to_string() && param("token") == state.config.api_key
    };
    shared.lock().log_http(crate::state::HttpCall {
        path: SSE_PATH.to_owned(),
        method_name: None,
        authorized,
        status: if authorized { 200 } else { 401 },
        body: Bytes::new(),
    });
    if !authorized {
        let mut reply = Response::new(Full::new(Bytes::from_static(b"unauthorized")));
        *reply.status_mut() = StatusCode::UNAUTHORIZED;
        return reply;
    }
    let after: u64 = request
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut changes = shared.subscribe();
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    let body = loop {
        let pending: String = shared
            .lock()
            .agent_events
            .iter()
            .filter(|e| e.id > after)
            .map(|e| {
                let data: String = e.data.lines().map(|l| format!("data: {l}\n")).collect();
                format!("id: {}\nevent: {}\n{data}\n", e.id, e.name)
            })
            .collect();
        if !pending.is_empty() {
            break pending;
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            _ => break ": nothing yet\n\n".to_owned(),
        }
    };
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    reply
}
