//! Names on NATS (subjects, stream, consumers, lease bucket) and the stable hashes that pick
//! an event's partition and its `Nats-Msg-Id`. Workers in other languages can reproduce both:
//! they are FNV-1a over fixed byte layouts, written out in `docs/scale-out.md`.

use mezon::{Event, EventKind};

/// Header: the event's kind, canonical name (`channel_message`).
pub const HEADER_KIND: &str = "Mezon-Kind";
/// Header: the clan id, decimal (absent when the event names none).
pub const HEADER_CLAN: &str = "Mezon-Clan";
/// Header: the channel id, decimal (absent when the event names none).
pub const HEADER_CHANNEL: &str = "Mezon-Channel";
/// Header: the message id, decimal (absent when the event names none).
pub const HEADER_MESSAGE: &str = "Mezon-Message";
/// Header: `envelope` when the payload is the Envelope as received, `lifecycle` when it is
/// the JSON of an SDK lifecycle event.
pub const HEADER_PAYLOAD: &str = "Mezon-Payload";
/// Header of command answers: `ok` or `error`.
pub const HEADER_STATUS: &str = "Mezon-Status";

/// The default number of partitions.
pub const DEFAULT_PARTITIONS: u16 = 16;

/// Every NATS name of one bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    bot_id: i64,
}

impl Names {
    /// The names of bot `bot_id`.
    pub fn new(bot_id: i64) -> Self {
        Self { bot_id }
    }

    /// The bot id.
    pub fn bot_id(&self) -> i64 {
        self.bot_id
    }

    /// `mezon.<bot>.ev.<partition>.<kind>`.
    pub fn event_subject(&self, partition: u16, kind: EventKind) -> String {
        format!("mezon.{}.ev.{partition}.{}", self.bot_id, kind.name())
    }

    /// `mezon.<bot>.ev.>`: every event subject (the stream's subjects).
    pub fn all_events(&self) -> String {
        format!("mezon.{}.ev.>", self.bot_id)
    }

    /// `mezon.<bot>.ev.<partition>.>`: one partition (one consumer's filter).
    pub fn partition_filter(&self, partition: u16) -> String {
        format!("mezon.{}.ev.{partition}.>", self.bot_id)
    }

    /// `mezon.<bot>.cmd`: where the relay answers commands.
    pub fn commands(&self) -> String {
        format!("mezon.{}.cmd", self.bot_id)
    }

    /// The JetStream stream: `MEZON_<bot>`.
    pub fn stream(&self) -> String {
        format!("MEZON_{}", self.bot_id)
    }

    /// The durable consumer of one partition: `p<partition>`.
    pub fn consumer(&self, partition: u16) -> String {
        format!("p{partition}")
    }

    /// The stream holding the relay lease: `MEZON_LEASE_<bot>`.
    pub fn lease_stream(&self) -> String {
        format!("MEZON_LEASE_{}", self.bot_id)
    }

    /// The subject of the relay lease: `mezon.<bot>.lease`.
    pub fn lease_subject(&self) -> String {
        format!("mezon.{}.lease", self.bot_id)
    }
}

const FNV64_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV64_PRIME: u64 = 0x0000_0100_0000_01b3;
const FNV128_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const FNV128_PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV64_OFFSET, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(FNV64_PRIME)
    })
}

fn fnv1a128(bytes: &[u8]) -> u128 {
    bytes.iter().fold(FNV128_OFFSET, |h, b| {
        (h ^ u128::from(*b)).wrapping_mul(FNV128_PRIME)
    })
}

/// What orders an event: its channel, else its clan, else 0 (the dispatcher's rule too).
pub fn ordering_key(event: &Event) -> i64 {
    event.channel_id().or_else(|| event.clan_id()).unwrap_or(0)
}

/// The partition of ordering key `key`: FNV-1a 64 of its 8 little-endian bytes, modulo
/// `partitions` (at least 1). Stable across processes, machines and versions.
pub fn partition_of(key: i64, partitions: u16) -> u16 {
    let hash = fnv1a64(&key.to_le_bytes());
    // The remainder is below `partitions`, so it fits.
    (hash % u64::from(partitions.max(1))) as u16
}

/// The `Nats-Msg-Id` of an event: its kind and the FNV-1a 128 of its bytes (the Envelope as
/// received, or the lifecycle JSON). The same event delivered twice gets the same id, so
/// JetStream stores it once within the stream's duplicate window.
pub fn message_id(kind: EventKind, payload: &[u8]) -> String {
    format!("{}-{:032x}", kind.name(), fnv1a128(payload))
}

/// The message id an event refers to, for the `Mezon-Message` header.
pub fn message_id_of(event: &Event) -> Option<i64> {
    let id = match event {
        Event::ChannelMessage(m) => m.message_id,
        Event::ChannelMessageUpdate(m) => m.message_id,
        Event::ChannelMessageRemove(m) => m.message_id,
        Event::ChannelMessageAck(m) => m.message_id,
        Event::MessageReactionEvent(m) => m.message_id,
        Event::MessageButtonClicked(m) => m.message_id,
        Event::DropdownBoxSelected(m) => m.message_id,
        Event::LastSeenMessageEvent(m) => m.message_id,
        Event::LastPinMessageEvent(m) => m.message_id,
        _ => 0,
    };
    (id != 0).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_the_published_fnv1a() {
        // FNV-1a test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a128(b"a"), 0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964);
    }

    #[test]
    fn partitions_are_stable_and_spread() {
        // Pinned: changing the hash would reroute every channel of every deployed bot.
        assert_eq!(partition_of(0, 16), (fnv1a64(&[0; 8]) % 16) as u16);
        assert_eq!(partition_of(7, 1), 0);
        assert_eq!(partition_of(7, 0), 0);
        let mut seen = [0u32; 16];
        for channel in 1_000..1_160 {
            seen[usize::from(partition_of(channel, 16))] += 1;
        }
        assert!(seen.iter().all(|n| *n > 0), "{seen:?}");
    }

    #[test]
    fn names() {
        let n = Names::new(42);
        assert_eq!(
            n.event_subject(3, EventKind::ChannelMessage),
            "mezon.42.ev.3.channel_message"
        );
        assert_eq!(n.partition_filter(3), "mezon.42.ev.3.>");
        assert_eq!(n.commands(), "mezon.42.cmd");
        assert_eq!(n.stream(), "MEZON_42");
        assert_ne!(
            message_id(EventKind::Ping, b"a"),
            message_id(EventKind::Ping, b"b")
        );
    }
}
