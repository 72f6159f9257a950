//! World files: a [`World`] (and the bot that logs in) as JSON or TOML, for the binary's
//! `--world FILE`, `--print-world` and the control API's `GET /_control/world`.
//!
//! ```toml
//! [[bots]]                 # the first bot is the server's own; more bots may log in too
//! id = 1000000001
//! username = "local-bot"
//! api_key = "local-api-key"
//!
//! [[clans]]
//! id = 1
//! name = "demo"
//!
//! [[channels]]             # type: "text" (default), "group", "thread", or a number
//! id = 11
//! clan_id = 1
//! name = "general"
//!
//! [[channels]]
//! id = 12
//! clan_id = 1
//! name = "staff"
//! private = true
//!
//! [[channels]]
//! id = 13
//! clan_id = 1
//! name = "general-thread"
//! type = "thread"
//! parent_id = 11
//!
//! [[users]]
//! id = 101
//! username = "alice"
//!
//! [[dms]]                  # bot_id: one of the bots (default: the first)
//! id = 201
//! user_id = 101
//! ```
//!
//! Ids are numbers or strings of digits (JSON readers that go through `f64` lose ids above
//! 2^53; write those as strings).

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use crate::world::{Bot, Channel, Clan, User, World, channel_type, dm_channel};

/// The bot that logs in, as a world file names it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotEntry {
    /// User id and login `appid`.
    #[serde(deserialize_with = "id")]
    pub id: i64,
    /// Username.
    #[serde(default = "default_bot_name")]
    pub username: String,
    /// Api key.
    pub api_key: String,
}

impl fmt::Debug for BotEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotEntry")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

fn default_bot_name() -> String {
    "local-bot".to_owned()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClanEntry {
    #[serde(deserialize_with = "id")]
    id: i64,
    name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelEntry {
    #[serde(deserialize_with = "id")]
    id: i64,
    #[serde(deserialize_with = "id")]
    clan_id: i64,
    name: String,
    #[serde(rename = "type", default = "text_type")]
    kind: ChannelKind,
    #[serde(default, skip_serializing_if = "is_false")]
    private: bool,
    #[serde(default, deserialize_with = "id", skip_serializing_if = "is_zero")]
    parent_id: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    #[serde(deserialize_with = "id")]
    id: i64,
    username: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DmEntry {
    #[serde(deserialize_with = "id")]
    id: i64,
    #[serde(deserialize_with = "id")]
    user_id: i64,
    #[serde(
        default,
        deserialize_with = "optional_id",
        skip_serializing_if = "Option::is_none"
    )]
    bot_id: Option<i64>,
}

/// A channel type by name or number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum ChannelKind {
    Named(ChannelName),
    Number(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ChannelName {
    Text,
    Group,
    Thread,
}

impl ChannelKind {
    fn number(self) -> i32 {
        match self {
            Self::Named(ChannelName::Text) => channel_type::TEXT,
            Self::Named(ChannelName::Group) => channel_type::GROUP,
            Self::Named(ChannelName::Thread) => channel_type::THREAD,
            Self::Number(n) => n,
        }
    }

    fn of(number: i32) -> Self {
        match number {
            channel_type::TEXT => Self::Named(ChannelName::Text),
            channel_type::GROUP => Self::Named(ChannelName::Group),
            channel_type::THREAD => Self::Named(ChannelName::Thread),
            n => Self::Number(n),
        }
    }
}

fn text_type() -> ChannelKind {
    ChannelKind::Named(ChannelName::Text)
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// The file's layout.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldFile {
    #[serde(default)]
    bots: Vec<BotEntry>,
    #[serde(default)]
    clans: Vec<ClanEntry>,
    #[serde(default)]
    channels: Vec<ChannelEntry>,
    #[serde(default)]
    users: Vec<UserEntry>,
    #[serde(default)]
    dms: Vec<DmEntry>,
}

/// An id as a number or a string of digits.
pub(crate) fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(i64),
        Text(String),
    }
    match Repr::deserialize(deserializer)? {
        Repr::Number(n) => Ok(n),
        Repr::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not an integer id"))),
    }
}

fn optional_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    id(deserializer).map(Some)
}

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// TOML.
    Toml,
}

impl Format {
    /// TOML for a `.toml` path, JSON otherwise.
    pub fn of_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("toml") => Self::Toml,
            _ => Self::Json,
        }
    }
}

/// Why a world file was not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorldFileError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not a world in the expected format.
    #[error("{path}: {message}")]
    Syntax {
        /// The path given.
        path: String,
        /// What the parser said (with the line for TOML).
        message: String,
    },
    /// The world contradicts itself (an unknown clan, a duplicate id, …).
    #[error("{path}: {message}")]
    Invalid {
        /// The path given.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// A world read from a file, with the bot that logs in (the file's first bot, if any).
#[derive(Debug, Clone)]
pub struct LoadedWorld {
    /// The server's own bot, when the file names one.
    pub bot: Option<BotEntry>,
    /// Everything else (more bots in [`World::bots`]).
    pub world: World,
}

/// Reads a world file (TOML when the name ends in `.toml`, else JSON).
pub fn load(path: &Path) -> Result<LoadedWorld, WorldFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| WorldFileError::Read {
        path: shown.clone(),
        source,
    })?;
    parse(&text, Format::of_path(path)).map_err(|error| match error {
        ParseError::Syntax(message) => WorldFileError::Syntax {
            path: shown.clone(),
            message,
        },
        ParseError::Invalid(message) => WorldFileError::Invalid {
            path: shown,
            message,
        },
    })
}

/// Why a world text did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    Syntax(String),
    Invalid(String),
}

/// Parses and checks a world text.
pub(crate) fn parse(text: &str, format: Format) -> Result<LoadedWorld, ParseError> {
    let file: WorldFile = match format {
        Format::Json => {
            serde_json::from_str(text).map_err(|e| ParseError::Syntax(e.to_string()))?
        }
        Format::Toml => toml::from_str(text).map_err(|e| ParseError::Syntax(e.to_string()))?,
    };
    into_world(file).map_err(ParseError::Invalid)
}

fn into_world(file: WorldFile) -> Result<LoadedWorld, String> {
    let mut ids = HashSet::new();
    let mut unique = |what: &str, id: i64| {
        if id <= 0 {
            return Err(format!("{what} id {id} must be positive"));
        }
        if ids.insert((what.to_owned(), id)) {
            Ok(())
        } else {
            Err(format!("{what} id {id} appears twice"))
        }
    };
    let mut people = HashSet::new();
    for bot in &file.bots {
        unique("bot", bot.id)?;
        people.insert(bot.id);
        if bot.api_key.is_empty() {
            return Err(format!("bot {} has an empty api_key", bot.id));
        }
    }
    for user in &file.users {
        unique("user", user.id)?;
        if !people.insert(user.id) {
            return Err(format!("user id {} is also a bot's", user.id));
        }
    }
    for clan in &file.clans {
        unique("clan", clan.id)?;
    }
    let clans: HashSet<i64> = file.clans.iter().map(|c| c.id).collect();
    let mut world = World::new();
    world.clans = file
        .clans
        .iter()
        .map(|c| Clan {
            id: c.id,
            name: c.name.clone(),
        })
        .collect();
    world.users = file
        .users
        .iter()
        .map(|u| User {
            id: u.id,
            username: u.username.clone(),
        })
        .collect();
    let primary = file.bots.first().map(|b| b.id);
    world.bots = file
        .bots
        .iter()
        .skip(1)
        .map(|b| Bot {
            id: b.id,
            username: b.username.clone(),
            api_key: b.api_key.clone(),
        })
        .collect();
    for channel in &file.channels {
        unique("channel", channel.id)?;
        if !clans.contains(&channel.clan_id) {
            return Err(format!(
                "channel {}: clan {} is not in the world",
                channel.id, channel.clan_id
            ));
        }
        let number = channel.kind.number();
        if !(1..=10).contains(&number) || number == channel_type::DM {
            return Err(format!(
                "channel {}: type {number} is not a clan channel type (DMs go in [[dms]])",
                channel.id
            ));
        }
        if number == channel_type::THREAD {
            let parent = file.channels.iter().find(|c| c.id == channel.parent_id);
            match parent {
                Some(p) if p.clan_id == channel.clan_id => {}
                Some(_) => {
                    return Err(format!(
                        "thread {}: parent {} is in another clan",
                        channel.id, channel.parent_id
                    ));
                }
                None => {
                    return Err(format!(
                        "thread {}: parent_id {} names no channel of the world",
                        channel.id, channel.parent_id
                    ));
                }
            }
        }
        world.channels.push(Channel {
            clan_id: channel.clan_id,
            id: channel.id,
            name: channel.name.clone(),
            channel_type: number,
            private: channel.private,
            parent_id: channel.parent_id,
            dm_peer: None,
            dm_bot: None,
        });
    }
    for dm in &file.dms {
        unique("channel", dm.id)?;
        let user = world
            .find_user(dm.user_id)
            .ok_or_else(|| format!("DM {}: user {} is not in the world", dm.id, dm.user_id))?;
        let name = user.username.clone();
        let bot = match dm.bot_id {
            None => None,
            Some(id) if Some(id) == primary => None,
            Some(id) if world.find_bot(id).is_some() => Some(id),
            Some(id) => return Err(format!("DM {}: bot {id} is not in the world", dm.id)),
        };
        if world.find_dm_of(bot, dm.user_id).is_some() {
            return Err(format!(
                "DM {}: user {} already has a DM with that bot",
                dm.id, dm.user_id
            ));
        }
        world
            .channels
            .push(dm_channel(dm.id, dm.user_id, bot, name));
    }
    Ok(LoadedWorld {
        bot: file.bots.first().cloned(),
        world,
    })
}

/// The file form of a world whose own bot is `bot`.
fn to_file(bot: &BotEntry, world: &World) -> WorldFile {
    let bots = std::iter::once(bot.clone())
        .chain(world.bots.iter().map(|b| BotEntry {
            id: b.id,
            username: b.username.clone(),
            api_key: b.api_key.clone(),
        }))
        .collect();
    let (dms, channels): (Vec<&Channel>, Vec<&Channel>) =
        world.channels.iter().partition(|c| c.dm_peer.is_some());
    WorldFile {
        bots,
        clans: world
            .clans
            .iter()
            .map(|c| ClanEntry {
                id: c.id,
                name: c.name.clone(),
            })
            .collect(),
        channels: channels
            .into_iter()
            .map(|c| ChannelEntry {
                id: c.id,
                clan_id: c.clan_id,
                name: c.name.clone(),
                kind: ChannelKind::of(c.channel_type),
                private: c.private,
                parent_id: c.parent_id,
            })
            .collect(),
        users: world
            .users
            .iter()
            .map(|u| UserEntry {
                id: u.id,
                username: u.username.clone(),
            })
            .collect(),
        dms: dms
            .into_iter()
            .filter_map(|c| {
                Some(DmEntry {
                    id: c.id,
                    user_id: c.dm_peer?,
                    bot_id: c.dm_bot,
                })
            })
            .collect(),
    }
}

/// The world (and its own bot) as a world file text in `format`.
pub fn render(bot: &BotEntry, world: &World, format: Format) -> String {
    let file = to_file(bot, world);
    match format {
        Format::Json => serde_json::to_string_pretty(&file).unwrap_or_default() + "\n",
        Format::Toml => toml::to_string(&file).unwrap_or_default(),
    }
}

/// The world as a JSON value (the world file layout).
pub(crate) fn to_json(bot: &BotEntry, world: &World) -> serde_json::Value {
    serde_json::to_value(to_file(bot, world)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_bot() -> BotEntry {
        BotEntry {
            id: 1_000_000_001,
            username: "local-bot".into(),
            api_key: "k".into(),
        }
    }

    #[test]
    fn the_demo_world_round_trips_in_both_formats() {
        let world =
            World::demo()
                .bot(77, "other", "k2")
                .dm_with_bot(77, crate::world::demo::ALICE_ID, 9);
        for format in [Format::Json, Format::Toml] {
            let text = render(&own_bot(), &world, format);
            let loaded =
                parse(&text, format).unwrap_or_else(|e| panic!("{format:?}: {e:?}\n{text}"));
            assert_eq!(loaded.world, world, "{format:?}");
            assert_eq!(loaded.bot, Some(own_bot()));
        }
    }

    #[test]
    fn ids_may_be_strings_and_types_names_or_numbers() {
        let text = r#"{
            "clans": [{"id": "1840000000000000001", "name": "c"}],
            "channels": [
                {"id": 5, "clan_id": "1840000000000000001", "name": "a", "type": 1},
                {"id": 6, "clan_id": "1840000000000000001", "name": "t", "type": "thread", "parent_id": 5}
            ]
        }"#;
        let loaded = parse(text, Format::Json).unwrap();
        assert_eq!(loaded.world.clans[0].id, 1_840_000_000_000_000_001);
        assert_eq!(loaded.world.channels[1].channel_type, channel_type::THREAD);
        assert!(loaded.bot.is_none());
    }

    #[test]
    fn contradictions_are_named() {
        let cases = [
            (
                r#"{"channels": [{"id": 5, "clan_id": 9, "name": "a"}]}"#,
                "clan 9 is not in the world",
            ),
            (
                r#"{"clans": [{"id": 1, "name": "c"}], "channels": [{"id": 6, "clan_id": 1, "name": "t", "type": "thread", "parent_id": 5}]}"#,
                "parent_id 5 names no channel",
            ),
            (
                r#"{"dms": [{"id": 5, "user_id": 3}]}"#,
                "user 3 is not in the world",
            ),
            (
                r#"{"users": [{"id": 3, "username": "a"}, {"id": 3, "username": "b"}]}"#,
                "user id 3 appears twice",
            ),
            (
                r#"{"clans": [{"id": 1, "name": "c"}], "channels": [{"id": 5, "clan_id": 1, "name": "a", "type": 3}]}"#,
                "DMs go in [[dms]]",
            ),
        ];
        for (text, expected) in cases {
            match parse(text, Format::Json) {
                Err(ParseError::Invalid(message)) => {
                    assert!(message.contains(expected), "{message:?} lacks {expected:?}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            parse(r#"{"clanz": []}"#, Format::Json),
            Err(ParseError::Syntax(m)) if m.contains("clanz")
        ));
        assert!(matches!(
            parse("[[clans]]\nid = \"x\"\nname = \"c\"\n", Format::Toml),
            Err(ParseError::Syntax(m)) if m.contains("line")
        ));
    }
}
