//! Helpers on [`ChannelMessage`]: its nested lists (protobuf or legacy JSON), its content,
//! its reply target and what kind of conversation it belongs to.
//!
//! The nested lists travel as bytes; the methods of [`ChannelMessageExt`] decode them when
//! called (each call decodes again, so keep the result if you need it twice).
//!
//! ```
//! use mezon_events::ChannelMessageExt;
//! use mezon_events::proto::api::ChannelMessage;
//!
//! let message = ChannelMessage {
//!     content: r#"{"t":"hello"}"#.to_owned(),
//!     mentions: br#"[{"user_id":"78","username":"ana","s":0,"e":4}]"#.to_vec().into(),
//!     mode: 4,
//!     ..Default::default()
//! };
//! assert_eq!(message.content()?.as_text(), "hello");
//! assert_eq!(message.mentions()?[0].user_id, 78);
//! assert!(message.is_dm());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod legacy;

use prost::Message as _;

use crate::content::{ContentError, MessageContent};
use crate::proto::api::{
    ChannelMessage, MessageAttachment, MessageAttachmentList, MessageMention, MessageMentionList,
    MessageReaction, MessageReactionList, MessageRef, MessageRefList,
};

/// A nested list of a message did not decode.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NestedListError {
    /// The bytes are neither a protobuf list nor JSON.
    #[error("nested list is not a valid protobuf list: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// The bytes look like the legacy JSON form but do not parse.
    #[error("nested list is not valid legacy JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Where a message was posted, from `ChannelMessage.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamMode {
    /// 2: a clan channel (text, voice, streaming, app).
    Channel,
    /// 3: a group DM.
    Group,
    /// 4: a direct message.
    Dm,
    /// 5: clan-wide.
    Clan,
    /// 6: a thread.
    Thread,
    /// Any other value (0 when the field is unset).
    Other(i32),
}

impl StreamMode {
    /// The mode of a wire value.
    pub fn from_i32(mode: i32) -> Self {
        match mode {
            2 => StreamMode::Channel,
            3 => StreamMode::Group,
            4 => StreamMode::Dm,
            5 => StreamMode::Clan,
            6 => StreamMode::Thread,
            other => StreamMode::Other(other),
        }
    }

    /// The wire value.
    pub fn as_i32(self) -> i32 {
        match self {
            StreamMode::Channel => 2,
            StreamMode::Group => 3,
            StreamMode::Dm => 4,
            StreamMode::Clan => 5,
            StreamMode::Thread => 6,
            StreamMode::Other(other) => other,
        }
    }
}

/// What a message is, from `ChannelMessage.code` (`TypeMessage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum MessageType {
    /// 0: a chat message.
    #[default]
    Chat,
    /// 1: an edit.
    Edit,
    /// 2: a deletion.
    Delete,
    /// 3: typing.
    Typing,
    /// 4: an indicator.
    Indicator,
    /// 5: a welcome message.
    Welcome,
    /// 6: a thread was created.
    CreateThread,
    /// 7: a message was pinned.
    CreatePin,
    /// 8: a buzz.
    Buzz,
    /// 9: a topic.
    Topic,
    /// 10: an audit-log entry.
    AuditLog,
    /// 11: a token transfer.
    SendToken,
    /// 12: an ephemeral message.
    Ephemeral,
    /// 13: an upcoming event.
    UpcomingEvent,
    /// 14: an ephemeral message was updated.
    UpdateEphemeral,
    /// 15: an ephemeral message was deleted.
    DeleteEphemeral,
    /// 16: a contact card.
    Contact,
    /// 17: a location.
    Location,
    /// 18: a poll.
    Poll,
    /// Any other value.
    Other(i32),
}

impl MessageType {
    /// The wire value (the inverse of [`MessageType::from_i32`]).
    pub fn as_i32(self) -> i32 {
        use MessageType::*;
        match self {
            Chat => 0,
            Edit => 1,
            Delete => 2,
            Typing => 3,
            Indicator => 4,
            Welcome => 5,
            CreateThread => 6,
            CreatePin => 7,
            Buzz => 8,
            Topic => 9,
            AuditLog => 10,
            SendToken => 11,
            Ephemeral => 12,
            UpcomingEvent => 13,
            UpdateEphemeral => 14,
            DeleteEphemeral => 15,
            Contact => 16,
            Location => 17,
            Poll => 18,
            Other(code) => code,
        }
    }

    /// The type of a wire value.
    pub fn from_i32(code: i32) -> Self {
        use MessageType::*;
        match code {
            0 => Chat,
            1 => Edit,
            2 => Delete,
            3 => Typing,
            4 => Indicator,
            5 => Welcome,
            6 => CreateThread,
            7 => CreatePin,
            8 => Buzz,
            9 => Topic,
            10 => AuditLog,
            11 => SendToken,
            12 => Ephemeral,
            13 => UpcomingEvent,
            14 => UpdateEphemeral,
            15 => DeleteEphemeral,
            16 => Contact,
            17 => Location,
            18 => Poll,
            other => Other(other),
        }
    }
}

/// Decoding helpers for [`ChannelMessage`]. The methods share names with the raw fields
/// they decode: `message.mentions` is the bytes, `message.mentions()` the typed list.
pub trait ChannelMessageExt {
    /// The mentioned users and roles.
    fn mentions(&self) -> Result<Vec<MessageMention>, NestedListError>;
    /// The attachments.
    fn attachments(&self) -> Result<Vec<MessageAttachment>, NestedListError>;
    /// The messages this one refers to (a reply has one).
    fn references(&self) -> Result<Vec<MessageRef>, NestedListError>;
    /// The reactions.
    fn reactions(&self) -> Result<Vec<MessageReaction>, NestedListError>;
    /// The parsed content, with [`MessageContent::mentions`] filled from
    /// [`ChannelMessageExt::mentions`] (left empty if those do not decode).
    fn content(&self) -> Result<MessageContent, ContentError>;
    /// The message this one replies to: the first reference.
    fn reply_to(&self) -> Result<Option<MessageRef>, NestedListError>;
    /// The quoted message carried in `referenced_message`, if any.
    fn referenced_message(&self) -> Result<Option<ChannelMessage>, prost::DecodeError>;
    /// Where it was posted.
    fn stream_mode(&self) -> StreamMode;
    /// What kind of message it is.
    fn message_type(&self) -> MessageType;
    /// Whether it is a direct message (mode 4, or no clan and no group mode).
    fn is_dm(&self) -> bool;
    /// Whether it was posted in a group DM.
    fn is_group(&self) -> bool;
    /// Whether it was posted in a thread.
    fn is_thread(&self) -> bool;
}

impl ChannelMessageExt for ChannelMessage {
    fn mentions(&self) -> Result<Vec<MessageMention>, NestedListError> {
        decode_list(&self.mentions, legacy::mention, |bytes| {
            MessageMentionList::decode(bytes).map(|l| l.mentions)
        })
    }

    fn attachments(&self) -> Result<Vec<MessageAttachment>, NestedListError> {
        decode_list(&self.attachments, legacy::attachment, |bytes| {
            MessageAttachmentList::decode(bytes).map(|l| l.attachments)
        })
    }

    fn references(&self) -> Result<Vec<MessageRef>, NestedListError> {
        decode_list(&self.references, legacy::reference, |bytes| {
            MessageRefList::decode(bytes).map(|l| l.refs)
        })
    }

    fn reactions(&self) -> Result<Vec<MessageReaction>, NestedListError> {
        decode_list(&self.reactions, legacy::reaction, |bytes| {
            MessageReactionList::decode(bytes).map(|l| l.reactions)
        })
    }

    fn content(&self) -> Result<MessageContent, ContentError> {
        let mut content = MessageContent::parse(&self.content)?;
        content.mentions = self.mentions().unwrap_or_default();
        Ok(content)
    }

    fn reply_to(&self) -> Result<Option<MessageRef>, NestedListError> {
        Ok(self.references()?.into_iter().next())
    }

    fn referenced_message(&self) -> Result<Option<ChannelMessage>, prost::DecodeError> {
        if self.referenced_message.is_empty() {
            return Ok(None);
        }
        ChannelMessage::decode(self.referenced_message.clone()).map(Some)
    }

    fn stream_mode(&self) -> StreamMode {
        StreamMode::from_i32(self.mode)
    }

    fn message_type(&self) -> MessageType {
        MessageType::from_i32(self.code)
    }

    fn is_dm(&self) -> bool {
        match self.stream_mode() {
            StreamMode::Dm => true,
            StreamMode::Other(_) => self.clan_id == 0,
            _ => false,
        }
    }

    fn is_group(&self) -> bool {
        self.stream_mode() == StreamMode::Group
    }

    fn is_thread(&self) -> bool {
        self.stream_mode() == StreamMode::Thread
    }
}

/// Decodes a nested list: empty bytes are an empty list, a leading `[` or `{` means the
/// legacy JSON form, anything else the protobuf list message.
///
/// The JSON test looks at the first byte only: a protobuf list starts with `0x0a` (a newline)
/// followed by the first entry's length, which may well be `0x5b` (`[`) or `0x7b` (`{`).
/// Legacy JSON with leading whitespace is still read, when the bytes are not protobuf.
fn decode_list<T>(
    bytes: &bytes::Bytes,
    from_json: fn(&serde_json::Map<String, serde_json::Value>) -> T,
    from_proto: impl FnOnce(bytes::Bytes) -> Result<Vec<T>, prost::DecodeError>,
) -> Result<Vec<T>, NestedListError> {
    let from_legacy = || -> Result<Vec<T>, NestedListError> {
        Ok(legacy::items(bytes)?.iter().map(from_json).collect())
    };
    match bytes.first() {
        None => Ok(Vec::new()),
        Some(b'[' | b'{') => from_legacy(),
        Some(_) => match from_proto(bytes.clone()) {
            Ok(list) => Ok(list),
            Err(error) => match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
                None => Ok(Vec::new()),
                Some(b'[' | b'{') => from_legacy(),
                Some(_) => Err(error.into()),
            },
        },
    }
}
