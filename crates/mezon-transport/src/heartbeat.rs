//! Liveness of one connection: pings, and the rule that declares the link dead.
//!
//! The link is dead when nothing at all arrives within `timeout` after a ping. Time during
//! which the reader is deliberately not reading (the consumer is slow and the inbound queue is
//! full) does not count: a slow consumer must never make the transport drop its own link.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use prost::Message as _;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::connection::Link;
use crate::error::RequestError;
use crate::inbound::DisconnectReason;
use crate::proto::realtime::{Envelope, Ping, envelope::Message};

/// Signs of life of one connection: a count of frames read, and whether the reader is paused.
#[derive(Debug, Default)]
pub(crate) struct Liveness {
    activity: AtomicU64,
    reader_paused: AtomicBool,
}

impl Liveness {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A frame arrived.
    pub(crate) fn touch(&self) {
        self.activity.fetch_add(1, Ordering::Relaxed);
    }

    /// The reader stopped (or resumed) reading because the inbound queue is full.
    pub(crate) fn set_reader_paused(&self, paused: bool) {
        self.reader_paused.store(paused, Ordering::Relaxed);
        // Either way the silence so far is not the server's: count it as activity.
        self.touch();
    }

    /// A mark to compare later activity against (taken when a ping goes out).
    pub(crate) fn mark(&self) -> u64 {
        self.activity.load(Ordering::Relaxed)
    }

    /// Whether the link counts as alive for a ping sent at `mark`.
    pub(crate) fn alive_since(&self, mark: u64) -> bool {
        self.reader_paused.load(Ordering::Relaxed) || self.activity.load(Ordering::Relaxed) != mark
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
        let mark = liveness.mark();
        // The registration keeps the ping's cid reserved until the check below; the pong
        // itself only matters as a sign of life. With every cid in flight no ping can go out
        // this round, but the check still runs: that many requests in flight bring answers,
        // and silence is still death.
        let ping = match link.pending.register() {
            Ok(ping) => Some(ping),
            Err(RequestError::TooManyInFlight) => {
                tracing::debug!(
                    generation = link.generation,
                    "every cid in flight; ping skipped"
                );
                None
            }
            Err(_) => return,
        };
        if let Some(ping) = &ping {
            let envelope = Envelope {
                cid: i32::from(ping.cid()),
                message: Some(Message::Ping(Ping {})),
            };
            let frame = WsMessage::Binary(envelope.encode_to_vec().into());
            // Never wait for room in the write queue: a socket the server has stopped reading
            // must still be found dead, and the check below does that whether or not the
            // ping went out.
            match link.try_send_frame(frame) {
                Ok(true) => {}
                Ok(false) => tracing::debug!(
                    generation = link.generation,
                    "write queue full; ping skipped"
                ),
                Err(_) => return,
            }
        }
        tokio::select! {
            _ = link.closed.cancelled() => return,
            _ = tokio::time::sleep(timeout) => {}
        }
        drop(ping);
        if !liveness.alive_since(mark) {
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
    use tokio::sync::mpsc;

    const SECOND: Duration = Duration::from_secs(1);

    fn start(link: &Link, liveness: &Arc<Liveness>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(run(
            link.clone(),
            Arc::clone(liveness),
            10 * SECOND,
            10 * SECOND,
        ))
    }

    fn is_ping(frame: &WsMessage) -> bool {
        match frame {
            WsMessage::Binary(bytes) => matches!(
                Envelope::decode(bytes.clone()).map(|e| e.message),
                Ok(Some(Message::Ping(_)))
            ),
            _ => false,
        }
    }

    /// Answers every ping, as a healthy server would.
    fn answer_pings(
        mut written: mpsc::Receiver<WsMessage>,
        liveness: Arc<Liveness>,
    ) -> tokio::task::JoinHandle<usize> {
        tokio::spawn(async move {
            let mut pings = 0;
            while let Some(frame) = written.recv().await {
                if is_ping(&frame) {
                    pings += 1;
                    liveness.touch();
                }
            }
            pings
        })
    }

    #[tokio::test(start_paused = true)]
    async fn silence_after_a_ping_is_death_within_the_timeout() {
        let (link, mut written) = Link::detached(1, 8);
        let liveness = Liveness::new();
        let started = Instant::now();
        start(&link, &liveness).await.expect("heartbeat");
        assert_eq!(started.elapsed(), 10 * SECOND);
        assert!(link.is_closed());
        assert_eq!(link.reason(), Some(DisconnectReason::HeartbeatTimeout));
        assert!(
            written.try_recv().is_ok_and(|f| is_ping(&f)),
            "pinged at once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn answered_pings_keep_the_link_up() {
        let (link, written) = Link::detached(1, 8);
        let liveness = Liveness::new();
        let heartbeat = start(&link, &liveness);
        let server = answer_pings(written, Arc::clone(&liveness));
        tokio::time::sleep(65 * SECOND).await;
        assert!(!link.is_closed());
        link.close(DisconnectReason::Shutdown);
        heartbeat.await.expect("heartbeat");
        drop(link);
        // At connect and every 10 s: 0, 10, …, 60.
        assert_eq!(server.await.expect("server"), 7);
    }

    #[tokio::test(start_paused = true)]
    async fn a_paused_reader_is_not_silence() {
        let (link, _written) = Link::detached(1, 8);
        let liveness = Liveness::new();
        liveness.set_reader_paused(true);
        let heartbeat = start(&link, &liveness);
        tokio::time::sleep(120 * SECOND).await;
        assert!(!link.is_closed(), "slowness is not death");
        // Reading resumes but nothing comes back: dead one timeout after the next ping.
        liveness.set_reader_paused(false);
        heartbeat.await.expect("heartbeat");
        assert_eq!(link.reason(), Some(DisconnectReason::HeartbeatTimeout));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_write_queue_does_not_stall_the_check() {
        let (link, _written) = Link::detached(1, 1);
        assert!(
            link.try_send_frame(WsMessage::Binary(vec![1].into()))
                .is_ok_and(|queued| queued)
        );
        let liveness = Liveness::new();
        let started = Instant::now();
        start(&link, &liveness).await.expect("heartbeat");
        assert_eq!(started.elapsed(), 10 * SECOND);
        assert_eq!(link.reason(), Some(DisconnectReason::HeartbeatTimeout));
    }

    #[tokio::test(start_paused = true)]
    async fn every_cid_in_flight_still_finds_silence() {
        let (link, _written) = Link::detached(1, 8);
        let in_flight: Vec<_> = std::iter::from_fn(|| link.pending.register().ok()).collect();
        assert_eq!(in_flight.len(), usize::from(crate::requests::MAX_CID));
        let liveness = Liveness::new();
        let started = Instant::now();
        start(&link, &liveness).await.expect("heartbeat");
        assert_eq!(started.elapsed(), 10 * SECOND);
        assert_eq!(link.reason(), Some(DisconnectReason::HeartbeatTimeout));
    }

    #[tokio::test(start_paused = true)]
    async fn an_old_heartbeat_only_closes_its_own_link() {
        let (old, _old_written) = Link::detached(1, 8);
        let (new, new_written) = Link::detached(2, 8);
        let old_liveness = Liveness::new();
        let new_liveness = Liveness::new();
        let _server = answer_pings(new_written, Arc::clone(&new_liveness));
        let old_heartbeat = start(&old, &old_liveness);
        let _new_heartbeat = start(&new, &new_liveness);
        old_heartbeat.await.expect("old heartbeat");
        assert!(old.is_closed());
        tokio::time::sleep(30 * SECOND).await;
        assert!(!new.is_closed());
    }

    #[test]
    fn liveness_tracks_frames_and_pauses() {
        let liveness = Liveness::new();
        let ping = liveness.mark();
        assert!(!liveness.alive_since(ping));
        liveness.set_reader_paused(true);
        assert!(
            liveness.alive_since(liveness.mark()),
            "paused counts as alive"
        );
        liveness.set_reader_paused(false);
        assert!(liveness.alive_since(ping), "resuming restarts the count");
        let later = liveness.mark();
        assert!(!liveness.alive_since(later));
        liveness.touch();
        assert!(liveness.alive_since(later));
    }
}
