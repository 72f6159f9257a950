//! Payloads of the AI-agent session events. They do not come over the socket but from the
//! agent event stream (server-sent events at `{agent_event_url}/api/sse/metadata`), whose
//! `data:` lines are JSON objects; `mezon` reads that stream when it is enabled.
//!
//! The platform documents little about these objects, so each payload keeps the ids it is
//! known to carry and the whole JSON object in [`AgentEvent::data`].

use serde_json::{Map, Value};

/// What every AI-agent session event carries.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct AgentEvent {
    /// The SSE `id:` of the event (what a reconnect resumes after), empty if none was sent.
    pub id: String,
    /// The session id (`session_id`), empty if absent.
    pub session_id: String,
    /// The channel (`channel_id`, a number or a decimal string), 0 if absent.
    pub channel_id: i64,
    /// The clan (`clan_id`), 0 if absent.
    pub clan_id: i64,
    /// The whole JSON object of the `data:` lines.
    pub data: Map<String, Value>,
}

impl AgentEvent {
    /// Reads the event from its SSE `id:` and the JSON text of its `data:` lines; data that
    /// is not a JSON object is kept as `{"data": <text>}`.
    pub fn from_sse(id: &str, data: &str) -> Self {
        let data = match serde_json::from_str::<Value>(data) {
            Ok(Value::Object(map)) => map,
            Ok(other) => Map::from_iter([("data".to_owned(), other)]),
            Err(_) => Map::from_iter([("data".to_owned(), Value::String(data.to_owned()))]),
        };
        let id_of = |key: &str| match data.get(key) {
            Some(Value::Number(n)) => n.as_i64().unwrap_or_default(),
            Some(Value::String(s)) => s.parse().unwrap_or_default(),
            _ => 0,
        };
        Self {
            id: id.to_owned(),
            session_id: match data.get("session_id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            },
            channel_id: id_of("channel_id"),
            clan_id: id_of("clan_id"),
            data,
        }
    }
}

macro_rules! agent_events {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name(pub AgentEvent);

        impl std::ops::Deref for $name {
            type Target = AgentEvent;
            fn deref(&self) -> &AgentEvent {
                &self.0
            }
        }
    )*};
}

agent_events! {
    /// An AI-agent session started (SSE event `session_started`).
    SessionStarted,
    /// An AI-agent session ended (SSE event `session_ended`).
    SessionEnded,
    /// An AI agent finished summarizing a room (SSE event `room_summary_done`).
    RoomSummaryDone,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_numbers_or_strings_and_the_object_is_kept() {
        let e = AgentEvent::from_sse(
            "7",
            r#"{"session_id":"s1","channel_id":"1800000000000000001","clan_id":5,"x":true}"#,
        );
        assert_eq!(e.id, "7");
        assert_eq!(e.session_id, "s1");
        assert_eq!(e.channel_id, 1_800_000_000_000_000_001);
        assert_eq!(e.clan_id, 5);
        assert_eq!(e.data["x"], Value::Bool(true));
        let odd = AgentEvent::from_sse("", "not json");
        assert_eq!(odd.data["data"], Value::String("not json".into()));
        assert_eq!(odd.channel_id, 0);
    }
}
