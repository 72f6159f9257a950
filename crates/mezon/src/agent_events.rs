//! The AI-agent session events (`session_started`, `session_ended`, `room_summary_done`),
//! read from the agent event stream: server-sent events at
//! `GET {agent_event_url}/api/sse/metadata?appid={bot_id}&token={api_key}`. Opt-in with
//! [`ClientBuilder::agent_events`](crate::ClientBuilder::agent_events).
//!
//! The reader reconnects whenever the response ends or fails, sending the last event id it
//! saw as `Last-Event-ID`, after a delay that grows (bounded, jittered) while attempts fail
//! and resets once the stream answers. The URL it logs has the token replaced; reqwest's
//! errors are stripped of the URL before they are logged.

use std::sync::Arc;
use std::time::Duration;

use mezon_events::Event;
use mezon_events::agent::{AgentEvent, RoomSummaryDone, SessionEnded, SessionStarted};
use mezon_transport::ReconnectPolicy;

use crate::client::Client;

/// The longest event (its `data:` lines together) the reader keeps; longer ones are skipped.
const MAX_EVENT_BYTES: usize = 1 << 20;

/// Where the stream is and how to reach it.
pub(crate) struct AgentStream {
    url: String,
    redacted: String,
}

impl AgentStream {
    pub(crate) fn new(base: &str, bot_id: i64, api_key: &str) -> Self {
        let base = base.trim_end_matches('/');
        let path = format!("{base}/api/sse/metadata?appid={bot_id}&token=");
        Self {
            url: format!("{path}{}", encode(api_key)),
            redacted: format!("{path}<redacted>"),
        }
    }
}

impl std::fmt::Debug for AgentStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentStream")
            .field("url", &self.redacted)
            .finish()
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Turns the SSE byte stream into events: `event:`, `id:`, `data:` fields, a blank line
/// ends an event; comments (`:`) and unknown fields are ignored (the SSE rules).
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    line: Vec<u8>,
    event: String,
    data: String,
    too_long: bool,
    /// The last `id:` seen (kept across events, as SSE specifies).
    pub(crate) last_id: String,
}

/// One complete event of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) data: String,
}

impl SseParser {
    /// Feeds bytes; returns the events they complete.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut done = Vec::new();
        for &b in bytes {
            if b != b'\n' {
                if self.line.len() <= MAX_EVENT_BYTES {
                    self.line.push(b);
                } else {
                    self.too_long = true;
                }
                continue;
            }
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if let Some(event) = self.line_done(&String::from_utf8_lossy(&line)) {
                done.push(event);
            }
        }
        done
    }

    fn line_done(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let data = std::mem::take(&mut self.data);
            let name = std::mem::take(&mut self.event);
            if std::mem::take(&mut self.too_long) {
                tracing::warn!("skipped an agent event longer than {MAX_EVENT_BYTES} bytes");
                return None;
            }
            if data.is_empty() {
                return None;
            }
            return Some(SseEvent {
                name: if name.is_empty() {
                    "message".into()
                } else {
                    name
                },
                id: self.last_id.clone(),
                data,
            });
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                if self.data.len() + value.len() > MAX_EVENT_BYTES {
                    self.too_long = true;
                } else {
                    if !self.data.is_empty() {
                        self.data.push('\n');
                    }
                    self.data.push_str(value);
                }
            }
            "id" if !value.contains('\0') => self.last_id = value.to_owned(),
            _ => {}
        }
        None
    }
}

/// The typed event of a stream event, `None` for names the catalogue does not have.
pub(crate) fn to_event(sse: &SseEvent) -> Option<Event> {
    let payload = AgentEvent::from_sse(&sse.id, &sse.data);
    Some(match sse.name.as_str() {
        "session_started" => Event::SessionStarted(Arc::new(SessionStarted(payload))),
        "session_ended" => Event::SessionEnded(Arc::new(SessionEnded(payload))),
        "room_summary_done" => Event::RoomSummaryDone(Arc::new(RoomSummaryDone(payload))),
        _ => return None,
    })
}

/// Reads the stream until the task is aborted (at shutdown), handing events to `client`.
pub(crate) async fn run(client: Client, stream: AgentStream, timeout: Duration) {
    let http = match mezon_transport::tls::client_config().and_then(|tls| {
        reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .http1_only()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| e.without_url().to_string())
    }) {
        Ok(http) => http,
        Err(error) => {
            tracing::error!(%error, "cannot build the agent event stream's HTTP client");
            return;
        }
    };
    let policy = ReconnectPolicy::default();
    let mut parser = SseParser::default();
    let mut failures: u32 = 0;
    loop {
        match read_once(&client, &http, &stream, &mut parser).await {
            Ok(()) => failures = 0,
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::warn!(url = %stream.redacted, %error, failures, "agent event stream failed");
            }
        }
        // A response that ended normally is a long poll: reconnect at once, gently.
        let delay = if failures == 0 {
            Duration::from_millis(50)
        } else {
            policy.ceiling(failures)
        };
        tokio::time::sleep(delay).await;
    }
}

async fn read_once(
    client: &Client,
    http: &reqwest::Client,
    stream: &AgentStream,
    parser: &mut SseParser,
) -> Result<(), String> {
    let mut request = http.get(&stream.url).header("accept", "text/event-stream");
    if !parser.last_id.is_empty() {
        request = request.header("last-event-id", parser.last_id.clone());
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    tracing::debug!(url = %stream.redacted, "agent event stream open");
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        for sse in parser.feed(&chunk) {
            match to_event(&sse) {
                Some(event) => client.emit(event).await,
                None => tracing::debug!(name = %sse.name, "ignored an agent event of unknown name"),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_split_on_blank_lines_with_multi_line_data_and_ids() {
        let mut p = SseParser::default();
        let mut events = p.feed(b": hello\nid: 1\nevent: session_started\ndata: {\"a\":\ndata: 1}\n\nid: 2\r\nevent: session_ended\r\n");
        events.extend(p.feed(b"data: {}\r\n\r\n"));
        assert_eq!(
            events,
            vec![
                SseEvent {
                    name: "session_started".into(),
                    id: "1".into(),
                    data: "{\"a\":\n1}".into()
                },
                SseEvent {
                    name: "session_ended".into(),
                    id: "2".into(),
                    data: "{}".into()
                },
            ]
        );
        assert_eq!(p.last_id, "2");
        let Some(Event::SessionStarted(started)) = to_event(&events[0]) else {
            panic!("typed");
        };
        assert_eq!(started.data["a"], 1);
        assert!(
            to_event(&SseEvent {
                name: "other".into(),
                id: String::new(),
                data: "{}".into()
            })
            .is_none()
        );
    }

    #[test]
    fn the_logged_url_hides_the_token() {
        let s = AgentStream::new("https://agent.example/", 7, "s3cr3t&x");
        assert_eq!(
            s.url,
            "https://agent.example/api/sse/metadata?appid=7&token=s3cr3t%26x"
        );
        assert!(!format!("{s:?}").contains("s3cr3t"));
    }

    #[test]
    fn an_oversized_event_is_skipped_and_the_next_one_is_read() {
        let mut p = SseParser::default();
        let big = "x".repeat(MAX_EVENT_BYTES + 10);
        let mut input = format!("event: session_started\ndata: {big}\n\n").into_bytes();
        input.extend_from_slice(b"event: session_ended\ndata: {}\n\n");
        let events = p.feed(&input);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].name, "session_ended");
    }
}
