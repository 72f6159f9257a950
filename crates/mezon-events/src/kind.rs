//! [`EventKind`]: what an event is, with its canonical and documented names, and
//! [`EventKindSet`], a bitset of kinds for filters and interests.

use std::fmt;
use std::str::FromStr;

include!("generated/kind.rs");

impl EventKind {
    /// The position of this kind in [`EventKind::ALL`] (and its bit in an [`EventKindSet`]).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The kind at `index` in [`EventKind::ALL`].
    pub const fn from_index(index: usize) -> Option<Self> {
        if index < Self::COUNT {
            Some(Self::ALL[index])
        } else {
            None
        }
    }
}

impl fmt::Display for EventKind {
    /// Writes the canonical name (`channel_message`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A string that names no [`EventKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event name {0:?}")]
pub struct UnknownEventName(pub String);

impl FromStr for EventKind {
    type Err = UnknownEventName;

    /// Accepts the canonical name (`channel_message`) and the documented constant
    /// (`CHANNEL_MESSAGE`, `TOKEN_SEND`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| UnknownEventName(s.to_owned()))
    }
}

const _: () = assert!(
    EventKind::COUNT <= 128,
    "EventKindSet holds at most 128 kinds"
);

/// A set of [`EventKind`]s, one bit each. `Copy`, and every operation is `const`.
///
/// ```
/// use mezon_events::{EventKind, EventKindSet};
///
/// let set = EventKindSet::empty()
///     .with(EventKind::ChannelMessage)
///     .union(EventKindSet::of(EventKind::MessageReactionEvent));
/// assert!(set.contains(EventKind::ChannelMessage));
/// assert!(!set.contains(EventKind::Ping));
/// assert_eq!(set.len(), 2);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EventKindSet(u128);

impl EventKindSet {
    /// No kinds.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Every kind.
    pub const fn all() -> Self {
        Self(if EventKind::COUNT == 128 {
            u128::MAX
        } else {
            (1u128 << EventKind::COUNT) - 1
        })
    }

    /// Just `kind`.
    pub const fn of(kind: EventKind) -> Self {
        Self(1u128 << kind.index())
    }

    /// This set plus `kind`.
    pub const fn with(self, kind: EventKind) -> Self {
        Self(self.0 | Self::of(kind).0)
    }

    /// This set without `kind`.
    pub const fn without(self, kind: EventKind) -> Self {
        Self(self.0 & !Self::of(kind).0)
    }

    /// Every kind in either set.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Every kind in both sets.
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Adds `kind`; returns whether it was new.
    pub const fn insert(&mut self, kind: EventKind) -> bool {
        let new = !self.contains(kind);
        *self = self.with(kind);
        new
    }

    /// Removes `kind`; returns whether it was present.
    pub const fn remove(&mut self, kind: EventKind) -> bool {
        let present = self.contains(kind);
        *self = self.without(kind);
        present
    }

    /// Whether `kind` is in the set.
    pub const fn contains(self, kind: EventKind) -> bool {
        self.0 & Self::of(kind).0 != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many kinds the set holds.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The kinds in the set, in [`EventKind::ALL`] order.
    pub const fn iter(self) -> EventKindSetIter {
        EventKindSetIter(self.0)
    }
}

impl fmt::Debug for EventKindSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(EventKind::name))
            .finish()
    }
}

impl std::ops::BitOr for EventKindSet {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl std::ops::BitOr<EventKind> for EventKindSet {
    type Output = Self;
    fn bitor(self, rhs: EventKind) -> Self {
        self.with(rhs)
    }
}

impl std::ops::BitOr for EventKind {
    type Output = EventKindSet;
    fn bitor(self, rhs: Self) -> EventKindSet {
        EventKindSet::of(self).with(rhs)
    }
}

impl std::ops::BitOrAssign for EventKindSet {
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.union(rhs);
    }
}

impl std::ops::BitAnd for EventKindSet {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        self.intersection(rhs)
    }
}

impl From<EventKind> for EventKindSet {
    fn from(kind: EventKind) -> Self {
        Self::of(kind)
    }
}

impl FromIterator<EventKind> for EventKindSet {
    fn from_iter<I: IntoIterator<Item = EventKind>>(iter: I) -> Self {
        iter.into_iter().fold(Self::empty(), Self::with)
    }
}

impl Extend<EventKind> for EventKindSet {
    fn extend<I: IntoIterator<Item = EventKind>>(&mut self, iter: I) {
        for kind in iter {
            self.insert(kind);
        }
    }
}

impl IntoIterator for EventKindSet {
    type Item = EventKind;
    type IntoIter = EventKindSetIter;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over the kinds of an [`EventKindSet`], lowest index first.
#[derive(Debug, Clone)]
pub struct EventKindSetIter(u128);

impl Iterator for EventKindSetIter {
    type Item = EventKind;

    fn next(&mut self) -> Option<EventKind> {
        while self.0 != 0 {
            let index = self.0.trailing_zeros() as usize;
            self.0 &= self.0 - 1;
            if let Some(kind) = EventKind::from_index(index) {
                return Some(kind);
            }
        }
        None
    }
}
