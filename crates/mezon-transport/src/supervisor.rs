//! Keeping the transport up: the reconnect loop with backoff and lifecycle notifications, the
//! rejoin hook after a reconnect, and the session refresher.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::backlog::Backlog;
use crate::connection::{Connection, OpenError};
use crate::error::{RequestError, TransportError};
use crate::inbound::{Inbound, Lifecycle};
use crate::session::Session;
use crate::transport::{LinkState, RejoinHook, Shared, TransportHandle};

enum Stop {
    Shutdown,
    Fatal(TransportError),
}

/// Sends an item, waiting for room; `false` when shutting down or the consumer is gone.
async fn deliver(shared: &Shared, inbound: &mpsc::Sender<Inbound>, item: Inbound) -> bool {
    tokio::select! {
        _ = shared.shutdown.cancelled() => false,
        sent = inbound.send(item) => sent.is_ok(),
    }
}

/// Lifecycle items queued behind a dropped connection's undelivered events (a few reconnect
/// attempts' worth; the supervisor waits when it is full).
const RELAY_CAPACITY: usize = 8;

/// Delivers what a dropped connection had read, then the lifecycle items emitted since, in
/// that order, while the supervisor already reconnects: a slow consumer still working through
/// old events does not hold the reconnect back.
struct Relay {
    lifecycle: mpsc::Sender<Inbound>,
    task: JoinHandle<()>,
}

impl Relay {
    fn start(shared: &Arc<Shared>, backlog: Backlog, inbound: mpsc::Sender<Inbound>) -> Self {
        let (lifecycle, mut queued) = mpsc::channel(RELAY_CAPACITY);
        let shared = Arc::clone(shared);
        let task = tokio::spawn(async move {
            for item in backlog.drain() {
                if !deliver(&shared, &inbound, item).await {
                    return;
                }
            }
            while let Some(item) = queued.recv().await {
                if !deliver(&shared, &inbound, item).await {
                    return;
                }
            }
        });
        Self { lifecycle, task }
    }

    /// Queues a lifecycle item; `false` when shutting down or the consumer is gone.
    async fn emit(&self, shared: &Shared, lifecycle: Lifecycle) -> bool {
        tracing::info!(?lifecycle, "transport lifecycle");
        deliver(shared, &self.lifecycle, Inbound::Lifecycle(lifecycle)).await
    }

    /// Waits until everything queued has been delivered (or delivery gave up).
    async fn finish(self) {
        drop(self.lifecycle);
        let _ = self.task.await;
    }
}

pub(crate) async fn supervise(
    handle: TransportHandle,
    mut conn: Connection,
    inbound: mpsc::Sender<Inbound>,
    hook: Option<Arc<dyn RejoinHook>>,
) {
    let shared = Arc::clone(&handle.shared);
    let mut relay: Option<Relay> = None;
    let error = loop {
        conn.link.closed.cancelled().await;
        let down_since = Instant::now();
        shared.link.send_replace(LinkState::Connecting);
        let (reason, backlog) = conn.finished().await;
        if shared.shutdown.is_cancelled() {
            break None;
        }
        tracing::warn!(generation = conn.link.generation, %reason, "link dropped");
        // Events read before the drop reach the consumer before `Disconnected` does.
        let this_relay = relay.insert(Relay::start(&shared, backlog, inbound.clone()));
        if !this_relay
            .emit(&shared, Lifecycle::Disconnected { reason })
            .await
        {
            break None;
        }
        if !shared.config.reconnect.enabled {
            break Some(TransportError::GaveUp { attempts: 0 });
        }
        conn = match reconnect(&handle, &inbound, this_relay).await {
            Ok(conn) => conn,
            Err(Stop::Shutdown) => break None,
            Err(Stop::Fatal(error)) => break Some(error),
        };
        shared.link.send_replace(LinkState::Up(conn.link.clone()));
        if let Some(hook) = &hook {
            match tokio::time::timeout(shared.config.rejoin_timeout, hook.rejoin(&handle)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "rejoin after reconnect failed"),
                Err(_) => tracing::warn!("rejoin after reconnect timed out"),
            }
        }
        let downtime = down_since.elapsed();
        if !this_relay
            .emit(&shared, Lifecycle::Reconnected { downtime })
            .await
        {
            break None;
        }
        // The new connection's events follow everything the relay still holds.
        if let Some(done) = relay.take() {
            done.finish().await;
        }
        if shared.shutdown.is_cancelled() {
            break None;
        }
        conn.open_events();
    };
    let error = error.map(Arc::new);
    if let Some(error) = &error {
        tracing::error!(%error, "transport stopped");
    }
    shared.link.send_replace(LinkState::Stopped(error.clone()));
    conn.link.pending.close(RequestError::Closed);
    let stopped = Lifecycle::Stopped { error };
    if let Some(relay) = relay.take() {
        // Undelivered events and `Stopped` still reach a consumer that keeps reading (this
        // ends at once on shutdown, or when the consumer drops the stream).
        let queued = relay.emit(&shared, stopped.clone()).await;
        relay.finish().await;
        if queued {
            shared.shutdown.cancel();
            return;
        }
    }
    shared.shutdown.cancel();
    // Best effort: the consumer may have stopped reading.
    let stopped = Inbound::Lifecycle(stopped);
    let _ = tokio::time::timeout(Duration::from_secs(1), inbound.send(stopped)).await;
}

async fn reconnect(
    handle: &TransportHandle,
    inbound: &mpsc::Sender<Inbound>,
    relay: &Relay,
) -> Result<Connection, Stop> {
    let shared = &handle.shared;
    let policy = &shared.config.reconnect;
    let mut attempt: u32 = 0;
    loop {
        attempt = attempt.saturating_add(1);
        if policy.max_attempts.is_some_and(|max| attempt > max) {
            return Err(Stop::Fatal(TransportError::GaveUp {
                attempts: attempt - 1,
            }));
        }
        let delay = policy.delay(attempt, crate::config::jitter_unit());
        if !relay
            .emit(shared, Lifecycle::Reconnecting { attempt, delay })
            .await
        {
            return Err(Stop::Shutdown);
        }
        tokio::select! {
            _ = shared.shutdown.cancelled() => return Err(Stop::Shutdown),
            _ = tokio::time::sleep(delay) => {}
        }
        let session = handle.session();
        if session.remaining().is_some_and(|left| left.is_zero()) {
            match handle.reauthenticate(&session.token).await {
                Err(e) if e.is_unauthorized() => return Err(Stop::Fatal(e.into())),
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "re-authentication failed");
                    continue;
                }
                Ok(()) => {}
            }
        }
        match handle.open_connection(false, inbound.clone()).await {
            Ok(conn) => return Ok(conn),
            Err(OpenError::Unauthorized(status)) => {
                // The token was refused before it expired: start over with the api key.
                tracing::warn!(
                    attempt,
                    status,
                    "socket refused the token; logging in again"
                );
                match handle.relogin(&session.token).await {
                    Err(e) if e.is_unauthorized() => return Err(Stop::Fatal(e.into())),
                    Err(e) => tracing::warn!(attempt, error = %e, "re-authentication failed"),
                    Ok(()) => {}
                }
            }
            Err(OpenError::Other(e)) => tracing::warn!(attempt, error = %e, "reconnect failed"),
        }
    }
}

/// Refreshes the session before its token expires, and again whenever a new one arrives.
pub(crate) async fn keep_session_fresh(handle: TransportHandle) {
    let shared = Arc::clone(&handle.shared);
    let mut sessions = shared.session.subscribe();
    loop {
        let wait = refresh_delay(&sessions.borrow_and_update(), shared.config.refresh_margin);
        let due = async {
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            changed = sessions.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = due => {
                let stale = handle.session().token;
                if let Err(e) = handle.reauthenticate(&stale).await {
                    tracing::warn!(error = %e, "scheduled session refresh failed; retrying in 30 s");
                    tokio::select! {
                        _ = shared.shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                    }
                }
            }
        }
    }
}

/// Refreshes never follow each other faster than this, even if the server hands out tokens
/// that are already expired (clock skew), so the refresher cannot spin.
const MIN_REFRESH_DELAY: Duration = Duration::from_secs(1);

/// How long until the session should be refreshed: `margin` before expiry, but at most half
/// of the remaining lifetime early. `None` when the token does not say when it expires.
fn refresh_delay(session: &Session, margin: Duration) -> Option<Duration> {
    let remaining = session.remaining()?;
    Some((remaining - margin.min(remaining / 2)).max(MIN_REFRESH_DELAY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::api;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn expiring_in(secs: u64) -> Session {
        let exp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|now| now.as_secs() + secs)
            .unwrap_or_default();
        let token = crate::session::tests::jwt(&serde_json::json!({ "exp": exp }));
        Session::from_proto(api::Session {
            token,
            ..Default::default()
        })
    }

    #[test]
    fn refresh_is_due_a_margin_before_expiry_but_not_before_half_time() {
        let margin = Duration::from_secs(300);
        let long = refresh_delay(&expiring_in(3600), margin).unwrap_or_default();
        assert!(
            long <= Duration::from_secs(3300) && long > Duration::from_secs(3290),
            "{long:?}"
        );
        let short = refresh_delay(&expiring_in(60), margin).unwrap_or_default();
        assert!(
            short <= Duration::from_secs(30) && short > Duration::from_secs(25),
            "{short:?}"
        );
        let opaque = Session::from_proto(api::Session {
            token: "opaque".into(),
            ..Default::default()
        });
        assert_eq!(refresh_delay(&opaque, margin), None);
        let expired = Session::from_proto(api::Session {
            token: crate::session::tests::jwt(&serde_json::json!({ "exp": 1 })),
            ..Default::default()
        });
        assert_eq!(refresh_delay(&expired, margin), Some(MIN_REFRESH_DELAY));
    }
}
