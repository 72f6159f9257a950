//! Throughput of frame classification and of request round trips over loopback.
//!
//! `cargo bench -p mezon-transport --bench throughput` prints one line per measurement.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mezon_test_server::{ServerConfig, TestServer};
use mezon_transport::frame::{self, RawChunk};
use mezon_transport::proto::realtime::{Envelope, Ping, envelope::Message};
use mezon_transport::{Credentials, RateLimits, Transport, TransportConfig};
use prost::Message as _;

fn report(what: &str, count: u64, elapsed: Duration) {
    println!(
        "{what:<44} {count:>9} in {elapsed:>10.2?}  {:>12.0}/s",
        count as f64 / elapsed.as_secs_f64()
    );
}

fn classify_frames() {
    let envelope = Bytes::from(
        Envelope {
            cid: 0,
            message: Some(Message::ChannelMessage(
                mezon_transport::proto::api::ChannelMessage {
                    channel_id: 42,
                    message_id: 7,
                    content: "{\"t\":\"hello there\"}".into(),
                    ..Default::default()
                },
            )),
        }
        .encode_to_vec(),
    );
    let raw = frame::encode_raw_chunk(&RawChunk {
        cid: 9,
        status: 0,
        fin: true,
        payload: Bytes::from(vec![1u8; 256]),
    });
    let pong = frame::encode_binary_pong(3);
    let frames = [envelope.clone(), raw, pong];
    const N: u64 = 3_000_000;
    let started = Instant::now();
    for i in 0..N {
        let frame = frames[(i % 3) as usize].clone();
        black_box(frame::classify(black_box(frame)).ok());
    }
    report("frame::classify (mixed kinds)", N, started.elapsed());

    const D: u64 = 1_000_000;
    let started = Instant::now();
    for _ in 0..D {
        black_box(Envelope::decode(black_box(envelope.clone())).ok());
    }
    report(
        "Envelope::decode (pushed channel_message)",
        D,
        started.elapsed(),
    );
}

fn encode_and_reassemble() {
    let send = Envelope {
        cid: 42,
        message: Some(Message::ChannelMessageSend(
            mezon_transport::proto::realtime::ChannelMessageSend {
                clan_id: 1,
                channel_id: 2,
                mode: 2,
                is_public: true,
                content: "{\"t\":\"hello there, this is a reply\"}".into(),
                ..Default::default()
            },
        )),
    };
    const E: u64 = 1_000_000;
    let started = Instant::now();
    for _ in 0..E {
        black_box(black_box(&send).encode_to_vec());
    }
    report(
        "request encode (channel_message_send)",
        E,
        started.elapsed(),
    );

    // A 64 KiB raw answer in 8 KiB chunks: classify each frame and join the payloads, as
    // the reader does.
    let answer = Bytes::from(vec![7u8; 64 * 1024]);
    let frames = frame::encode_raw_answer(9, 0, &answer, 8 * 1024);
    const R: u64 = 50_000;
    let started = Instant::now();
    for _ in 0..R {
        let mut joined = bytes::BytesMut::new();
        for f in &frames {
            if let Ok(frame::Frame::RawChunk(chunk)) = frame::classify(f.clone()) {
                joined.extend_from_slice(&chunk.payload);
            }
        }
        black_box(joined.freeze());
    }
    report(
        "raw answer reassembly (64 KiB in 8 chunks)",
        R,
        started.elapsed(),
    );
}

async fn round_trips() {
    let server = TestServer::start(ServerConfig::default())
        .await
        .expect("server");
    let config = TransportConfig::new(server.base_url()).rate_limits(RateLimits::disabled());
    let creds = Credentials::new(server.bot_id(), server.api_key());
    let (handle, _inbound) = Transport::connect(config, creds, None)
        .await
        .expect("connect");

    const SEQ: u64 = 20_000;
    let started = Instant::now();
    for _ in 0..SEQ {
        handle.request(Message::Ping(Ping {})).await.expect("pong");
    }
    report("request round trips, sequential", SEQ, started.elapsed());

    const TASKS: u64 = 64;
    const EACH: u64 = 1_000;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let handle = handle.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..EACH {
                handle.request(Message::Ping(Ping {})).await.expect("pong");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    report(
        "request round trips, 64 concurrent callers",
        TASKS * EACH,
        started.elapsed(),
    );
    handle.shutdown().await;
}

fn main() {
    classify_frames();
    encode_and_reassemble();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(round_trips());
}
