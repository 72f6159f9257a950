//! The compiled schema (`FILE_DESCRIPTOR_SET`, generated from `proto/`) equals the protocol
//! schema in `tests/data/schema.tsv`: every message with every field's number, type, label
//! and oneof, and every enum with its values.

mod common;

use std::collections::BTreeMap;

use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor};

const PACKAGES: [&str; 2] = ["mezon.api", "mezon.realtime"];

/// `field` rows of one message, keyed by field name: `(number, label, type, oneof)`.
type Fields = BTreeMap<String, (u32, String, String, String)>;

#[derive(Debug, Default)]
struct Schema {
    files: BTreeMap<String, String>,
    messages: BTreeMap<String, Fields>,
    enums: BTreeMap<String, BTreeMap<String, i32>>,
}

fn schema_tsv() -> Schema {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/schema.tsv");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("record\tscope\tname\tnumber\tlabel\ttype\toneof")
    );
    let mut schema = Schema::default();
    for line in lines.filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [record, scope, name, number, label, ty, oneof] = cols.as_slice() else {
            panic!("schema.tsv: expected 7 columns in {line:?}");
        };
        let number = || {
            number
                .parse::<i64>()
                .unwrap_or_else(|e| panic!("bad number in {line:?}: {e}"))
        };
        match *record {
            "file" => {
                schema.files.insert((*scope).to_owned(), (*name).to_owned());
            }
            "message" => {
                schema.messages.insert((*scope).to_owned(), Fields::new());
            }
            "enum" => {
                schema.enums.insert((*scope).to_owned(), BTreeMap::new());
            }
            "field" => {
                let fields = schema
                    .messages
                    .get_mut(*scope)
                    .unwrap_or_else(|| panic!("field before its message: {line:?}"));
                let number = u32::try_from(number()).expect("field numbers are positive");
                let row = (
                    number,
                    (*label).to_owned(),
                    (*ty).to_owned(),
                    (*oneof).to_owned(),
                );
                fields.insert((*name).to_owned(), row);
            }
            "value" => {
                let values = schema
                    .enums
                    .get_mut(*scope)
                    .unwrap_or_else(|| panic!("value before its enum: {line:?}"));
                let number = i32::try_from(number()).expect("enum values fit i32");
                values.insert((*name).to_owned(), number);
            }
            other => panic!("unknown record kind {other:?} in schema.tsv"),
        }
    }
    schema
}

/// A field type as schema.tsv spells it: scalar name, full type name, or `map<K,V>`.
fn type_name(field: &FieldDescriptor) -> String {
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            panic!("{}: map field without an entry message", field.full_name());
        };
        let key = type_name(&entry.map_entry_key_field());
        let value = type_name(&entry.map_entry_value_field());
        return format!("map<{key},{value}>");
    }
    match field.kind() {
        Kind::Double => "double".to_owned(),
        Kind::Float => "float".to_owned(),
        Kind::Int32 => "int32".to_owned(),
        Kind::Int64 => "int64".to_owned(),
        Kind::Uint32 => "uint32".to_owned(),
        Kind::Uint64 => "uint64".to_owned(),
        Kind::Sint32 => "sint32".to_owned(),
        Kind::Sint64 => "sint64".to_owned(),
        Kind::Fixed32 => "fixed32".to_owned(),
        Kind::Fixed64 => "fixed64".to_owned(),
        Kind::Sfixed32 => "sfixed32".to_owned(),
        Kind::Sfixed64 => "sfixed64".to_owned(),
        Kind::Bool => "bool".to_owned(),
        Kind::String => "string".to_owned(),
        Kind::Bytes => "bytes".to_owned(),
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
    }
}

fn label(field: &FieldDescriptor) -> String {
    if field.is_map() {
        return "map".to_owned();
    }
    match field.cardinality() {
        Cardinality::Repeated => "repeated",
        Cardinality::Optional if field.field_descriptor_proto().proto3_optional() => "optional",
        Cardinality::Optional => "singular",
        Cardinality::Required => "required",
    }
    .to_owned()
}

fn compiled_fields(message: &MessageDescriptor) -> Fields {
    message
        .fields()
        .map(|f| {
            let oneof = f
                .containing_oneof()
                .filter(|o| !o.is_synthetic())
                .map(|o| o.name().to_owned())
                .unwrap_or_default();
            (
                f.name().to_owned(),
                (f.number(), label(&f), type_name(&f), oneof),
            )
        })
        .collect()
}

fn compiled_messages() -> BTreeMap<String, Fields> {
    common::pool()
        .all_messages()
        .filter(|m| PACKAGES.contains(&m.package_name()) && !m.is_map_entry())
        .map(|m| (m.full_name().to_owned(), compiled_fields(&m)))
        .collect()
}

#[test]
fn descriptor_set_holds_both_packages() {
    let pool = common::pool();
    let packages: Vec<String> = pool.files().map(|f| f.package_name().to_owned()).collect();
    for package in PACKAGES {
        assert!(
            packages.iter().any(|p| p == package),
            "{package} missing: {packages:?}"
        );
    }
    assert!(
        pool.get_message_by_name("mezon.realtime.Envelope")
            .is_some()
    );
    assert!(pool.get_message_by_name("mezon.api.Session").is_some());
}

#[test]
fn files_and_packages_match_schema_tsv() {
    let compiled: BTreeMap<String, String> = common::pool()
        .files()
        .filter(|f| PACKAGES.contains(&f.package_name()))
        .map(|f| (f.name().to_owned(), f.package_name().to_owned()))
        .collect();
    assert_eq!(compiled, schema_tsv().files);
}

#[test]
fn schema_tsv_has_470_messages_and_10_enums() {
    let schema = schema_tsv();
    assert_eq!(schema.messages.len(), 470);
    assert_eq!(schema.enums.len(), 10);
}

#[test]
fn every_message_has_the_fields_of_schema_tsv() {
    let expected = schema_tsv().messages;
    let compiled = compiled_messages();
    let missing: Vec<&String> = expected
        .keys()
        .filter(|k| !compiled.contains_key(*k))
        .collect();
    let extra: Vec<&String> = compiled
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "messages missing from proto/: {missing:?}"
    );
    assert!(extra.is_empty(), "messages not in schema.tsv: {extra:?}");
    for (name, fields) in &expected {
        let actual = &compiled[name];
        assert_eq!(actual.len(), fields.len(), "{name}: field count");
        assert_eq!(
            actual, fields,
            "{name}: fields (name → number, label, type, oneof)"
        );
    }
    assert_eq!(compiled.len(), 470);
}

#[test]
fn nested_messages_are_compared_too() {
    let compiled = compiled_messages();
    let channel_user = &compiled["mezon.api.ChannelUserList.ChannelUser"];
    assert_eq!(
        channel_user["role_id"],
        (2, "repeated".to_owned(), "int64".to_owned(), String::new())
    );
}

#[test]
fn every_enum_has_the_values_of_schema_tsv() {
    let compiled: BTreeMap<String, BTreeMap<String, i32>> = common::pool()
        .all_enums()
        .filter(|e| PACKAGES.contains(&e.package_name()))
        .map(|e| {
            let values = e
                .values()
                .map(|v| (v.name().to_owned(), v.number()))
                .collect();
            (e.full_name().to_owned(), values)
        })
        .collect();
    assert_eq!(compiled, schema_tsv().enums);
}
