//! The API methods the server implements, shared by the HTTP route and the socket's
//! `api_request_event` route (`wire.md` §2). Requests and responses are typed through the SDK's
//! own method table, so both sides agree on the messages.

use bytes::Bytes;
use http::StatusCode;
use mezon_proto::prost::Message as _;
use mezon_proto::{api, realtime};
use mezon_transport::api::{ApiMethod, methods};

use crate::state::{ConnId, State};
use crate::token::TokenKind;
use crate::world::{Channel, channel_type, dm_channel};

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("method {0} is not implemented by the local server")]
    UnknownMethod(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("unauthenticated")]
    Unauthenticated,
}

impl ApiError {
    pub(crate) fn http_status(&self) -> StatusCode {
        match self {
            Self::UnknownMethod(_) | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
        }
    }

    /// The status for a raw socket answer; gRPC code numbers, as the gateway's are.
    pub(crate) fn socket_status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 3,
            Self::NotFound(_) => 5,
            Self::UnknownMethod(_) => 12,
            Self::Unauthenticated => 16,
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller {
    pub(crate) user_id: i64,
    /// The socket the call came in on, if it came over a socket.
    pub(crate) conn: Option<ConnId>,
}

/// Runs one API call on the serialized request; returns the serialized response.
pub(crate) fn call(
    state: &mut State,
    caller: Caller,
    method: &str,
    body: &[u8],
) -> Result<Bytes, ApiError> {
    match method {
        "ListClanDescs" => run::<methods::ListClanDescs>(body, |r| Ok(list_clan_descs(state, &r))),
        "ListChannelDescs" => {
            run::<methods::ListChannelDescs>(body, |r| Ok(list_channel_descs(state, caller, &r)))
        }
        "ListChannelDetail" => run::<methods::ListChannelDetail>(body, |r| {
            let channel = find_channel(state, r.channel_id)?;
            Ok(channel_desc(state, &channel))
        }),
        "CreateChannelDesc" => {
            run::<methods::CreateChannelDesc>(body, |r| create_channel(state, caller, &r))
        }
        "ListClanUsers" => run::<methods::ListClanUsers>(body, |r| list_clan_users(state, &r)),
        "ListChannelMessages" => {
            run::<methods::ListChannelMessages>(body, |r| list_channel_messages(state, &r))
        }
        "GetAccount" => run::<methods::GetAccount>(body, |()| Ok(account(state, caller.user_id))),
        "SessionRefresh" => run::<methods::SessionRefresh>(body, |r| {
            let bot = state
                .check_token(&r.token, TokenKind::Refresh)
                .ok_or(ApiError::Unauthenticated)?;
            Ok(state.new_session_for(bot))
        }),
        "AddQuickMenuAccess" => run::<methods::AddQuickMenuAccess>(body, |mut r| {
            if r.id == 0 {
                r.id = state.next_id();
            }
            if r.bot_id == 0 {
                r.bot_id = caller.user_id;
            }
            state.quick_menus.retain(|m| m.id != r.id);
            state.quick_menus.push(r);
            Ok(())
        }),
        "ListQuickMenuAccess" => run::<methods::ListQuickMenuAccess>(body, |r| {
            let list_menus = state
                .quick_menus
                .iter()
                .filter(|m| r.bot_id == 0 || m.bot_id == r.bot_id)
                .filter(|m| r.channel_id == 0 || m.channel_id == r.channel_id)
                .filter(|m| r.menu_type == 0 || m.menu_type == r.menu_type)
                .cloned()
                .collect();
            Ok(api::QuickMenuAccessList { list_menus })
        }),
        "DeleteQuickMenuAccess" => run::<methods::DeleteQuickMenuAccess>(body, |r| {
            let before = state.quick_menus.len();
            state.quick_menus.retain(|m| m.id != r.id);
            if state.quick_menus.len() == before {
                return Err(ApiError::NotFound(format!("quick menu {}", r.id)));
            }
            Ok(())
        }),
        "UpdateChannelMessage" => run::<methods::UpdateChannelMessage>(body, |r| {
            update_message(state, caller, &r)?;
            Ok(r)
        }),
        "DeleteChannelMessage" => run::<methods::DeleteChannelMessage>(body, |r| {
            delete_message(state, caller, r.channel_id, r.message_id)?;
            Ok(r)
        }),
        // The world has no roles and no voice channels: well-formed empty answers.
        "ListRoles" => run::<methods::ListRoles>(body, |r| {
            if state.world.find_clan(r.clan_id).is_none() {
                return Err(ApiError::NotFound(format!("clan {}", r.clan_id)));
            }
            Ok(api::RoleListEventResponse {
                clan_id: r.clan_id,
                limit: r.limit,
                state: r.state,
                cursor: String::new(),
                roles: Some(api::RoleList::default()),
            })
        }),
        "ListChannelVoiceUsers" => {
            run::<methods::ListChannelVoiceUsers>(
                body,
                |_| Ok(api::VoiceChannelUserList::default()),
            )
        }
        other => Err(ApiError::UnknownMethod(other.to_owned())),
    }
}

/// Decodes the request as `M::Request`, runs `f`, encodes its `M::Response`.
fn run<M: ApiMethod>(
    body: &[u8],
    f: impl FnOnce(M::Request) -> Result<M::Response, ApiError>,
) -> Result<Bytes, ApiError> {
    let request =
        M::Request::decode(body).map_err(|e| ApiError::BadRequest(format!("{}: {e}", M::NAME)))?;
    Ok(Bytes::from(f(request)?.encode_to_vec()))
}

fn find_channel(state: &State, channel_id: i64) -> Result<Channel, ApiError> {
    state
        .world
        .find_channel(channel_id)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("channel {channel_id}")))
}

/// Clans in world order. Paging: `limit` (0 = all) and `cursor` = the last clan id already
/// seen (the response has no cursor field, so the client continues from its last clan).
fn list_clan_descs(state: &State, request: &api::ListClanDescRequest) -> api::ClanDescList {
    let start = request
        .cursor
        .parse::<i64>()
        .ok()
        .and_then(|last| state.world.clans.iter().position(|c| c.id == last))
        .map_or(0, |at| at + 1);
    let limit = usize::try_from(request.limit)
        .ok()
        .filter(|&l| l > 0)
        .unwrap_or(usize::MAX);
    let clandesc = state
        .world
        .clans
        .iter()
        .filter(|c| !state.left_clans.contains(&c.id))
        .skip(start)
        .take(limit)
        .map(|clan| api::ClanDesc {
            clan_id: clan.id,
            clan_name: clan.name.clone(),
            welcome_channel_id: state
                .world
                .channels
                .iter()
                .find(|c| c.clan_id == clan.id && c.channel_type == channel_type::TEXT)
                .map_or(0, |c| c.id),
            ..Default::default()
        })
        .collect();
    api::ClanDescList { clandesc }
}

/// Channels the caller can see: `channel_type` 3 gives its DMs; another non-zero type, the
/// channels of that type; 0, every non-DM channel. `clan_id` 0 means every clan. Private
/// channels are listed once the bot was added to them. Paging: `limit` with 1-based `page`.
fn list_channel_descs(
    state: &State,
    caller: Caller,
    request: &api::ListChannelDescsRequest,
) -> api::ChannelDescList {
    let wanted = |c: &Channel| match request.channel_type {
        0 => c.channel_type != channel_type::DM,
        t => c.channel_type == t,
    };
    let bot_id = state.config.bot_id;
    let visible = |c: &Channel| match c.dm_peer {
        Some(_) => c.is_dm_participant(caller.user_id, bot_id),
        None => !c.private || state.bot_channels.contains(&c.id),
    };
    let limit = usize::try_from(request.limit)
        .ok()
        .filter(|&l| l > 0)
        .unwrap_or(usize::MAX);
    let page = usize::try_from(request.page).unwrap_or(0).max(1);
    let channeldesc = state
        .world
        .channels
        .iter()
        .filter(|c| wanted(c) && visible(c))
        .filter(|c| request.clan_id == 0 || c.clan_id == request.clan_id)
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .map(|c| channel_desc(state, c))
        .collect();
    api::ChannelDescList { channeldesc }
}

pub(crate) fn channel_desc(state: &State, channel: &Channel) -> api::ChannelDescription {
    let (user_ids, usernames) = match channel.dm_peer {
        Some(peer) => (vec![peer], vec![state.username(peer)]),
        None => (Vec::new(), Vec::new()),
    };
    api::ChannelDescription {
        clan_id: channel.clan_id,
        parent_id: channel.parent_id,
        channel_id: channel.id,
        r#type: channel.channel_type,
        creator_id: state.config.bot_id,
        channel_label: channel.name.clone(),
        channel_private: i32::from(channel.private),
        display_names: usernames.clone(),
        usernames,
        user_ids,
        clan_name: state
            .world
            .find_clan(channel.clan_id)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        ..Default::default()
    }
}

/// A DM request (clan 0, type 3, `user_ids = [peer]`) returns the existing DM with that peer or
/// creates one; any other request creates a channel in an existing clan.
fn create_channel(
    state: &mut State,
    caller: Caller,
    request: &api::CreateChannelDescRequest,
) -> Result<api::ChannelDescription, ApiError> {
    if request.r#type == channel_type::DM {
        let [peer] = request.user_ids[..] else {
            return Err(ApiError::BadRequest(
                "a DM needs exactly one user id".into(),
            ));
        };
        let name = state
            .world
            .find_user(peer)
            .map(|u| u.username.clone())
            .ok_or_else(|| ApiError::NotFound(format!("user {peer}")))?;
        let bot = state.dm_bot_key(caller.user_id);
        let channel = match state.world.find_dm_of(bot, peer) {
            Some(existing) => existing.clone(),
            None => {
                let channel = dm_channel(state.next_id(), peer, bot, name);
                state.world.channels.push(channel.clone());
                channel
            }
        };
        return Ok(channel_desc(state, &channel));
    }
    if state.world.find_clan(request.clan_id).is_none() {
        return Err(ApiError::NotFound(format!("clan {}", request.clan_id)));
    }
    let id = if request.channel_id != 0 {
        request.channel_id
    } else {
        state.next_id()
    };
    let channel = Channel {
        clan_id: request.clan_id,
        id,
        name: if request.channel_label.is_empty() {
            format!("channel-{id}")
        } else {
            request.channel_label.clone()
        },
        channel_type: request.r#type,
        private: request.channel_private != 0,
        parent_id: request.parent_id,
        dm_peer: None,
        dm_bot: None,
    };
    state.world.channels.push(channel.clone());
    state.bot_channels.insert(id);
    Ok(channel_desc(state, &channel))
}

fn list_clan_users(
    state: &State,
    request: &api::ListClanUsersRequest,
) -> Result<api::ClanUserList, ApiError> {
    if state.world.find_clan(request.clan_id).is_none() {
        return Err(ApiError::NotFound(format!("clan {}", request.clan_id)));
    }
    let bot = (state.config.bot_id, state.config.bot_username.clone());
    let clan_users = std::iter::once(bot)
        .chain(state.world.bots.iter().map(|b| (b.id, b.username.clone())))
        .chain(state.world.users.iter().map(|u| (u.id, u.username.clone())))
        .map(|(id, username)| api::clan_user_list::ClanUser {
            user: Some(user(id, username)),
            clan_id: request.clan_id,
            ..Default::default()
        })
        .collect();
    Ok(api::ClanUserList {
        clan_users,
        clan_id: request.clan_id,
        ..Default::default()
    })
}

fn user(id: i64, username: String) -> api::User {
    api::User {
        id,
        display_name: username.clone(),
        username,
        ..Default::default()
    }
}

fn account(state: &State, user_id: i64) -> api::Account {
    api::Account {
        user: Some(user(user_id, state.username(user_id))),
        ..Default::default()
    }
}

/// Direction of a history page, relative to `message_id`.
const AFTER: i32 = 2;
const AROUND: i32 = 3;
const DEFAULT_PAGE: usize = 50;

/// History, newest first: with `message_id` 0 the latest `limit` messages; otherwise the
/// `limit` messages just before it (direction 1, the default), just after it (direction 2),
/// or around it, the message included (direction 3).
fn list_channel_messages(
    state: &State,
    request: &api::ListChannelMessagesRequest,
) -> Result<api::ChannelMessageList, ApiError> {
    find_channel(state, request.channel_id)?;
    let limit = usize::try_from(request.limit)
        .ok()
        .filter(|&l| l > 0)
        .unwrap_or(DEFAULT_PAGE);
    let all = state.messages(request.channel_id);
    let mut page: Vec<api::ChannelMessage> = if request.message_id == 0 {
        all.iter().rev().take(limit).cloned().collect()
    } else if request.direction == AROUND {
        // Up to half the page before the id, the message itself, and the rest after it.
        let at = all.partition_point(|m| m.message_id < request.message_id);
        let start = at.saturating_sub(limit / 2);
        let mut around: Vec<_> = all.iter().skip(start).take(limit).cloned().collect();
        around.reverse();
        around
    } else if request.direction == AFTER {
        let mut after: Vec<_> = all
            .iter()
            .filter(|m| m.message_id > request.message_id)
            .take(limit)
            .cloned()
            .collect();
        after.reverse();
        after
    } else {
        all.iter()
            .rev()
            .filter(|m| m.message_id < request.message_id)
            .take(limit)
            .cloned()
            .collect()
    };
    page.truncate(limit);
    let header = |m: &api::ChannelMessage| api::ChannelMessageHeader {
        id: m.message_id,
        timestamp_seconds: m.create_time_seconds,
        sender_id: m.sender_id,
        content: m.content.clone(),
    };
    Ok(api::ChannelMessageList {
        last_sent_message: all.last().map(header),
        last_seen_message: None,
        messages: page,
    })
}

/// Message code for an edit and a delete (TypeMessage).
const CODE_EDIT: i32 = 1;
const CODE_DELETE: i32 = 2;

/// Applies an edit and pushes it (code 1) to the channel.
pub(crate) fn update_message(
    state: &mut State,
    caller: Caller,
    update: &realtime::ChannelMessageUpdate,
) -> Result<api::ChannelMessage, ApiError> {
    let channel = find_channel(state, update.channel_id)?;
    let mut edited = state
        .edit_message(
            update.channel_id,
            update.message_id,
            update.content.clone(),
            update.hide_editted,
        )
        .ok_or_else(|| ApiError::NotFound(format!("message {}", update.message_id)))?;
    edited.code = CODE_EDIT;
    let exclude = caller.conn.filter(|_| !state.echo_to_sender);
    state.fan_out(&channel, &edited, exclude);
    Ok(edited)
}

/// Removes a message and pushes the removal (code 2) to the channel.
pub(crate) fn delete_message(
    state: &mut State,
    caller: Caller,
    channel_id: i64,
    message_id: i64,
) -> Result<api::ChannelMessage, ApiError> {
    let channel = find_channel(state, channel_id)?;
    let mut removed = state
        .delete_message(channel_id, message_id)
        .ok_or_else(|| ApiError::NotFound(format!("message {message_id}")))?;
    removed.code = CODE_DELETE;
    let exclude = caller.conn.filter(|_| !state.echo_to_sender);
    state.fan_out(&channel, &removed, exclude);
    Ok(removed)
}
