//! Acting as a human user of the world, so events reach bots with realistic content.

use mezon_proto::api;
use mezon_proto::realtime::{
    ChannelMessageSend, DropdownBoxSelected, MessageButtonClicked, envelope::Message as M,
};

use crate::compose::new_message;
use crate::error::ControlError;
use crate::shared::Shared;
use crate::state::State;
use crate::world::{Channel, dm_channel};

/// A human user of the world; get one from [`TestServer::user`](crate::TestServer::user).
#[derive(Clone, Copy)]
pub struct HumanUser<'a> {
    shared: &'a Shared,
    user_id: i64,
}

impl std::fmt::Debug for HumanUser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HumanUser")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl<'a> HumanUser<'a> {
    pub(crate) fn new(shared: &'a Shared, user_id: i64) -> Self {
        Self { shared, user_id }
    }

    /// The user's id.
    pub fn id(&self) -> i64 {
        self.user_id
    }

    /// The channel, if this user exists, the channel too, and (for a DM) the user is in it.
    fn channel_in(&self, state: &State, channel_id: i64) -> Result<Channel, ControlError> {
        if state.world.find_user(self.user_id).is_none() {
            return Err(ControlError::UnknownUser(self.user_id));
        }
        let channel = state
            .world
            .find_channel(channel_id)
            .cloned()
            .ok_or(ControlError::UnknownChannel(channel_id))?;
        if channel.dm_peer.is_some() && channel.dm_peer != Some(self.user_id) {
            return Err(ControlError::NotParticipant {
                user: self.user_id,
                channel: channel_id,
            });
        }
        Ok(channel)
    }

    /// Sends a plain-text message (content `{"t": text}`) into a channel or DM; every connection
    /// that receives the channel's pushes gets the `channel_message`. Returns the message id.
    pub fn send_message(&self, channel_id: i64, text: &str) -> Result<i64, ControlError> {
        self.send(text_send(channel_id, text)).map(|m| m.message_id)
    }

    /// Replies to a stored message: a plain-text message whose `references` name it.
    pub fn reply(
        &self,
        channel_id: i64,
        message_id: i64,
        text: &str,
    ) -> Result<api::ChannelMessage, ControlError> {
        let referenced = self
            .shared
            .lock()
            .find_message(channel_id, message_id)
            .cloned()
            .ok_or(ControlError::UnknownMessage {
                channel: channel_id,
                message: message_id,
            })?;
        let mut send = text_send(channel_id, text);
        send.references = vec![api::MessageRef {
            message_ref_id: referenced.message_id,
            message_sender_id: referenced.sender_id,
            message_sender_username: referenced.username.clone(),
            message_sender_avatar: referenced.avatar.clone(),
            message_sender_display_name: referenced.display_name.clone(),
            content: referenced.content.clone(),
            ..Default::default()
        }];
        self.send(send)
    }

    /// Sends a plain-text message into this user's DM with the bot, opening the DM first if
    /// there is none (the bot then sees a message in a DM it never listed).
    pub fn send_dm(&self, text: &str) -> Result<i64, ControlError> {
        let dm = self.dm_channel()?;
        self.send_message(dm, text)
    }

    /// This user's DM with the server's bot, created if missing.
    pub fn dm_channel(&self) -> Result<i64, ControlError> {
        let mut state = self.shared.lock();
        let user = state
            .world
            .find_user(self.user_id)
            .cloned()
            .ok_or(ControlError::UnknownUser(self.user_id))?;
        if let Some(dm) = state.world.find_dm(self.user_id) {
            return Ok(dm.id);
        }
        let id = state.next_id();
        state
            .world
            .channels
            .push(dm_channel(id, self.user_id, None, user.username));
        Ok(id)
    }

    /// Reacts to a message with an emoji (`remove = true` takes the reaction back): pushes
    /// `message_reaction_event` to the channel's connections.
    pub fn react(
        &self,
        channel_id: i64,
        message_id: i64,
        emoji_id: i64,
        remove: bool,
    ) -> Result<(), ControlError> {
        self.shared.change(|state| {
            let channel = self.channel_in(state, channel_id)?;
            let message_sender_id = state
                .find_message(channel_id, message_id)
                .map_or(0, |m| m.sender_id);
            let reaction = api::MessageReaction {
                id: state.next_id(),
                emoji_id,
                sender_id: self.user_id,
                action: remove,
                count: 1,
                channel_id,
                message_id,
                clan_id: channel.clan_id,
                mode: channel.stream_mode(),
                message_sender_id,
                is_public: !channel.private,
                ..Default::default()
            };
            state.apply_reaction(&reaction);
            let targets = state.audience(&channel);
            state.push_to_all(&targets, &M::MessageReactionEvent(reaction));
            Ok(())
        })
    }

    /// Sends any message (content JSON, mentions, references, …); returns it as stored.
    pub fn send(&self, mut send: ChannelMessageSend) -> Result<api::ChannelMessage, ControlError> {
        self.shared.change(|state| {
            let channel = self.channel_in(state, send.channel_id)?;
            send.clan_id = channel.clan_id;
            let message = new_message(state, &channel, self.user_id, &send);
            state.store_message(message.clone());
            state.fan_out(&channel, &message, None);
            Ok(message)
        })
    }

    /// Clicks a button of a message: pushes `message_button_clicked` to the channel's
    /// connections. `extra` is the JSON `extra_data` (form values).
    pub fn click_button(
        &self,
        message_id: i64,
        channel_id: i64,
        button_id: &str,
        extra: &str,
    ) -> Result<(), ControlError> {
        self.shared.change(|state| {
            let channel = self.channel_in(state, channel_id)?;
            let click = M::MessageButtonClicked(MessageButtonClicked {
                message_id,
                channel_id,
                button_id: button_id.to_owned(),
                sender_id: message_sender(state, channel_id, message_id),
                user_id: self.user_id,
                extra_data: extra.to_owned(),
            });
            let targets = state.audience(&channel);
            state.push_to_all(&targets, &click);
            Ok(())
        })
    }

    /// Picks options of a select of a message: pushes `dropdown_box_selected` to the
    /// channel's connections.
    pub fn select_option(
        &self,
        message_id: i64,
        channel_id: i64,
        selectbox_id: &str,
        values: &[String],
    ) -> Result<(), ControlError> {
        self.shared.change(|state| {
            let channel = self.channel_in(state, channel_id)?;
            let selected = M::DropdownBoxSelected(DropdownBoxSelected {
                message_id,
                channel_id,
                selectbox_id: selectbox_id.to_owned(),
                sender_id: message_sender(state, channel_id, message_id),
                user_id: self.user_id,
                values: values.to_vec(),
            });
            let targets = state.audience(&channel);
            state.push_to_all(&targets, &selected);
            Ok(())
        })
    }
}

/// The sender of the stored message (the bot's when unknown: components are the bot's).
fn message_sender(state: &State, channel_id: i64, message_id: i64) -> i64 {
    state
        .find_message(channel_id, message_id)
        .map_or(state.config.bot_id, |m| m.sender_id)
}

fn text_send(channel_id: i64, text: &str) -> ChannelMessageSend {
    ChannelMessageSend {
        channel_id,
        content: serde_json::json!({ "t": text }).to_string(),
        ..Default::default()
    }
}
