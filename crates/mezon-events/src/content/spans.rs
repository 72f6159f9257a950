//! Text spans of message content: links, hashtags, emojis, markdown.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An id in content JSON: the platform writes ids as strings (they exceed JavaScript's
/// safe integers), older content sometimes as numbers. Kept in the form received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlexId {
    /// A JSON number.
    Number(i64),
    /// A JSON string.
    Text(String),
}

impl FlexId {
    /// The id as a number, if it is one (or a string holding one).
    pub fn get(&self) -> Option<i64> {
        match self {
            FlexId::Number(n) => Some(*n),
            FlexId::Text(s) => s.parse().ok(),
        }
    }
}

impl From<i64> for FlexId {
    /// Ids are written as strings, as the platform's clients do.
    fn from(id: i64) -> Self {
        FlexId::Text(id.to_string())
    }
}

/// A plain span (`lk`, `vk`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// Start, in UTF-16 code units.
    #[serde(default)]
    pub s: i32,
    /// Exclusive end, in UTF-16 code units.
    #[serde(default)]
    pub e: i32,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Span {
    /// A span from `s` to `e`.
    pub fn new(s: i32, e: i32) -> Self {
        Self {
            s,
            e,
            extra: Map::new(),
        }
    }
}

/// A channel hashtag (`hg`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HashtagSpan {
    /// The channel.
    #[serde(rename = "channelid", default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<FlexId>,
    /// Start, in UTF-16 code units.
    #[serde(default)]
    pub s: i32,
    /// Exclusive end, in UTF-16 code units.
    #[serde(default)]
    pub e: i32,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HashtagSpan {
    /// A hashtag for `channel_id` from `s` to `e`.
    pub fn new(channel_id: i64, s: i32, e: i32) -> Self {
        Self {
            channel_id: Some(channel_id.into()),
            s,
            e,
            extra: Map::new(),
        }
    }
}

/// A custom emoji (`ej`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmojiSpan {
    /// The emoji.
    #[serde(rename = "emojiid", default, skip_serializing_if = "Option::is_none")]
    pub emoji_id: Option<FlexId>,
    /// Start, in UTF-16 code units.
    #[serde(default)]
    pub s: i32,
    /// Exclusive end, in UTF-16 code units.
    #[serde(default)]
    pub e: i32,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmojiSpan {
    /// Emoji `emoji_id` from `s` to `e`.
    pub fn new(emoji_id: i64, s: i32, e: i32) -> Self {
        Self {
            emoji_id: Some(emoji_id.into()),
            s,
            e,
            extra: Map::new(),
        }
    }
}

/// The `type` of a markdown span; unknown values are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MarkdownType(pub Cow<'static, str>);

impl MarkdownType {
    /// `b`: bold.
    pub const BOLD: MarkdownType = MarkdownType(Cow::Borrowed("b"));
    /// `c`: inline code.
    pub const CODE: MarkdownType = MarkdownType(Cow::Borrowed("c"));
    /// `pre`: a preformatted block.
    pub const PRE: MarkdownType = MarkdownType(Cow::Borrowed("pre"));
    /// `t`: a triple-backtick block.
    pub const TRIPLE: MarkdownType = MarkdownType(Cow::Borrowed("t"));
    /// `s`: a single-backtick span.
    pub const SINGLE: MarkdownType = MarkdownType(Cow::Borrowed("s"));
    /// `lk`: a link.
    pub const LINK: MarkdownType = MarkdownType(Cow::Borrowed("lk"));
    /// `vk`: a voice-room link.
    pub const VOICE_LINK: MarkdownType = MarkdownType(Cow::Borrowed("vk"));
    /// `lk_yt`: a YouTube link.
    pub const YOUTUBE_LINK: MarkdownType = MarkdownType(Cow::Borrowed("lk_yt"));

    /// The wire string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A markdown span (`mk`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkdownSpan {
    /// What kind of markup.
    #[serde(rename = "type")]
    pub kind: MarkdownType,
    /// Start, in UTF-16 code units.
    #[serde(default)]
    pub s: i32,
    /// Exclusive end, in UTF-16 code units.
    #[serde(default)]
    pub e: i32,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MarkdownSpan {
    /// A `kind` span from `s` to `e`.
    pub fn new(kind: MarkdownType, s: i32, e: i32) -> Self {
        Self {
            kind,
            s,
            e,
            extra: Map::new(),
        }
    }
}
