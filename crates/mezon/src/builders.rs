//! Builders for interactive content: a row of buttons, and an interactive embed (a card with
//! plain fields and form fields). They produce the typed `Embed` / `ActionRow` of
//! [`mezon_events::content`], which [`MessageContent`](crate::MessageContent) carries.

use mezon_events::content::{
    ActionRow, ButtonComponent, Component, DatePickerComponent, Embed, EmbedAuthor, EmbedField,
    EmbedFooter, EmbedImage, InputComponent, SelectComponent,
};

pub use mezon_events::content::{AnimationComponent, ButtonStyle, RadioOption, SelectOption};

/// Builds a row of buttons.
///
/// ```
/// use mezon::builders::{ButtonBuilder, ButtonStyle};
/// let row = ButtonBuilder::new()
///     .button("yes", "Yes", ButtonStyle::SUCCESS)
///     .button("no", "No", ButtonStyle::DANGER)
///     .build();
/// assert_eq!(row.components.len(), 2);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ButtonBuilder {
    buttons: Vec<Component>,
}

impl ButtonBuilder {
    /// An empty row.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a button whose clicks come back with `id`.
    pub fn button(mut self, id: &str, label: &str, style: ButtonStyle) -> Self {
        self.buttons
            .push(Component::button(id, ButtonComponent::new(label, style)));
        self
    }

    /// Adds a link button that opens `url`.
    pub fn link_button(mut self, id: &str, label: &str, url: &str) -> Self {
        let mut button = ButtonComponent::new(label, ButtonStyle::LINK);
        button.url = Some(url.to_owned());
        self.buttons.push(Component::button(id, button));
        self
    }

    /// The finished row.
    pub fn build(self) -> ActionRow {
        ActionRow::new(self.buttons)
    }
}

impl From<ButtonBuilder> for ActionRow {
    fn from(b: ButtonBuilder) -> Self {
        b.build()
    }
}

/// Builds an interactive embed: a card with plain fields and form fields (text inputs,
/// selects, radio groups, date pickers) and animations.
///
/// ```
/// use mezon::builders::{InteractiveBuilder, SelectOption};
/// let embed = InteractiveBuilder::new("Poll")
///     .description("Pick one")
///     .select_field("fruit", "Fruit", vec![SelectOption::new("Apple", "a"), SelectOption::new("Pear", "p")])
///     .build();
/// assert_eq!(embed.fields[0].inputs.as_ref().map(|c| c.id.as_str()), Some("fruit"));
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct InteractiveBuilder {
    embed: Embed,
}

impl InteractiveBuilder {
    /// A card titled `title`.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            embed: Embed::new().title(title),
        }
    }

    /// Sets the accent colour, e.g. `"#2e86de"`.
    pub fn color(mut self, color: impl Into<String>) -> Self {
        self.embed = self.embed.color(color);
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.embed = self.embed.description(text);
        self
    }

    /// Sets the title link.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.embed = self.embed.url(url);
        self
    }

    /// Sets the author line.
    pub fn author(mut self, name: impl Into<String>, icon_url: Option<String>) -> Self {
        let mut author = EmbedAuthor::new(name);
        author.icon_url = icon_url;
        self.embed = self.embed.author(author);
        self
    }

    /// Sets the thumbnail.
    pub fn thumbnail(mut self, url: impl Into<String>) -> Self {
        self.embed = self.embed.thumbnail(url);
        self
    }

    /// Sets the main image.
    pub fn image(mut self, image: EmbedImage) -> Self {
        self.embed = self.embed.image(image);
        self
    }

    /// Sets the footer.
    pub fn footer(mut self, text: impl Into<String>, icon_url: Option<String>) -> Self {
        let mut footer = EmbedFooter::new(text);
        footer.icon_url = icon_url;
        self.embed = self.embed.footer(footer);
        self
    }

    /// Sets the timestamp (ISO 8601).
    pub fn timestamp(mut self, iso8601: impl Into<String>) -> Self {
        self.embed = self.embed.timestamp(iso8601);
        self
    }

    /// Adds a plain field.
    pub fn field(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        inline: bool,
    ) -> Self {
        let mut field = EmbedField::new(name, value);
        field.inline = Some(inline);
        self.embed = self.embed.field(field);
        self
    }

    fn form_field(mut self, name: &str, component: Component) -> Self {
        self.embed = self.embed.field(EmbedField::new(name, "").input(component));
        self
    }

    /// Adds a text input.
    pub fn input_field(self, id: &str, name: &str, placeholder: &str, textarea: bool) -> Self {
        let input = InputComponent {
            placeholder: Some(placeholder.to_owned()),
            textarea: Some(textarea),
            ..InputComponent::default()
        };
        self.form_field(name, Component::input(id, input))
    }

    /// Adds a select (dropdown); choices come back in `dropdown_box_selected`.
    pub fn select_field(self, id: &str, name: &str, options: Vec<SelectOption>) -> Self {
        let select = SelectComponent {
            options,
            ..SelectComponent::default()
        };
        self.form_field(name, Component::select(id, select))
    }

    /// Adds a radio group.
    pub fn radio_field(self, id: &str, name: &str, options: Vec<RadioOption>) -> Self {
        let options = options
            .into_iter()
            .map(|mut o| {
                o.name.get_or_insert_with(|| id.to_owned());
                o
            })
            .collect();
        self.form_field(name, Component::radio(id, options))
    }

    /// Adds a date picker.
    pub fn date_picker_field(self, id: &str, name: &str) -> Self {
        self.form_field(
            name,
            Component::date_picker(id, DatePickerComponent::default()),
        )
    }

    /// Adds an animation (a sprite sheet and its frame positions).
    pub fn animation(self, id: &str, animation: AnimationComponent) -> Self {
        self.form_field("", Component::animation(id, animation))
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
            .button("ok", "OK", ButtonStyle::PRIMARY)
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
            .select_field("pick", "Pick", vec![SelectOption::new("A", "a")])
            .radio_field(
                "r",
                "Radio",
                vec![RadioOption::new("X", "x"), RadioOption::new("Y", "y")],
            )
            .date_picker_field("when", "When")
            .animation("anim", AnimationComponent::default())
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
        assert_eq!(v["fields"][3]["inputs"]["component"][1]["value"], "y");
        assert_eq!(v["fields"][3]["inputs"]["component"][1]["name"], "r");
        assert!(v["fields"][0].get("inputs").is_none());
        assert_eq!(v["footer"]["text"], "foot");
    }
}
