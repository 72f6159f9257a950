//! Routing of component interactions (button clicks, select choices) by component id.
//!
//! A route is an exact id (`"confirm"`) or a prefix ending in `*` (`"vote:*"`), so one
//! handler can serve a family of ids such as `vote:1`, `vote:2`. Exact routes win, then
//! the longest matching prefix.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

/// A boxed future returned by route handlers.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

type Handler<E, C> = Arc<dyn Fn(E, C) -> BoxFuture + Send + Sync>;

/// Maps component ids to handlers of interaction events `E`, called with a context `C`.
pub struct ComponentRouter<E, C> {
    routes: RwLock<Routes<E, C>>,
}

struct Routes<E, C> {
    exact: HashMap<String, Handler<E, C>>,
    prefixes: Vec<(String, Handler<E, C>)>,
}

impl<E, C> std::fmt::Debug for ComponentRouter<E, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (exact, prefixes) = self
            .routes
            .read()
            .map(|r| (r.exact.len(), r.prefixes.len()))
            .unwrap_or_default();
        f.debug_struct("ComponentRouter")
            .field("exact_routes", &exact)
            .field("prefix_routes", &prefixes)
            .finish()
    }
}

impl<E, C> Default for ComponentRouter<E, C> {
    fn default() -> Self {
        Self {
            routes: RwLock::new(Routes {
                exact: HashMap::new(),
                prefixes: Vec::new(),
            }),
        }
    }
}

impl<E: Send + 'static, C: Send + 'static> ComponentRouter<E, C> {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes `pattern` (an exact id, or a prefix ending in `*`) to `handler`; a later
    /// route for the same pattern replaces the earlier one.
    pub fn route<F, Fut>(&self, pattern: &str, handler: F)
    where
        F: Fn(E, C) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handler: Handler<E, C> = Arc::new(move |e, c| Box::pin(handler(e, c)));
        let Ok(mut routes) = self.routes.write() else {
            return;
        };
        match pattern.strip_suffix('*') {
            Some(prefix) => {
                routes.prefixes.retain(|(p, _)| p != prefix);
                routes.prefixes.push((prefix.to_owned(), handler));
                routes
                    .prefixes
                    .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
            }
            None => {
                routes.exact.insert(pattern.to_owned(), handler);
            }
        }
    }

    /// Whether any route exists.
    pub fn is_empty(&self) -> bool {
        self.routes
            .read()
            .map(|r| r.exact.is_empty() && r.prefixes.is_empty())
            .unwrap_or(true)
    }

    fn find(&self, id: &str) -> Option<Handler<E, C>> {
        let routes = self.routes.read().ok()?;
        if let Some(h) = routes.exact.get(id) {
            return Some(h.clone());
        }
        routes
            .prefixes
            .iter()
            .find(|(p, _)| id.starts_with(p.as_str()))
            .map(|(_, h)| h.clone())
    }

    /// Runs the handler routed for `id`, if any; returns whether one ran.
    pub async fn dispatch(&self, id: &str, event: E, ctx: C) -> bool {
        match self.find(id) {
            Some(handler) => {
                handler(event, ctx).await;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn exact_routes_win_over_prefixes_and_longest_prefix_wins() {
        let hits = Arc::new(Mutex::new(Vec::<String>::new()));
        let router = ComponentRouter::<String, Arc<Mutex<Vec<String>>>>::new();
        router.route("vote:*", |e, log| async move {
            log.lock().unwrap().push(format!("vote {e}"));
        });
        router.route("vote:special:*", |e, log| async move {
            log.lock().unwrap().push(format!("special {e}"));
        });
        router.route("vote:1", |e, log| async move {
            log.lock().unwrap().push(format!("one {e}"));
        });
        assert!(router.dispatch("vote:1", "a".into(), hits.clone()).await);
        assert!(router.dispatch("vote:2", "b".into(), hits.clone()).await);
        assert!(
            router
                .dispatch("vote:special:x", "c".into(), hits.clone())
                .await
        );
        assert!(!router.dispatch("other", "d".into(), hits.clone()).await);
        assert_eq!(*hits.lock().unwrap(), vec!["one a", "vote b", "special c"]);
    }
}
