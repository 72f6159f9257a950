//! The HTTP control API under `/_control/`: JSON in, JSON out, on the server's own port. Every
//! endpoint calls the same operations as the in-process [`TestServer`](crate::TestServer)
//! handle ([`crate::control`], [`HumanUser`]). Errors are `{"error": "<reason>"}` with a 4xx
//! status; nothing a request carries can crash the server.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Method, StatusCode};
use mezon_proto::realtime::ChannelMessageSend;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::control::{MAX_WAIT, RawFrame, Target};
use crate::error::ControlError;
use crate::frames::{FrameFilter, frame_json};
use crate::human::HumanUser;
use crate::protojson::{self, CHANNEL_MESSAGE, ENVELOPE};
use crate::shared::Shared;
use crate::state::{ConnId, Direction, State};
use crate::world_file::{self, BotEntry};

/// Path prefix of the control API.
pub(crate) const PREFIX: &str = "/_control/";

/// How long a long-poll waits when `min` is given without `timeout_ms`.
const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// A failed control request: a status and a reason.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) reason: String,
    /// What matched so far, for a long-poll that timed out.
    pub(crate) partial: Option<Value>,
}

impl Failure {
    fn bad(reason: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            reason: reason.into(),
            partial: None,
        }
    }

    fn not_found(reason: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            reason: reason.into(),
            partial: None,
        }
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Value {
        let mut body = json!({ "error": self.reason });
        if let (Some(partial), Some(object)) = (&self.partial, body.as_object_mut()) {
            object.insert("items".into(), partial.clone());
        }
        body
    }
}

impl From<ControlError> for Failure {
    fn from(error: ControlError) -> Self {
        let status = match error {
            ControlError::WrongClan { .. }
            | ControlError::NotParticipant { .. }
            | ControlError::IdTaken(_) => StatusCode::CONFLICT,
            _ => StatusCode::NOT_FOUND,
        };
        Self {
            status,
            reason: error.to_string(),
            partial: None,
        }
    }
}

type Outcome = Result<Value, Failure>;

/// One parsed control request.
pub(crate) struct ControlRequest<'a> {
    pub(crate) method: &'a Method,
    /// The path after `/_control/`, without a trailing slash.
    pub(crate) route: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) body: Bytes,
}

/// Runs one control request.
pub(crate) async fn handle(shared: &Shared, request: ControlRequest<'_>) -> Outcome {
    let query = Query::parse(request.query);
    let body = &request.body;
    match (request.method, request.route) {
        (&Method::GET, "status") => Ok(status(&shared.lock())),
        (&Method::GET, "connections") => connections(shared, &query).await,
        (&Method::GET, "world") => Ok(world(&shared.lock())),
        (&Method::GET, "messages") => messages(shared, &query).await,
        (&Method::GET, "frames/received") => frames(shared, Direction::In, &query).await,
        (&Method::GET, "frames/sent") => frames(shared, Direction::Out, &query).await,
        (&Method::GET, "http_log") => http_log(shared, &query).await,
        (&Method::POST, "push") => push(shared, parse(body)?),
        (&Method::POST, "session_refresh") => {
            let session = shared.push_session_refresh();
            Ok(json!({ "session": protojson::message_to_json("mezon.api.Session", &session) }))
        }
        (&Method::POST, "users") => {
            let r: NewUser = parse(body)?;
            let id = shared.add_user(r.id.map(|id| id.0), &r.username)?;
            Ok(json!({ "user_id": id.to_string() }))
        }
        (&Method::POST, "users/send") => user_send(shared, parse(body)?),
        (&Method::POST, "users/reply") => user_reply(shared, parse(body)?),
        (&Method::POST, "users/dm") => user_dm(shared, parse(body)?),
        (&Method::POST, "users/react") => user_react(shared, parse(body)?),
        (&Method::POST, "users/click") => user_click(shared, parse(body)?),
        (&Method::POST, "users/select") => user_select(shared, parse(body)?),
        (&Method::POST, "bot/add_to_clan") => {
            let r: ClanRequest = parse(body)?;
            let name = r.name.unwrap_or_else(|| format!("clan-{}", r.clan_id.0));
            shared.add_bot_to_clan(r.clan_id.0, &name);
            Ok(json!({}))
        }
        (&Method::POST, "bot/remove_from_clan") => {
            let r: ClanRequest = parse(body)?;
            shared.remove_bot_from_clan(r.clan_id.0)?;
            Ok(json!({}))
        }
        (&Method::POST, "bot/add_to_channel") => {
            let r: ChannelRequest = parse(body)?;
            let clan = match r.clan_id {
                Some(clan) => clan.0,
                None => clan_of(shared, r.channel_id.0)?,
            };
            shared.add_bot_to_channel(clan, r.channel_id.0)?;
            Ok(json!({}))
        }
        (&Method::POST, "bot/remove_from_channel") => {
            let r: ChannelRequest = parse(body)?;
            shared.remove_bot_from_channel(r.channel_id.0)?;
            Ok(json!({}))
        }
        (&Method::POST, "threads") => create_thread(shared, parse(body)?),
        (&Method::POST, "faults/drop") => {
            let r: ConnRequest = parse_or_default(body)?;
            let dropped = shared.drop_connections(target(r.conn))?;
            Ok(json!({ "dropped": dropped }))
        }
        (&Method::POST, "faults/pings") => {
            let r: AnswerRequest = parse(body)?;
            shared.set_answer_pings(r.answer);
            Ok(json!({}))
        }
        (&Method::POST, "faults/stall") => {
            let r: StallRequest = parse(body)?;
            shared.set_stalled(r.stalled);
            Ok(json!({}))
        }
        (&Method::POST, "faults/delay") => {
            let r: DelayRequest = parse(body)?;
            shared.set_answer_delay(Duration::from_millis(r.ms));
            Ok(json!({}))
        }
        (&Method::POST, "faults/frame") => send_fault_frame(shared, parse(body)?),
        (&Method::POST, "faults/refuse_logins") => {
            let r: RefuseRequest = parse(body)?;
            match (r.count, r.ms) {
                (Some(count), None) => shared.refuse_logins(count),
                (None, Some(ms)) => shared.refuse_logins_for(Duration::from_millis(ms)),
                _ => return Err(Failure::bad("give exactly one of \"count\" and \"ms\"")),
            }
            Ok(json!({}))
        }
        (&Method::POST, "faults/revoke_tokens") => {
            shared.revoke_tokens();
            Ok(json!({}))
        }
        (&Method::POST, "faults/websocket_ping") => {
            let r: WsPingRequest = parse_or_default(body)?;
            let payload = Bytes::from(r.payload.unwrap_or_default().into_bytes());
            let sent = shared.send_frame(target(r.conn), &Message::Ping(payload))?;
            Ok(json!({ "sent": sent }))
        }
        (&Method::POST, "config") => configure(shared, parse(body)?),
        (&Method::POST, "reset") => {
            let r: ResetRequest = parse_or_default(body)?;
            shared.reset(r.drop_connections);
            Ok(json!({}))
        }
        (method, route) => {
            let known = ROUTES.iter().any(|(_, r)| *r == route);
            if known {
                Err(Failure {
                    status: StatusCode::METHOD_NOT_ALLOWED,
                    reason: format!("{method} is not allowed on {PREFIX}{route}"),
                    partial: None,
                })
            } else {
                Err(Failure::not_found(format!(
                    "no control endpoint {method} {PREFIX}{route}"
                )))
            }
        }
    }
}

/// Every endpoint, for the 405-or-404 decision.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "status"),
    ("GET", "connections"),
    ("GET", "world"),
    ("GET", "messages"),
    ("GET", "frames/received"),
    ("GET", "frames/sent"),
    ("GET", "http_log"),
    ("POST", "push"),
    ("POST", "session_refresh"),
    ("POST", "users"),
    ("POST", "users/send"),
    ("POST", "users/reply"),
    ("POST", "users/dm"),
    ("POST", "users/react"),
    ("POST", "users/click"),
    ("POST", "users/select"),
    ("POST", "bot/add_to_clan"),
    ("POST", "bot/remove_from_clan"),
    ("POST", "bot/add_to_channel"),
    ("POST", "bot/remove_from_channel"),
    ("POST", "threads"),
    ("POST", "faults/drop"),
    ("POST", "faults/pings"),
    ("POST", "faults/stall"),
    ("POST", "faults/delay"),
    ("POST", "faults/frame"),
    ("POST", "faults/refuse_logins"),
    ("POST", "faults/revoke_tokens"),
    ("POST", "faults/websocket_ping"),
    ("POST", "config"),
    ("POST", "reset"),
];

// ---- request bodies ----

/// An id given as a JSON number or a string of digits (ids exceed 2^53).
#[derive(Debug, Clone, Copy, Deserialize)]
struct Id(#[serde(deserialize_with = "world_file::id")] i64);

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|e| Failure::bad(format!("bad JSON body: {e}")))
}

/// Like [`parse`], but an empty body means all defaults.
fn parse_or_default<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, Failure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse(body)
}

fn target(conn: Option<u64>) -> Target {
    conn.map_or(Target::All, |c| Target::Conn(ConnId(c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushRequest {
    conn: Option<u64>,
    /// An Envelope in proto3 JSON (cid defaults to 0).
    envelope: Option<Value>,
    /// Any bytes, base64: sent as one binary frame, as is.
    base64: Option<String>,
}

fn push(shared: &Shared, r: PushRequest) -> Outcome {
    let bytes = match (r.envelope, r.base64) {
        (Some(envelope), None) => {
            protojson::from_json(ENVELOPE, &envelope).map_err(Failure::bad)?
        }
        (None, Some(encoded)) => Bytes::from(
            STANDARD
                .decode(encoded.trim())
                .map_err(|e| Failure::bad(format!("bad base64: {e}")))?,
        ),
        _ => {
            return Err(Failure::bad(
                "give exactly one of \"envelope\" and \"base64\"",
            ));
        }
    };
    let sent = shared.send_frame(target(r.conn), &Message::Binary(bytes.clone()))?;
    Ok(json!({ "sent": sent, "bytes": bytes.len() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    id: Option<Id>,
    username: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSend {
    /// The human acting; default: the world's first user.
    user: Option<Id>,
    channel_id: Id,
    /// Plain text (content `{"t": text}`).
    text: Option<String>,
    /// Or the whole content object (`t`, `mk`, `embed`, `components`, …).
    content: Option<Value>,
    /// More fields of `ChannelMessageSend` in proto3 JSON (mentions, references, …).
    #[serde(default)]
    extra: Option<Value>,
}

fn human(shared: &Shared, user: Option<Id>) -> Result<HumanUser<'_>, Failure> {
    let id = match user {
        Some(id) => id.0,
        None => shared
            .lock()
            .world
            .users
            .first()
            .map(|u| u.id)
            .ok_or_else(|| Failure::bad("the world has no users; name one with \"user\""))?,
    };
    Ok(HumanUser::new(shared, id))
}

fn message_json(message: &mezon_proto::api::ChannelMessage) -> Value {
    json!({
        "message_id": message.message_id.to_string(),
        "message": protojson::message_to_json(CHANNEL_MESSAGE, message),
    })
}

fn user_send(shared: &Shared, r: UserSend) -> Outcome {
    let user = human(shared, r.user)?;
    let mut send = match r.extra {
        Some(extra) => {
            let bytes = protojson::from_json("mezon.realtime.ChannelMessageSend", &extra)
                .map_err(Failure::bad)?;
            <ChannelMessageSend as prost::Message>::decode(bytes)
                .map_err(|e| Failure::bad(e.to_string()))?
        }
        None => ChannelMessageSend::default(),
    };
    send.channel_id = r.channel_id.0;
    send.content = match (r.text, r.content) {
        (Some(text), None) => json!({ "t": text }).to_string(),
        (None, Some(content)) if content.is_object() => content.to_string(),
        (None, Some(_)) => return Err(Failure::bad("\"content\" must be a JSON object")),
        _ => return Err(Failure::bad("give exactly one of \"text\" and \"content\"")),
    };
    let message = user.send(send)?;
    Ok(message_json(&message))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserReply {
    user: Option<Id>,
    channel_id: Id,
    message_id: Id,
    text: String,
}

fn user_reply(shared: &Shared, r: UserReply) -> Outcome {
    let message = human(shared, r.user)?.reply(r.channel_id.0, r.message_id.0, &r.text)?;
    Ok(message_json(&message))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserDm {
    user: Option<Id>,
    text: String,
}

fn user_dm(shared: &Shared, r: UserDm) -> Outcome {
    let user = human(shared, r.user)?;
    let channel_id = user.dm_channel()?;
    let id = user.send_message(channel_id, &r.text)?;
    Ok(json!({ "channel_id": channel_id.to_string(), "message_id": id.to_string() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserReact {
    user: Option<Id>,
    channel_id: Id,
    message_id: Id,
    emoji_id: Id,
    #[serde(default)]
    remove: bool,
}

fn user_react(shared: &Shared, r: UserReact) -> Outcome {
    human(shared, r.user)?.react(r.channel_id.0, r.message_id.0, r.emoji_id.0, r.remove)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserClick {
    user: Option<Id>,
    channel_id: Id,
    message_id: Id,
    button_id: String,
    /// JSON `extra_data` (form values), as a string or an object.
    #[serde(default)]
    extra: Option<Value>,
}

fn user_click(shared: &Shared, r: UserClick) -> Outcome {
    let extra = match r.extra {
        None => String::new(),
        Some(Value::String(text)) => text,
        Some(other) => other.to_string(),
    };
    human(shared, r.user)?.click_button(r.message_id.0, r.channel_id.0, &r.button_id, &extra)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSelect {
    user: Option<Id>,
    channel_id: Id,
    message_id: Id,
    selectbox_id: String,
    values: Vec<String>,
}

fn user_select(shared: &Shared, r: UserSelect) -> Outcome {
    human(shared, r.user)?.select_option(
        r.message_id.0,
        r.channel_id.0,
        &r.selectbox_id,
        &r.values,
    )?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClanRequest {
    clan_id: Id,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelRequest {
    clan_id: Option<Id>,
    channel_id: Id,
}

fn clan_of(shared: &Shared, channel_id: i64) -> Result<i64, Failure> {
    shared
        .lock()
        .world
        .find_channel(channel_id)
        .map(|c| c.clan_id)
        .ok_or_else(|| ControlError::UnknownChannel(channel_id).into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreadRequest {
    clan_id: Option<Id>,
    parent_id: Id,
    thread_id: Option<Id>,
    name: String,
    /// The human opening it; default: the world's first user.
    user: Option<Id>,
}

fn create_thread(shared: &Shared, r: ThreadRequest) -> Outcome {
    let clan = match r.clan_id {
        Some(clan) => clan.0,
        None => clan_of(shared, r.parent_id.0)?,
    };
    let creator = human(shared, r.user)?.id();
    let thread_id = match r.thread_id {
        Some(id) => id.0,
        None => shared.lock().next_id(),
    };
    shared.create_thread(clan, r.parent_id.0, thread_id, &r.name, creator)?;
    Ok(json!({ "thread_id": thread_id.to_string() }))
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnRequest {
    conn: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerRequest {
    answer: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StallRequest {
    stalled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelayRequest {
    ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefuseRequest {
    count: Option<u32>,
    ms: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WsPingRequest {
    conn: Option<u64>,
    payload: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    #[serde(default)]
    drop_connections: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum FaultKind {
    Garbage,
    Oversize,
    UnknownVariant,
    Text,
    Bytes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultFrame {
    conn: Option<u64>,
    kind: FaultKind,
    /// For `oversize`: the frame length.
    size: Option<usize>,
    /// For `text`: the text.
    text: Option<String>,
    /// For `bytes`: base64.
    base64: Option<String>,
}

/// Largest `oversize` frame the API builds (a bound on the server's own memory).
const MAX_OVERSIZE: usize = 64 * 1024 * 1024;

fn send_fault_frame(shared: &Shared, r: FaultFrame) -> Outcome {
    let frame = match r.kind {
        FaultKind::Garbage => RawFrame::garbage(),
        FaultKind::UnknownVariant => RawFrame::unknown_variant(),
        FaultKind::Oversize => {
            let size = r.size.unwrap_or(16 * 1024 * 1024);
            if size > MAX_OVERSIZE {
                return Err(Failure::bad(format!("size is at most {MAX_OVERSIZE}")));
            }
            RawFrame::oversize(size)
        }
        FaultKind::Text => RawFrame::Text(r.text.unwrap_or_else(|| "not a frame".into())),
        FaultKind::Bytes => {
            let encoded = r
                .base64
                .ok_or_else(|| Failure::bad("\"bytes\" needs \"base64\""))?;
            RawFrame::from(
                STANDARD
                    .decode(encoded.trim())
                    .map_err(|e| Failure::bad(format!("bad base64: {e}")))?,
            )
        }
    };
    let sent = shared.send_frame(target(r.conn), &frame.into_message())?;
    Ok(json!({ "sent": sent }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigRequest {
    echo: Option<bool>,
    join_policy: Option<String>,
}

fn configure(shared: &Shared, r: ConfigRequest) -> Outcome {
    let strict = match r.join_policy.as_deref() {
        None => None,
        Some("clan") => Some(false),
        Some("strict") => Some(true),
        Some(other) => {
            return Err(Failure::bad(format!(
                "join_policy {other:?}: expected \"clan\" or \"strict\""
            )));
        }
    };
    if let Some(echo) = r.echo {
        shared.set_echo_to_sender(echo);
    }
    if let Some(strict) = strict {
        shared.set_strict_joins(strict);
    }
    Ok(settings(&shared.lock()))
}

// ---- inspection ----

/// Query parameters, percent-decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: Option<&str>) -> Self {
        let pairs = query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (
                    crate::http::percent_decode(name),
                    crate::http::percent_decode(value),
                )
            })
            .collect();
        Self(pairs)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, Failure> {
        self.get(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| Failure::bad(format!("query {name}={v:?} is not a number")))
            })
            .transpose()
    }

    /// `min` (how many matches to wait for) and the wait's bound (`timeout_ms`, capped).
    fn wait(&self) -> Result<(usize, Duration), Failure> {
        let min = self.number::<usize>("min")?.unwrap_or(0);
        let timeout = self
            .number::<u64>("timeout_ms")?
            .map_or(DEFAULT_WAIT, Duration::from_millis)
            .min(MAX_WAIT);
        Ok((min, timeout))
    }
}

/// Waits until `select` gives at least `min` items (at most `timeout`); 408 with what there
/// is when it does not.
async fn long_poll(
    shared: &Shared,
    (min, timeout): (usize, Duration),
    what: &str,
    mut select: impl FnMut(&State) -> Vec<Value>,
) -> Outcome {
    let mut last = Vec::new();
    let found = shared
        .wait_until(timeout, |state| {
            let items = select(state);
            if items.len() >= min {
                Some(items)
            } else {
                last = items;
                None
            }
        })
        .await;
    match found {
        Ok(items) => Ok(json!({ "count": items.len(), "items": items })),
        Err(_) => Err(Failure {
            status: StatusCode::REQUEST_TIMEOUT,
            reason: format!(
                "{} of {min} {what} within {} ms",
                last.len(),
                timeout.as_millis()
            ),
            partial: Some(Value::Array(last)),
        }),
    }
}

fn settings(state: &State) -> Value {
    json!({
        "echo": state.echo_to_sender,
        "join_policy": if state.strict_joins { "strict" } else { "clan" },
        "answer_pings": state.answer_pings,
        "answer_delay_ms": u64::try_from(state.answer_delay.as_millis()).unwrap_or(u64::MAX),
        "refuse_logins": state.refuse_logins,
        "token_ttl_s": state.config.token_ttl.as_secs(),
        "raw_chunk_size": state.config.raw_chunk_size,
    })
}

fn connection_list(state: &State) -> Vec<Value> {
    state
        .conns
        .iter()
        .map(|(id, conn)| {
            let mut clans: Vec<i64> = conn.clans.iter().copied().collect();
            let mut channels: Vec<i64> = conn.channels.iter().copied().collect();
            clans.sort_unstable();
            channels.sort_unstable();
            json!({
                "conn": id.0,
                "user_id": conn.user_id.to_string(),
                "clans": clans.iter().map(i64::to_string).collect::<Vec<_>>(),
                "channels": channels.iter().map(i64::to_string).collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn status(state: &State) -> Value {
    let c = state.counters;
    json!({
        "base_url": state.base_url,
        "bot_id": state.config.bot_id.to_string(),
        "connections": connection_list(state),
        "counters": {
            "connections_opened": c.connections_opened,
            "frames_received": c.frames_received,
            "frames_sent": c.frames_sent,
            "http_requests": c.http_requests,
            "logins": c.logins,
            "logins_refused": c.logins_refused,
            "messages_stored": c.messages_stored,
        },
        "settings": settings(state),
    })
}

async fn connections(shared: &Shared, query: &Query) -> Outcome {
    long_poll(shared, query.wait()?, "connections", connection_list).await
}

fn world(state: &State) -> Value {
    let bot = BotEntry {
        id: state.config.bot_id,
        username: state.config.bot_username.clone(),
        api_key: state.config.api_key.clone(),
    };
    world_file::to_json(&bot, &state.world)
}

async fn messages(shared: &Shared, query: &Query) -> Outcome {
    let channel = query.number::<i64>("channel_id")?;
    let sender = query.number::<i64>("sender_id")?;
    let after = query.number::<i64>("after")?;
    long_poll(shared, query.wait()?, "messages", |state| {
        state
            .all_messages()
            .filter(|m| channel.is_none_or(|c| m.channel_id == c))
            .filter(|m| sender.is_none_or(|s| m.sender_id == s))
            .filter(|m| after.is_none_or(|a| m.message_id > a))
            .map(|m| protojson::message_to_json(CHANNEL_MESSAGE, m))
            .collect()
    })
    .await
}

async fn frames(shared: &Shared, direction: Direction, query: &Query) -> Outcome {
    let filter = FrameFilter {
        kind: query.get("kind").map(str::to_owned),
        conn: query.number("conn")?,
        cid: query.number("cid")?,
        after: query.number("after")?,
    };
    let what = match direction {
        Direction::In => "frames received",
        Direction::Out => "frames sent",
    };
    long_poll(shared, query.wait()?, what, |state| {
        let log = match direction {
            Direction::In => &state.frames_in,
            Direction::Out => &state.frames_out,
        };
        log.iter()
            .filter_map(|record| frame_json(record, direction, &filter))
            .collect()
    })
    .await
}

async fn http_log(shared: &Shared, query: &Query) -> Outcome {
    let path = query.get("path").map(str::to_owned);
    long_poll(shared, query.wait()?, "HTTP requests", |state| {
        state
            .http_log
            .iter()
            .filter(|call| path.as_deref().is_none_or(|p| call.path.contains(p)))
            .map(|call| {
                json!({
                    "path": call.path,
                    "method_name": call.method_name,
                    "authorized": call.authorized,
                    "status": call.status,
                    "body_len": call.body.len(),
                })
            })
            .collect()
    })
    .await
}
