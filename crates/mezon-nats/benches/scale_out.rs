//! Events/s and latency from the local Mezon server to a worker's handler, through a relay
//! and a real `nats-server -js`, with 1, 2 and 4 workers, file and memory storage.
//!
//! ```sh
//! cargo bench -p mezon-nats --bench scale_out
//! ```
//!
//! Each run starts its own `nats-server` and local server. A burst of `BURST` messages over
//! `CHANNELS` channels gives the throughput (and the latency under that burst, queueing
//! included); then `PACED` messages at `PACED_RATE`/s give the latency of a light load.
//! Everything runs in this one process (workers included), so the numbers are a floor for
//! what separate machines would do. Needs `nats-server` on PATH.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use mezon::{EventKind, EventKindSet};
use mezon_nats::{Relay, RelayConfig, RunningWorker, StorageType, StreamSettings, Worker};

const CHANNELS: i64 = 64;
const BURST: usize = 20_000;
const PACED: usize = 1_000;
const PACED_RATE: u64 = 1_000;

/// Send instants (ns since `base`) by message index, and handler latencies.
struct Clock {
    base: Instant,
    sent: Vec<AtomicU64>,
    latencies: std::sync::Mutex<Vec<u64>>,
    handled: AtomicUsize,
}

impl Clock {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Self {
            base: Instant::now(),
            sent: (0..n).map(|_| AtomicU64::new(0)).collect(),
            latencies: std::sync::Mutex::new(Vec::with_capacity(n)),
            handled: AtomicUsize::new(0),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut l = self.latencies.lock().unwrap().clone();
        l.sort_unstable();
        let i = ((l.len() as f64 - 1.0) * p).round() as usize;
        Duration::from_nanos(l.get(i).copied().unwrap_or_default())
    }
}

async fn start_workers(
    nats: &Nats,
    bot: i64,
    count: usize,
    clock: Arc<std::sync::Mutex<Arc<Clock>>>,
) -> Vec<RunningWorker> {
    let mut running = Vec::new();
    for _ in 0..count {
        let worker = Worker::new(nats.connect().await, bot);
        let clock = clock.clone();
        worker.on_channel_message(move |msg, _delivery| {
            let clock = clock.lock().unwrap().clone();
            let index: usize = text_of(&msg).parse().unwrap_or(usize::MAX);
            if let Some(sent) = clock.sent.get(index) {
                let latency = clock.now().saturating_sub(sent.load(Ordering::Relaxed));
                clock.latencies.lock().unwrap().push(latency);
                clock.handled.fetch_add(1, Ordering::Relaxed);
            }
        });
        running.push(worker.start().await.expect("worker starts"));
    }
    running
}

async fn run(storage: StorageType, workers: usize) {
    let nats = Nats::start("bench").expect("nats-server on PATH");
    let server = mezon_server_with(world_with(CHANNELS)).await;
    let bot = server.bot_id();
    let client = client_of(&server);
    let config = RelayConfig::default()
        .kinds(EventKindSet::of(EventKind::ChannelMessage))
        .stream(StreamSettings::default().storage(storage));
    let relay = Relay::start(client.clone(), nats.connect().await, config)
        .await
        .expect("relay starts");
    client.login().await.expect("login");
    let clock = Arc::new(std::sync::Mutex::new(Clock::new(BURST)));
    let running = start_workers(&nats, bot, workers, clock.clone()).await;

    // Burst.
    let burst = clock.lock().unwrap().clone();
    let started = Instant::now();
    for i in 0..BURST {
        burst.sent[i].store(burst.now(), Ordering::Relaxed);
        let channel = FIRST_CHANNEL + (i as i64 % CHANNELS);
        server
            .user(ALICE)
            .send_message(channel, &i.to_string())
            .expect("send");
    }
    until("the burst", Duration::from_secs(600), || {
        burst.handled.load(Ordering::Relaxed) >= BURST
    })
    .await;
    let elapsed = started.elapsed();

    // Light load.
    let paced = Clock::new(PACED);
    *clock.lock().unwrap() = paced.clone();
    let gap = Duration::from_nanos(1_000_000_000 / PACED_RATE);
    let mut next = tokio::time::Instant::now();
    for i in 0..PACED {
        tokio::time::sleep_until(next).await;
        next += gap;
        paced.sent[i].store(paced.now(), Ordering::Relaxed);
        let channel = FIRST_CHANNEL + (i as i64 % CHANNELS);
        server
            .user(ALICE)
            .send_message(channel, &i.to_string())
            .expect("send");
    }
    until("the paced run", Duration::from_secs(120), || {
        paced.handled.load(Ordering::Relaxed) >= PACED
    })
    .await;

    println!(
        "| {:<6} | {workers} | {:>8.0} | {:>8.2} | {:>8.2} | {:>8.2} | {:>8.2} |",
        format!("{storage:?}").to_lowercase(),
        BURST as f64 / elapsed.as_secs_f64(),
        burst.percentile(0.5).as_secs_f64() * 1e3,
        burst.percentile(0.99).as_secs_f64() * 1e3,
        paced.percentile(0.5).as_secs_f64() * 1e3,
        paced.percentile(0.99).as_secs_f64() * 1e3,
    );
    for worker in running {
        worker.shutdown().await;
    }
    relay.shutdown().await;
    server.shutdown().await;
}

fn main() {
    // `cargo test --benches` runs bench targets with `--test`-like arguments; only measure
    // when run as a benchmark.
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "{BURST} events over {CHANNELS} channels in a burst, then {PACED} at {PACED_RATE}/s; 16 partitions\n"
    );
    println!(
        "| storage | workers | burst events/s | burst p50 ms | burst p99 ms | paced p50 ms | paced p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|");
    for storage in [StorageType::Memory, StorageType::File] {
        for workers in [1, 2, 4] {
            runtime.block_on(run(storage, workers));
        }
    }
}
