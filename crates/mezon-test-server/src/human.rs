//! Acting as a human user of the world, so events reach bots with realistic content.

use mezon_proto::api;
use mezon_proto::realtime::{ChannelMessageSend, MessageButtonClicked, envelope::Message as M};

use crate::compose::new_message;
use crate::error::ControlError;
use crate::server::TestServer;
use crate::state::State;
use crate::world::Channel;

/// A human user of the world; get one from [`TestServer::user`].
#[derive(Debug, Clone, Copy)]
pub struct HumanUser<'a> {
    server: &'a TestServer,
    user_id: i64,
}

impl<'a> HumanUser<'a> {
    pub(crate) fn new(server: &'a TestServer, user_id: i64) -> Self {
        Self { server, user_id }
    }

    /// The user's id.
    pub fn id(&self) -> i64 {
        self.user_id
    }

    /// The channel, if this user exists and the channel too.
    fn channel_in(&self, state: &State, channel_id: i64) -> Result<Channel, ControlError> {
        if state.world.find_user(self.user_id).is_none() {
            return Err(ControlError::UnknownUser(self.user_id));
        }
        state
            .world
            .find_channel(channel_id)
            .cloned()
            .ok_or(ControlError::UnknownChannel(channel_id))
    }

    /// Sends a plain-text message (content `{"t": text}`) into a channel or DM; every connection
    /// that receives the channel's pushes gets the `channel_message`. Returns the message id.
    pub fn send_message(&self, channel_id: i64, text: &str) -> Result<i64, ControlError> {
        let content = serde_json::json!({ "t": text }).to_string();
        self.send(ChannelMessageSend {
            channel_id,
            content,
            ..Default::default()
        })
        .map(|m| m.message_id)
    }

    /// Sends a plain-text message into this user's DM with the bot.
    pub fn send_dm(&self, text: &str) -> Result<i64, ControlError> {
        let dm = self
            .server
            .shared()
            .lock()
            .world
            .find_dm(self.user_id)
            .map(|c| c.id)
            .ok_or(ControlError::NoDm(self.user_id))?;
        self.send_message(dm, text)
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
        let mut state = self.server.shared().lock();
        let channel = self.channel_in(&state, channel_id)?;
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
    }

    /// Sends any message (content JSON, mentions, references, …); returns it as stored.
    pub fn send(&self, mut send: ChannelMessageSend) -> Result<api::ChannelMessage, ControlError> {
        let mut state = self.server.shared().lock();
        let channel = self.channel_in(&state, send.channel_id)?;
        send.clan_id = channel.clan_id;
        let message = new_message(&mut state, &channel, self.user_id, &send);
        state.store_message(message.clone());
        state.fan_out(&channel, &message, None);
        drop(state);
        // Wakes `wait_for_message`.
        self.server.shared().notify();
        Ok(message)
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
        let mut state = self.server.shared().lock();
        let channel = self.channel_in(&state, channel_id)?;
        let sender_id = state
            .find_message(channel_id, message_id)
            .map_or(state.config.bot_id, |m| m.sender_id);
        let click = M::MessageButtonClicked(MessageButtonClicked {
            message_id,
            channel_id,
            button_id: button_id.to_owned(),
            sender_id,
            user_id: self.user_id,
            extra_data: extra.to_owned(),
        });
        let targets = state.audience(&channel);
        state.push_to_all(&targets, &click);
        Ok(())
    }
}
