//! End-to-end inbound benchmark: a local server in a child process blasts `channel_message`
//! frames over loopback at a bot in this process, which checks every id (no loss, no
//! duplicate, per-channel order) and prints events/s, CPU µs/event (getrusage), heap
//! allocations/event (a counting global allocator), handler latency p50/p99 and peak RSS.
//!
//! ```sh
//! cargo bench -p mezon --bench e2e -- --variant handler     # Client, one counting handler
//! cargo bench -p mezon --bench e2e -- --variant stream      # Client::events_filtered
//! cargo bench -p mezon --bench e2e -- --variant transport   # mezon-transport alone
//! cargo bench -p mezon --bench e2e -- --variant rtt         # request round trips, 1 and 1,000 in flight
//! cargo bench -p mezon --bench e2e -- --variant idle        # RSS of 1 and 100 idle bots
//! ```
//! Options: `--n N` frames per burst (default 1,000,000), `--runs R` (default 5; each run is
//! a fresh process, so peak RSS is per run), `--channels C` (default 16).
//!
//! The server runs in its own process so the CPU and memory figures are the bot's alone. It
//! is the crate's local test server behind a small WebSocket proxy that injects the burst
//! (frames encoded with a send timestamp, so latency is server send → handler).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead as _, Write as _};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use mezon::proto::api::ChannelMessage;
use mezon::proto::prost::Message as _;
use mezon::proto::realtime::{Envelope, Ping, envelope::Message as M};
use mezon::testing::{ServerConfig, TestServer};
use mezon::transport::{Credentials, Inbound, RateLimits, Transport, TransportConfig};
use mezon::{Client, Event, EventKind, EventKindSet};
use tokio::io::AsyncBufReadExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message as WsMessage;

// ---------------------------------------------------------------- counting allocator

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------- process measures

fn cpu_micros() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn monotonic_nanos() -> u64 {
    // SAFETY: clock_gettime writes into the zeroed struct we own.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
        ts
    };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A `VmHWM`/`VmRSS` line of /proc/self/status, in KiB.
fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

// ---------------------------------------------------------------- options

#[derive(Clone, Debug)]
struct Options {
    variant: String,
    n: u64,
    runs: usize,
    channels: u64,
    serve: bool,
    single: bool,
}

fn options() -> Options {
    let mut o = Options {
        variant: "handler".into(),
        n: 1_000_000,
        runs: 5,
        channels: 16,
        serve: false,
        single: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--variant" => (o.variant, i) = (value, i + 1),
            "--n" => (o.n, i) = (value.parse().unwrap_or(o.n), i + 1),
            "--runs" => (o.runs, i) = (value.parse().unwrap_or(o.runs), i + 1),
            "--channels" => (o.channels, i) = (value.parse().unwrap_or(o.channels), i + 1),
            "--serve" => o.serve = true,
            "--single" => o.single = true,
            _ => {} // `--bench` from cargo, and anything else
        }
        i += 1;
    }
    o
}

fn main() {
    let o = options();
    if o.serve {
        return serve(o.channels);
    }
    if o.single {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        return runtime.block_on(single(o));
    }
    drive(&o);
}

// ---------------------------------------------------------------- driver: R fresh processes, medians

fn drive(o: &Options) {
    let exe = std::env::current_exe().expect("own path");
    println!(
        "e2e bench: variant {}, n {}, runs {}, {} cores",
        o.variant,
        o.n,
        o.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut results: Vec<Vec<(String, f64)>> = Vec::new();
    for run in 0..o.runs {
        let out = Command::new(&exe)
            .args(["--single", "--variant", &o.variant])
            .args([
                "--n",
                &o.n.to_string(),
                "--channels",
                &o.channels.to_string(),
            ])
            .stderr(Stdio::inherit())
            .output()
            .expect("run");
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("RESULT ") {
                println!("run {run}: {rest}");
                results.push(
                    rest.split_whitespace()
                        .filter_map(|kv| kv.split_once('='))
                        .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
                        .collect(),
                );
            } else {
                println!("run {run}: {line}");
            }
        }
    }
    let Some(first) = results.first() else {
        println!("no results");
        std::process::exit(1);
    };
    let keys: Vec<String> = first.iter().map(|(k, _)| k.clone()).collect();
    let mut line = String::from("MEDIAN");
    for key in keys {
        let mut values: Vec<f64> = results
            .iter()
            .filter_map(|r| r.iter().find(|(k, _)| *k == key).map(|(_, v)| *v))
            .collect();
        values.sort_by(f64::total_cmp);
        let median = values[values.len() / 2];
        line.push_str(&format!(" {key}={median:.3}"));
    }
    println!("{line}");
}

// ---------------------------------------------------------------- one run (bot side)

struct ServerProcess {
    child: std::process::Child,
    base_url: String,
    bot_id: i64,
    api_key: String,
}

impl ServerProcess {
    fn start(channels: u64) -> Self {
        let exe = std::env::current_exe().expect("own path");
        let mut child = Command::new(exe)
            .args(["--serve", "--channels", &channels.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("server process");
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("server ready line");
        let mut parts = line.split_whitespace().skip(1);
        let base_url = parts.next().expect("base url").to_owned();
        let bot_id = parts.next().and_then(|v| v.parse().ok()).expect("bot id");
        let api_key = parts.next().expect("api key").to_owned();
        Self {
            child,
            base_url,
            bot_id,
            api_key,
        }
    }

    fn blast(&mut self, n: u64) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "blast {n}").expect("command");
        stdin.flush().expect("flush");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Checks ids as they arrive: duplicates, per-channel order, count; samples latency.
struct Checker {
    n: u64,
    seen: Vec<AtomicU64>,
    last: Vec<AtomicI64>,
    count: AtomicU64,
    duplicates: AtomicU64,
    out_of_order: AtomicU64,
    latency_ns: Vec<AtomicU64>,
    done: Notify,
}

const LATENCY_SAMPLE: u64 = 64;
const CHANNEL_BASE: i64 = 1_900_000_000_000_000_000;

impl Checker {
    fn new(n: u64, channels: u64) -> Arc<Self> {
        Arc::new(Self {
            n,
            seen: (0..n.div_ceil(64) + 1).map(|_| AtomicU64::new(0)).collect(),
            last: (0..channels).map(|_| AtomicI64::new(0)).collect(),
            count: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            out_of_order: AtomicU64::new(0),
            latency_ns: (0..n / LATENCY_SAMPLE + 1)
                .map(|_| AtomicU64::new(0))
                .collect(),
            done: Notify::new(),
        })
    }

    fn record(&self, channel_id: i64, message_id: i64, sent_hi: u32, sent_lo: u32) {
        let id = message_id as u64;
        if id == 0 || id > self.n {
            return;
        }
        let bit = 1u64 << (id % 64);
        if self.seen[(id / 64) as usize].fetch_or(bit, Ordering::Relaxed) & bit != 0 {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
        let slot = (channel_id - CHANNEL_BASE) as usize;
        if let Some(last) = self.last.get(slot)
            && last.swap(message_id, Ordering::Relaxed) > message_id
        {
            self.out_of_order.fetch_add(1, Ordering::Relaxed);
        }
        if id.is_multiple_of(LATENCY_SAMPLE) {
            let sent = (u64::from(sent_hi) << 32) | u64::from(sent_lo);
            let latency = monotonic_nanos().saturating_sub(sent);
            self.latency_ns[(id / LATENCY_SAMPLE) as usize].store(latency, Ordering::Relaxed);
        }
        if self.count.fetch_add(1, Ordering::Relaxed) + 1 == self.n {
            self.done.notify_one();
        }
    }

    fn percentile_us(&self, p: f64) -> f64 {
        let mut v: Vec<u64> = self
            .latency_ns
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .filter(|&l| l > 0)
            .collect();
        if v.is_empty() {
            return 0.0;
        }
        v.sort_unstable();
        v[((v.len() - 1) as f64 * p) as usize] as f64 / 1000.0
    }
}

async fn single(o: Options) {
    let mut server = ServerProcess::start(o.channels);
    match o.variant.as_str() {
        "handler" | "stream" | "transport" => burst(&o, &mut server).await,
        "rtt" => round_trips(&server).await,
        "idle" => idle(&server).await,
        other => eprintln!("unknown variant {other}"),
    }
}

fn client_for(server: &ServerProcess) -> Client {
    Client::builder(server.bot_id, server.api_key.clone())
        .base_url(server.base_url.clone())
        .build()
        .expect("config")
}

fn transport_config(server: &ServerProcess) -> (TransportConfig, Credentials) {
    (
        TransportConfig::new(server.base_url.clone()).rate_limits(RateLimits::disabled()),
        Credentials::new(server.bot_id, server.api_key.clone()),
    )
}

async fn burst(o: &Options, server: &mut ServerProcess) {
    let checker = Checker::new(o.n, o.channels);
    let mut keep = Vec::new();
    match o.variant.as_str() {
        "handler" => {
            let client = client_for(server);
            let c = Arc::clone(&checker);
            client.on_channel_message(move |msg, _client| {
                let raw = msg.raw();
                c.record(
                    raw.channel_id,
                    raw.message_id,
                    raw.create_time_seconds,
                    raw.update_time_seconds,
                );
            });
            client.login().await.expect("login");
            keep.push(tokio::spawn(async move {
                std::future::pending::<()>().await;
                drop(client);
            }));
        }
        "stream" => {
            let client = client_for(server);
            let mut events = client.events_filtered(EventKindSet::of(EventKind::ChannelMessage));
            client.login().await.expect("login");
            let c = Arc::clone(&checker);
            keep.push(tokio::spawn(async move {
                let _client = client;
                while let Some(event) = events.recv().await {
                    if let Event::ChannelMessage(m) = event {
                        c.record(
                            m.channel_id,
                            m.message_id,
                            m.create_time_seconds,
                            m.update_time_seconds,
                        );
                    }
                }
            }));
        }
        _ => {
            let (config, creds) = transport_config(server);
            let (handle, mut inbound) = Transport::connect(config, creds, None)
                .await
                .expect("connect");
            let c = Arc::clone(&checker);
            keep.push(tokio::spawn(async move {
                let _handle = handle;
                while let Some(item) = inbound.recv().await {
                    if let Inbound::Envelope(frame) = item
                        && let Some((ch, id, hi, lo)) = scan_ids(&frame)
                    {
                        c.record(ch, id, hi, lo);
                    }
                }
            }));
        }
    }
    // Let the connect sequence settle so the burst is all that is measured.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (cpu0, alloc0, t0) = (
        cpu_micros(),
        ALLOCATIONS.load(Ordering::Relaxed),
        Instant::now(),
    );
    server.blast(o.n);
    let limit = Duration::from_secs(60 + o.n / 20_000);
    let finished = tokio::time::timeout(limit, checker.done.notified())
        .await
        .is_ok();
    let elapsed = t0.elapsed();
    let (cpu1, alloc1) = (cpu_micros(), ALLOCATIONS.load(Ordering::Relaxed));
    if !finished {
        // Give stragglers a moment, so "lost" means lost.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let received = checker.count.load(Ordering::Relaxed);
    let n = o.n as f64;
    println!(
        "RESULT events_per_s={:.0} cpu_us_per_event={:.3} allocs_per_event={:.2} p50_us={:.1} p99_us={:.1} peak_rss_mib={:.2} lost={} duplicates={} out_of_order={}",
        received as f64 / elapsed.as_secs_f64(),
        (cpu1 - cpu0) / n,
        (alloc1 - alloc0) as f64 / n,
        checker.percentile_us(0.50),
        checker.percentile_us(0.99),
        proc_status_kib("VmHWM:") as f64 / 1024.0,
        o.n.saturating_sub(received),
        checker.duplicates.load(Ordering::Relaxed),
        checker.out_of_order.load(Ordering::Relaxed),
    );
}

/// Channel id, message id and the send timestamp of a pushed `channel_message` frame, read
/// with a tag scan (the transport variant decodes nothing).
fn scan_ids(frame: &[u8]) -> Option<(i64, i64, u32, u32)> {
    fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *buf.get(*pos)?;
            *pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    fn fields(buf: &[u8], mut f: impl FnMut(u64, u64, &[u8])) -> Option<()> {
        let mut pos = 0;
        while pos < buf.len() {
            let key = varint(buf, &mut pos)?;
            match key & 7 {
                0 => {
                    let v = varint(buf, &mut pos)?;
                    f(key >> 3, v, &[]);
                }
                2 => {
                    let len = varint(buf, &mut pos)? as usize;
                    let body = buf.get(pos..pos + len)?;
                    pos += len;
                    f(key >> 3, 0, body);
                }
                1 => pos += 8,
                5 => pos += 4,
                _ => return None,
            }
        }
        Some(())
    }
    let mut message = None;
    fields(frame, |field, _, body| {
        if field == 6 {
            message = Some(body.to_vec());
        }
    })?;
    let message = message?;
    let (mut ch, mut id, mut hi, mut lo) = (0, 0, 0, 0);
    fields(&message, |field, v, _| match field {
        2 => ch = v as i64,
        3 => id = v as i64,
        20 => hi = v as u32,
        21 => lo = v as u32,
        _ => {}
    })?;
    Some((ch, id, hi, lo))
}

fn percentiles(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort_unstable();
    let at = |p: f64| v[((v.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;
    (at(0.5), at(0.99))
}

async fn round_trips(server: &ServerProcess) {
    let (config, creds) = transport_config(server);
    let (handle, mut inbound) = Transport::connect(config, creds, None)
        .await
        .expect("connect");
    tokio::spawn(async move { while inbound.recv().await.is_some() {} });
    let mut one = Vec::new();
    for _ in 0..20_000 {
        let t = Instant::now();
        handle.request(M::Ping(Ping {})).await.expect("pong");
        one.push(t.elapsed());
    }
    let (p50_1, p99_1) = percentiles(one);
    let lat = Arc::new(Mutex::new(Vec::with_capacity(20_000)));
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (handle, lat) = (handle.clone(), Arc::clone(&lat));
        tasks.push(tokio::spawn(async move {
            for _ in 0..20 {
                let t = Instant::now();
                handle.request(M::Ping(Ping {})).await.expect("pong");
                lat.lock().expect("lock").push(t.elapsed());
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let all = std::mem::take(&mut *lat.lock().expect("lock"));
    let (p50_k, p99_k) = percentiles(all);
    println!(
        "RESULT rtt1_p50_us={p50_1:.1} rtt1_p99_us={p99_1:.1} rtt1000_p50_us={p50_k:.1} rtt1000_p99_us={p99_k:.1}"
    );
    handle.shutdown().await;
}

async fn idle(server: &ServerProcess) {
    let mut clients = Vec::new();
    let first = client_for(server);
    first.login().await.expect("login");
    clients.push(first);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let one = proc_status_kib("VmRSS:");
    for _ in 1..100 {
        let client = client_for(server);
        client.login().await.expect("login");
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let hundred = proc_status_kib("VmRSS:");
    println!(
        "RESULT idle1_rss_mib={:.2} idle100_rss_mib={:.2} per_extra_bot_kib={:.0}",
        one as f64 / 1024.0,
        hundred as f64 / 1024.0,
        (hundred.saturating_sub(one)) as f64 / 99.0
    );
    for c in clients {
        c.shutdown().await;
    }
}

// ---------------------------------------------------------------- server process

fn serve(channels: u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let proxy = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let proxy_addr = proxy.local_addr().expect("addr");
        let server = TestServer::start(ServerConfig {
            session_ws_url: Some(proxy_addr.to_string()),
            outbound_queue: 1 << 16,
            ..ServerConfig::default()
        })
        .await
        .expect("test server");
        let upstream = server.addr();
        let conns: Arc<Mutex<Vec<mpsc::Sender<u64>>>> = Arc::default();
        println!(
            "READY {} {} {}",
            server.base_url(),
            server.bot_id(),
            server.api_key()
        );
        let registry = Arc::clone(&conns);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = proxy.accept().await {
                let (tx, rx) = mpsc::channel(4);
                registry.lock().expect("lock").push(tx);
                tokio::spawn(proxy_conn(tcp, upstream, rx, channels));
            }
        });
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(n) = line
                .strip_prefix("blast ")
                .and_then(|n| n.trim().parse().ok())
            {
                let target = conns.lock().expect("lock").last().cloned();
                if let Some(target) = target {
                    let _ = target.send(n).await;
                }
            }
        }
        drop(server);
    });
}

fn blast_frame(i: u64, channels: u64, content: &str) -> Bytes {
    let now = monotonic_nanos();
    Envelope {
        cid: 0,
        message: Some(M::ChannelMessage(ChannelMessage {
            clan_id: 1_840_000_000_000_000_001,
            channel_id: CHANNEL_BASE + (i % channels) as i64,
            message_id: i as i64,
            sender_id: 1_840_000_000_000_000_101,
            username: "alice".into(),
            display_name: "Alice".into(),
            avatar: "https://cdn.example.com/avatars/alice.png".into(),
            content: content.into(),
            channel_label: "general".into(),
            create_time_seconds: (now >> 32) as u32,
            update_time_seconds: now as u32,
            is_public: true,
            ..Default::default()
        })),
    }
    .encode_to_vec()
    .into()
}

#[allow(clippy::result_large_err)] // tungstenite's handshake callback type
async fn proxy_conn(
    tcp: TcpStream,
    upstream: std::net::SocketAddr,
    mut blasts: mpsc::Receiver<u64>,
    channels: u64,
) {
    let path = Arc::new(Mutex::new(String::new()));
    let seen = Arc::clone(&path);
    let callback = move |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
        *seen.lock().expect("lock") = req.uri().to_string();
        Ok(resp)
    };
    let Ok(client) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
        return;
    };
    let url = format!("ws://{upstream}{}", path.lock().expect("lock"));
    let Ok((server, _)) = tokio_tungstenite::connect_async(url).await else {
        return;
    };
    let (mut to_client, mut from_client) = client.split();
    let (mut to_server, mut from_server) = server.split();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = from_client.next().await {
            if to_server.send(msg).await.is_err() {
                break;
            }
        }
    });
    let content = format!(
        "{{\"t\":\"{}\"}}",
        "the quick brown fox jumps over the lazy dog ".repeat(4)
    );
    loop {
        tokio::select! {
            msg = from_server.next() => match msg {
                Some(Ok(msg)) => if to_client.send(msg).await.is_err() { break },
                _ => break,
            },
            n = blasts.recv() => {
                let Some(n) = n else { break };
                for i in 1..=n {
                    while let Some(Some(Ok(msg))) = from_server.next().now_or_never() {
                        if to_client.feed(msg).await.is_err() { return }
                    }
                    let frame = WsMessage::Binary(blast_frame(i, channels, &content));
                    if to_client.feed(frame).await.is_err() { return }
                    if i % 32 == 0 && to_client.flush().await.is_err() { return }
                }
                if to_client.flush().await.is_err() { return }
            }
        }
    }
}
