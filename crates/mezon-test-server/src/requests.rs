//! What the server does with each frame a client sends (`wire.md` §3.1–§3.3): the answer
//! with the same cid, and the pushes the request causes for other connections.

use bytes::Bytes;
use mezon_proto::prost::Message as _;
use mezon_proto::realtime::{self, Envelope, envelope::Message as M};
use mezon_transport::api::method_by_index;
use mezon_transport::frame::{BINARY_PONG_MARKER, encode_binary_pong, encode_raw_answer};
use tokio_tungstenite::tungstenite::Message;

use crate::api::{self, Caller};
use crate::compose::new_message;
use crate::state::{ConnId, Received, State};
use crate::world::Channel;

/// `realtime.Error` codes (`wire.md` §3.3).
const UNRECOGNIZED_PAYLOAD: i32 = 1;
const MISSING_PAYLOAD: i32 = 2;
const BAD_INPUT: i32 = 3;

/// The error message of a send refused for want of a `channel_join` (`error{code: 3}`).
pub const MUST_JOIN: &str = "Must join channel before sending messages";

/// Ephemeral message code when the sender left it unset.
const CODE_EPHEMERAL: i32 = 12;

/// What a request is answered with.
enum Reply {
    Envelope(Box<M>),
    Error(i32, String),
    Frames(Vec<Message>),
    Nothing,
}

impl Reply {
    fn envelope(message: M) -> Self {
        Self::Envelope(Box::new(message))
    }
}

/// Handles one binary frame from `conn`; returns the frames that answer it (for `conn`).
/// Pushes to other connections are queued directly.
pub(crate) fn handle_frame(state: &mut State, conn: ConnId, frame: &Bytes) -> Vec<Message> {
    if frame.len() == 3 && frame[0] == BINARY_PONG_MARKER {
        // The desktop client's binary ping `[0x00, cid_hi, cid_lo]`.
        if !state.answer_pings {
            return Vec::new();
        }
        let cid = u16::from_be_bytes([frame[1], frame[2]]);
        return vec![Message::Binary(encode_binary_pong(cid))];
    }
    let envelope = match Envelope::decode(frame.as_ref()) {
        Ok(envelope) => envelope,
        Err(error) => {
            tracing::warn!(%conn, %error, len = frame.len(), "undecodable frame from client");
            return Vec::new();
        }
    };
    state.log_received(Received {
        conn,
        envelope: envelope.clone(),
    });
    let cid = envelope.cid;
    let reply = match envelope.message {
        Some(message) => handle_message(state, conn, cid, message),
        // Not a ping: real clients send `ping {}` as a zero-length field 22. Bytes left over
        // after decoding are a variant this schema does not know; nothing at all is a request
        // without its payload.
        None if envelope.encoded_len() < frame.len() => {
            Reply::Error(UNRECOGNIZED_PAYLOAD, "unrecognized payload".into())
        }
        None => Reply::Error(MISSING_PAYLOAD, "envelope without a payload".into()),
    };
    if cid == 0 {
        // A push-style envelope: its side effects happened; there is no one to answer.
        return Vec::new();
    }
    match reply {
        Reply::Envelope(message) => vec![envelope_frame(cid, *message)],
        Reply::Error(code, message) => vec![envelope_frame(
            cid,
            M::Error(realtime::Error {
                code,
                message,
                context: Default::default(),
            }),
        )],
        Reply::Frames(frames) => frames,
        Reply::Nothing => Vec::new(),
    }
}

fn envelope_frame(cid: i32, message: M) -> Message {
    let bytes = Envelope {
        cid,
        message: Some(message),
    }
    .encode_to_vec();
    Message::Binary(Bytes::from(bytes))
}

fn handle_message(state: &mut State, conn: ConnId, cid: i32, message: M) -> Reply {
    match message {
        M::ClanJoin(join) => clan_join(state, conn, join),
        M::ChannelJoin(join) => channel_join(state, conn, join),
        M::ChannelLeave(leave) => {
            if let Some(c) = state.conns.get_mut(&conn) {
                c.channels.remove(&leave.channel_id);
            }
            Reply::envelope(M::Channel(realtime::Channel {
                id: leave.channel_id,
                ..Default::default()
            }))
        }
        M::ChannelMessageSend(send) => send_message(state, conn, cid, &send),
        M::ChannelMessageUpdate(update) => {
            let caller = caller(state, conn);
            match api::update_message(state, caller, &update) {
                Ok(edited) => Reply::envelope(M::ChannelMessageAck(ack(&edited))),
                Err(error) => Reply::Error(BAD_INPUT, error.to_string()),
            }
        }
        M::ChannelMessageRemove(remove) => {
            let caller = caller(state, conn);
            match api::delete_message(state, caller, remove.channel_id, remove.message_id) {
                Ok(removed) => Reply::envelope(M::ChannelMessageAck(ack(&removed))),
                Err(error) => Reply::Error(BAD_INPUT, error.to_string()),
            }
        }
        M::EphemeralMessageSend(ephemeral) => send_ephemeral(state, conn, ephemeral),
        M::MessageReactionEvent(reaction) => react(state, conn, reaction),
        echoed @ (M::MessageTypingEvent(_)
        | M::LastSeenMessageEvent(_)
        | M::LastPinMessageEvent(_)
        | M::CustomStatusEvent(_)
        | M::VoiceJoinedEvent(_)
        | M::VoiceLeavedEvent(_)) => Reply::envelope(echoed),
        M::CheckNameExistedEvent(mut check) => {
            // Type 0 checks clan names, any other a channel name in `clan_id`.
            check.exist = match check.r#type {
                0 => state.world.clans.iter().any(|c| c.name == check.name),
                _ => state
                    .world
                    .channels
                    .iter()
                    .any(|c| c.clan_id == check.clan_id && c.name == check.name),
            };
            Reply::envelope(M::CheckNameExistedEvent(check))
        }
        M::StatusUpdate(_) => Reply::envelope(M::Status(realtime::Status::default())),
        M::Ping(_) => pong(state),
        M::ApiRequestEvent(request) => api_request(state, conn, cid, &request),
        _ => Reply::Error(UNRECOGNIZED_PAYLOAD, "unrecognized payload".into()),
    }
}

/// A `pong`; nothing while pings go unanswered.
fn pong(state: &State) -> Reply {
    if state.answer_pings {
        Reply::envelope(M::Pong(realtime::Pong {}))
    } else {
        Reply::Nothing
    }
}

fn caller(state: &State, conn: ConnId) -> Caller {
    Caller {
        user_id: state.conns.get(&conn).map_or(0, |c| c.user_id),
        conn: Some(conn),
    }
}

fn clan_join(state: &mut State, conn: ConnId, join: realtime::ClanJoin) -> Reply {
    if join.clan_id != 0 && state.world.find_clan(join.clan_id).is_none() {
        return Reply::Error(BAD_INPUT, format!("clan {} not found", join.clan_id));
    }
    if state.left_clans.contains(&join.clan_id) {
        return Reply::Error(BAD_INPUT, format!("not a member of clan {}", join.clan_id));
    }
    if let Some(c) = state.conns.get_mut(&conn) {
        c.clans.insert(join.clan_id);
    }
    Reply::envelope(M::ClanJoin(join))
}

fn channel_join(state: &mut State, conn: ConnId, join: realtime::ChannelJoin) -> Reply {
    let Some(channel) = state.world.find_channel(join.channel_id).cloned() else {
        return Reply::Error(BAD_INPUT, format!("channel {} not found", join.channel_id));
    };
    let user_id = caller(state, conn).user_id;
    if channel.dm_peer.is_some() && !channel.is_dm_participant(user_id, state.config.bot_id) {
        return Reply::Error(BAD_INPUT, format!("not a member of DM {}", channel.id));
    }
    if let Some(c) = state.conns.get_mut(&conn) {
        c.channels.insert(channel.id);
    }
    let clan_name = state
        .world
        .find_clan(channel.clan_id)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    Reply::envelope(M::Channel(realtime::Channel {
        id: channel.id,
        chanel_label: channel.name,
        category_name: clan_name,
        ..Default::default()
    }))
}

/// Finds the channel and checks the connection may write there.
fn writable_channel(state: &State, conn: ConnId, channel_id: i64) -> Result<Channel, String> {
    let channel = state
        .world
        .find_channel(channel_id)
        .cloned()
        .ok_or_else(|| format!("channel {channel_id} not found"))?;
    if !state.may_send(conn, &channel) {
        return Err(MUST_JOIN.into());
    }
    Ok(channel)
}

fn ack(message: &mezon_proto::api::ChannelMessage) -> realtime::ChannelMessageAck {
    realtime::ChannelMessageAck {
        channel_id: message.channel_id,
        message_id: message.message_id,
        code: message.code,
        username: message.username.clone(),
        create_time_seconds: message.create_time_seconds,
        update_time_seconds: message.update_time_seconds,
        persistent: Some(true),
        clan_logo: message.clan_logo.clone(),
        category_name: message.category_name.clone(),
    }
}

/// Stores the message, pushes it to the channel, and acks it; with echo on, the sender's own
/// copy follows its ack.
fn send_message(
    state: &mut State,
    conn: ConnId,
    cid: i32,
    send: &realtime::ChannelMessageSend,
) -> Reply {
    let channel = match writable_channel(state, conn, send.channel_id) {
        Ok(channel) => channel,
        Err(message) => return Reply::Error(BAD_INPUT, message),
    };
    let sender = caller(state, conn).user_id;
    let message = new_message(state, &channel, sender, send);
    state.store_message(message.clone());
    state.fan_out(&channel, &message, Some(conn));
    let acked = M::ChannelMessageAck(ack(&message));
    if state.echo_to_sender && cid != 0 {
        return Reply::Frames(vec![
            envelope_frame(cid, acked),
            envelope_frame(0, M::ChannelMessage(message)),
        ]);
    }
    Reply::envelope(acked)
}

/// Answers the sender with the message and delivers it only to the receivers' connections.
fn send_ephemeral(
    state: &mut State,
    conn: ConnId,
    ephemeral: realtime::EphemeralMessageSend,
) -> Reply {
    let Some(mut send) = ephemeral.message else {
        return Reply::Error(
            MISSING_PAYLOAD,
            "ephemeral message without a message".into(),
        );
    };
    let channel = match writable_channel(state, conn, send.channel_id) {
        Ok(channel) => channel,
        Err(message) => return Reply::Error(BAD_INPUT, message),
    };
    if send.code == 0 {
        send.code = CODE_EPHEMERAL;
    }
    let sender = caller(state, conn).user_id;
    let mut message = new_message(state, &channel, sender, &send);
    if send.id != 0 {
        // Updating or deleting an earlier ephemeral message keeps its id.
        message.message_id = send.id;
    }
    let targets: Vec<ConnId> = state
        .conns
        .iter()
        .filter(|(id, c)| **id != conn && ephemeral.receiver_ids.contains(&c.user_id))
        .map(|(id, _)| *id)
        .collect();
    state.push_to_all(&targets, &M::ChannelMessage(message.clone()));
    Reply::envelope(M::ChannelMessage(message))
}

fn react(
    state: &mut State,
    conn: ConnId,
    mut reaction: mezon_proto::api::MessageReaction,
) -> Reply {
    let Some(channel) = state.world.find_channel(reaction.channel_id).cloned() else {
        return Reply::Error(
            BAD_INPUT,
            format!("channel {} not found", reaction.channel_id),
        );
    };
    if reaction.id == 0 {
        reaction.id = state.next_id();
    }
    reaction.sender_id = caller(state, conn).user_id;
    reaction.clan_id = channel.clan_id;
    state.apply_reaction(&reaction);
    let targets: Vec<ConnId> = state
        .audience(&channel)
        .into_iter()
        .filter(|id| *id != conn)
        .collect();
    state.push_to_all(&targets, &M::MessageReactionEvent(reaction.clone()));
    Reply::envelope(M::MessageReactionEvent(reaction))
}

/// Runs an API call and answers with raw frames, chunked at `raw_chunk_size`.
fn api_request(
    state: &mut State,
    conn: ConnId,
    cid: i32,
    request: &realtime::ApiRequestEvent,
) -> Reply {
    let Ok(raw_cid) = u16::try_from(cid) else {
        return Reply::Error(BAD_INPUT, format!("cid {cid} does not fit a raw answer"));
    };
    let method = u16::try_from(request.api_index)
        .ok()
        .and_then(method_by_index)
        .map(|m| m.name);
    let result = match method {
        Some(name) => api::call(state, caller(state, conn), name, &request.body),
        None => Err(api::ApiError::UnknownMethod(format!(
            "api_index {} ({})",
            request.api_index, request.api_name
        ))),
    };
    let (status, payload) = match result {
        Ok(payload) => (0, payload),
        Err(error) => {
            tracing::debug!(%conn, %error, "socket API call failed");
            (error.socket_status(), Bytes::new())
        }
    };
    let frames = encode_raw_answer(raw_cid, status, &payload, state.config.raw_chunk_size)
        .into_iter()
        .map(Message::Binary)
        .collect();
    Reply::Frames(frames)
}
