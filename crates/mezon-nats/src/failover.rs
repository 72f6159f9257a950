//! [`FailoverRelay`]: several relay processes for one bot, of which only the holder of a
//! lease kept in JetStream keeps the Mezon socket open.
//!
//! The lease is the one message of subject `mezon.<bot>.lease` in stream
//! `MEZON_LEASE_<bot>`, whose messages expire after `ttl` (the stream's max age): a key-value
//! entry in the way NATS KV buckets are built, written with JetStream's compare-and-set
//! (`Nats-Expected-Last-Subject-Sequence`). The holder renews it every `ttl / 3` against its
//! last sequence; a standby writes it expecting "no message" every `ttl / 4`, which succeeds
//! only once the holder's message is gone (expired or released).
//! A holder that has not renewed for `ttl * 2 / 3` (measured from when it *sent* its last
//! successful renewal, which is no later than the server's timestamp) closes its socket
//! before anyone else can get the lease: never two sockets for one bot.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use mezon::Client;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::Error;
use crate::relay::{Relay, RelayConfig};
use crate::subjects::Names;

/// Settings of a [`FailoverRelay`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FailoverConfig {
    /// How long a lease lasts without renewal (default 3 s; at least 300 ms). A standby
    /// takes over about this long after the holder died.
    pub ttl: Duration,
    /// This relay's name in the lease (default: empty, meaning a unique name is made up).
    pub holder: String,
    /// The relay's settings while it holds the lease.
    pub relay: RelayConfig,
}

impl Default for FailoverConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(3),
            holder: String::new(),
            relay: RelayConfig::default(),
        }
    }
}

impl FailoverConfig {
    /// Sets the lease time to live.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl.max(Duration::from_millis(300));
        self
    }

    /// Sets the holder name.
    pub fn holder(mut self, holder: impl Into<String>) -> Self {
        self.holder = holder.into();
        self
    }

    /// Sets the relay settings.
    pub fn relay(mut self, relay: RelayConfig) -> Self {
        self.relay = relay;
        self
    }
}

/// Builds the client a relay logs in with when it gets the lease (a fresh one each time:
/// a client that was shut down cannot log in again).
pub type ClientFactory = Arc<dyn Fn() -> Result<Client, mezon::Error> + Send + Sync>;

/// How a [`FailoverRelay`] stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Close the socket, store pending events, release the lease.
    Graceful,
    /// Close the socket and vanish, keeping the lease until it expires (a crash).
    Crash,
}

/// A relay that runs only while it holds the bot's lease; start one per process, on as many
/// machines as you like.
///
/// ```no_run
/// # async fn demo(nats: async_nats::Client) -> Result<(), mezon_nats::Error> {
/// use std::sync::Arc;
/// let relay = mezon_nats::FailoverRelay::start(
///     nats,
///     1_234,
///     Arc::new(|| mezon::Client::from_env().map_err(mezon::Error::from)),
///     Default::default(),
/// )
/// .await?;
/// tokio::signal::ctrl_c().await.ok();
/// relay.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct FailoverRelay {
    stop: watch::Sender<Option<Stop>>,
    active: watch::Receiver<bool>,
    task: JoinHandle<()>,
}

impl FailoverRelay {
    /// Creates the lease bucket if needed and starts competing for the lease.
    pub async fn start(
        nats: async_nats::Client,
        bot_id: i64,
        make_client: ClientFactory,
        config: FailoverConfig,
    ) -> Result<FailoverRelay, Error> {
        let names = Names::new(bot_id);
        let js = jetstream::new(nats.clone());
        let stream = js
            .get_or_create_stream(jetstream::stream::Config {
                name: names.lease_stream(),
                description: Some(format!("relay lease of mezon bot {bot_id}")),
                subjects: vec![names.lease_subject()],
                max_messages_per_subject: 1,
                max_age: config.ttl,
                duplicate_window: config.ttl,
                storage: jetstream::stream::StorageType::Memory,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::nats("creating the lease stream", e))?;
        let (stop, stop_rx) = watch::channel(None);
        let (active_tx, active) = watch::channel(false);
        let holder = if config.holder.is_empty() {
            format!("relay-{}", nats.new_inbox().trim_start_matches("_INBOX."))
        } else {
            config.holder.clone()
        };
        let lease = Lease {
            js,
            stream,
            subject: names.lease_subject(),
            holder,
            ttl: config.ttl,
        };
        let task = tokio::spawn(compete(
            lease,
            nats,
            make_client,
            config.relay,
            stop_rx,
            active_tx,
        ));
        Ok(FailoverRelay { stop, active, task })
    }

    /// Whether this relay holds the lease and runs the socket right now.
    pub fn is_active(&self) -> bool {
        *self.active.borrow()
    }

    /// Resolves once this relay holds the lease and its client has logged in.
    pub async fn wait_active(&self) {
        let mut active = self.active.clone();
        let _ = active.wait_for(|a| *a).await;
    }

    /// Closes the socket, waits until every received event is stored, and releases the
    /// lease so a standby takes over at once.
    pub async fn shutdown(self) {
        self.stop.send_replace(Some(Stop::Graceful));
        let _ = self.task.await;
    }

    /// Stops as a crash would: the socket is closed (as the OS closes a dead process's
    /// sockets) but the lease is kept until it expires; events not yet stored are lost.
    pub async fn abort(self) {
        self.stop.send_replace(Some(Stop::Crash));
        let _ = self.task.await;
    }
}

struct Lease {
    js: jetstream::Context,
    stream: jetstream::stream::Stream,
    subject: String,
    holder: String,
    ttl: Duration,
}

impl Lease {
    /// Writes the lease if the subject's last message has sequence `expected` (0: none):
    /// the new revision (the message's sequence).
    async fn write(&self, expected: u64) -> Result<u64, PublishError> {
        let publish = PublishMessage::build()
            .payload(Bytes::from(self.holder.clone()))
            .expected_last_subject_sequence(expected);
        let ack = self
            .js
            .send_publish(self.subject.clone(), publish)
            .await?
            .await?;
        Ok(ack.sequence)
    }

    /// Takes the lease if it is free: its revision and when the request was sent.
    async fn try_acquire(&self) -> Option<(u64, Instant)> {
        let sent = Instant::now();
        match self.write(0).await {
            Ok(revision) => Some((revision, sent)),
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => None,
            Err(e) => {
                tracing::warn!(error = %e, "lease: could not try to acquire");
                None
            }
        }
    }

    /// Renews the lease: the new revision, or why not.
    async fn renew(&self, revision: u64) -> Result<u64, PublishError> {
        self.write(revision).await
    }

    async fn release(&self, revision: u64) {
        if let Err(e) = self.stream.delete_message(revision).await {
            tracing::debug!(error = %e, "lease: release failed (it will expire)");
        }
    }
}

/// Standby → holder → standby …, until told to stop.
async fn compete(
    lease: Lease,
    nats: async_nats::Client,
    make_client: ClientFactory,
    relay_config: RelayConfig,
    mut stop: watch::Receiver<Option<Stop>>,
    active: watch::Sender<bool>,
) {
    let poll = lease.ttl / 4;
    loop {
        if stop.borrow().is_some() {
            return;
        }
        let Some((revision, sent)) = lease.try_acquire().await else {
            tokio::select! {
                _ = stop.changed() => {}
                _ = tokio::time::sleep(poll) => {}
            }
            continue;
        };
        tracing::info!(holder = %lease.holder, "lease acquired; this relay is active");
        let outcome = hold(
            &lease,
            revision,
            sent,
            &nats,
            &make_client,
            &relay_config,
            &mut stop,
            &active,
        )
        .await;
        active.send_replace(false);
        match outcome {
            Held::Stopped => return,
            Held::Lost => {
                tracing::warn!(holder = %lease.holder, "lease lost; socket closed, back to standby");
                // Give the other relays a chance before competing again.
                tokio::select! {
                    _ = stop.changed() => {}
                    _ = tokio::time::sleep(lease.ttl) => {}
                }
            }
        }
    }
}

enum Held {
    /// Told to stop.
    Stopped,
    /// The lease could not be kept (or the client could not run); back to standby.
    Lost,
}

/// Runs the relay while the lease is held.
#[allow(clippy::too_many_arguments)]
async fn hold(
    lease: &Lease,
    mut revision: u64,
    mut last_renew_sent: Instant,
    nats: &async_nats::Client,
    make_client: &ClientFactory,
    relay_config: &RelayConfig,
    stop: &mut watch::Receiver<Option<Stop>>,
    active: &watch::Sender<bool>,
) -> Held {
    let renew_every = lease.ttl / 3;
    // Past this, another relay may soon get the lease: close the socket first.
    let fence = lease.ttl * 2 / 3;
    let client = match make_client() {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the client");
            lease.release(revision).await;
            return Held::Lost;
        }
    };
    let relay = match Relay::start(client.clone(), nats.clone(), relay_config.clone()).await {
        Ok(relay) => relay,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the relay");
            client.shutdown().await;
            lease.release(revision).await;
            return Held::Lost;
        }
    };
    // Logs in while the lease keeps being renewed (a login may take longer than the ttl).
    let mut login = tokio::spawn({
        let client = client.clone();
        async move { client.login().await }
    });
    let mut logged_in = false;
    let mut ticker = tokio::time::interval(renew_every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let outcome = loop {
        tokio::select! {
            _ = stop.changed() => {
                let how = *stop.borrow();
                if how.is_some() { break how; }
            }
            result = &mut login, if !logged_in => match result {
                Ok(Ok(())) => {
                    logged_in = true;
                    active.send_replace(true);
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "relay login failed");
                    break None;
                }
                Err(e) => {
                    tracing::error!(error = %e, "relay login task failed");
                    break None;
                }
            },
            _ = ticker.tick() => {
                // The transport gave up reconnecting: let another relay try.
                if logged_in && matches!(client.transport(), Err(mezon::Error::Shutdown)) {
                    tracing::error!("relay client stopped; releasing the lease");
                    break None;
                }
                let sent = Instant::now();
                match tokio::time::timeout(renew_every, lease.renew(revision)).await {
                    Ok(Ok(next)) => {
                        revision = next;
                        last_renew_sent = sent;
                    }
                    Ok(Err(e)) if e.kind() == PublishErrorKind::WrongLastSequence => {
                        tracing::error!("lease: someone else holds it; closing the socket");
                        break None;
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "lease: renewal failed"),
                    Err(_) => tracing::warn!("lease: renewal timed out"),
                }
                if last_renew_sent.elapsed() >= fence {
                    tracing::error!("lease: not renewed in time; closing the socket");
                    break None;
                }
            }
        }
    };
    if !logged_in {
        login.abort();
    }
    match outcome {
        Some(Stop::Crash) => {
            relay.abort().await;
            Held::Stopped
        }
        Some(Stop::Graceful) => {
            relay.shutdown().await;
            lease.release(revision).await;
            Held::Stopped
        }
        None => {
            relay.shutdown().await;
            lease.release(revision).await;
            Held::Lost
        }
    }
}
