//! [`Worker`]: runs handlers for the events a relay stored, one partition consumer each, and
//! acts through [`Commands`].

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::{self, AckKind};
use futures_util::StreamExt as _;
use mezon::events::dispatch::HandlerReturn;
use mezon::events::{Dispatcher as _, EventDispatcher};
use mezon::proto::api::ChannelMessage;
use mezon::{DispatchConfig, DispatchMode, Event, EventKind, Payload, Subscription};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::commands::{Commands, DEFAULT_COMMAND_TIMEOUT};
use crate::error::Error;
use crate::subjects::{self, Names};
use crate::wire;

/// Settings of a [`Worker`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WorkerConfig {
    /// How long JetStream waits for a handler before giving its event to another worker
    /// (default 30 s). While a handler runs, the worker tells JetStream it is still busy
    /// (every third of this), up to [`max_handler_time`](Self::max_handler_time).
    pub ack_wait: Duration,
    /// How long one event's handlers may keep the event before the worker stops extending
    /// it; JetStream then redelivers it (default 10 min).
    pub max_handler_time: Duration,
    /// Deliveries of one event before JetStream gives up on it (default unlimited: -1).
    pub max_deliver: i64,
    /// How long a command waits for the relay (default 10 s).
    pub command_timeout: Duration,
    /// How long each pull request waits for events (default 5 s).
    pub pull_expires: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            ack_wait: Duration::from_secs(30),
            max_handler_time: Duration::from_secs(600),
            max_deliver: -1,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            pull_expires: Duration::from_secs(5),
        }
    }
}

impl WorkerConfig {
    /// Sets the ack wait (at least 100 ms).
    pub fn ack_wait(mut self, ack_wait: Duration) -> Self {
        self.ack_wait = ack_wait.max(Duration::from_millis(100));
        self
    }

    /// Sets the command timeout.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Sets the maximum deliveries of one event (-1: unlimited).
    pub fn max_deliver(mut self, max_deliver: i64) -> Self {
        self.max_deliver = max_deliver;
        self
    }
}

/// What a handler gets besides the event: where the event came from, how often it was
/// delivered, and [`Commands`] to act as the bot. Cheap to clone.
///
/// The event is acknowledged once every handler has returned and every clone of this
/// context is dropped, so a handler that hands the context to a spawned task keeps its
/// partition waiting until that task is done.
#[derive(Debug, Clone)]
pub struct Delivery {
    inner: Arc<DeliveryInner>,
}

#[derive(Debug)]
struct DeliveryInner {
    commands: Commands,
    delivered: u64,
    partition: u16,
    stream_sequence: u64,
    /// Dropped with the last clone: that is what tells the worker to acknowledge.
    _done: oneshot::Sender<()>,
}

impl Delivery {
    /// How many times JetStream delivered this event (1 the first time; more after a worker
    /// died or was too slow).
    pub fn delivery_count(&self) -> u64 {
        self.inner.delivered
    }

    /// Whether this is a redelivery.
    pub fn is_redelivery(&self) -> bool {
        self.inner.delivered > 1
    }

    /// The partition the event belongs to.
    pub fn partition(&self) -> u16 {
        self.inner.partition
    }

    /// The event's sequence number in the stream.
    pub fn stream_sequence(&self) -> u64 {
        self.inner.stream_sequence
    }

    /// Commands to the relay: send, reply, react, API calls, …
    pub fn commands(&self) -> &Commands {
        &self.inner.commands
    }

    /// Replies to `original` (see [`Commands::reply`]).
    pub async fn reply(
        &self,
        original: &ChannelMessage,
        message: impl Into<mezon::OutgoingMessage>,
    ) -> Result<mezon::proto::realtime::ChannelMessageAck, crate::CommandError> {
        self.inner.commands.reply(original, message).await
    }

    /// Sends a message to `dest` (see [`Commands::send`]).
    pub async fn send(
        &self,
        dest: mezon::Destination,
        message: impl Into<mezon::OutgoingMessage>,
    ) -> Result<mezon::proto::realtime::ChannelMessageAck, crate::CommandError> {
        self.inner.commands.send(dest, message).await
    }

    /// Reacts to `message` (see [`Commands::react`]).
    pub async fn react(
        &self,
        message: &ChannelMessage,
        reaction: impl Into<mezon::Reaction>,
    ) -> Result<(), crate::CommandError> {
        self.inner.commands.react(message, reaction).await
    }
}

/// Consumes a bot's events from JetStream and runs handlers, registered as on a
/// [`mezon::Client`]: [`Worker::on`], [`Worker::on_channel_message`], and every typed
/// `on_<event>` through [`Worker::dispatcher`]. Handlers get a [`Delivery`] as context.
///
/// Each partition has one durable consumer shared by every worker, with at most one
/// unacknowledged event: any worker may take any partition, but the events of one channel
/// are handled one after another, in order. An event is acknowledged after its handlers
/// return; if the worker dies first, JetStream gives it to another worker after `ack_wait`.
///
/// ```no_run
/// # async fn demo(nats: async_nats::Client) -> Result<(), mezon_nats::Error> {
/// let worker = mezon_nats::Worker::new(nats, 1_234);
/// worker.on_channel_message(|msg, delivery| async move {
///     delivery.reply(&msg, format!("echo: {}", msg.content)).await?;
///     Ok::<(), mezon_nats::CommandError>(())
/// });
/// let running = worker.start().await?;
/// tokio::signal::ctrl_c().await.ok();
/// running.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Worker {
    nats: async_nats::Client,
    names: Names,
    config: WorkerConfig,
    dispatcher: EventDispatcher<Delivery>,
    commands: Commands,
}

impl Worker {
    /// A worker for bot `bot_id` with default settings.
    pub fn new(nats: async_nats::Client, bot_id: i64) -> Self {
        Self::with_config(nats, bot_id, WorkerConfig::default())
    }

    /// A worker for bot `bot_id`.
    pub fn with_config(nats: async_nats::Client, bot_id: i64, config: WorkerConfig) -> Self {
        // Order comes from the partitions (one event in flight each), so handlers of
        // different events may run concurrently.
        let dispatch = DispatchConfig::default()
            .mode(DispatchMode::Concurrent)
            .workers(usize::from(u16::MAX));
        Self {
            commands: Commands::new(nats.clone(), bot_id).with_timeout(config.command_timeout),
            nats,
            names: Names::new(bot_id),
            config,
            dispatcher: EventDispatcher::new(dispatch),
        }
    }

    /// The dispatcher, for every typed registration (`on_message_reaction_event`, …).
    pub fn dispatcher(&self) -> &EventDispatcher<Delivery> {
        &self.dispatcher
    }

    /// Commands to the relay, for use outside handlers.
    pub fn commands(&self) -> &Commands {
        &self.commands
    }

    /// Runs `handler` for every event of `kind` (sync or async).
    pub fn on<F, R, M>(&self, kind: EventKind, handler: F) -> Subscription
    where
        F: Fn(Arc<Event>, Delivery) -> R + Send + Sync + 'static,
        R: HandlerReturn<M>,
    {
        self.dispatcher.on(kind, handler)
    }

    /// Runs `handler` for every channel message.
    pub fn on_channel_message<F, R, M>(&self, handler: F) -> Subscription
    where
        F: Fn(Payload<ChannelMessage>, Delivery) -> R + Send + Sync + 'static,
        R: HandlerReturn<M>,
    {
        self.dispatcher.on_channel_message(handler)
    }

    /// Creates (or joins) the partition consumers and starts consuming. The event stream
    /// must exist (a relay creates it); its partition count is read from it.
    pub async fn start(&self) -> Result<RunningWorker, Error> {
        let js = jetstream::new(self.nats.clone());
        let partitions = crate::stream::partitions(&js, &self.names).await?;
        let stream = js
            .get_stream(self.names.stream())
            .await
            .map_err(|e| Error::nats("looking up the event stream", e))?;
        let cancel = CancellationToken::new();
        let mut tasks = JoinSet::new();
        for partition in 0..partitions {
            let consumer: PullConsumer = stream
                .get_or_create_consumer(
                    &self.names.consumer(partition),
                    pull::Config {
                        durable_name: Some(self.names.consumer(partition)),
                        filter_subject: self.names.partition_filter(partition),
                        ack_policy: AckPolicy::Explicit,
                        deliver_policy: DeliverPolicy::All,
                        max_ack_pending: 1,
                        ack_wait: self.config.ack_wait,
                        max_deliver: self.config.max_deliver,
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| Error::nats("creating a partition consumer", e))?;
            tasks.spawn(consume(consumer, partition, self.clone(), cancel.clone()));
        }
        Ok(RunningWorker { cancel, tasks })
    }
}

/// A started [`Worker`].
#[derive(Debug)]
pub struct RunningWorker {
    cancel: CancellationToken,
    tasks: JoinSet<()>,
}

impl RunningWorker {
    /// Stops taking events, lets the handlers running finish and acknowledges their events.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        while self.tasks.join_next().await.is_some() {}
    }

    /// Stops at once, as a crash would: events being handled are not acknowledged, so
    /// JetStream gives them to another worker after `ack_wait`. (Handlers already running
    /// in this process are not interrupted.)
    pub fn abort(mut self) {
        self.tasks.abort_all();
        self.tasks.detach_all();
    }
}

/// One partition: pull an event, handle it, acknowledge it, repeat.
async fn consume(
    consumer: PullConsumer,
    partition: u16,
    worker: Worker,
    cancel: CancellationToken,
) {
    let mut backoff = Duration::from_millis(100);
    while !cancel.is_cancelled() {
        let messages = consumer
            .stream()
            .max_messages_per_batch(1)
            .expires(worker.config.pull_expires)
            .messages()
            .await;
        let mut messages = match messages {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(partition, error = %e, "cannot pull events; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        loop {
            let next = tokio::select! {
                _ = cancel.cancelled() => return,
                next = messages.next() => next,
            };
            match next {
                Some(Ok(message)) => handle(message, partition, &worker).await,
                Some(Err(e)) => {
                    tracing::debug!(partition, error = %e, "pull interrupted; pulling again");
                    break;
                }
                None => break,
            }
        }
    }
}

/// Decodes a stored event the way the relay wrote it.
fn event_of(message: &jetstream::Message) -> Option<Event> {
    let headers = message.headers.as_ref()?;
    let kind: EventKind = headers.get(subjects::HEADER_KIND)?.as_str().parse().ok()?;
    let form = headers
        .get(subjects::HEADER_PAYLOAD)
        .map(|v| v.as_str().to_owned());
    if form.as_deref() == Some("lifecycle") {
        return wire::lifecycle::decode(kind, &message.payload);
    }
    Event::decode(message.payload.clone())
        .ok()
        .map(|(_, event)| event)
}

async fn handle(message: jetstream::Message, partition: u16, worker: &Worker) {
    let (delivered, stream_sequence) = match message.info() {
        Ok(info) => (
            u64::try_from(info.delivered).unwrap_or(1),
            info.stream_sequence,
        ),
        Err(_) => (1, 0),
    };
    let Some(event) = event_of(&message) else {
        tracing::error!(
            partition,
            subject = %message.subject,
            stream_sequence,
            "stored event does not decode; terminating it"
        );
        if let Err(e) = message.ack_with(AckKind::Term).await {
            tracing::warn!(error = %e, "could not terminate an undecodable event");
        }
        return;
    };
    let (done_tx, mut done) = oneshot::channel::<()>();
    let delivery = Delivery {
        inner: Arc::new(DeliveryInner {
            commands: worker.commands.clone(),
            delivered,
            partition,
            stream_sequence,
            _done: done_tx,
        }),
    };
    worker.dispatcher.dispatch(event, delivery).await;
    // Tell JetStream the event is being worked on while handlers run, so a slow handler does
    // not get its event handed to another worker.
    let keep_alive = (worker.config.ack_wait / 3).max(Duration::from_millis(30));
    let give_up = tokio::time::Instant::now() + worker.config.max_handler_time;
    loop {
        tokio::select! {
            _ = &mut done => break,
            _ = tokio::time::sleep(keep_alive) => {
                if tokio::time::Instant::now() >= give_up {
                    tracing::warn!(partition, stream_sequence, "handlers exceeded max_handler_time; JetStream will redeliver the event");
                    return;
                }
                if let Err(e) = message.ack_with(AckKind::Progress).await {
                    tracing::debug!(error = %e, "could not extend the ack deadline");
                }
            }
        }
    }
    if let Err(e) = message.ack().await {
        tracing::warn!(partition, error = %e, "could not acknowledge an event; it will be redelivered");
    }
}
