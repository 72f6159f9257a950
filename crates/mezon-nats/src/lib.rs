//! Run one Mezon bot across many processes on NATS JetStream.
//!
//! A Mezon bot has one socket. When its handlers outgrow one process, split it:
//!
//! - a [`Relay`] runs beside a logged-in [`mezon::Client`], publishes every inbound event to a
//!   JetStream stream (subjects `mezon.<bot>.ev.<partition>.<kind>`, the Envelope bytes as
//!   received) and runs the commands workers send to `mezon.<bot>.cmd`;
//! - [`Worker`]s, on any number of machines, consume the stream (one durable consumer per
//!   partition, one unacknowledged event at a time, so each channel's events are handled in
//!   order) and act through [`Commands`], never holding a socket;
//! - a [`FailoverRelay`] per process keeps exactly one relay active: the holder of a lease in
//!   a NATS KV bucket.
//!
//! See `docs/scale-out.md` for the design, the guarantees and what happens on each failure.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // Process 1: the relay.
//! let client = mezon::Client::from_env()?;
//! let nats = async_nats::connect("127.0.0.1:4222").await?;
//! let relay = mezon_nats::Relay::start(client.clone(), nats, Default::default()).await?;
//! client.login().await?;
//!
//! // Process 2..n: workers.
//! let nats = async_nats::connect("127.0.0.1:4222").await?;
//! let worker = mezon_nats::Worker::new(nats, client.config().credentials.bot_id);
//! worker.on_channel_message(|msg, delivery| async move {
//!     if msg.content.contains("!ping") {
//!         delivery.reply(&msg, "pong").await?;
//!     }
//!     Ok::<(), mezon_nats::CommandError>(())
//! });
//! let running = worker.start().await?;
//! # running.shutdown().await; relay.shutdown().await;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod commands;
mod error;
mod execute;
mod failover;
mod relay;
mod stream;
pub mod subjects;
pub mod wire;
mod worker;

pub use commands::{Commands, DEFAULT_COMMAND_TIMEOUT};
pub use error::{CommandError, Error, NatsError};
pub use failover::{ClientFactory, FailoverConfig, FailoverRelay};
pub use relay::{DEFAULT_KINDS, Relay, RelayConfig};
pub use stream::{RetentionPolicy, StorageType, StreamSettings};
pub use worker::{Delivery, RunningWorker, Worker, WorkerConfig};

pub use async_nats;
