//! Interactive components: buttons, selects, inputs, date pickers, radios, animations.
//!
//! On the wire a component is `{id, type, component}` where the shape of `component`
//! depends on `type`. [`Component`] keeps `component` as raw JSON so nothing is lost;
//! [`Component::body`] reads it typed and the constructors write it from typed structs.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A row of components (`components[i]` of message content).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionRow {
    /// The components, in display order.
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub components: Vec<Component>,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ActionRow {
    /// A row of `components`.
    pub fn new(components: impl IntoIterator<Item = Component>) -> Self {
        Self {
            components: components.into_iter().collect(),
            extra: Map::new(),
        }
    }
}

/// The `type` of a component; unknown numbers are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ComponentType(pub i32);

impl ComponentType {
    /// 1: a button.
    pub const BUTTON: Self = Self(1);
    /// 2: a select (dropdown).
    pub const SELECT: Self = Self(2);
    /// 3: a text input.
    pub const INPUT: Self = Self(3);
    /// 4: a date picker.
    pub const DATE_PICKER: Self = Self(4);
    /// 5: radio buttons.
    pub const RADIO: Self = Self(5);
    /// 6: an animation.
    pub const ANIMATION: Self = Self(6);
    /// 7: a grid.
    pub const GRID: Self = Self(7);
}

/// One component: its id (what a click reports as `button_id`/`selectbox_id`), its type and
/// its type-specific body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// The id the bot chooses; interactions report it back.
    #[serde(default)]
    pub id: String,
    /// What kind of component.
    #[serde(rename = "type")]
    pub kind: ComponentType,
    /// The body, as sent.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub component: Value,
    /// Other keys (such as `max_options` next to a radio), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The typed body of a [`Component`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ComponentBody {
    /// A button.
    Button(ButtonComponent),
    /// A select.
    Select(SelectComponent),
    /// A text input.
    Input(InputComponent),
    /// A date picker.
    DatePicker(DatePickerComponent),
    /// Radio options.
    Radio(Vec<RadioOption>),
    /// An animation.
    Animation(AnimationComponent),
    /// A type this crate does not model (grid, newer ones): the raw body.
    Other(Value),
}

impl Component {
    fn typed(id: impl Into<String>, kind: ComponentType, body: impl Serialize) -> Self {
        Self {
            id: id.into(),
            kind,
            // Plain data structs always serialize; `Null` is only a theoretical fallback.
            component: serde_json::to_value(body).unwrap_or(Value::Null),
            extra: Map::new(),
        }
    }

    /// A button.
    pub fn button(id: impl Into<String>, button: ButtonComponent) -> Self {
        Self::typed(id, ComponentType::BUTTON, button)
    }

    /// A select.
    pub fn select(id: impl Into<String>, select: SelectComponent) -> Self {
        Self::typed(id, ComponentType::SELECT, select)
    }

    /// A text input.
    pub fn input(id: impl Into<String>, input: InputComponent) -> Self {
        Self::typed(id, ComponentType::INPUT, input)
    }

    /// A date picker.
    pub fn date_picker(id: impl Into<String>, picker: DatePickerComponent) -> Self {
        Self::typed(id, ComponentType::DATE_PICKER, picker)
    }

    /// Radio buttons.
    pub fn radio(id: impl Into<String>, options: Vec<RadioOption>) -> Self {
        Self::typed(id, ComponentType::RADIO, options)
    }

    /// An animation.
    pub fn animation(id: impl Into<String>, animation: AnimationComponent) -> Self {
        Self::typed(id, ComponentType::ANIMATION, animation)
    }

    /// The body, typed by [`Component::kind`].
    pub fn body(&self) -> Result<ComponentBody, serde_json::Error> {
        fn read<T: DeserializeOwned>(value: &Value) -> Result<T, serde_json::Error> {
            match value {
                // An absent body reads as the empty one.
                Value::Null => serde_json::from_value(Value::Object(Map::new())),
                v => T::deserialize(v),
            }
        }
        Ok(match self.kind {
            ComponentType::BUTTON => ComponentBody::Button(read(&self.component)?),
            ComponentType::SELECT => ComponentBody::Select(read(&self.component)?),
            ComponentType::INPUT => ComponentBody::Input(read(&self.component)?),
            ComponentType::DATE_PICKER => ComponentBody::DatePicker(read(&self.component)?),
            ComponentType::RADIO => ComponentBody::Radio(match &self.component {
                Value::Null => Vec::new(),
                v => Vec::<RadioOption>::deserialize(v)?,
            }),
            ComponentType::ANIMATION => ComponentBody::Animation(read(&self.component)?),
            _ => ComponentBody::Other(self.component.clone()),
        })
    }
}

/// The style of a button; unknown numbers are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ButtonStyle(pub i32);

impl ButtonStyle {
    /// 1: primary.
    pub const PRIMARY: Self = Self(1);
    /// 2: secondary.
    pub const SECONDARY: Self = Self(2);
    /// 3: success.
    pub const SUCCESS: Self = Self(3);
    /// 4: danger.
    pub const DANGER: Self = Self(4);
    /// 5: a link button (opens `url`).
    pub const LINK: Self = Self(5);
}

/// A button's body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ButtonComponent {
    /// Caption.
    #[serde(default)]
    pub label: String,
    /// Style.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<ButtonStyle>,
    /// Target of a link button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether it is greyed out (the wire spells it `disable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable: Option<bool>,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ButtonComponent {
    /// A button with a caption and a style.
    pub fn new(label: impl Into<String>, style: ButtonStyle) -> Self {
        Self {
            label: label.into(),
            style: Some(style),
            ..Self::default()
        }
    }
}

/// One option of a select.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectOption {
    /// What the user sees.
    #[serde(default)]
    pub label: String,
    /// What the selection reports.
    #[serde(default)]
    pub value: String,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Selected initially.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SelectOption {
    /// An option.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
            ..Self::default()
        }
    }
}

/// A select's body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelectComponent {
    /// The choices.
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub options: Vec<SelectOption>,
    /// Shown when nothing is selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Fewest choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_options: Option<u32>,
    /// Most choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_options: Option<u32>,
    /// Whether it is greyed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Other keys (`type`, `required`, `valueSelected`, …), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A text input's body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InputComponent {
    /// Shown while empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Whether a value is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Multi-line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub textarea: Option<bool>,
    /// The HTML input type (`"text"`, `"number"`, …).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub input_type: Option<String>,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A date picker's body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatePickerComponent {
    /// Initial value, as the client writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Whether a value is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One radio option (a radio component's body is a list of these).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RadioOption {
    /// What the user sees.
    #[serde(default)]
    pub label: String,
    /// What the choice reports.
    #[serde(default)]
    pub value: String,
    /// The group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Style.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<ButtonStyle>,
    /// Other keys, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RadioOption {
    /// An option.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
            ..Self::default()
        }
    }
}

/// An animation's body (a sprite sheet played in the message).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnimationComponent {
    /// The sprite sheet image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_image: Option<String>,
    /// The JSON describing frame positions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_position: Option<String>,
    /// Frame names to play, per step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<Value>,
    /// Seconds per cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Value>,
    /// How often to repeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<Value>,
    /// Other keys (`isResult`, …), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
