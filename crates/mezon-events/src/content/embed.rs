//! Rich embeds (`embed` in message content).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::component::Component;

/// One embed: a card with title, fields, images and footer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Embed {
    /// Accent colour, as the clients write it (`"#RRGGBB"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Link of the title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Author line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<EmbedAuthor>,
    /// Body text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Small image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<EmbedImage>,
    /// Name/value fields, possibly with an input component each.
    #[serde(
        default,
        deserialize_with = "super::null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub fields: Vec<EmbedField>,
    /// Large image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<EmbedImage>,
    /// Timestamp text (ISO 8601 in the official SDKs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Footer line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<EmbedFooter>,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Embed {
    /// An empty embed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the colour (`"#RRGGBB"`).
    pub fn color(mut self, color: impl Into<String>) -> Self {
        self.color = Some(color.into());
        self
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the title link.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Sets the author.
    pub fn author(mut self, author: EmbedAuthor) -> Self {
        self.author = Some(author);
        self
    }

    /// Sets the body text.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the thumbnail.
    pub fn thumbnail(mut self, url: impl Into<String>) -> Self {
        self.thumbnail = Some(EmbedImage::new(url));
        self
    }

    /// Sets the large image.
    pub fn image(mut self, image: EmbedImage) -> Self {
        self.image = Some(image);
        self
    }

    /// Adds a field.
    pub fn field(mut self, field: EmbedField) -> Self {
        self.fields.push(field);
        self
    }

    /// Sets the timestamp text.
    pub fn timestamp(mut self, timestamp: impl Into<String>) -> Self {
        self.timestamp = Some(timestamp.into());
        self
    }

    /// Sets the footer.
    pub fn footer(mut self, footer: EmbedFooter) -> Self {
        self.footer = Some(footer);
        self
    }
}

/// The author line of an embed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedAuthor {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    /// Link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmbedAuthor {
    /// An author line with just a name.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// An image of an embed (thumbnail or large image).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedImage {
    /// Where the image is.
    #[serde(default)]
    pub url: String,
    /// Width, as sent (clients write numbers or strings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Value>,
    /// Height, as sent (clients write numbers or strings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Value>,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmbedImage {
    /// An image with just a URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// Sets the size in pixels.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = Some(width.into());
        self.height = Some(height.into());
        self
    }
}

/// A name/value field of an embed; forms put an input component in `inputs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedField {
    /// Label.
    #[serde(default)]
    pub name: String,
    /// Value text.
    #[serde(default)]
    pub value: String,
    /// Whether it may sit beside the previous field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<bool>,
    /// An input component (select, input, date picker, radio, animation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Component>,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmbedField {
    /// A field with a name and a value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            ..Self::default()
        }
    }

    /// Marks the field inline.
    pub fn inline(mut self) -> Self {
        self.inline = Some(true);
        self
    }

    /// Puts an input component in the field.
    pub fn input(mut self, component: Component) -> Self {
        self.inputs = Some(component);
        self
    }
}

/// The footer line of an embed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedFooter {
    /// Text.
    #[serde(default)]
    pub text: String,
    /// Icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmbedFooter {
    /// A footer with just text.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}
