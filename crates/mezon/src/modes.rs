//! Channel types (wire.md §6) and how they relate to stream modes.

pub use mezon_events::message::StreamMode;

/// The type of a channel, as carried in `channel_type` / `type` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelType {
    /// An ordinary text channel (1).
    Text,
    /// A group conversation outside clans (2).
    Group,
    /// A direct-message channel (3).
    Dm,
    /// A Google Meet voice channel (4).
    GmeetVoice,
    /// A forum (5).
    Forum,
    /// A streaming channel (6).
    Streaming,
    /// A thread under a channel (7).
    Thread,
    /// An app channel (8).
    App,
    /// An announcement channel (9).
    Announcement,
    /// A Mezon voice channel (10).
    MezonVoice,
    /// A type this SDK does not know yet.
    Other(i32),
}

impl ChannelType {
    /// Reads a wire value; unknown values are kept as [`ChannelType::Other`].
    pub fn from_i32(value: i32) -> Self {
        match value {
            1 => Self::Text,
            2 => Self::Group,
            3 => Self::Dm,
            4 => Self::GmeetVoice,
            5 => Self::Forum,
            6 => Self::Streaming,
            7 => Self::Thread,
            8 => Self::App,
            9 => Self::Announcement,
            10 => Self::MezonVoice,
            other => Self::Other(other),
        }
    }

    /// The wire value.
    pub fn as_i32(self) -> i32 {
        match self {
            Self::Text => 1,
            Self::Group => 2,
            Self::Dm => 3,
            Self::GmeetVoice => 4,
            Self::Forum => 5,
            Self::Streaming => 6,
            Self::Thread => 7,
            Self::App => 8,
            Self::Announcement => 9,
            Self::MezonVoice => 10,
            Self::Other(v) => v,
        }
    }

    /// The stream mode messages in a channel of this type carry.
    pub fn stream_mode(self) -> StreamMode {
        match self {
            Self::Group => StreamMode::Group,
            Self::Dm => StreamMode::Dm,
            Self::Thread => StreamMode::Thread,
            _ => StreamMode::Channel,
        }
    }

    /// Whether the conversation lives outside clans (clan id 0).
    pub fn is_direct(self) -> bool {
        matches!(self, Self::Dm | Self::Group)
    }
}

impl ChannelType {
    /// The channel type a `channel_join` names for a stream of `mode` (DM → 3, group → 2,
    /// thread → 7, anything else → 1), used when all a client knows is a message's mode.
    pub fn for_join(mode: StreamMode) -> Self {
        match mode {
            StreamMode::Dm => Self::Dm,
            StreamMode::Group => Self::Group,
            StreamMode::Thread => Self::Thread,
            _ => Self::Text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_mode_follows_the_channel_type() {
        let cases = [
            (1, 2),
            (2, 3),
            (3, 4),
            (4, 2),
            (6, 2),
            (7, 6),
            (8, 2),
            (10, 2),
        ];
        for (channel_type, mode) in cases {
            assert_eq!(
                ChannelType::from_i32(channel_type).stream_mode().as_i32(),
                mode,
                "channel type {channel_type}"
            );
        }
    }

    #[test]
    fn join_type_comes_from_the_mode() {
        let cases = [(4, 3), (3, 2), (6, 7), (2, 1), (5, 1)];
        for (mode, join) in cases {
            assert_eq!(
                ChannelType::for_join(StreamMode::from_i32(mode)).as_i32(),
                join
            );
        }
    }

    #[test]
    fn wire_values_round_trip_including_unknown_ones() {
        for v in -1..=12 {
            assert_eq!(ChannelType::from_i32(v).as_i32(), v);
        }
        assert_eq!(ChannelType::from_i32(42), ChannelType::Other(42));
    }
}
