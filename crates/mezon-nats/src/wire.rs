//! What travels on `mezon.<bot>.cmd`: a [`Command`] (protobuf) in, the answer out.
//!
//! A command carries the very Mezon message the SDK would put on the socket (built by the
//! worker with [`mezon::outgoing`]), so the relay adds nothing and loses nothing. The answer
//! has header `Mezon-Status`: `ok` with the answer's protobuf as the body
//! (`ChannelMessageAck` for sends and DMs, the `ChannelMessage` of an ephemeral send if the
//! server returns one, the method's response for API calls, empty otherwise), or `error`
//! with a [`Failure`] as the body.
//!
//! The structs are written by hand with prost's derive (field numbers are the contract; see
//! `docs/scale-out.md`), so other languages can speak it from the same description.

use mezon::proto::api::MessageReaction;
use mezon::proto::realtime::{
    ChannelMessageRemove, ChannelMessageSend, ChannelMessageUpdate, EphemeralMessageSend,
    MessageTypingEvent,
};

/// One request to the relay.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Command {
    /// What to do.
    #[prost(oneof = "Op", tags = "1, 2, 3, 4, 5, 6, 7, 8")]
    pub op: Option<Op>,
}

/// The operations a relay performs.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Op {
    /// Send a message (a reply is a send with a reference).
    #[prost(message, tag = "1")]
    Send(ChannelMessageSend),
    /// Edit a message of the bot.
    #[prost(message, tag = "2")]
    Edit(ChannelMessageUpdate),
    /// Delete a message.
    #[prost(message, tag = "3")]
    Delete(ChannelMessageRemove),
    /// Add or remove a reaction.
    #[prost(message, tag = "4")]
    React(MessageReaction),
    /// Send, update or delete an ephemeral message.
    #[prost(message, tag = "5")]
    Ephemeral(EphemeralMessageSend),
    /// Send a direct message to a user (the relay finds or creates the DM channel).
    #[prost(message, tag = "6")]
    Dm(DirectMessage),
    /// Show "typing".
    #[prost(message, tag = "7")]
    Typing(MessageTypingEvent),
    /// Call any API method by name.
    #[prost(message, tag = "8")]
    Api(ApiCall),
}

impl Op {
    /// A short name, for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Send(_) => "send",
            Op::Edit(_) => "edit",
            Op::Delete(_) => "delete",
            Op::React(_) => "react",
            Op::Ephemeral(_) => "ephemeral",
            Op::Dm(_) => "dm",
            Op::Typing(_) => "typing",
            Op::Api(_) => "api",
        }
    }
}

/// A direct message: the relay fills in the DM channel (clan 0, channel, mode, privacy).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DirectMessage {
    /// The recipient.
    #[prost(int64, tag = "1")]
    pub user_id: i64,
    /// The message; its destination fields are replaced by the DM channel's.
    #[prost(message, optional, tag = "2")]
    pub message: Option<ChannelMessageSend>,
}

/// An API method call by name (`ListClanDescs`, …) with its request's protobuf.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApiCall {
    /// The method name, as in the HTTP path `/mezon.api.Mezon/<method>`.
    #[prost(string, tag = "1")]
    pub method: String,
    /// The request message, protobuf-encoded (empty for methods without a body).
    #[prost(bytes = "bytes", tag = "2")]
    pub body: bytes::Bytes,
}

/// Why a command failed, as the relay reports it.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Failure {
    /// The class of failure.
    #[prost(enumeration = "FailureKind", tag = "1")]
    pub kind: i32,
    /// The Mezon server's error code, or the API status, when there is one.
    #[prost(int32, tag = "2")]
    pub code: i32,
    /// For humans.
    #[prost(string, tag = "3")]
    pub message: String,
}

/// Classes of [`Failure`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum FailureKind {
    /// Not set (a newer relay's kind reads as this).
    Unspecified = 0,
    /// The command did not decode or lacks what it needs.
    BadRequest = 1,
    /// The relay's client is not logged in (yet).
    NotLoggedIn = 2,
    /// The Mezon server refused the request (`code` is its error code).
    Server = 3,
    /// The Mezon server did not answer in time.
    Timeout = 4,
    /// The relay's socket dropped while the request was in flight; it may or may not have
    /// been done.
    ConnectionLost = 5,
    /// No API method has that name.
    UnknownMethod = 6,
    /// An API call failed (`code` is the HTTP or socket status, when there is one).
    Api = 7,
    /// The relay is shutting down.
    Shutdown = 8,
    /// Anything else.
    Other = 9,
}

/// The JSON body of a relayed lifecycle event: its fields, named as in
/// [`mezon::events::lifecycle`] (durations in milliseconds).
pub(crate) mod lifecycle {
    use std::sync::Arc;
    use std::time::Duration;

    use mezon::Event;
    use mezon::events::lifecycle::{Connected, Disconnected, Ready, Reconnected, Reconnecting};
    use serde_json::{Value, json};

    /// The JSON of a lifecycle event; `None` for other events.
    pub(crate) fn encode(event: &Event) -> Option<Vec<u8>> {
        let value = match event {
            Event::Connected(e) => json!({ "connection": e.connection }),
            Event::Disconnected(e) => json!({
                "connection": e.connection,
                "reason": e.reason,
                "will_reconnect": e.will_reconnect,
            }),
            Event::Reconnecting(e) => json!({
                "attempt": e.attempt,
                "delay_ms": u64::try_from(e.delay.as_millis()).unwrap_or(u64::MAX),
            }),
            Event::Reconnected(e) => json!({ "attempts": e.attempts }),
            Event::Ready(e) => json!({ "user_id": e.user_id, "clans": e.clans }),
            _ => return None,
        };
        Some(value.to_string().into_bytes())
    }

    fn u64_of(v: &Value, key: &str) -> u64 {
        v.get(key).and_then(Value::as_u64).unwrap_or_default()
    }

    /// The lifecycle event `kind` from its JSON; `None` if it does not parse.
    pub(crate) fn decode(kind: mezon::EventKind, body: &[u8]) -> Option<Event> {
        use mezon::EventKind as K;
        let v: Value = serde_json::from_slice(body).ok()?;
        let small = |key| u32::try_from(u64_of(&v, key)).unwrap_or(u32::MAX);
        Some(match kind {
            K::Connected => Event::Connected(Arc::new(Connected {
                connection: u64_of(&v, "connection"),
            })),
            K::Disconnected => Event::Disconnected(Arc::new(Disconnected {
                connection: u64_of(&v, "connection"),
                reason: v
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                will_reconnect: v
                    .get("will_reconnect")
                    .and_then(Value::as_bool)
                    .unwrap_or_default(),
            })),
            K::Reconnecting => Event::Reconnecting(Arc::new(Reconnecting {
                attempt: small("attempt"),
                delay: Duration::from_millis(u64_of(&v, "delay_ms")),
            })),
            K::Reconnected => Event::Reconnected(Arc::new(Reconnected {
                attempts: small("attempts"),
            })),
            K::Ready => Event::Ready(Arc::new(Ready {
                user_id: v.get("user_id").and_then(Value::as_i64).unwrap_or_default(),
                clans: usize::try_from(u64_of(&v, "clans")).unwrap_or_default(),
            })),
            _ => return None,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trips() {
            let events = [
                Event::Connected(Arc::new(Connected { connection: 3 })),
                Event::Disconnected(Arc::new(Disconnected {
                    connection: 3,
                    reason: "gone".into(),
                    will_reconnect: true,
                })),
                Event::Reconnecting(Arc::new(Reconnecting {
                    attempt: 2,
                    delay: Duration::from_millis(1500),
                })),
                Event::Reconnected(Arc::new(Reconnected { attempts: 2 })),
                Event::Ready(Arc::new(Ready {
                    user_id: 9,
                    clans: 4,
                })),
            ];
            for event in events {
                let kind = event.kind().unwrap();
                let body = encode(&event).unwrap();
                let back = decode(kind, &body).unwrap();
                assert_eq!(format!("{back:?}"), format!("{event:?}"));
            }
            assert!(decode(mezon::EventKind::Ready, b"not json").is_none());
        }
    }
}
