//! Handles on clans, channels, messages and users: data from the caches (or the API on a
//! miss) plus the operations that make sense on each.

use mezon_events::Payload;
use mezon_proto::api::{
    self, ListChannelDescsRequest, ListChannelDetailRequest, ListClanDescRequest,
};
use mezon_transport::api::methods;

use crate::client::Client;
use mezon_events::ChannelMessageExt as _;
use mezon_events::content::MessageContent;

use crate::error::{Error, Result};

/// `ListChannelMessagesRequest.direction` for the messages around an id, the id included.
const AROUND: i32 = 3;
/// How many messages a lookup by id asks for (its neighbours are cached too).
const AROUND_PAGE: i32 = 20;
use crate::modes::ChannelType;
use crate::outgoing::{Destination, OutgoingMessage, Reaction};

/// A message: a received one (handed to `on_channel_message` handlers) or one the bot sent.
#[derive(Clone)]
pub struct Message {
    client: Client,
    raw: Payload<api::ChannelMessage>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.raw.message_id)
            .field("channel_id", &self.raw.channel_id)
            .field("sender_id", &self.raw.sender_id)
            .finish_non_exhaustive()
    }
}

impl Message {
    pub(crate) fn new(client: Client, raw: Payload<api::ChannelMessage>) -> Self {
        Self { client, raw }
    }

    pub(crate) fn from_proto(client: Client, raw: api::ChannelMessage) -> Self {
        Self::new(client, Payload::new(raw))
    }

    /// The protocol message.
    pub fn raw(&self) -> &api::ChannelMessage {
        &self.raw
    }

    /// The message id.
    pub fn id(&self) -> i64 {
        self.raw.message_id
    }

    /// The channel id.
    pub fn channel_id(&self) -> i64 {
        self.raw.channel_id
    }

    /// The clan id (0 for DMs and groups).
    pub fn clan_id(&self) -> i64 {
        self.raw.clan_id
    }

    /// The author's user id.
    pub fn sender_id(&self) -> i64 {
        self.raw.sender_id
    }

    /// The author's username.
    pub fn username(&self) -> &str {
        &self.raw.username
    }

    /// What the message is (chat, buzz, token receipt…).
    pub fn code(&self) -> crate::outgoing::MessageCode {
        crate::outgoing::MessageCode::from_i32(self.raw.code)
    }

    /// The topic (message thread) the message belongs to, 0 if none.
    pub fn topic_id(&self) -> i64 {
        self.raw.topic_id
    }

    /// The parsed content, with the message's mentions attached. Content that is not the
    /// JSON object the protocol specifies is taken as plain text.
    pub fn content(&self) -> MessageContent {
        self.raw.content().unwrap_or_else(|error| {
            tracing::debug!(%error, message_id = self.raw.message_id, "content is not JSON; using it as text");
            let mut content = MessageContent::text(&self.raw.content);
            content.mentions = self.mentions();
            content
        })
    }

    /// The plain text of the content.
    pub fn text(&self) -> String {
        self.content().as_text().to_owned()
    }

    /// The mentions, decoded (empty if they do not decode).
    pub fn mentions(&self) -> Vec<api::MessageMention> {
        self.raw.mentions().unwrap_or_default()
    }

    /// Whether the bot is mentioned.
    pub fn mentions_bot(&self) -> bool {
        let me = self.client.user_id();
        self.mentions().iter().any(|m| m.user_id == me)
    }

    /// The attachments, decoded (empty if they do not decode).
    pub fn attachments(&self) -> Vec<api::MessageAttachment> {
        self.raw.attachments().unwrap_or_default()
    }

    /// What this message replies to, decoded (empty if they do not decode).
    pub fn references(&self) -> Vec<api::MessageRef> {
        self.raw.references().unwrap_or_default()
    }

    /// Where the message lives (a destination for sending there).
    pub fn destination(&self) -> Destination {
        let cached = self.client.inner.state.channels.get(self.raw.channel_id);
        match cached {
            Some(ch) => Destination::new(
                self.raw.clan_id,
                ch.channel_id,
                ChannelType::from_i32(ch.r#type),
                ch.channel_private == 0,
            ),
            None => Destination::of_message(&self.raw),
        }
    }

    /// Replies in the same channel (and topic), referencing this message.
    pub async fn reply(&self, message: impl Into<OutgoingMessage>) -> Result<Message> {
        let mut out = message.into().reply_to(&self.raw);
        if self.raw.topic_id != 0 {
            out = out.topic(self.raw.topic_id);
        }
        self.client.send(self.destination(), out).await
    }

    /// Sends a message in the same channel, without a reference.
    pub async fn respond(&self, message: impl Into<OutgoingMessage>) -> Result<Message> {
        self.client.send(self.destination(), message).await
    }

    /// Replaces the content (the bot's own messages only).
    pub async fn edit(&self, message: impl Into<OutgoingMessage>) -> Result<()> {
        self.client
            .edit_message(self.destination(), self.raw.message_id, message)
            .await
    }

    /// Deletes the message.
    pub async fn delete(&self) -> Result<()> {
        self.client
            .delete_message(self.destination(), self.raw.message_id)
            .await
    }

    /// Reacts with an emoji.
    pub async fn react(&self, reaction: impl Into<Reaction>) -> Result<()> {
        self.client
            .react(
                self.destination(),
                self.raw.message_id,
                self.raw.sender_id,
                reaction,
            )
            .await
    }

    /// Removes the bot's reaction.
    pub async fn unreact(&self, reaction: impl Into<Reaction>) -> Result<()> {
        self.client
            .unreact(
                self.destination(),
                self.raw.message_id,
                self.raw.sender_id,
                reaction,
            )
            .await
    }

    /// Pins the message.
    pub async fn pin(&self) -> Result<()> {
        self.client
            .pin(self.destination(), self.raw.message_id)
            .await?;
        Ok(())
    }

    /// Unpins the message.
    pub async fn unpin(&self) -> Result<()> {
        self.client
            .unpin(self.destination(), self.raw.message_id)
            .await
    }

    /// Marks the channel read up to this message.
    pub async fn mark_read(&self) -> Result<()> {
        self.client
            .mark_read(self.destination(), self.raw.message_id)
            .await
    }

    /// The channel it was posted in.
    pub async fn channel(&self) -> Result<Channel> {
        match self.client.channel(self.raw.channel_id).await {
            Ok(ch) => Ok(ch),
            // DMs and threads may not be listable; describe them from the message.
            Err(_) => {
                let d = self.destination();
                Ok(Channel::from_proto(
                    self.client.clone(),
                    api::ChannelDescription {
                        clan_id: d.clan_id,
                        channel_id: d.channel_id,
                        r#type: d.channel_type.as_i32(),
                        channel_private: i32::from(!d.is_public),
                        channel_label: self.raw.channel_label.clone(),
                        ..api::ChannelDescription::default()
                    },
                ))
            }
        }
    }

    /// The author.
    pub fn author(&self) -> User {
        self.client.user(self.raw.sender_id)
    }
}

/// A channel, thread or DM.
#[derive(Clone)]
pub struct Channel {
    client: Client,
    desc: api::ChannelDescription,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("id", &self.desc.channel_id)
            .field("clan_id", &self.desc.clan_id)
            .field("label", &self.desc.channel_label)
            .field("type", &self.desc.r#type)
            .finish()
    }
}

impl Channel {
    pub(crate) fn from_proto(client: Client, desc: api::ChannelDescription) -> Self {
        Self { client, desc }
    }

    /// The protocol description.
    pub fn raw(&self) -> &api::ChannelDescription {
        &self.desc
    }

    /// The channel id.
    pub fn id(&self) -> i64 {
        self.desc.channel_id
    }

    /// The clan id (0 for DMs and groups).
    pub fn clan_id(&self) -> i64 {
        self.desc.clan_id
    }

    /// The label.
    pub fn name(&self) -> &str {
        &self.desc.channel_label
    }

    /// The type.
    pub fn channel_type(&self) -> ChannelType {
        ChannelType::from_i32(self.desc.r#type)
    }

    /// Whether the channel is private.
    pub fn is_private(&self) -> bool {
        self.desc.channel_private != 0
    }

    /// Where to send.
    pub fn destination(&self) -> Destination {
        Destination::new(
            self.desc.clan_id,
            self.desc.channel_id,
            self.channel_type(),
            !self.is_private(),
        )
    }

    /// Sends a message.
    pub async fn send(&self, message: impl Into<OutgoingMessage>) -> Result<Message> {
        self.client.send(self.destination(), message).await
    }

    /// Sends a message only `receivers` see.
    pub async fn send_ephemeral(
        &self,
        receivers: &[i64],
        message: impl Into<OutgoingMessage>,
    ) -> Result<Option<api::ChannelMessage>> {
        self.client
            .send_ephemeral(self.destination(), receivers, message)
            .await
    }

    /// Shows the typing indicator.
    pub async fn typing(&self) -> Result<()> {
        self.client.send_typing(self.destination()).await
    }

    /// Joins the channel (private channels, threads, DMs).
    pub async fn join(&self) -> Result<()> {
        self.client.join_channel(self.destination()).await
    }

    /// The message `message_id` of this channel: from the cache, else from the API (see
    /// [`Client::message`]).
    pub async fn message(&self, message_id: i64) -> Result<Message> {
        self.client
            .fetch_message(self.desc.clan_id, self.desc.channel_id, message_id)
            .await
    }

    /// Leaves the channel (`channel_leave`); the client no longer rejoins it after a reconnect.
    pub async fn leave(&self) -> Result<()> {
        self.client.leave_channel(self.destination()).await
    }

    /// Recent messages, newest first (`ListChannelMessages`).
    pub async fn messages(&self, limit: i32) -> Result<Vec<api::ChannelMessage>> {
        let list = self
            .client
            .handle()?
            .call::<methods::ListChannelMessages>(api::ListChannelMessagesRequest {
                clan_id: self.desc.clan_id,
                channel_id: self.desc.channel_id,
                limit,
                ..api::ListChannelMessagesRequest::default()
            })
            .await?;
        Ok(list.messages)
    }
}

/// A clan.
#[derive(Clone)]
pub struct Clan {
    client: Client,
    desc: api::ClanDesc,
}

impl std::fmt::Debug for Clan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clan")
            .field("id", &self.desc.clan_id)
            .field("name", &self.desc.clan_name)
            .finish()
    }
}

impl Clan {
    /// The protocol description.
    pub fn raw(&self) -> &api::ClanDesc {
        &self.desc
    }

    /// The clan id.
    pub fn id(&self) -> i64 {
        self.desc.clan_id
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.desc.clan_name
    }

    /// The clan's text channels (`ListChannelDescs`), cached.
    pub async fn channels(&self) -> Result<Vec<Channel>> {
        let list = self
            .client
            .handle()?
            .call::<methods::ListChannelDescs>(ListChannelDescsRequest {
                clan_id: self.desc.clan_id,
                channel_type: ChannelType::Text.as_i32(),
                ..ListChannelDescsRequest::default()
            })
            .await?;
        Ok(list
            .channeldesc
            .into_iter()
            .map(|desc| {
                self.client.inner.state.put_channel(desc.clone());
                Channel::from_proto(self.client.clone(), desc)
            })
            .collect())
    }

    /// The clan's roles (`ListRoles`).
    pub async fn roles(&self) -> Result<api::RoleListEventResponse> {
        Ok(self
            .client
            .handle()?
            .call::<methods::ListRoles>(api::RoleListEventRequest {
                clan_id: self.desc.clan_id,
                ..api::RoleListEventRequest::default()
            })
            .await?)
    }

    /// The clan's members (`ListClanUsers`); they are cached as users.
    pub async fn members(&self) -> Result<Vec<User>> {
        let list = self
            .client
            .handle()?
            .call::<methods::ListClanUsers>(api::ListClanUsersRequest {
                clan_id: self.desc.clan_id,
            })
            .await?;
        Ok(list
            .clan_users
            .into_iter()
            .filter_map(|cu| cu.user)
            .map(|u| {
                self.client.inner.state.users.put(u.id, u.clone());
                User {
                    client: self.client.clone(),
                    user: u,
                }
            })
            .collect())
    }
}

/// A user.
#[derive(Clone)]
pub struct User {
    client: Client,
    user: api::User,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.user.id)
            .field("username", &self.user.username)
            .finish()
    }
}

impl User {
    /// What is known about the user (only the id when never seen).
    pub fn raw(&self) -> &api::User {
        &self.user
    }

    /// The user id.
    pub fn id(&self) -> i64 {
        self.user.id
    }

    /// The username, if known.
    pub fn username(&self) -> &str {
        &self.user.username
    }

    /// The display name, if known.
    pub fn display_name(&self) -> &str {
        &self.user.display_name
    }

    /// Sends a direct message, creating the DM channel when needed.
    pub async fn send_dm(&self, message: impl Into<OutgoingMessage>) -> Result<Message> {
        self.client.send_dm(self.user.id, message).await
    }

    /// Sends this user `amount` whole tokens (see [`Client::send_tokens`]); returns the
    /// transaction hash.
    pub async fn send_tokens(&self, amount: mezon_mmn::TokenAmount, note: &str) -> Result<String> {
        self.client.send_tokens(self.user.id, amount, note).await
    }

    /// The DM channel with this user (created and joined when needed).
    pub async fn dm_channel(&self) -> Result<Channel> {
        self.client.dm_channel(self.user.id).await
    }
}

impl Client {
    /// A channel by id: from the cache, else `ListChannelDetail` (concurrent misses for one
    /// id make one call).
    pub async fn channel(&self, channel_id: i64) -> Result<Channel> {
        let state = self.inner.state.clone();
        let desc = state
            .channel_flights
            .get(
                channel_id,
                || state.channels.get(channel_id),
                || async {
                    let desc = self
                        .handle()?
                        .call::<methods::ListChannelDetail>(ListChannelDetailRequest { channel_id })
                        .await?;
                    if desc.channel_id == 0 {
                        return Err(Error::NotFound {
                            what: "channel",
                            id: channel_id,
                        });
                    }
                    Ok(desc)
                },
                |desc| state.put_channel(desc.clone()),
            )
            .await?;
        Ok(Channel::from_proto(self.clone(), desc))
    }

    /// The message `message_id` of channel `channel_id`: from the cache (messages seen or sent
    /// since login), else from the API (`ListChannelMessages` around that id). Concurrent
    /// misses for one message make one call; a message the server does not return is
    /// [`Error::NotFound`].
    ///
    /// ```no_run
    /// # async fn demo(client: mezon::Client) -> Result<(), mezon::Error> {
    /// let msg = client.message(1_840_000_000_000_000_001, 1_850_000_000_000_000_042).await?;
    /// msg.reply("found you").await?;
    /// # Ok(()) }
    /// ```
    pub async fn message(&self, channel_id: i64, message_id: i64) -> Result<Message> {
        let clan_id = self
            .inner
            .state
            .channels
            .get(channel_id)
            .map_or(0, |c| c.clan_id);
        self.fetch_message(clan_id, channel_id, message_id).await
    }

    async fn fetch_message(
        &self,
        clan_id: i64,
        channel_id: i64,
        message_id: i64,
    ) -> Result<Message> {
        let state = self.inner.state.clone();
        let cached = || {
            state
                .messages
                .get(message_id)
                .filter(|m| m.channel_id == channel_id)
        };
        let raw = self
            .inner
            .message_flights
            .get(
                message_id,
                cached,
                || async {
                    let list = self
                        .handle()?
                        .call::<methods::ListChannelMessages>(api::ListChannelMessagesRequest {
                            clan_id,
                            channel_id,
                            message_id,
                            direction: AROUND,
                            limit: AROUND_PAGE,
                            ..api::ListChannelMessagesRequest::default()
                        })
                        .await?;
                    let mut found = None;
                    for m in list.messages {
                        let m = std::sync::Arc::new(m);
                        if m.message_id == message_id {
                            found = Some(std::sync::Arc::clone(&m));
                        }
                        state.on_message_shared(&m);
                    }
                    found.ok_or(Error::NotFound {
                        what: "message",
                        id: message_id,
                    })
                },
                |_| {},
            )
            .await?;
        Ok(Message::new(self.clone(), Payload::from_arc(raw)))
    }

    /// A clan by id: from the cache, else the clan list is fetched again.
    pub async fn clan(&self, clan_id: i64) -> Result<Clan> {
        let state = self.inner.state.clone();
        let desc = state
            .clan_flights
            .get(
                clan_id,
                || state.clans.get(clan_id),
                || async {
                    let list = self
                        .handle()?
                        .call::<methods::ListClanDescs>(ListClanDescRequest::default())
                        .await?;
                    let mut found = None;
                    for clan in list.clandesc {
                        if clan.clan_id == clan_id {
                            found = Some(clan.clone());
                        }
                        state.clans.put(clan.clan_id, clan);
                    }
                    found.ok_or(Error::NotFound {
                        what: "clan",
                        id: clan_id,
                    })
                },
                |_| {},
            )
            .await?;
        Ok(Clan {
            client: self.clone(),
            desc,
        })
    }

    /// The clans the bot is in, as cached since login.
    pub fn clans(&self) -> Vec<Clan> {
        self.inner
            .state
            .clans
            .values()
            .into_iter()
            .map(|desc| Clan {
                client: self.clone(),
                desc,
            })
            .collect()
    }

    /// A user by id, from the cache (users are learnt from messages and member lists); a
    /// user never seen yet has only its id, which is enough to DM them.
    pub fn user(&self, user_id: i64) -> User {
        let user = self.inner.state.users.get(user_id).unwrap_or(api::User {
            id: user_id,
            ..api::User::default()
        });
        User {
            client: self.clone(),
            user,
        }
    }
}

impl Client {
    /// A [`Message`] handle for a `channel_message` event (for bots that read
    /// [`Client::events`]); `None` for other events.
    pub fn message_of(&self, event: &mezon_events::Event) -> Option<Message> {
        match event {
            mezon_events::Event::ChannelMessage(raw) => Some(Message::new(
                self.clone(),
                Payload::from_arc(std::sync::Arc::clone(raw)),
            )),
            _ => None,
        }
    }
}
