//! Message content: the JSON object carried in `content` (wire.md §5), built with UTF-16
//! offsets and parsed leniently from what other clients send.

use mezon_proto::api::MessageMention;
use serde::{Deserialize, Deserializer, Serialize};

use crate::builders::{ActionRow, Embed};

/// Length of `text` in UTF-16 code units, the unit of every span offset on the wire.
pub fn utf16_len(text: &str) -> i32 {
    i32::try_from(text.encode_utf16().count()).unwrap_or(i32::MAX)
}

/// A span `[s, e)` over the text, in UTF-16 code units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Span {
    /// Start offset.
    #[serde(default, deserialize_with = "lenient_i32")]
    pub s: i32,
    /// End offset (exclusive).
    #[serde(default, deserialize_with = "lenient_i32")]
    pub e: i32,
}

/// A hashtag: a link to a channel.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HashtagSpan {
    /// The linked channel.
    #[serde(rename = "channelid", default, deserialize_with = "lenient_i64")]
    pub channel_id: i64,
    /// Where it sits in the text.
    #[serde(flatten)]
    pub span: Span,
}

/// A custom emoji.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EmojiSpan {
    /// The emoji id.
    #[serde(rename = "emojiid", default, deserialize_with = "lenient_i64")]
    pub emoji_id: i64,
    /// Where it sits in the text.
    #[serde(flatten)]
    pub span: Span,
}

/// The kind of a markdown span (`mk[].type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MarkKind {
    /// A triple-backtick block.
    #[serde(rename = "t")]
    Triple,
    /// A single-backtick span.
    #[serde(rename = "s")]
    Single,
    /// Preformatted text.
    #[serde(rename = "pre")]
    Pre,
    /// Inline code.
    #[serde(rename = "c")]
    Code,
    /// Bold text.
    #[serde(rename = "b")]
    Bold,
    /// A link.
    #[serde(rename = "lk")]
    Link,
    /// A voice-room link.
    #[serde(rename = "vk")]
    VoiceLink,
    /// A YouTube link.
    #[serde(rename = "lk_yt")]
    YoutubeLink,
    /// A kind this SDK does not know.
    #[serde(other)]
    Unknown,
}

/// A markdown span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkSpan {
    /// What the span is.
    #[serde(rename = "type")]
    pub kind: MarkKind,
    /// Where it sits in the text.
    #[serde(flatten)]
    pub span: Span,
}

/// A user or role mention, kept beside the content (mentions are not part of the JSON).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mention {
    /// The mentioned user (0 for a role mention).
    pub user_id: i64,
    /// The user's name as written.
    pub username: String,
    /// The mentioned role (0 for a user mention).
    pub role_id: i64,
    /// The role's name as written.
    pub role_name: String,
    /// Where it sits in the text.
    pub span: Span,
}

impl Mention {
    /// The protocol form.
    pub fn to_proto(&self) -> MessageMention {
        MessageMention {
            user_id: self.user_id,
            username: self.username.clone(),
            role_id: self.role_id,
            rolename: self.role_name.clone(),
            s: self.span.s,
            e: self.span.e,
            ..Default::default()
        }
    }

    /// Reads the protocol form.
    pub fn from_proto(m: &MessageMention) -> Self {
        Self {
            user_id: m.user_id,
            username: m.username.clone(),
            role_id: m.role_id,
            role_name: m.rolename.clone(),
            span: Span { s: m.s, e: m.e },
        }
    }
}

/// The content of a message: text with spans, embeds and components.
///
/// Build it piece by piece; every offset is computed in UTF-16 code units:
///
/// ```
/// use mezon::MessageContent;
/// let content = MessageContent::text("Hi ").mention(42, "alice").push("! ").bold("welcome");
/// assert_eq!(content.mentions()[0].span.s, 3);
/// assert_eq!(content.as_text(), "Hi @alice! welcome");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MessageContent {
    /// The text.
    #[serde(rename = "t", default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Hashtags (channel links).
    #[serde(
        rename = "hg",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub hashtags: Vec<HashtagSpan>,
    /// Custom emojis.
    #[serde(
        rename = "ej",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub emojis: Vec<EmojiSpan>,
    /// Links.
    #[serde(
        rename = "lk",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub links: Vec<Span>,
    /// Markdown spans.
    #[serde(
        rename = "mk",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub markdown: Vec<MarkSpan>,
    /// Voice-room links.
    #[serde(
        rename = "vk",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub voice_links: Vec<Span>,
    /// Embeds.
    #[serde(
        rename = "embed",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub embeds: Vec<Embed>,
    /// Rows of interactive components.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient_vec"
    )]
    pub components: Vec<ActionRow>,
    /// Thread content, when the message opens a thread.
    #[serde(
        rename = "contentThread",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub content_thread: Option<serde_json::Value>,
    #[serde(skip)]
    mentions: Vec<Mention>,
}

impl MessageContent {
    /// Content starting with `text`.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// Appends plain text.
    pub fn push(mut self, text: &str) -> Self {
        self.text.push_str(text);
        self
    }

    fn push_span(&mut self, text: &str) -> Span {
        let s = utf16_len(&self.text);
        self.text.push_str(text);
        Span {
            s,
            e: s.saturating_add(utf16_len(text)),
        }
    }

    fn push_mark(mut self, kind: MarkKind, text: &str) -> Self {
        let span = self.push_span(text);
        self.markdown.push(MarkSpan { kind, span });
        self
    }

    /// Appends bold text.
    pub fn bold(self, text: &str) -> Self {
        self.push_mark(MarkKind::Bold, text)
    }

    /// Appends inline code.
    pub fn code(self, text: &str) -> Self {
        self.push_mark(MarkKind::Code, text)
    }

    /// Appends a preformatted block.
    pub fn pre(self, text: &str) -> Self {
        self.push_mark(MarkKind::Pre, text)
    }

    /// Appends a link (shown as the URL).
    pub fn link(mut self, url: &str) -> Self {
        let span = self.push_span(url);
        self.links.push(span);
        self
    }

    /// Appends `@username` and records a mention of the user.
    pub fn mention(mut self, user_id: i64, username: &str) -> Self {
        let span = self.push_span(&format!("@{username}"));
        self.mentions.push(Mention {
            user_id,
            username: username.to_owned(),
            span,
            ..Mention::default()
        });
        self
    }

    /// Appends `@role` and records a mention of the role.
    pub fn mention_role(mut self, role_id: i64, role_name: &str) -> Self {
        let span = self.push_span(&format!("@{role_name}"));
        self.mentions.push(Mention {
            role_id,
            role_name: role_name.to_owned(),
            span,
            ..Mention::default()
        });
        self
    }

    /// Appends `#label` linking to a channel.
    pub fn hashtag(mut self, channel_id: i64, label: &str) -> Self {
        let span = self.push_span(&format!("#{label}"));
        self.hashtags.push(HashtagSpan { channel_id, span });
        self
    }

    /// Appends a custom emoji written as `:shortname:`.
    pub fn emoji(mut self, emoji_id: i64, shortname: &str) -> Self {
        let span = self.push_span(&format!(":{shortname}:"));
        self.emojis.push(EmojiSpan { emoji_id, span });
        self
    }

    /// Adds an embed.
    pub fn embed(mut self, embed: impl Into<Embed>) -> Self {
        self.embeds.push(embed.into());
        self
    }

    /// Adds a row of components (buttons, selects…).
    pub fn components(mut self, row: impl Into<ActionRow>) -> Self {
        self.components.push(row.into());
        self
    }

    /// The text.
    pub fn as_text(&self) -> &str {
        &self.text
    }

    /// The mentions recorded while building.
    pub fn mentions(&self) -> &[Mention] {
        &self.mentions
    }

    /// Replaces the mentions (used when reading a received message).
    pub fn with_mentions(mut self, mentions: Vec<Mention>) -> Self {
        self.mentions = mentions;
        self
    }

    /// The JSON string for the `content` field.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// Reads a received `content` string. Anything that is not a JSON object is taken as
    /// plain text, so a message is never lost to a format surprise.
    pub fn parse(raw: &str) -> Self {
        let trimmed = raw.trim_start();
        if trimmed.starts_with('{')
            && let Ok(content) = serde_json::from_str::<MessageContent>(raw)
        {
            return content;
        }
        Self::text(raw)
    }

    /// The text covered by `span`, if the span lies inside the text.
    pub fn slice(&self, span: Span) -> Option<String> {
        let units: Vec<u16> = self.text.encode_utf16().collect();
        let s = usize::try_from(span.s).ok()?;
        let e = usize::try_from(span.e).ok()?;
        units.get(s..e).map(String::from_utf16_lossy)
    }
}

impl From<&str> for MessageContent {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

impl From<String> for MessageContent {
    fn from(text: String) -> Self {
        Self::text(text)
    }
}

impl From<&String> for MessageContent {
    fn from(text: &String) -> Self {
        Self::text(text.clone())
    }
}

/// Ids written by JavaScript clients arrive as numbers or as strings.
pub(crate) fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Number(n) => n.as_i64().unwrap_or_default(),
        serde_json::Value::String(s) => s.trim().parse().unwrap_or_default(),
        _ => 0,
    })
}

fn lenient_i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    lenient_i64(d).map(|v| i32::try_from(v).unwrap_or_default())
}

/// A list whose entries may be malformed: keep the good ones, drop the rest.
fn lenient_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|item| serde_json::from_value(item).ok())
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_utf16_units() {
        // "😀" is two UTF-16 units, "é" and " " one each (but 4 + 2 + 1 UTF-8 bytes).
        let c = MessageContent::text("😀é ")
            .mention(7, "bob")
            .push(" ")
            .bold("x");
        let m = &c.mentions()[0];
        assert_eq!((m.span.s, m.span.e), (4, 8));
        assert_eq!(c.markdown[0].span, Span { s: 9, e: 10 });
        assert_eq!(c.slice(m.span).as_deref(), Some("@bob"));
        assert_eq!(m.to_proto().user_id, 7);
    }

    #[test]
    fn json_uses_wire_keys_and_omits_empty_parts() {
        let c = MessageContent::text("see ")
            .hashtag(55, "general")
            .push(" ")
            .link("https://x.y");
        let v: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(v["t"], "see #general https://x.y");
        assert_eq!(v["hg"][0]["channelid"], 55);
        assert_eq!(v["hg"][0]["s"], 4);
        assert_eq!(v["lk"][0]["s"], 13);
        assert!(v.get("mk").is_none());
        assert!(v.get("embed").is_none());
    }

    #[test]
    fn parse_is_lenient() {
        let c = MessageContent::parse(
            r#"{"t":"hi","hg":[{"channelid":"12","s":0,"e":2},{"bad":true,"s":"x"}],"mk":[{"type":"zz","s":0,"e":1}]}"#,
        );
        assert_eq!(c.text, "hi");
        assert_eq!(c.hashtags[0].channel_id, 12);
        assert_eq!(c.markdown[0].kind, MarkKind::Unknown);
        assert_eq!(MessageContent::parse("plain words").text, "plain words");
        assert_eq!(MessageContent::parse("{broken").text, "{broken");
        assert_eq!(MessageContent::parse(r#"{"t": 5}"#).text, r#"{"t": 5}"#);
    }

    #[test]
    fn round_trips_through_json() {
        let c = MessageContent::text("a").bold("b").emoji(9, "ok");
        let back = MessageContent::parse(&c.to_json());
        assert_eq!(back.text, c.text);
        assert_eq!(back.markdown, c.markdown);
        assert_eq!(back.emojis, c.emojis);
    }
}
