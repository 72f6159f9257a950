//! Proto3 JSON of protocol messages, through reflection over `mezon_proto::FILE_DESCRIPTOR_SET`:
//! proto field names, 64-bit integers as strings, bytes as base64, default fields left out
//! (the form of the protocol's golden `.json` fixtures).

use std::sync::OnceLock;

use bytes::Bytes;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};
use serde_json::Value;

/// The Envelope's full name.
pub(crate) const ENVELOPE: &str = "mezon.realtime.Envelope";
/// A stored or pushed message's full name.
pub(crate) const CHANNEL_MESSAGE: &str = "mezon.api.ChannelMessage";

fn pool() -> Option<&'static DescriptorPool> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(mezon_proto::FILE_DESCRIPTOR_SET).ok())
        .as_ref()
}

fn descriptor(full_name: &str) -> Result<MessageDescriptor, String> {
    pool()
        .ok_or("the compiled schema does not load")?
        .get_message_by_name(full_name)
        .ok_or_else(|| format!("{full_name} is not in the schema"))
}

/// The JSON view of serialized bytes of `full_name`.
pub(crate) fn to_json(full_name: &str, bytes: &[u8]) -> Result<Value, String> {
    let message = DynamicMessage::decode(descriptor(full_name)?, bytes)
        .map_err(|e| format!("not a {full_name}: {e}"))?;
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(true)
        .skip_default_fields(true);
    message
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| format!("cannot show {full_name} as JSON: {e}"))
}

/// The JSON view of a prost value of `full_name`.
pub(crate) fn message_to_json(full_name: &str, message: &impl prost::Message) -> Value {
    to_json(full_name, &message.encode_to_vec()).unwrap_or_else(Value::String)
}

/// Serialized bytes of `full_name` from its proto3 JSON (field names in either spelling,
/// 64-bit integers as strings or numbers).
pub(crate) fn from_json(full_name: &str, json: &Value) -> Result<Bytes, String> {
    let message = DynamicMessage::deserialize(descriptor(full_name)?, json)
        .map_err(|e| format!("not a {full_name} in proto3 JSON: {e}"))?;
    Ok(Bytes::from(prost::Message::encode_to_vec(&message)))
}

#[cfg(test)]
mod tests {
    use mezon_proto::realtime::{Envelope, Ping, envelope::Message as M};

    use super::*;

    #[test]
    fn envelopes_round_trip_through_json() {
        let ping = Envelope {
            cid: 7,
            message: Some(M::Ping(Ping {})),
        };
        let json = message_to_json(ENVELOPE, &ping);
        assert_eq!(json, serde_json::json!({"cid": 7, "ping": {}}));
        let bytes = from_json(ENVELOPE, &json).unwrap();
        assert_eq!(<Envelope as prost::Message>::decode(bytes).unwrap(), ping);

        let big = serde_json::json!({"channel_message": {"message_id": "1850000000000000001"}});
        let bytes = from_json(ENVELOPE, &big).unwrap();
        let decoded = <Envelope as prost::Message>::decode(bytes).unwrap();
        let Some(M::ChannelMessage(message)) = decoded.message else {
            panic!("expected a channel_message")
        };
        assert_eq!(message.message_id, 1_850_000_000_000_000_001);
        assert!(from_json(ENVELOPE, &serde_json::json!({"nope": 1})).is_err());
    }
}
