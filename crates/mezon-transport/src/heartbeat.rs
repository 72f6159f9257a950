//! Liveness of one connection: pings, and the rule that declares the link dead.
//!
//! The link is dead when nothing at all arrives within `timeout` after a ping. Time during
//! which the reader is deliberately not reading (the consumer is slow and the inbound queue is
//! full) does not count: a slow consumer must never make the transport drop its own link.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message as _;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::connection::Link;
use crate::inbound::DisconnectReason;
use crate::proto::realtime::{Envelope, Ping, envelope::Message};

/// When the connection last showed signs of life, and whether its reader is paused.
#[derive(Debug)]
pub(crate) struct Liveness {
    state: Mutex<LiveState>,
}

#[derive(Debug)]
struct LiveState {
    last_activity: Instant,
    reader_paused: bool,
}

impl Liveness {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(LiveState {
                last_activity: Instant::now(),
                reader_paused: false,
            }),
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut LiveState) -> R) -> R {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut state)
    }

    /// A frame arrived.
    pub(crate) fn touch(&self) {
        self.with(|s| s.last_activity = Instant::now());
    }

    /// The reader stopped (or resumed) reading because the inbound queue is full.
    pub(crate) fn set_reader_paused(&self, paused: bool) {
        self.with(|s| {
            s.reader_paused = paused;
            // Resuming restarts the clock: the paused time is not silence from the server.
            s.last_activity = Instant::now();
        });
    }

    /// Whether the link counts as alive for a ping sent at `ping_sent`.
    pub(crate) fn alive_since(&self, ping_sent: Instant) -> bool {
        self.with(|s| s.reader_paused || s.last_activity >= ping_sent)
    }
}

/// Pings at once and every `interval`; declares the link dead (closing this connection only)
/// when a ping is followed by `timeout` of silence.
pub(crate) async fn run(
    link: Link,
    liveness: Arc<Liveness>,
    interval: Duration,
    timeout: Duration,
) {
    let interval = interval.max(Duration::from_millis(10));
    let timeout = timeout.max(Duration::from_millis(10));
    loop {
        let ping_sent = Instant::now();
        // The registration keeps the ping's cid reserved until the check below; the pong
        // itself only matters as a sign of life.
        let ping = match link.pending.register() {
            Ok(ping) => ping,
            Err(_) => return,
        };
        let envelope = Envelope {
            cid: i32::from(ping.cid()),
            message: Some(Message::Ping(Ping {})),
        };
        let frame = WsMessage::Binary(envelope.encode_to_vec().into());
        if link.send_frame(frame).await.is_err() {
            return;
        }
        tokio::select! {
            _ = link.closed.cancelled() => return,
            _ = tokio::time::sleep(timeout) => {}
        }
        drop(ping);
        if !liveness.alive_since(ping_sent) {
            tracing::warn!(
                generation = link.generation,
                "no pong within {timeout:?}: link is dead"
            );
            link.close(DisconnectReason::HeartbeatTimeout);
            return;
        }
        let until_next_ping = interval.saturating_sub(ping_sent.elapsed());
        tokio::select! {
            _ = link.closed.cancelled() => return,
            _ = tokio::time::sleep(until_next_ping) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paused_reader_counts_as_alive() {
        let liveness = Liveness::new();
        let ping = Instant::now() + Duration::from_secs(1);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(!liveness.alive_since(ping));
        liveness.set_reader_paused(true);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(liveness.alive_since(ping));
        liveness.set_reader_paused(false);
        assert!(liveness.alive_since(ping));
        let later = Instant::now() + Duration::from_secs(1);
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(!liveness.alive_since(later));
        liveness.touch();
        assert!(liveness.alive_since(later));
    }
}
