//! [`Relay`]: publishes a client's inbound events to JetStream and answers commands.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use mezon::{Client, EventKind, EventKindSet, RawEvent};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::stream::StreamSettings;
use crate::subjects::{self, Names};
use crate::wire;

/// The kinds a relay forwards by default: everything the server pushes to bots, and the
/// lifecycle events of the relay's socket; not the request/answer-only kinds.
pub const DEFAULT_KINDS: EventKindSet = EventKindSet::all()
    .without(EventKind::Ping)
    .without(EventKind::Pong)
    .without(EventKind::ChannelMessageAck)
    .without(EventKind::Error);

/// Settings of a [`Relay`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RelayConfig {
    /// How many partitions events are spread over (default 16). Fixed for the life of the
    /// stream: it decides which partition a channel belongs to.
    pub partitions: u16,
    /// Which kinds are forwarded (default [`DEFAULT_KINDS`]).
    pub kinds: EventKindSet,
    /// Events each partition's publisher holds before the client waits (default 256). A
    /// partition has one publish in flight at a time, so per-channel order holds even when
    /// a publish is retried; the relay as a whole has at most `partitions` in flight.
    pub queue_per_partition: usize,
    /// Events the client hands over before the relay reads them (default 1024).
    pub buffer: usize,
    /// The stream, when the relay creates it.
    pub stream: StreamSettings,
    /// Commands run at once (default 64).
    pub max_concurrent_commands: usize,
    /// The first pause before a failed publish is retried; it doubles up to 2 s.
    pub retry_delay: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            partitions: subjects::DEFAULT_PARTITIONS,
            kinds: DEFAULT_KINDS,
            queue_per_partition: 256,
            buffer: 1024,
            stream: StreamSettings::default(),
            max_concurrent_commands: 64,
            retry_delay: Duration::from_millis(100),
        }
    }
}

impl RelayConfig {
    /// Sets the partition count (at least 1).
    pub fn partitions(mut self, partitions: u16) -> Self {
        self.partitions = partitions.max(1);
        self
    }

    /// Sets the forwarded kinds.
    pub fn kinds(mut self, kinds: EventKindSet) -> Self {
        self.kinds = kinds;
        self
    }

    /// Sets the stream settings.
    pub fn stream(mut self, stream: StreamSettings) -> Self {
        self.stream = stream;
        self
    }
}

/// Forwards a [`Client`]'s inbound events to JetStream (subjects
/// `mezon.<bot>.ev.<partition>.<kind>`) and runs the commands workers send to
/// `mezon.<bot>.cmd` on the client.
///
/// Start it before [`Client::login`] so no event is missed; shut it down with
/// [`Relay::shutdown`], which also shuts the client down and waits until every event it
/// received is stored. For two relays with failover, see [`crate::FailoverRelay`].
///
/// ```no_run
/// # async fn demo(client: mezon::Client) -> Result<(), mezon_nats::Error> {
/// let nats = async_nats::connect("127.0.0.1:4222").await.map_err(|e| mezon_nats::Error::Nats {
///     context: "connect",
///     source: e.into(),
/// })?;
/// let relay = mezon_nats::Relay::start(client.clone(), nats, Default::default()).await?;
/// client.login().await?;
/// client.run_until_shutdown().await;
/// relay.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Relay {
    client: Client,
    cancel_commands: CancellationToken,
    publisher: JoinHandle<u64>,
    commands: JoinHandle<()>,
}

impl Relay {
    /// Creates the event stream if needed (refusing one with another partition count),
    /// subscribes to the client's events and to the command subject.
    pub async fn start(
        client: Client,
        nats: async_nats::Client,
        config: RelayConfig,
    ) -> Result<Relay, Error> {
        let names = Names::new(client.config().credentials.bot_id);
        let js = jetstream::new(nats.clone());
        crate::stream::ensure(&js, &names, config.partitions, &config.stream).await?;
        let commands_sub = nats
            .subscribe(names.commands())
            .await
            .map_err(|e| Error::nats("subscribing to commands", e))?;
        // Make sure the server has the subscription before anyone counts on it.
        nats.flush()
            .await
            .map_err(|e| Error::nats("subscribing to commands", e))?;
        let raw = client.raw_events(config.kinds, config.buffer);
        let publisher = tokio::spawn(publish_all(js, names, config.clone(), raw));
        let cancel_commands = CancellationToken::new();
        let commands = tokio::spawn(crate::execute::serve(
            client.clone(),
            nats,
            commands_sub,
            config.max_concurrent_commands,
            cancel_commands.clone(),
        ));
        Ok(Relay {
            client,
            cancel_commands,
            publisher,
            commands,
        })
    }

    /// The client this relay serves.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Stops answering commands (finishing those running), shuts the client down, and waits
    /// until every event the client received is stored in JetStream. Returns how many
    /// events were published.
    pub async fn shutdown(self) -> u64 {
        self.cancel_commands.cancel();
        let _ = self.commands.await;
        self.client.shutdown().await;
        self.publisher.await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "relay publisher failed");
            0
        })
    }

    /// Stops at once, as a crash would: the socket is closed, events not yet stored are
    /// lost (JetStream keeps those already acknowledged).
    pub async fn abort(self) {
        self.cancel_commands.cancel();
        self.commands.abort();
        self.publisher.abort();
        self.client.shutdown().await;
    }
}

/// One event ready to publish.
struct Outgoing {
    partition: u16,
    subject: String,
    headers: HeaderMap,
    payload: Bytes,
    id: String,
}

fn outgoing(names: &Names, partitions: u16, raw: RawEvent) -> Option<Outgoing> {
    let kind = raw.kind()?;
    let (payload, form) = match raw.frame {
        Some(frame) => (frame, "envelope"),
        None => (
            Bytes::from(wire::lifecycle::encode(&raw.event)?),
            "lifecycle",
        ),
    };
    let event = &raw.event;
    let partition = subjects::partition_of(subjects::ordering_key(event), partitions);
    let mut headers = HeaderMap::new();
    headers.insert(subjects::HEADER_KIND, kind.name());
    headers.insert(subjects::HEADER_PAYLOAD, form);
    if let Some(clan) = event.clan_id() {
        headers.insert(subjects::HEADER_CLAN, clan.to_string().as_str());
    }
    if let Some(channel) = event.channel_id() {
        headers.insert(subjects::HEADER_CHANNEL, channel.to_string().as_str());
    }
    if let Some(message) = subjects::message_id_of(event) {
        headers.insert(subjects::HEADER_MESSAGE, message.to_string().as_str());
    }
    Some(Outgoing {
        partition,
        subject: names.event_subject(partition, kind),
        id: subjects::message_id(kind, &payload),
        headers,
        payload,
    })
}

/// Routes the client's events to one publisher per partition; ends when the client stops
/// and every publisher has drained. Returns how many events were stored.
async fn publish_all(
    js: jetstream::Context,
    names: Names,
    config: RelayConfig,
    mut raw: mezon::RawEventStream,
) -> u64 {
    let partitions = config.partitions.max(1);
    let mut queues = Vec::with_capacity(usize::from(partitions));
    // A JoinSet, so aborting the relay aborts the partition publishers too.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..partitions {
        let (tx, rx) = mpsc::channel(config.queue_per_partition.max(1));
        queues.push(tx);
        tasks.spawn(publish_partition(js.clone(), rx, config.retry_delay));
    }
    while let Some(event) = raw.recv().await {
        let Some(out) = outgoing(&names, partitions, event) else {
            continue;
        };
        if let Some(queue) = queues.get(usize::from(out.partition)) {
            // Waits while the partition's queue is full: backpressure to the client.
            if queue.send(out).await.is_err() {
                tracing::error!("a partition publisher stopped; event dropped");
            }
        }
    }
    drop(queues);
    let mut stored = 0;
    while let Some(done) = tasks.join_next().await {
        stored += done.unwrap_or_default();
    }
    tracing::debug!(stored, "relay publisher finished");
    stored
}

/// Publishes one partition's events in order, each acknowledged before the next; a failed
/// publish is retried (same `Nats-Msg-Id`, so a publish that was stored after all is not
/// stored twice) until it succeeds or the relay is aborted.
async fn publish_partition(
    js: jetstream::Context,
    mut rx: mpsc::Receiver<Outgoing>,
    retry_delay: Duration,
) -> u64 {
    let mut stored = 0;
    while let Some(out) = rx.recv().await {
        let mut delay = retry_delay;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let publish = PublishMessage::build()
                .payload(out.payload.clone())
                .headers(out.headers.clone())
                .message_id(&out.id);
            let result = match js.send_publish(out.subject.clone(), publish).await {
                Ok(ack) => ack.await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(ack) => {
                    if ack.duplicate {
                        tracing::debug!(id = %out.id, "JetStream already had this event");
                    } else {
                        stored += 1;
                    }
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, attempt, subject = %out.subject, "publish failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
    stored
}
