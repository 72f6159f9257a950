//! Embeds and interactive components (wire.md §5), and builders for them.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Component type codes.
pub mod component_type {
    /// A button.
    pub const BUTTON: i32 = 1;
    /// A select (dropdown).
    pub const SELECT: i32 = 2;
    /// A text input.
    pub const INPUT: i32 = 3;
    /// A date picker.
    pub const DATE_PICKER: i32 = 4;
    /// A radio group.
    pub const RADIO: i32 = 5;
    /// An animation.
    pub const ANIMATION: i32 = 6;
    /// A grid.
    pub const GRID: i32 = 7;
}

/// Button styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ButtonStyle {
    /// Primary (1).
    Primary,
    /// Secondary (2).
    Secondary,
    /// Success (3).
    Success,
    /// Danger (4).
    Danger,
    /// A link button (5).
    Link,
}

impl ButtonStyle {
    /// The wire value.
    pub fn to_wire(self) -> i32 {
        match self {
            Self::Primary => 1,
            Self::Secondary => 2,
            Self::Success => 3,
            Self::Danger => 4,
            Self::Link => 5,
        }
    }
}

/// One interactive component: `{id, type, component}`; `component` holds the type's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// The id that comes back in clicks and selections.
    #[serde(default)]
    pub id: String,
    /// The component type (see [`component_type`]).
    #[serde(rename = "type", default)]
    pub kind: i32,
    /// The type-specific fields.
    #[serde(default)]
    pub component: Value,
}

/// A row of components.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ActionRow {
    /// The components, left to right.
    #[serde(default)]
    pub components: Vec<Component>,
}

/// Author line of an embed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EmbedAuthor {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Icon URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    /// Link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Footer of an embed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EmbedFooter {
    /// Text.
    #[serde(default)]
    pub text: String,
    /// Icon URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
}

/// An image of an embed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EmbedImage {
    /// URL.
    #[serde(default)]
    pub url: String,
    /// Width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// A field of an embed; `inputs` makes it a form field.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EmbedField {
    /// Label.
    #[serde(default)]
    pub name: String,
    /// Value or description.
    #[serde(default)]
    pub value: String,
    /// Shown inline with its neighbours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<bool>,
    /// The form component of the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Component>,
}

/// An embed (rich card).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Embed {
    /// Accent colour, e.g. `"#f0a020"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Title link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Author line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<EmbedAuthor>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Thumbnail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<EmbedImage>,
    /// Fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EmbedField>,
    /// Main image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<EmbedImage>,
    /// Timestamp (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Footer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<EmbedFooter>,
}

/// Builds a row of buttons.
///
/// ```
/// use mezon::builders::{ButtonBuilder, ButtonStyle};
/// let row = ButtonBuilder::new()
///     .button("yes", "Yes", ButtonStyle::Success)
///     .button("no", "No", ButtonStyle::Danger)
///     .build();
/// assert_eq!(row.components.len(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ButtonBuilder {
    row: ActionRow,
}

impl ButtonBuilder {
    /// An empty row.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a button.
    pub fn button(mut self, id: &str, label: &str, style: ButtonStyle) -> Self {
        self.row.components.push(Component {
            id: id.to_owned(),
            kind: component_type::BUTTON,
            component: json!({ "label": label, "style": style.to_wire() }),
        });
        self
    }

    /// Adds a link button that opens `url`.
    pub fn link_button(mut self, id: &str, label: &str, url: &str) -> Self {
        self.row.components.push(Component {
            id: id.to_owned(),
            kind: component_type::BUTTON,
            component: json!({ "label": label, "style": ButtonStyle::Link.to_wire(), "url": url }),
        });
        self
    }

    /// The finished row.
    pub fn build(self) -> ActionRow {
        self.row
    }
}

impl From<ButtonBuilder> for ActionRow {
    fn from(b: ButtonBuilder) -> Self {
        b.build()
    }
}

/// One choice of a select or radio group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// What the user sees.
    pub label: String,
    /// What comes back when chosen.
    pub value: String,
}

impl Choice {
    /// A choice.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// Builds an interactive embed: a card with plain fields and form fields (inputs, selects,
/// radio groups, date pickers) and animations.
///
/// ```
/// use mezon::builders::{Choice, InteractiveBuilder};
/// let embed = InteractiveBuilder::new("Poll")
///     .description("Pick one")
///     .select_field("fruit", "Fruit", vec![Choice::new("Apple", "a"), Choice::new("Pear", "p")])
///     .build();
/// assert_eq!(embed.fields[0].inputs.as_ref().map(|c| c.id.as_str()), Some("fruit"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct InteractiveBuilder {
    embed: Embed,
}

impl InteractiveBuilder {
    /// A card titled `title`.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            embed: Embed {
                title: Some(title.into()),
                ..Embed::default()
            },
        }
    }

    /// Sets the accent colour.
    pub fn color(mut self, color: impl Into<String>) -> Self {
        self.embed.color = Some(color.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.embed.description = Some(text.into());
        self
    }

    /// Sets the title link.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.embed.url = Some(url.into());
        self
    }

    /// Sets the author line.
    pub fn author(mut self, name: impl Into<String>, icon_url: Option<String>) -> Self {
        self.embed.author = Some(EmbedAuthor {
            name: name.into(),
            icon_url,
            url: None,
        });
        self
    }

    /// Sets the thumbnail.
    pub fn thumbnail(mut self, url: impl Into<String>) -> Self {
        self.embed.thumbnail = Some(EmbedImage {
            url: url.into(),
            ..EmbedImage::default()
        });
        self
    }

    /// Sets the main image.
    pub fn image(
        mut self,
        url: impl Into<String>,
        width: Option<u32>,
        height: Option<u32>,
    ) -> Self {
        self.embed.image = Some(EmbedImage {
            url: url.into(),
            width,
            height,
        });
        self
    }

    /// Sets the footer.
    pub fn footer(mut self, text: impl Into<String>, icon_url: Option<String>) -> Self {
        self.embed.footer = Some(EmbedFooter {
            text: text.into(),
            icon_url,
        });
        self
    }

    /// Sets the timestamp (ISO 8601).
    pub fn timestamp(mut self, iso8601: impl Into<String>) -> Self {
        self.embed.timestamp = Some(iso8601.into());
        self
    }

    /// Adds a plain field.
    pub fn field(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        inline: bool,
    ) -> Self {
        self.embed.fields.push(EmbedField {
            name: name.into(),
            value: value.into(),
            inline: Some(inline),
            inputs: None,
        });
        self
    }

    fn form_field(mut self, name: &str, id: &str, kind: i32, component: Value) -> Self {
        self.embed.fields.push(EmbedField {
            name: name.to_owned(),
            value: String::new(),
            inline: None,
            inputs: Some(Component {
                id: id.to_owned(),
                kind,
                component,
            }),
        });
        self
    }

    /// Adds a text input.
    pub fn input_field(self, id: &str, name: &str, placeholder: &str, textarea: bool) -> Self {
        self.form_field(
            name,
            id,
            component_type::INPUT,
            json!({ "id": id, "placeholder": placeholder, "textarea": textarea }),
        )
    }

    /// Adds a select (dropdown).
    pub fn select_field(self, id: &str, name: &str, choices: Vec<Choice>) -> Self {
        let options: Vec<Value> = choices
            .iter()
            .map(|c| json!({ "label": c.label, "value": c.value }))
            .collect();
        self.form_field(
            name,
            id,
            component_type::SELECT,
            json!({ "options": options }),
        )
    }

    /// Adds a radio group; `max_options > 1` allows several choices.
    pub fn radio_field(self, id: &str, name: &str, choices: Vec<Choice>, max_options: u32) -> Self {
        let options: Vec<Value> = choices
            .iter()
            .map(|c| json!({ "label": c.label, "value": c.value, "name": id }))
            .collect();
        self.form_field(
            name,
            id,
            component_type::RADIO,
            json!({ "options": options, "max_options": max_options }),
        )
    }

    /// Adds a date picker.
    pub fn date_picker_field(self, id: &str, name: &str) -> Self {
        self.form_field(name, id, component_type::DATE_PICKER, json!({ "id": id }))
    }

    /// Adds an animation: a sprite sheet `image_url` cut by the frame positions in
    /// `positions_url`, played from `pool` (frame names), repeated `repeat` times.
    pub fn animation(
        self,
        id: &str,
        image_url: &str,
        positions_url: &str,
        pool: Vec<String>,
        repeat: Option<u32>,
        duration_secs: Option<u32>,
    ) -> Self {
        self.form_field(
            "",
            id,
            component_type::ANIMATION,
            json!({
                "url_image": image_url,
                "url_position": positions_url,
                "pool": pool,
                "repeat": repeat,
                "duration": duration_secs,
            }),
        )
    }

    /// The finished embed.
    pub fn build(self) -> Embed {
        self.embed
    }
}

impl From<InteractiveBuilder> for Embed {
    fn from(b: InteractiveBuilder) -> Self {
        b.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buttons_serialize_with_wire_keys() {
        let row = ButtonBuilder::new()
            .button("ok", "OK", ButtonStyle::Primary)
            .link_button("docs", "Docs", "https://d")
            .build();
        let v = serde_json::to_value(&row).unwrap();
        assert_eq!(v["components"][0]["id"], "ok");
        assert_eq!(v["components"][0]["type"], 1);
        assert_eq!(v["components"][0]["component"]["style"], 1);
        assert_eq!(v["components"][1]["component"]["style"], 5);
        assert_eq!(v["components"][1]["component"]["url"], "https://d");
    }

    #[test]
    fn interactive_embed_has_every_field_kind() {
        let e = InteractiveBuilder::new("Form")
            .color("#ff0000")
            .field("Plain", "value", true)
            .input_field("name", "Name", "your name", false)
            .select_field("pick", "Pick", vec![Choice::new("A", "a")])
            .radio_field(
                "r",
                "Radio",
                vec![Choice::new("X", "x"), Choice::new("Y", "y")],
                1,
            )
            .date_picker_field("when", "When")
            .animation(
                "anim",
                "https://i",
                "https://p",
                vec!["f1".into()],
                Some(2),
                None,
            )
            .footer("foot", None)
            .build();
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["title"], "Form");
        let kinds: Vec<i64> = v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .map(|f| f["inputs"]["type"].as_i64().unwrap())
            .collect();
        assert_eq!(kinds, vec![3, 2, 5, 4, 6]);
        assert_eq!(
            v["fields"][2]["inputs"]["component"]["options"][0]["value"],
            "a"
        );
        assert_eq!(
            v["fields"][3]["inputs"]["component"]["options"][1]["value"],
            "y"
        );
        assert!(v["fields"][0].get("inputs").is_none());
        assert_eq!(v["footer"]["text"], "foot");
    }
}
