//! Channel types and stream modes (wire.md §6), and the conversions between them.

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
    pub fn from_wire(value: i32) -> Self {
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
    pub fn to_wire(self) -> i32 {
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

/// The `mode` of a message: which kind of stream it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamMode {
    /// A clan channel (2): text, app, voice and streaming channels.
    Channel,
    /// A group (3).
    Group,
    /// A direct message (4).
    Dm,
    /// A clan-wide stream (5).
    Clan,
    /// A thread (6).
    Thread,
    /// A mode this SDK does not know yet.
    Other(i32),
}

impl StreamMode {
    /// Reads a wire value.
    pub fn from_wire(value: i32) -> Self {
        match value {
            2 => Self::Channel,
            3 => Self::Group,
            4 => Self::Dm,
            5 => Self::Clan,
            6 => Self::Thread,
            other => Self::Other(other),
        }
    }

    /// The wire value.
    pub fn to_wire(self) -> i32 {
        match self {
            Self::Channel => 2,
            Self::Group => 3,
            Self::Dm => 4,
            Self::Clan => 5,
            Self::Thread => 6,
            Self::Other(v) => v,
        }
    }

    /// The channel type to name in a `channel_join` for a stream of this mode
    /// (DM → 3, group → 2, thread → 7, anything else → 1).
    pub fn join_channel_type(self) -> ChannelType {
        match self {
            Self::Dm => ChannelType::Dm,
            Self::Group => ChannelType::Group,
            Self::Thread => ChannelType::Thread,
            _ => ChannelType::Text,
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
                ChannelType::from_wire(channel_type).stream_mode().to_wire(),
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
                StreamMode::from_wire(mode).join_channel_type().to_wire(),
                join
            );
        }
    }

    #[test]
    fn wire_values_round_trip_including_unknown_ones() {
        for v in -1..=12 {
            assert_eq!(ChannelType::from_wire(v).to_wire(), v);
            assert_eq!(StreamMode::from_wire(v).to_wire(), v);
        }
        assert_eq!(ChannelType::from_wire(42), ChannelType::Other(42));
    }
}
