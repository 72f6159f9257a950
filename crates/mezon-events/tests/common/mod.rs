//! Helpers shared by the test binaries: the golden protocol fixtures (mezon-proto's copy).
#![allow(dead_code)]

use std::path::PathBuf;

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mezon-proto/tests/data/fixtures")
}

pub fn bytes(name: &str) -> bytes::Bytes {
    let path = dir().join(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into()
}

pub fn json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&bytes(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// One manifest row.
#[derive(Debug)]
pub struct Row {
    pub name: String,
    pub kind: String,
    pub variant: String,
    pub cid: i32,
}

pub fn manifest() -> Vec<Row> {
    let text = String::from_utf8(bytes("manifest.tsv").to_vec()).expect("utf-8 manifest");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            Row {
                name: cols[0].to_owned(),
                kind: cols[1].to_owned(),
                variant: cols[2].to_owned(),
                cid: cols[3].parse().expect("cid"),
            }
        })
        .collect()
}

/// Every fixture that is a serialized Envelope.
pub fn envelopes() -> Vec<Row> {
    manifest()
        .into_iter()
        .filter(|r| matches!(r.kind.as_str(), "push" | "reply" | "request"))
        .collect()
}
