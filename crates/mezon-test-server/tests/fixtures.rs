//! The golden request frames of the protocol fixtures (made by an independent implementation)
//! each get an answer carrying their cid.

mod common;

use std::path::PathBuf;

use bytes::Bytes;
use common::*;
use futures_util::SinkExt as _;
use mezon_proto::prost::Message as _;
use mezon_proto::realtime::{Envelope, envelope::Message as M};
use mezon_test_server::{ServerConfig, TestServer};
use tokio_tungstenite::tungstenite::Message;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mezon-proto/tests/data/fixtures")
}

/// `(name, variant, cid)` of every `request` row of the manifest.
fn request_fixtures() -> Vec<(String, String, i32)> {
    let manifest = std::fs::read_to_string(fixtures_dir().join("manifest.tsv")).expect("manifest");
    manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols.get(1) == Some(&"request")).then(|| {
                (
                    cols[0].to_owned(),
                    cols[2].to_owned(),
                    cols[3].parse().expect("cid"),
                )
            })
        })
        .collect()
}

#[tokio::test]
async fn every_golden_request_is_answered_with_its_cid() {
    let server = TestServer::start(ServerConfig::default()).await.unwrap();
    let (_, mut socket) = login_and_connect(&server).await;
    let fixtures = request_fixtures();
    assert!(fixtures.len() >= 10, "{} request fixtures", fixtures.len());
    for (name, variant, cid) in fixtures {
        let frame = std::fs::read(fixtures_dir().join(format!("{name}.bin"))).expect("fixture");
        assert_eq!(Envelope::decode(frame.as_slice()).unwrap().cid, cid);
        socket
            .send(Message::Binary(Bytes::from(frame)))
            .await
            .unwrap();
        let answer = next_frame(&mut socket).await;
        match answer {
            Frame::RawChunk(chunk) => {
                assert_eq!(variant, "api_request_event");
                assert_eq!(i32::from(chunk.cid), cid);
                assert!(chunk.fin);
            }
            Frame::Envelope(bytes) => {
                let envelope = Envelope::decode(bytes).unwrap();
                assert_eq!(envelope.cid, cid, "{name}");
                let message = envelope.message.expect("a payload");
                match variant.as_str() {
                    "ping" => assert!(matches!(message, M::Pong(_)), "{message:?}"),
                    "status_update" => assert!(matches!(message, M::Status(_))),
                    "channel_leave" => assert!(matches!(message, M::Channel(_))),
                    // Kinds the server does not serve: unrecognized payload.
                    "status_follow" | "status_unfollow" => {
                        assert!(matches!(message, M::Error(e) if e.code == 1), "{name}");
                    }
                    // The fixtures' ids name no channel or message of this world: bad input.
                    _ => assert!(matches!(message, M::Error(e) if e.code == 3), "{name}"),
                }
            }
            Frame::BinaryPong { .. } => panic!("unexpected binary pong for {name}"),
        }
    }
    assert_nothing_pending(&mut socket).await;
    server.shutdown().await;
}
