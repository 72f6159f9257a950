//! Shared helpers of the conformance tests: the fixture manifest, fixture files, and the
//! proto3-JSON view used to compare decoded values with the fixtures' `.json` files.
#![allow(dead_code)] // each test crate uses a different subset

use std::path::PathBuf;
use std::sync::OnceLock;

use mezon_proto::bytes::Bytes;
use mezon_proto::prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::Value;

/// One row of `tests/data/fixtures/manifest.tsv`.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub name: String,
    /// `request`, `reply`, `push`, `invalid`, `raw` or `http`.
    pub kind: String,
    /// The Envelope oneof field the fixture carries (empty when none).
    pub variant: String,
    pub cid: i32,
}

impl Fixture {
    pub fn bin(&self) -> Bytes {
        fixture_bytes(&format!("{}.bin", self.name))
    }

    /// The expected proto3-JSON view, when the fixture has one.
    pub fn json(&self) -> Option<Value> {
        fixture_json(&format!("{}.json", self.name))
    }

    /// Fixtures holding one serialized `mezon.realtime.Envelope`.
    pub fn is_envelope(&self) -> bool {
        self.name.starts_with("envelope_") || self.name.starts_with("channel_message_")
    }
}

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fixtures")
}

pub fn fixture_bytes(file: &str) -> Bytes {
    let path = fixtures_dir().join(file);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Bytes::from(data)
}

pub fn fixture_json(file: &str) -> Option<Value> {
    let path = fixtures_dir().join(file);
    let text = std::fs::read_to_string(&path).ok()?;
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(value)
}

/// Every fixture listed in the manifest, in manifest order.
pub fn manifest() -> Vec<Fixture> {
    let path = fixtures_dir().join("manifest.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut rows = text.lines();
    assert_eq!(
        rows.next(),
        Some("name\tkind\tvariant\tcid\tnote"),
        "manifest header changed"
    );
    rows.filter(|line| !line.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert!(cols.len() >= 4, "bad manifest row: {line:?}");
            Fixture {
                name: cols[0].to_owned(),
                kind: cols[1].to_owned(),
                variant: cols[2].to_owned(),
                cid: cols[3]
                    .parse()
                    .unwrap_or_else(|e| panic!("bad cid in {line:?}: {e}")),
            }
        })
        .collect()
}

pub fn fixture(name: &str) -> Fixture {
    manifest()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fixture {name} in the manifest"))
}

/// The schema of `mezon_proto::FILE_DESCRIPTOR_SET`, decoded once.
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(mezon_proto::FILE_DESCRIPTOR_SET)
            .expect("FILE_DESCRIPTOR_SET is a valid FileDescriptorSet")
    })
}

/// The canonical proto3-JSON view of a prost value of message type `full_name`.
///
/// The value is re-encoded and decoded again through reflection, so the view covers every
/// field the schema knows, independently of the generated Rust types. Options match how the
/// fixtures were written: proto field names, 64-bit integers as strings, bytes as base64,
/// and fields at their default value left out. Proto3 JSON allows a writer to either omit
/// or print default-valued fields; the fixtures omit them, so skipping defaults here is the
/// only normalisation and it is lossless (a default field cannot differ from "absent" on the
/// wire either).
pub fn json_view<M: Message>(full_name: &str, value: &M) -> Value {
    json_view_of_bytes(full_name, &value.encode_to_vec())
}

/// Like [`json_view`], for an already serialized message.
pub fn json_view_of_bytes(full_name: &str, encoded: &[u8]) -> Value {
    let descriptor = pool()
        .get_message_by_name(full_name)
        .unwrap_or_else(|| panic!("{full_name} is not in FILE_DESCRIPTOR_SET"));
    let dynamic = DynamicMessage::decode(descriptor, encoded)
        .unwrap_or_else(|e| panic!("reflection cannot decode {full_name}: {e}"));
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(true)
        .skip_default_fields(true);
    dynamic
        .serialize_with_options(serde_json::value::Serializer, &options)
        .unwrap_or_else(|e| panic!("cannot serialize {full_name} as JSON: {e}"))
}

/// The first differing JSON path between two values, for readable failure messages.
pub fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for key in e.keys().chain(a.keys()) {
                let sub = format!("{path}.{key}");
                match (e.get(key), a.get(key)) {
                    (Some(ev), Some(av)) => {
                        if let Some(d) = first_difference(ev, av, &sub) {
                            return Some(d);
                        }
                    }
                    (ev, av) => return Some(format!("{sub}: expected {ev:?}, got {av:?}")),
                }
            }
            None
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (ev, av))| first_difference(ev, av, &format!("{path}[{i}]"))),
        _ if expected == actual => None,
        _ => Some(format!("{path}: expected {expected}, got {actual}")),
    }
}
