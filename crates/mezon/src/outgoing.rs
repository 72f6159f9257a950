//! Pure builders of the request messages the client sends (wire.md §3.3, §6). No I/O here,
//! so every field choice is unit-tested.

use mezon_proto::api::{self, MessageAttachment, MessageRef};
use mezon_proto::realtime::{
    ChannelJoin, ChannelMessageRemove, ChannelMessageSend, ChannelMessageUpdate,
    EphemeralMessageSend, LastSeenMessageEvent, MessageTypingEvent,
};

use mezon_events::ChannelMessageExt as _;
use mezon_events::content::{ActionRow, Embed, MessageContent};

use crate::modes::{ChannelType, StreamMode};

/// What a message is (`ChannelMessage.code`, the platform's TypeMessage): a chat message, a
/// buzz, a token receipt… Set it on a send with [`OutgoingMessage::code`]; read it from a
/// received message with [`Message::code`](crate::Message::code).
///
/// ```
/// use mezon::{MessageCode, OutgoingMessage};
/// let buzz = OutgoingMessage::from("wake up!").code(MessageCode::Buzz);
/// assert_eq!(MessageCode::Buzz.as_i32(), 8);
/// assert_eq!(MessageCode::from_i32(11), MessageCode::SendToken);
/// # let _ = buzz;
/// ```
pub use mezon_events::message::MessageType as MessageCode;

/// Where a message goes: the clan, the channel and what kind of channel it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Destination {
    /// The clan (0 for DMs and groups).
    pub clan_id: i64,
    /// The channel.
    pub channel_id: i64,
    /// The channel's type, which decides the stream mode.
    pub channel_type: ChannelType,
    /// Whether the channel is public (`!channel_private`).
    pub is_public: bool,
}

impl Destination {
    /// A destination.
    pub fn new(clan_id: i64, channel_id: i64, channel_type: ChannelType, is_public: bool) -> Self {
        Self {
            clan_id,
            channel_id,
            channel_type,
            is_public,
        }
    }

    /// The DM channel `channel_id` (clan 0, private).
    pub fn dm(channel_id: i64) -> Self {
        Self::new(0, channel_id, ChannelType::Dm, false)
    }

    /// The stream mode of messages here.
    pub fn mode(&self) -> StreamMode {
        self.channel_type.stream_mode()
    }

    /// Where a received message lives, read from the message itself (its mode gives the type).
    pub fn of_message(msg: &api::ChannelMessage) -> Self {
        Self {
            clan_id: msg.clan_id,
            channel_id: msg.channel_id,
            channel_type: ChannelType::for_join(StreamMode::from_i32(msg.mode)),
            is_public: msg.is_public,
        }
    }

    /// The `channel_join` that opens this channel.
    pub fn join(&self) -> ChannelJoin {
        ChannelJoin {
            clan_id: self.clan_id,
            channel_id: self.channel_id,
            channel_type: self.channel_type.as_i32(),
            is_public: self.is_public,
        }
    }
}

/// An attachment referenced by URL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[must_use]
#[non_exhaustive]
pub struct Attachment {
    /// Where the file is.
    pub url: String,
    /// File name shown to users.
    pub filename: String,
    /// MIME type, e.g. `image/png`.
    pub filetype: String,
    /// Size in bytes, when known.
    pub size: i32,
    /// Width in pixels (images, videos).
    pub width: i32,
    /// Height in pixels (images, videos).
    pub height: i32,
}

impl Attachment {
    /// An attachment at `url`; the file name is the last path segment.
    pub fn url(url: impl Into<String>) -> Self {
        let url = url.into();
        let filename = url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_owned();
        Self {
            url,
            filename,
            ..Self::default()
        }
    }

    /// Sets the MIME type.
    pub fn filetype(mut self, filetype: impl Into<String>) -> Self {
        self.filetype = filetype.into();
        self
    }

    /// Sets the pixel size.
    pub fn dimensions(mut self, width: i32, height: i32) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    /// The protocol form.
    pub fn to_proto(&self) -> MessageAttachment {
        MessageAttachment {
            filename: self.filename.clone(),
            size: self.size,
            url: self.url.clone(),
            filetype: self.filetype.clone(),
            width: self.width,
            height: self.height,
            ..MessageAttachment::default()
        }
    }
}

/// A message to send: content plus options.
///
/// ```
/// use mezon::{MessageContent, OutgoingMessage, Attachment};
/// let msg = OutgoingMessage::new(MessageContent::text("look"))
///     .attachment(Attachment::url("https://example.com/cat.png"))
///     .mention_everyone();
/// # let _ = msg;
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct OutgoingMessage {
    content: MessageContent,
    attachments: Vec<Attachment>,
    references: Vec<MessageRef>,
    anonymous: bool,
    mention_everyone: bool,
    topic_id: i64,
    avatar: String,
    code: MessageCode,
}

impl OutgoingMessage {
    /// A message with `content`.
    pub fn new(content: MessageContent) -> Self {
        Self {
            content,
            ..Self::default()
        }
    }

    /// Adds an embed to the content.
    pub fn embed(mut self, embed: impl Into<Embed>) -> Self {
        self.content.embed.push(embed.into());
        self
    }

    /// Adds a row of components (buttons, selects…) to the content.
    pub fn action_row(mut self, row: impl Into<ActionRow>) -> Self {
        self.content.components.push(row.into());
        self
    }

    /// Adds an attachment.
    pub fn attachment(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Sends without showing the bot as the author.
    pub fn anonymous(mut self) -> Self {
        self.anonymous = true;
        self
    }

    /// Notifies everyone in the channel.
    pub fn mention_everyone(mut self) -> Self {
        self.mention_everyone = true;
        self
    }

    /// Posts into the topic (message thread) `topic_id`.
    pub fn topic(mut self, topic_id: i64) -> Self {
        self.topic_id = topic_id;
        self
    }

    /// Sets what the message is (default [`MessageCode::Chat`]), e.g. [`MessageCode::Buzz`].
    pub fn code(mut self, code: MessageCode) -> Self {
        self.code = code;
        self
    }

    /// Sets the avatar URL shown with the message.
    pub fn avatar(mut self, url: impl Into<String>) -> Self {
        self.avatar = url.into();
        self
    }

    /// Makes this a reply to `original`.
    pub fn reply_to(mut self, original: &api::ChannelMessage) -> Self {
        self.references = vec![reply_reference(original)];
        self
    }

    /// The content.
    pub fn content(&self) -> &MessageContent {
        &self.content
    }

    /// The `channel_message_send` for `dest`.
    pub fn to_send(&self, dest: &Destination) -> ChannelMessageSend {
        ChannelMessageSend {
            clan_id: dest.clan_id,
            channel_id: dest.channel_id,
            content: self.content.to_json_string(),
            mentions: self.content.mentions.clone(),
            attachments: self.attachments.iter().map(Attachment::to_proto).collect(),
            references: self.references.clone(),
            mode: dest.mode().as_i32(),
            anonymous_message: self.anonymous,
            mention_everyone: self.mention_everyone,
            avatar: self.avatar.clone(),
            is_public: dest.is_public,
            code: self.code.as_i32(),
            topic_id: self.topic_id,
            id: 0,
        }
    }

    /// The `channel_message_update` replacing message `message_id` at `dest` with this content.
    pub fn to_update(&self, dest: &Destination, message_id: i64) -> ChannelMessageUpdate {
        ChannelMessageUpdate {
            clan_id: dest.clan_id,
            channel_id: dest.channel_id,
            message_id,
            content: self.content.to_json_string(),
            mentions: self.content.mentions.clone(),
            attachments: self.attachments.iter().map(Attachment::to_proto).collect(),
            mode: dest.mode().as_i32(),
            is_public: dest.is_public,
            topic_id: self.topic_id,
            ..ChannelMessageUpdate::default()
        }
    }
}

impl From<MessageContent> for OutgoingMessage {
    fn from(content: MessageContent) -> Self {
        Self::new(content)
    }
}

impl From<&str> for OutgoingMessage {
    fn from(text: &str) -> Self {
        Self::new(MessageContent::text(text))
    }
}

impl From<String> for OutgoingMessage {
    fn from(text: String) -> Self {
        Self::new(MessageContent::text(text))
    }
}

impl From<&String> for OutgoingMessage {
    fn from(text: &String) -> Self {
        Self::new(MessageContent::text(text))
    }
}

/// The reference a reply carries, built from the message replied to.
pub fn reply_reference(original: &api::ChannelMessage) -> MessageRef {
    MessageRef {
        message_ref_id: original.message_id,
        message_sender_id: original.sender_id,
        message_sender_username: original.username.clone(),
        message_sender_avatar: original.avatar.clone(),
        message_sender_clan_nick: original.clan_nick.clone(),
        message_sender_display_name: original.display_name.clone(),
        content: original.content.clone(),
        has_attachment: original.attachments().is_ok_and(|a| !a.is_empty()),
        ..MessageRef::default()
    }
}

/// The `channel_message_remove` deleting `message_id` at `dest`.
pub fn remove(dest: &Destination, message_id: i64, topic_id: i64) -> ChannelMessageRemove {
    ChannelMessageRemove {
        clan_id: dest.clan_id,
        channel_id: dest.channel_id,
        message_id,
        mode: dest.mode().as_i32(),
        is_public: dest.is_public,
        topic_id,
        ..ChannelMessageRemove::default()
    }
}

/// Which ephemeral operation to perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EphemeralOp {
    /// Send a new ephemeral message.
    Send,
    /// Replace the ephemeral message with this id.
    Update(i64),
    /// Delete the ephemeral message with this id.
    Delete(i64),
}

/// The `ephemeral_message_send` for `op`, seen only by `receivers`.
pub fn ephemeral(
    dest: &Destination,
    message: &OutgoingMessage,
    receivers: &[i64],
    op: EphemeralOp,
) -> EphemeralMessageSend {
    let mut send = message.to_send(dest);
    let (code, id) = match op {
        EphemeralOp::Send => (MessageCode::Ephemeral, 0),
        EphemeralOp::Update(id) => (MessageCode::UpdateEphemeral, id),
        EphemeralOp::Delete(id) => (MessageCode::DeleteEphemeral, id),
    };
    send.code = code.as_i32();
    send.id = id;
    EphemeralMessageSend {
        message: Some(send),
        receiver_ids: receivers.to_vec(),
    }
}

/// An emoji to react with, and how many times (the platform lets one user add the same
/// emoji several times at once; default 1).
///
/// ```
/// use mezon::Reaction;
/// let three_cheers = Reaction::unicode("🎉").count(3);
/// assert_eq!(three_cheers.times(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Reaction {
    emoji_id: i64,
    emoji: String,
    count: i32,
}

impl Reaction {
    /// A unicode emoji.
    pub fn unicode(emoji: impl Into<String>) -> Self {
        Self::custom(0, emoji)
    }

    /// A custom clan emoji.
    pub fn custom(emoji_id: i64, shortname: impl Into<String>) -> Self {
        Self {
            emoji_id,
            emoji: shortname.into(),
            count: 1,
        }
    }

    /// Reacts `count` times at once (at least 1).
    pub fn count(mut self, count: i32) -> Self {
        self.count = count.max(1);
        self
    }

    /// The emoji id (0 for a plain unicode emoji).
    pub fn emoji_id(&self) -> i64 {
        self.emoji_id
    }

    /// The emoji text or shortname.
    pub fn emoji(&self) -> &str {
        &self.emoji
    }

    /// How many times.
    pub fn times(&self) -> i32 {
        self.count
    }
}

impl From<&str> for Reaction {
    fn from(emoji: &str) -> Self {
        Self::unicode(emoji)
    }
}

/// The `message_reaction_event` adding (or, with `remove`, removing) `reaction` on a message.
pub fn reaction(
    dest: &Destination,
    message_id: i64,
    message_sender_id: i64,
    reaction: &Reaction,
    remove: bool,
) -> api::MessageReaction {
    api::MessageReaction {
        emoji_id: reaction.emoji_id,
        emoji: reaction.emoji.clone(),
        action: remove,
        count: reaction.count,
        channel_id: dest.channel_id,
        message_id,
        clan_id: dest.clan_id,
        mode: dest.mode().as_i32(),
        message_sender_id,
        is_public: dest.is_public,
        ..api::MessageReaction::default()
    }
}

/// The typing indicator for `dest`.
pub fn typing(dest: &Destination) -> MessageTypingEvent {
    MessageTypingEvent {
        clan_id: dest.clan_id,
        channel_id: dest.channel_id,
        mode: dest.mode().as_i32(),
        is_public: dest.is_public,
        ..MessageTypingEvent::default()
    }
}

/// The `last_seen_message_event` marking `message_id` as read.
pub fn mark_read(dest: &Destination, message_id: i64, now_seconds: u32) -> LastSeenMessageEvent {
    LastSeenMessageEvent {
        clan_id: dest.clan_id,
        channel_id: dest.channel_id,
        message_id,
        mode: dest.mode().as_i32(),
        timestamp_seconds: now_seconds,
        badge_count: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use prost::Message as _;

    fn text_channel() -> Destination {
        Destination::new(10, 20, ChannelType::Text, true)
    }

    #[test]
    fn send_carries_mode_mentions_and_flags() {
        let msg = OutgoingMessage::new(MessageContent::text("hi ").mention(7, "al"))
            .attachment(Attachment::url("https://h/a/cat.png?x=1").filetype("image/png"))
            .anonymous()
            .mention_everyone()
            .topic(99);
        let send = msg.to_send(&Destination::new(10, 30, ChannelType::Thread, false));
        assert_eq!(send.mode, 6);
        assert_eq!(
            (send.clan_id, send.channel_id, send.is_public),
            (10, 30, false)
        );
        assert_eq!(send.mentions[0].user_id, 7);
        assert_eq!((send.mentions[0].s, send.mentions[0].e), (3, 6));
        assert_eq!(send.attachments[0].filename, "cat.png");
        assert!(send.anonymous_message && send.mention_everyone);
        assert_eq!(send.topic_id, 99);
        assert_eq!(send.code, 0);
        let content: serde_json::Value = serde_json::from_str(&send.content).unwrap();
        assert_eq!(content["t"], "hi @al");
    }

    #[test]
    fn dm_destination_uses_clan_zero_and_mode_four() {
        let send = OutgoingMessage::from("yo").to_send(&Destination::dm(5));
        assert_eq!((send.clan_id, send.mode, send.is_public), (0, 4, false));
        assert_eq!(Destination::dm(5).join().channel_type, 3);
    }

    #[test]
    fn reply_reference_is_built_from_the_original() {
        let attachments = api::MessageAttachmentList {
            attachments: vec![api::MessageAttachment::default()],
        };
        let original = api::ChannelMessage {
            message_id: 111,
            sender_id: 222,
            username: "alice".into(),
            content: r#"{"t":"hello"}"#.into(),
            attachments: Bytes::from(attachments.encode_to_vec()),
            ..Default::default()
        };
        let send = OutgoingMessage::from("hi")
            .reply_to(&original)
            .to_send(&text_channel());
        let r = &send.references[0];
        assert_eq!(r.message_ref_id, 111);
        assert_eq!(r.message_sender_id, 222);
        assert_eq!(r.message_sender_username, "alice");
        assert_eq!(r.content, original.content);
        assert!(r.has_attachment);
    }

    #[test]
    fn ephemeral_codes_and_ids() {
        let m = OutgoingMessage::from("secret");
        let d = text_channel();
        let send = ephemeral(&d, &m, &[1, 2], EphemeralOp::Send);
        assert_eq!(send.receiver_ids, vec![1, 2]);
        assert_eq!(send.message.as_ref().map(|m| (m.code, m.id)), Some((12, 0)));
        let upd = ephemeral(&d, &m, &[1], EphemeralOp::Update(77));
        assert_eq!(upd.message.as_ref().map(|m| (m.code, m.id)), Some((14, 77)));
        let del = ephemeral(&d, &m, &[1], EphemeralOp::Delete(78));
        assert_eq!(del.message.as_ref().map(|m| (m.code, m.id)), Some((15, 78)));
    }

    #[test]
    fn reaction_remove_sets_action() {
        let add = reaction(&text_channel(), 5, 6, &Reaction::unicode("👍"), false);
        let rm = reaction(&text_channel(), 5, 6, &Reaction::custom(9, "ok"), true);
        assert!(!add.action && rm.action);
        assert_eq!((add.message_id, add.message_sender_id, add.mode), (5, 6, 2));
        assert_eq!(rm.emoji_id, 9);
        assert_eq!(add.count, 1);
        let many = reaction(
            &text_channel(),
            5,
            6,
            &Reaction::unicode("🎉").count(3),
            false,
        );
        assert_eq!(many.count, 3);
        assert_eq!(Reaction::unicode("x").count(0).times(), 1);
    }

    #[test]
    fn message_codes_round_trip_and_reach_the_send() {
        for code in 0..=18 {
            assert_eq!(MessageCode::from_i32(code).as_i32(), code);
            assert!(!matches!(
                MessageCode::from_i32(code),
                MessageCode::Other(_)
            ));
        }
        assert_eq!(MessageCode::from_i32(99), MessageCode::Other(99));
        assert_eq!(MessageCode::Other(99).as_i32(), 99);
        let buzz = OutgoingMessage::from("!").code(MessageCode::Buzz);
        assert_eq!(buzz.to_send(&text_channel()).code, 8);
    }

    #[test]
    fn destination_of_a_received_message_follows_its_mode() {
        let msg = api::ChannelMessage {
            clan_id: 1,
            channel_id: 2,
            mode: 6,
            is_public: false,
            ..Default::default()
        };
        let d = Destination::of_message(&msg);
        assert_eq!(d.channel_type, ChannelType::Thread);
        assert_eq!(d.join().channel_type, 7);
        assert_eq!(typing(&d).mode, 6);
        assert_eq!(mark_read(&d, 3, 4).message_id, 3);
        let upd = OutgoingMessage::from("x").to_update(&d, 42);
        assert_eq!((upd.message_id, upd.mode), (42, 6));
        assert_eq!(remove(&d, 42, 0).message_id, 42);
    }
}
