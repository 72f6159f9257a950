//! Micro-benches of the inbound path: peek vs full decode, event conversion, content parse,
//! nested lists, and dispatch throughput per mode and to 1 and 3 handlers.
//! Run with `cargo bench -p mezon-events`; prints one line per measurement (ns/op).

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mezon_events::content::MessageContent;
use mezon_events::message::ChannelMessageExt as _;
use mezon_events::proto::api::ChannelMessage;
use mezon_events::proto::prost::Message as _;
use mezon_events::{DispatchConfig, DispatchMode, Dispatcher, Event, EventDispatcher, peek};

fn fixture(name: &str) -> Bytes {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../mezon-proto/tests/data/fixtures")
        .join(name);
    match std::fs::read(&path) {
        Ok(bytes) => bytes.into(),
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            std::process::exit(1);
        }
    }
}

fn per_op(label: &str, iterations: u32, mut op: impl FnMut()) {
    let start = Instant::now();
    for _ in 0..iterations {
        op();
    }
    let elapsed = start.elapsed();
    println!(
        "{label:<48} {:>9.1} ns/op",
        elapsed.as_nanos() as f64 / f64::from(iterations)
    );
}

fn decode_benches() {
    for name in [
        "envelope_006_channel_message.bin",
        "envelope_026_message_reaction_event.bin",
        "envelope_022_ping.bin",
    ] {
        let frame = fixture(name);
        println!("{name}: {} bytes", frame.len());
        per_op("  peek (tag scan)", 1_000_000, || {
            black_box(peek(black_box(&frame)).ok());
        });
        per_op("  Event::decode (peek + prost)", 200_000, || {
            black_box(Event::decode(black_box(frame.clone())).ok());
        });
    }
}

fn content_and_lists() {
    let json = r#"{"t":"hello @alice, see #general and this link https://example.com","mk":[{"type":"lk","s":47,"e":66}]}"#;
    per_op("MessageContent::parse (text + one span)", 500_000, || {
        black_box(MessageContent::parse(black_box(json)).ok());
    });
    let mentions = mezon_events::proto::api::MessageMentionList {
        mentions: (0..3)
            .map(|i| mezon_events::proto::api::MessageMention {
                user_id: i,
                username: format!("user{i}"),
                s: 6,
                e: 12,
                ..Default::default()
            })
            .collect(),
    }
    .encode_to_vec();
    let message = ChannelMessage {
        mentions: mentions.into(),
        ..Default::default()
    };
    per_op(
        "ChannelMessage::mentions (3, protobuf list)",
        500_000,
        || {
            black_box(black_box(&message).mentions().ok());
        },
    );
    let frame = fixture("envelope_006_channel_message.bin");
    let envelope = mezon_events::proto::realtime::Envelope::decode(frame).ok();
    per_op("Event::from_envelope (conversion only)", 1_000_000, || {
        black_box(envelope.clone().and_then(Event::from_envelope));
    });
}

fn handlers_bench(runtime: &tokio::runtime::Runtime, handlers: usize, events: u64) {
    let dispatcher = EventDispatcher::<()>::new(DispatchConfig::default());
    let handled = Arc::new(AtomicU64::new(0));
    for _ in 0..handlers {
        let counter = Arc::clone(&handled);
        let _sub = dispatcher.on_channel_message(move |m, ()| {
            black_box(m.message_id);
            counter.fetch_add(1, Ordering::Relaxed);
        });
    }
    let message = Arc::new(ChannelMessage {
        channel_id: 1,
        ..Default::default()
    });
    let elapsed = runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..events {
            dispatcher
                .dispatch(Event::ChannelMessage(Arc::clone(&message)), ())
                .await;
        }
        dispatcher.shutdown().await;
        start.elapsed()
    });
    assert_eq!(handled.load(Ordering::Relaxed), events * handlers as u64);
    println!(
        "dispatch to {handlers} sync handler(s), one channel: {:>10.1} ns/event",
        elapsed.as_nanos() as f64 / events as f64
    );
}

fn dispatch_bench(runtime: &tokio::runtime::Runtime, mode: DispatchMode, events: u64) {
    let dispatcher = EventDispatcher::<()>::new(
        DispatchConfig::default()
            .mode(mode)
            .workers(4)
            .queue_capacity(256),
    );
    let handled = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&handled);
    let _sub = dispatcher.on_channel_message(move |m, ()| {
        black_box(m.message_id);
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let messages: Vec<Arc<ChannelMessage>> = (0..100)
        .map(|channel| {
            Arc::new(ChannelMessage {
                channel_id: channel,
                message_id: channel,
                ..Default::default()
            })
        })
        .collect();
    let elapsed = runtime.block_on(async {
        let start = Instant::now();
        for i in 0..events {
            let message = Arc::clone(&messages[(i % 100) as usize]);
            dispatcher
                .dispatch(Event::ChannelMessage(message), ())
                .await;
        }
        dispatcher.shutdown().await;
        start.elapsed()
    });
    assert_eq!(handled.load(Ordering::Relaxed), events);
    println!(
        "dispatch {mode:?}, 100 channels, 1 sync handler: {:>10.0} events/s",
        events as f64 / elapsed.max(Duration::from_nanos(1)).as_secs_f64()
    );
}

fn main() {
    decode_benches();
    content_and_lists();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("runtime: {e}");
            std::process::exit(1);
        }
    };
    for mode in [
        DispatchMode::Sequential,
        DispatchMode::PerChannel,
        DispatchMode::Concurrent,
    ] {
        dispatch_bench(&runtime, mode, 200_000);
    }
    for handlers in [1, 3] {
        handlers_bench(&runtime, handlers, 200_000);
    }
}
