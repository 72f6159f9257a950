//! [`MessageContent`]: the JSON `content` of a message (wire.md §5), parsed and composed.
//!
//! Every span offset (`s` start, `e` exclusive end) counts UTF-16 code units of the text,
//! as the platform's JavaScript clients do. Keys this crate does not model are kept in the
//! `extra` maps, so parsing and serializing again loses nothing.
//!
//! ```
//! use mezon_events::MessageContent;
//!
//! let content = MessageContent::text("hi ").bold("🦀 crab").plain(" ").mention(42, "ana");
//! assert_eq!(content.text.as_deref(), Some("hi 🦀 crab @ana"));
//! // "🦀" is two UTF-16 code units.
//! assert_eq!((content.markdown[0].s, content.markdown[0].e), (3, 10));
//! assert_eq!((content.mentions[0].s, content.mentions[0].e), (11, 15));
//! let json = content.to_json_string();
//! assert_eq!(MessageContent::parse(&json)?.markdown, content.markdown);
//! # Ok::<(), mezon_events::content::ContentError>(())
//! ```

mod component;
mod embed;
mod spans;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::proto::api::MessageMention;

pub use component::{
    ActionRow, AnimationComponent, ButtonComponent, ButtonStyle, Component, ComponentBody,
    ComponentType, DatePickerComponent, InputComponent, RadioOption, SelectComponent, SelectOption,
};
pub use embed::{Embed, EmbedAuthor, EmbedField, EmbedFooter, EmbedImage};
pub use spans::{EmojiSpan, FlexId, HashtagSpan, MarkdownSpan, MarkdownType, Span};

/// The content of a message could not be parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// Not JSON, or JSON of the wrong shape.
    #[error("message content is not valid content JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A message's content: text with spans, embeds and components.
///
/// Lists absent from the JSON, `null` or `[]` are all empty here, and empty lists are left
/// out when serializing: the one change a parse/serialize round trip makes is dropping
/// `"mk": []` or `"mk": null`, which the platform's clients read as no spans, as they read an
/// absent key. Every other key, known or not, comes back as sent.
/// [`MessageContent::mentions`] is not part of the JSON: mentions travel next to the content
/// (`ChannelMessage.mentions`, `ChannelMessageSend.mentions`), so the builder collects them
/// there for the sender.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[must_use]
pub struct MessageContent {
    /// `t`: the text.
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `hg`: channel hashtags.
    #[serde(
        rename = "hg",
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub hashtags: Vec<HashtagSpan>,
    /// `ej`: custom emojis.
    #[serde(
        rename = "ej",
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub emojis: Vec<EmojiSpan>,
    /// `lk`: links.
    #[serde(
        rename = "lk",
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub links: Vec<Span>,
    /// `mk`: markdown spans.
    #[serde(
        rename = "mk",
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub markdown: Vec<MarkdownSpan>,
    /// `vk`: voice-room links.
    #[serde(
        rename = "vk",
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub voice_links: Vec<Span>,
    /// `embed`: rich embeds.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub embed: Vec<Embed>,
    /// `components`: action rows of interactive components.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub components: Vec<ActionRow>,
    /// `contentThread`: kept as sent.
    #[serde(
        rename = "contentThread",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub content_thread: Option<Value>,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// User and role mentions with UTF-16 offsets into the text (not part of the JSON).
    #[serde(skip)]
    pub mentions: Vec<MessageMention>,
}

impl std::str::FromStr for MessageContent {
    type Err = ContentError;
    fn from_str(s: &str) -> Result<Self, ContentError> {
        Self::parse(s)
    }
}

impl MessageContent {
    /// Empty content.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses content JSON. An empty string is empty content.
    pub fn parse(json: &str) -> Result<Self, ContentError> {
        if json.trim().is_empty() {
            return Ok(Self::default());
        }
        Ok(serde_json::from_str(json)?)
    }

    /// The content JSON, as `ChannelMessageSend.content` carries it.
    pub fn to_json_string(&self) -> String {
        // Serializing plain data with string keys cannot fail; the fallback keeps this total.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// The text, or `""`.
    pub fn as_text(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }

    /// The text between UTF-16 offsets `s` and `e`, if they fall on character boundaries.
    pub fn span_text(&self, s: i32, e: i32) -> Option<&str> {
        let text = self.as_text();
        let range = utf16_to_byte_range(text, s, e)?;
        text.get(range)
    }

    /// Starts content with plain text.
    pub fn text(text: impl AsRef<str>) -> Self {
        Self::new().plain(text)
    }

    /// Appends `piece` and returns its UTF-16 span.
    fn append(&mut self, piece: &str) -> (i32, i32) {
        let text = self.text.get_or_insert_with(String::new);
        let s = utf16_len(text);
        text.push_str(piece);
        (s, s.saturating_add(utf16_len(piece)))
    }

    /// Appends plain text.
    pub fn plain(mut self, text: impl AsRef<str>) -> Self {
        self.append(text.as_ref());
        self
    }

    /// Appends text marked with a markdown span of `kind`.
    pub fn markdown(mut self, kind: MarkdownType, text: impl AsRef<str>) -> Self {
        let (s, e) = self.append(text.as_ref());
        self.markdown.push(MarkdownSpan::new(kind, s, e));
        self
    }

    /// Appends bold text.
    pub fn bold(self, text: impl AsRef<str>) -> Self {
        self.markdown(MarkdownType::BOLD, text)
    }

    /// Appends inline code.
    pub fn code(self, text: impl AsRef<str>) -> Self {
        self.markdown(MarkdownType::CODE, text)
    }

    /// Appends a preformatted block.
    pub fn pre(self, text: impl AsRef<str>) -> Self {
        self.markdown(MarkdownType::PRE, text)
    }

    /// Appends a URL marked as a link.
    pub fn link(mut self, url: impl AsRef<str>) -> Self {
        let (s, e) = self.append(url.as_ref());
        self.links.push(Span::new(s, e));
        self
    }

    /// Appends `@username` and records a user mention over it.
    pub fn mention(self, user_id: i64, username: impl AsRef<str>) -> Self {
        let username = username.as_ref().to_owned();
        self.mention_of(MessageMention {
            user_id,
            username,
            ..Default::default()
        })
    }

    /// Appends `@rolename` and records a role mention over it.
    pub fn mention_role(self, role_id: i64, rolename: impl AsRef<str>) -> Self {
        let rolename = rolename.as_ref().to_owned();
        self.mention_of(MessageMention {
            role_id,
            rolename,
            ..Default::default()
        })
    }

    /// Appends `@name` for a user or role mention and records it with its span.
    fn mention_of(mut self, mut mention: MessageMention) -> Self {
        let name = if mention.username.is_empty() {
            &mention.rolename
        } else {
            &mention.username
        };
        (mention.s, mention.e) = self.append(&format!("@{name}"));
        self.mentions.push(mention);
        self
    }

    /// Appends `#label` and records a hashtag for `channel_id` over it.
    pub fn hashtag(mut self, channel_id: i64, label: impl AsRef<str>) -> Self {
        let (s, e) = self.append(&format!("#{}", label.as_ref()));
        self.hashtags.push(HashtagSpan::new(channel_id, s, e));
        self
    }

    /// Appends `:shortname:` and records custom emoji `emoji_id` over it.
    pub fn emoji(mut self, emoji_id: i64, shortname: impl AsRef<str>) -> Self {
        let (s, e) = self.append(&format!(":{}:", shortname.as_ref()));
        self.emojis.push(EmojiSpan::new(emoji_id, s, e));
        self
    }

    /// Adds an embed.
    pub fn with_embed(mut self, embed: Embed) -> Self {
        self.embed.push(embed);
        self
    }

    /// Adds an action row of components.
    pub fn with_action_row(mut self, components: impl IntoIterator<Item = Component>) -> Self {
        self.components.push(ActionRow::new(components));
        self
    }
}

/// Reads a list that may be `null` as an empty one (JavaScript senders write `null` for "none").
pub(crate) fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// The length of `text` in UTF-16 code units, saturating at `i32::MAX`.
pub fn utf16_len(text: &str) -> i32 {
    i32::try_from(text.encode_utf16().count()).unwrap_or(i32::MAX)
}

/// The byte range of `text` between UTF-16 offsets `s` and `e`, if both are in range and
/// fall on character boundaries.
pub fn utf16_to_byte_range(text: &str, s: i32, e: i32) -> Option<std::ops::Range<usize>> {
    let (s, e) = (usize::try_from(s).ok()?, usize::try_from(e).ok()?);
    if s > e {
        return None;
    }
    let (mut start, mut end) = (None, None);
    let mut units = 0;
    for (byte, ch) in text.char_indices() {
        if units == s {
            start = Some(byte);
        }
        if units == e {
            end = Some(byte);
        }
        units += ch.len_utf16();
    }
    if units == s {
        start = Some(text.len());
    }
    if units == e {
        end = Some(text.len());
    }
    Some(start?..end?)
}
