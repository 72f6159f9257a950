//! Routing of component interactions (button clicks, select choices) by component id.
//!
//! A route is an exact id (`"confirm"`) or a prefix ending in `*` (`"vote:*"`), so one
//! handler can serve a family of ids such as `vote:1`, `vote:2`. For each interaction the
//! best pattern wins: an exact route, else the longest matching prefix; every handler
//! registered with that pattern runs (none is replaced or dropped). A route lives as long
//! as its dispatcher handler: [`Subscription::unsubscribe`](crate::Subscription::unsubscribe)
//! removes it, and the next best pattern takes over.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

/// A route pattern, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    text: String,
    prefix: bool,
}

impl Pattern {
    fn parse(pattern: &str) -> Self {
        match pattern.strip_suffix('*') {
            Some(prefix) => Self {
                text: prefix.to_owned(),
                prefix: true,
            },
            None => Self {
                text: pattern.to_owned(),
                prefix: false,
            },
        }
    }

    fn matches(&self, id: &str) -> bool {
        if self.prefix {
            id.starts_with(&self.text)
        } else {
            id == self.text
        }
    }

    /// Exact routes rank above every prefix; longer prefixes above shorter ones.
    fn rank(&self) -> (bool, usize) {
        (!self.prefix, self.text.len())
    }
}

/// The live patterns of one kind of component.
#[derive(Debug, Default)]
pub(crate) struct RouteTable {
    routes: RwLock<Vec<(Pattern, Weak<()>)>>,
}

/// One registered route; the table forgets it when this is dropped (with its handler).
#[derive(Debug)]
pub(crate) struct Route {
    pattern: Pattern,
    _alive: Arc<()>,
}

impl RouteTable {
    fn read(&self) -> RwLockReadGuard<'_, Vec<(Pattern, Weak<()>)>> {
        self.routes.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Vec<(Pattern, Weak<()>)>> {
        self.routes.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `pattern` (an exact id, or a prefix ending in `*`).
    pub(crate) fn add(&self, pattern: &str) -> Route {
        let alive = Arc::new(());
        let pattern = Pattern::parse(pattern);
        let mut routes = self.write();
        routes.retain(|(_, alive)| alive.strong_count() > 0);
        routes.push((pattern.clone(), Arc::downgrade(&alive)));
        Route {
            pattern,
            _alive: alive,
        }
    }

    /// The pattern that wins for `id` among the live routes.
    pub(crate) fn winner(&self, id: &str) -> Option<Pattern> {
        self.read()
            .iter()
            .filter(|(p, alive)| alive.strong_count() > 0 && p.matches(id))
            .max_by_key(|(p, _)| p.rank())
            .map(|(p, _)| p.clone())
    }

    /// Whether any route is live.
    pub(crate) fn is_empty(&self) -> bool {
        !self
            .read()
            .iter()
            .any(|(_, alive)| alive.strong_count() > 0)
    }
}

impl Route {
    /// Whether this route's handler should run for `id`.
    pub(crate) fn wins(&self, table: &RouteTable, id: &str) -> bool {
        table.winner(id).is_some_and(|w| w == self.pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_routes_win_over_prefixes_and_longest_prefix_wins() {
        let table = RouteTable::default();
        let vote = table.add("vote:*");
        let special = table.add("vote:special:*");
        let one = table.add("vote:1");
        let one_again = table.add("vote:1");
        assert!(one.wins(&table, "vote:1") && one_again.wins(&table, "vote:1"));
        assert!(!vote.wins(&table, "vote:1"));
        assert!(vote.wins(&table, "vote:2"));
        assert!(special.wins(&table, "vote:special:x"));
        assert!(table.winner("other").is_none());
        // Dropping the exact routes hands their ids back to the prefix.
        drop((one, one_again));
        assert!(vote.wins(&table, "vote:1"));
        drop((vote, special));
        assert!(table.is_empty());
    }
}
