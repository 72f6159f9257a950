//! The list fields of `ChannelMessage` (mentions, attachments, references, reactions) are
//! bytes: a serialized `*List` message, or a JSON array in rows written by older clients.

use bytes::Bytes;
use mezon_proto::api::{
    MessageAttachment, MessageAttachmentList, MessageMention, MessageMentionList, MessageReaction,
    MessageReactionList, MessageRef, MessageRefList,
};
use prost::Message as _;
use serde_json::Value;

fn is_json(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(b'[' | b'{'))
}

fn json_items(bytes: &[u8]) -> Vec<Value> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Array(items)) => items,
        Ok(obj @ Value::Object(_)) => vec![obj],
        _ => Vec::new(),
    }
}

fn int(v: &Value, key: &str) -> i64 {
    match v.get(key) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or_default(),
        Some(Value::String(s)) => s.parse().unwrap_or_default(),
        _ => 0,
    }
}

fn int32(v: &Value, key: &str) -> i32 {
    i32::try_from(int(v, key)).unwrap_or_default()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or_default()
}

/// Decodes the `mentions` bytes; malformed input yields an empty list.
pub fn mentions(bytes: &Bytes) -> Vec<MessageMention> {
    if is_json(bytes) {
        return json_items(bytes)
            .iter()
            .map(|v| MessageMention {
                id: int(v, "id"),
                user_id: int(v, "user_id"),
                username: text(v, "username"),
                role_id: int(v, "role_id"),
                rolename: text(v, "rolename"),
                s: int32(v, "s"),
                e: int32(v, "e"),
                ..MessageMention::default()
            })
            .collect();
    }
    MessageMentionList::decode(bytes.clone())
        .map(|l| l.mentions)
        .unwrap_or_default()
}

/// Decodes the `attachments` bytes; malformed input yields an empty list.
pub fn attachments(bytes: &Bytes) -> Vec<MessageAttachment> {
    if is_json(bytes) {
        return json_items(bytes)
            .iter()
            .map(|v| MessageAttachment {
                filename: text(v, "filename"),
                size: int32(v, "size"),
                url: text(v, "url"),
                filetype: text(v, "filetype"),
                width: int32(v, "width"),
                height: int32(v, "height"),
                ..MessageAttachment::default()
            })
            .collect();
    }
    MessageAttachmentList::decode(bytes.clone())
        .map(|l| l.attachments)
        .unwrap_or_default()
}

/// Decodes the `references` bytes; malformed input yields an empty list.
pub fn references(bytes: &Bytes) -> Vec<MessageRef> {
    if is_json(bytes) {
        return json_items(bytes)
            .iter()
            .map(|v| MessageRef {
                message_id: int(v, "message_id"),
                message_ref_id: int(v, "message_ref_id"),
                content: text(v, "content"),
                has_attachment: flag(v, "has_attachment"),
                ref_type: int32(v, "ref_type"),
                message_sender_id: int(v, "message_sender_id"),
                message_sender_username: text(v, "message_sender_username"),
                ..MessageRef::default()
            })
            .collect();
    }
    MessageRefList::decode(bytes.clone())
        .map(|l| l.refs)
        .unwrap_or_default()
}

/// Decodes the `reactions` bytes; malformed input yields an empty list.
pub fn reactions(bytes: &Bytes) -> Vec<MessageReaction> {
    if is_json(bytes) {
        return json_items(bytes)
            .iter()
            .map(|v| MessageReaction {
                id: int(v, "id"),
                emoji_id: int(v, "emoji_id"),
                emoji: text(v, "emoji"),
                sender_id: int(v, "sender_id"),
                count: int32(v, "count"),
                ..MessageReaction::default()
            })
            .collect();
    }
    MessageReactionList::decode(bytes.clone())
        .map(|l| l.reactions)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_protobuf_and_legacy_json() {
        let list = MessageMentionList {
            mentions: vec![MessageMention {
                user_id: 5,
                s: 1,
                e: 4,
                ..Default::default()
            }],
        };
        let proto = Bytes::from(list.encode_to_vec());
        assert_eq!(mentions(&proto)[0].user_id, 5);
        let json = Bytes::from_static(br#"[{"user_id":"6","username":"bo","s":0,"e":3}]"#);
        let m = mentions(&json);
        assert_eq!((m[0].user_id, m[0].e), (6, 3));
        let att = Bytes::from_static(br#"[{"url":"https://f","size":3}]"#);
        assert_eq!(attachments(&att)[0].url, "https://f");
    }

    #[test]
    fn malformed_input_gives_empty_lists() {
        assert!(mentions(&Bytes::from_static(b"[not json")).is_empty());
        assert!(references(&Bytes::from_static(&[0xff, 0xff, 0xff])).is_empty());
        assert!(reactions(&Bytes::new()).is_empty());
    }
}
