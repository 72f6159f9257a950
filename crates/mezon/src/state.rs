//! What the client remembers: bounded LRU caches of clans, channels, users and messages kept
//! current by events; what it has joined (to redo after a reconnect); the DM map; and
//! single-flight fetching so concurrent misses for one id make one API call.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use lru::LruCache;
use mezon_proto::api;
use mezon_proto::realtime::{
    ChannelCreatedEvent, ChannelDeletedEvent, ChannelJoin, ChannelUpdatedEvent, ClanUpdatedEvent,
};

/// How many entries each cache keeps before evicting the least recently used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheSizes {
    /// Clans.
    pub clans: usize,
    /// Channels (DMs and threads included).
    pub channels: usize,
    /// Users.
    pub users: usize,
    /// Messages.
    pub messages: usize,
}

impl Default for CacheSizes {
    fn default() -> Self {
        Self {
            clans: 512,
            channels: 8192,
            users: 16384,
            messages: 4096,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these short locks leaves plain data behind; keep going.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A bounded, thread-safe LRU cache.
pub(crate) struct Cache<K: Hash + Eq, V> {
    inner: Mutex<LruCache<K, V>>,
}

impl<K: Hash + Eq + Copy, V: Clone> Cache<K, V> {
    fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            inner: Mutex::new(LruCache::new(cap)),
        }
    }

    pub(crate) fn get(&self, key: K) -> Option<V> {
        lock(&self.inner).get(&key).cloned()
    }

    pub(crate) fn put(&self, key: K, value: V) {
        lock(&self.inner).put(key, value);
    }

    pub(crate) fn update(&self, key: K, f: impl FnOnce(&mut V)) -> bool {
        match lock(&self.inner).get_mut(&key) {
            Some(v) => {
                f(v);
                true
            }
            None => false,
        }
    }

    pub(crate) fn remove(&self, key: K) -> Option<V> {
        lock(&self.inner).pop(&key)
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.inner).len()
    }

    pub(crate) fn values(&self) -> Vec<V> {
        lock(&self.inner).iter().map(|(_, v)| v.clone()).collect()
    }
}

/// Makes concurrent fetches of one key share a single call.
pub(crate) struct SingleFlight<K> {
    in_flight: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K: Hash + Eq + Copy> SingleFlight<K> {
    pub(crate) fn new() -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// Returns `cached()` if it has a value; otherwise one caller runs `fetch` (storing the
    /// value with `store`) while the others for the same key wait and then read the cache.
    pub(crate) async fn get<V, E, Fut>(
        &self,
        key: K,
        cached: impl Fn() -> Option<V>,
        fetch: impl FnOnce() -> Fut,
        store: impl FnOnce(&V),
    ) -> Result<V, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(v) = cached() {
            return Ok(v);
        }
        let gate = lock(&self.in_flight).entry(key).or_default().clone();
        // Removes the entry however this call ends (cancelled callers included), so the map
        // only holds keys being fetched right now.
        let _cleanup = Cleanup {
            flights: self,
            key,
            gate: &gate,
        };
        let _turn = gate.lock().await;
        if let Some(v) = cached() {
            return Ok(v);
        }
        let result = fetch().await;
        if let Ok(v) = &result {
            store(v);
        }
        result
    }

    #[cfg(test)]
    fn in_flight(&self) -> usize {
        lock(&self.in_flight).len()
    }
}

struct Cleanup<'a, K: Hash + Eq + Copy> {
    flights: &'a SingleFlight<K>,
    key: K,
    gate: &'a Arc<tokio::sync::Mutex<()>>,
}

impl<K: Hash + Eq + Copy> Drop for Cleanup<'_, K> {
    fn drop(&mut self) {
        let mut map = lock(&self.flights.in_flight);
        // Waiters still hold clones of the gate; the last one out removes the entry.
        if map
            .get(&self.key)
            .is_some_and(|g| Arc::ptr_eq(g, self.gate) && Arc::strong_count(g) <= 2)
        {
            map.remove(&self.key);
        }
    }
}

/// Everything the client knows and has joined.
pub(crate) struct State {
    pub(crate) clans: Cache<i64, api::ClanDesc>,
    pub(crate) channels: Cache<i64, api::ChannelDescription>,
    pub(crate) users: Cache<i64, api::User>,
    /// Shares the event's payload: caching a message copies nothing.
    pub(crate) messages: Cache<i64, Arc<api::ChannelMessage>>,
    pub(crate) clan_flights: SingleFlight<i64>,
    pub(crate) channel_flights: SingleFlight<i64>,
    pub(crate) dm_flights: SingleFlight<i64>,
    joined_clans: Mutex<BTreeSet<i64>>,
    joined_channels: Mutex<HashMap<i64, ChannelJoin>>,
    /// Peer user id → DM channel id; bounded like the channel cache.
    dms: Cache<i64, i64>,
}

/// Most channel joins remembered for re-joining (a server cannot grow the set without bound
/// by adding the bot to ever more channels; joins past it still happen, but are not redone
/// after a reconnect, and a warning says so).
pub(crate) const MAX_JOINED_CHANNELS: usize = 65_536;

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("clans", &self.clans.len())
            .field("channels", &self.channels.len())
            .field("users", &self.users.len())
            .field("messages", &self.messages.len())
            .field("joined_clans", &lock(&self.joined_clans).len())
            .field("joined_channels", &lock(&self.joined_channels).len())
            .finish()
    }
}

impl State {
    pub(crate) fn new(sizes: CacheSizes) -> Self {
        Self {
            clans: Cache::new(sizes.clans),
            channels: Cache::new(sizes.channels),
            users: Cache::new(sizes.users),
            messages: Cache::new(sizes.messages),
            clan_flights: SingleFlight::new(),
            channel_flights: SingleFlight::new(),
            dm_flights: SingleFlight::new(),
            joined_clans: Mutex::new(BTreeSet::new()),
            joined_channels: Mutex::new(HashMap::new()),
            dms: Cache::new(sizes.channels),
        }
    }

    /// Records a clan join (for re-join after reconnects); whether it is new.
    pub(crate) fn joined_clan(&self, clan_id: i64) -> bool {
        lock(&self.joined_clans).insert(clan_id)
    }

    /// Forgets a clan join that did not happen (its channel joins stay).
    pub(crate) fn forget_clan_join(&self, clan_id: i64) {
        lock(&self.joined_clans).remove(&clan_id);
    }

    /// Records a channel join; whether the channel is new.
    pub(crate) fn joined_channel(&self, join: ChannelJoin) -> bool {
        let mut joined = lock(&self.joined_channels);
        if joined.len() >= MAX_JOINED_CHANNELS && !joined.contains_key(&join.channel_id) {
            tracing::warn!(
                channel_id = join.channel_id,
                max = MAX_JOINED_CHANNELS,
                "too many joined channels to remember; this one is not re-joined after a reconnect"
            );
            return true;
        }
        joined.insert(join.channel_id, join).is_none()
    }

    /// Forgets a channel (left or deleted).
    pub(crate) fn left_channel(&self, channel_id: i64) {
        lock(&self.joined_channels).remove(&channel_id);
    }

    /// Forgets a clan and its channel joins.
    pub(crate) fn left_clan(&self, clan_id: i64) {
        lock(&self.joined_clans).remove(&clan_id);
        lock(&self.joined_channels).retain(|_, j| j.clan_id != clan_id);
        self.clans.remove(clan_id);
    }

    /// Whether the channel was joined since login.
    pub(crate) fn has_joined_channel(&self, channel_id: i64) -> bool {
        lock(&self.joined_channels).contains_key(&channel_id)
    }

    /// The clans joined, in id order (clan 0 first).
    pub(crate) fn clan_joins(&self) -> Vec<i64> {
        lock(&self.joined_clans).iter().copied().collect()
    }

    /// The channel joins to redo, in channel id order.
    pub(crate) fn channel_joins(&self) -> Vec<ChannelJoin> {
        let mut joins: Vec<ChannelJoin> = lock(&self.joined_channels).values().copied().collect();
        joins.sort_by_key(|j| j.channel_id);
        joins
    }

    /// Records the DM channel with `peer`.
    pub(crate) fn set_dm(&self, peer: i64, channel_id: i64) {
        self.dms.put(peer, channel_id);
    }

    /// The DM channel with `peer`, if known.
    pub(crate) fn dm_with(&self, peer: i64) -> Option<i64> {
        self.dms.get(peer)
    }

    /// Stores a channel description, and the DM mapping when it is a DM.
    pub(crate) fn put_channel(&self, ch: api::ChannelDescription) {
        if ch.r#type == 3
            && let Some(&peer) = ch.user_ids.first()
        {
            self.set_dm(peer, ch.channel_id);
        }
        self.channels.put(ch.channel_id, ch);
    }

    pub(crate) fn on_channel_created(&self, ev: &ChannelCreatedEvent) {
        self.put_channel(api::ChannelDescription {
            clan_id: ev.clan_id,
            parent_id: ev.parent_id,
            channel_id: ev.channel_id,
            category_id: ev.category_id,
            r#type: ev.channel_type,
            creator_id: ev.creator_id,
            channel_label: ev.channel_label.clone(),
            channel_private: ev.channel_private,
            ..api::ChannelDescription::default()
        });
    }

    pub(crate) fn on_channel_updated(&self, ev: &ChannelUpdatedEvent) {
        let apply = |ch: &mut api::ChannelDescription| {
            if !ev.channel_label.is_empty() {
                ch.channel_label = ev.channel_label.clone();
            }
            if ev.channel_type != 0 {
                ch.r#type = ev.channel_type;
            }
            ch.channel_private = i32::from(ev.channel_private);
            ch.category_id = ev.category_id;
            ch.parent_id = ev.parent_id;
            ch.active = ev.active;
        };
        if !self.channels.update(ev.channel_id, apply) {
            let mut ch = api::ChannelDescription {
                clan_id: ev.clan_id,
                channel_id: ev.channel_id,
                creator_id: ev.creator_id,
                ..api::ChannelDescription::default()
            };
            apply(&mut ch);
            self.put_channel(ch);
        }
    }

    pub(crate) fn on_channel_deleted(&self, ev: &ChannelDeletedEvent) {
        self.channels.remove(ev.channel_id);
        self.left_channel(ev.channel_id);
    }

    pub(crate) fn on_clan_updated(&self, ev: &ClanUpdatedEvent) {
        let apply = |c: &mut api::ClanDesc| {
            c.clan_name = ev.clan_name.clone();
            c.logo = ev.logo.clone();
            c.banner = ev.banner.clone();
            c.status = ev.status;
            c.welcome_channel_id = ev.welcome_channel_id;
            c.about = ev.about.clone();
            c.description = ev.description.clone();
            c.prevent_anonymous = ev.prevent_anonymous;
        };
        if !self.clans.update(ev.clan_id, apply) {
            let mut clan = api::ClanDesc {
                clan_id: ev.clan_id,
                ..api::ClanDesc::default()
            };
            apply(&mut clan);
            self.clans.put(ev.clan_id, clan);
        }
    }

    /// Applies a message the bot sent itself (see [`State::on_message_shared`]).
    pub(crate) fn on_message(&self, msg: &api::ChannelMessage) {
        self.on_message_shared(&Arc::new(msg.clone()));
    }

    /// Applies a received message: stores it (or applies an edit / deletion) and learns the
    /// sender's name. The cache shares the event's payload; an edit makes a new entry.
    pub(crate) fn on_message_shared(&self, msg: &Arc<api::ChannelMessage>) {
        match msg.code {
            2 => {
                self.messages.remove(msg.message_id);
            }
            1 => {
                let edited = self.messages.get(msg.message_id).map(|cached| {
                    let mut merged = api::ChannelMessage::clone(&cached);
                    merged.content.clone_from(&msg.content);
                    merged.mentions = msg.mentions.clone();
                    merged.attachments = msg.attachments.clone();
                    merged.update_time_seconds = msg.update_time_seconds;
                    Arc::new(merged)
                });
                self.messages
                    .put(msg.message_id, edited.unwrap_or_else(|| Arc::clone(msg)));
            }
            _ => self.messages.put(msg.message_id, Arc::clone(msg)),
        }
        if msg.sender_id != 0 && !msg.username.is_empty() {
            self.learn_sender(msg);
        }
    }

    /// Records the sender's names; copies them only when they changed.
    fn learn_sender(&self, msg: &api::ChannelMessage) {
        let known = self.users.update(msg.sender_id, |u| {
            if u.username != msg.username {
                u.username.clone_from(&msg.username);
            }
            if !msg.display_name.is_empty() && u.display_name != msg.display_name {
                u.display_name.clone_from(&msg.display_name);
            }
        });
        if !known {
            self.users.put(
                msg.sender_id,
                api::User {
                    id: msg.sender_id,
                    username: msg.username.clone(),
                    display_name: msg.display_name.clone(),
                    avatar_url: msg.avatar.clone(),
                    ..api::User::default()
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn caches_are_bounded_and_evict_the_least_recently_used() {
        let cache: Cache<i64, i64> = Cache::new(2);
        cache.put(1, 10);
        cache.put(2, 20);
        assert_eq!(cache.get(1), Some(10)); // 1 is now the most recent
        cache.put(3, 30);
        assert_eq!(cache.get(2), None);
        assert_eq!(cache.len(), 2);
        let zero: Cache<i64, i64> = Cache::new(0);
        zero.put(1, 1);
        assert_eq!(zero.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_misses_for_one_id_make_one_call() {
        let state = Arc::new(State::new(CacheSizes::default()));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (state, calls) = (state.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                let s = state.clone();
                state
                    .clan_flights
                    .get(
                        7,
                        || s.users.get(7),
                        || async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<_, ()>(api::User {
                                id: 7,
                                ..Default::default()
                            })
                        },
                        |u| s.users.put(7, u.clone()),
                    )
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().map(|u| u.id), Ok(7));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            state.clan_flights.in_flight(),
            0,
            "the last waiter cleans up"
        );
    }

    #[tokio::test]
    async fn a_failed_fetch_lets_the_next_caller_try_again() {
        let flights = SingleFlight::<i64>::new();
        let first: Result<i64, &str> = flights
            .get(1, || None, || async { Err("down") }, |_| {})
            .await;
        assert!(first.is_err());
        let second: Result<i64, &str> = flights.get(1, || None, || async { Ok(5) }, |_| {}).await;
        assert_eq!(second, Ok(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_fetch_leaves_no_entry_behind() {
        let flights = SingleFlight::<i64>::new();
        let cancelled = tokio::time::timeout(
            Duration::from_secs(1),
            flights.get(1, || None, std::future::pending::<Result<i64, ()>>, |_| {}),
        )
        .await;
        assert!(cancelled.is_err());
        assert_eq!(flights.in_flight(), 0);
        let done: Result<i64, ()> = flights.get(2, || None, || async { Ok(2) }, |_| {}).await;
        assert_eq!(done, Ok(2));
        assert_eq!(flights.in_flight(), 0);
    }

    #[test]
    fn events_keep_caches_and_joins_current() {
        let state = State::new(CacheSizes::default());
        state.on_channel_created(&ChannelCreatedEvent {
            clan_id: 1,
            channel_id: 5,
            channel_label: "general".into(),
            channel_type: 1,
            ..Default::default()
        });
        state.on_channel_updated(&ChannelUpdatedEvent {
            clan_id: 1,
            channel_id: 5,
            channel_label: "renamed".into(),
            channel_private: true,
            ..Default::default()
        });
        let ch = state.channels.get(5).unwrap();
        assert_eq!(
            (ch.channel_label.as_str(), ch.channel_private, ch.r#type),
            ("renamed", 1, 1)
        );
        state.joined_channel(ChannelJoin {
            clan_id: 1,
            channel_id: 5,
            channel_type: 1,
            is_public: false,
        });
        assert!(state.has_joined_channel(5));
        state.on_channel_deleted(&ChannelDeletedEvent {
            clan_id: 1,
            channel_id: 5,
            ..Default::default()
        });
        assert!(state.channels.get(5).is_none());
        assert!(!state.has_joined_channel(5));

        state.put_channel(api::ChannelDescription {
            channel_id: 9,
            r#type: 3,
            user_ids: vec![77],
            ..Default::default()
        });
        assert_eq!(state.dm_with(77), Some(9));

        // An update for a channel or clan not cached yet stores what the event says.
        state.on_channel_updated(&ChannelUpdatedEvent {
            clan_id: 1,
            channel_id: 6,
            channel_label: "new".into(),
            channel_type: 7,
            ..Default::default()
        });
        let ch = state.channels.get(6).unwrap();
        assert_eq!(
            (ch.clan_id, ch.channel_label.as_str(), ch.r#type),
            (1, "new", 7)
        );
        for name in ["first", "second"] {
            state.on_clan_updated(&ClanUpdatedEvent {
                clan_id: 2,
                clan_name: name.into(),
                ..Default::default()
            });
            let clan = state.clans.get(2).unwrap();
            assert_eq!((clan.clan_id, clan.clan_name.as_str()), (2, name));
        }
    }

    #[test]
    fn message_edits_and_deletes_apply_to_the_cache() {
        let state = State::new(CacheSizes::default());
        let msg = api::ChannelMessage {
            message_id: 1,
            sender_id: 3,
            username: "al".into(),
            content: "a".into(),
            ..Default::default()
        };
        state.on_message(&msg);
        assert_eq!(state.users.get(3).map(|u| u.username), Some("al".into()));
        state.on_message(&api::ChannelMessage {
            code: 1,
            content: "b".into(),
            ..msg.clone()
        });
        assert_eq!(
            state.messages.get(1).map(|m| m.content.clone()),
            Some("b".into())
        );
        state.on_message(&api::ChannelMessage { code: 2, ..msg });
        assert!(state.messages.get(1).is_none());
    }

    #[test]
    fn the_message_cache_shares_the_payload() {
        let state = State::new(CacheSizes::default());
        let msg = Arc::new(api::ChannelMessage {
            message_id: 9,
            sender_id: 3,
            username: "al".into(),
            ..Default::default()
        });
        state.on_message_shared(&msg);
        let cached = state.messages.get(9).unwrap();
        assert!(Arc::ptr_eq(&cached, &msg), "no copy");
    }

    #[test]
    fn dms_and_joined_channels_are_bounded() {
        let state = State::new(CacheSizes {
            channels: 4,
            ..CacheSizes::default()
        });
        for peer in 0..100 {
            state.set_dm(peer, 1000 + peer);
        }
        assert_eq!(state.dms.len(), 4);
        assert_eq!(state.dm_with(99), Some(1099));
        let join = |channel_id| ChannelJoin {
            clan_id: 1,
            channel_id,
            channel_type: 1,
            is_public: true,
        };
        for channel in 0..=MAX_JOINED_CHANNELS as i64 {
            state.joined_channel(join(channel));
        }
        assert_eq!(state.channel_joins().len(), MAX_JOINED_CHANNELS);
        assert!(!state.has_joined_channel(MAX_JOINED_CHANNELS as i64));
        // A channel already remembered is still updated.
        assert!(!state.joined_channel(join(0)));
    }
}
