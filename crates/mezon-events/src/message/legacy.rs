//! The legacy JSON form of a message's nested lists: old rows store a JSON array of objects
//! (ids as strings or numbers, keys in snake_case or camelCase) instead of a protobuf list.

use serde_json::{Map, Value};

use crate::proto::api::{MessageAttachment, MessageMention, MessageReaction, MessageRef};

type Object = Map<String, Value>;

/// The list's objects: a JSON array, an object wrapping one (`{"mentions": [...]}`), or a
/// single object. Non-object items are skipped.
pub(super) fn items(bytes: &[u8]) -> Result<Vec<Object>, serde_json::Error> {
    let value: Value = serde_json::from_slice(bytes)?;
    let list = match value {
        Value::Array(items) => items,
        Value::Object(mut object) => {
            let wrapped = ["mentions", "attachments", "refs", "references", "reactions"]
                .iter()
                .find_map(|key| match object.remove(*key) {
                    Some(Value::Array(items)) => Some(items),
                    _ => None,
                });
            wrapped.unwrap_or_else(|| vec![Value::Object(object)])
        }
        _ => Vec::new(),
    };
    Ok(list
        .into_iter()
        .filter_map(|item| match item {
            Value::Object(object) => Some(object),
            _ => None,
        })
        .collect())
}

fn field<'a>(object: &'a Object, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|name| object.get(*name))
}

fn int(object: &Object, names: &[&str]) -> i64 {
    match field(object, names) {
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn int32(object: &Object, names: &[&str]) -> i32 {
    i32::try_from(int(object, names)).unwrap_or(0)
}

fn text(object: &Object, names: &[&str]) -> String {
    match field(object, names) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn flag(object: &Object, names: &[&str]) -> bool {
    match field(object, names) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
        Some(Value::String(s)) => s == "true" || s == "1",
        _ => false,
    }
}

pub(super) fn mention(o: &Object) -> MessageMention {
    MessageMention {
        id: int(o, &["id"]),
        user_id: int(o, &["user_id", "userId", "userid"]),
        username: text(o, &["username", "user_name"]),
        role_id: int(o, &["role_id", "roleId", "roleid"]),
        rolename: text(o, &["rolename", "role_name", "roleName"]),
        create_time_seconds: u32::try_from(int(o, &["create_time_seconds"])).unwrap_or(0),
        s: int32(o, &["s"]),
        e: int32(o, &["e"]),
    }
}

pub(super) fn attachment(o: &Object) -> MessageAttachment {
    MessageAttachment {
        filename: text(o, &["filename", "file_name", "fileName"]),
        size: int32(o, &["size"]),
        url: text(o, &["url"]),
        filetype: text(o, &["filetype", "file_type", "fileType"]),
        width: int32(o, &["width"]),
        height: int32(o, &["height"]),
        thumbnail: text(o, &["thumbnail"]),
        duration: int32(o, &["duration"]),
    }
}

pub(super) fn reference(o: &Object) -> MessageRef {
    MessageRef {
        message_id: int(o, &["message_id", "messageId"]),
        message_ref_id: int(o, &["message_ref_id", "messageRefId"]),
        content: text(o, &["content"]),
        has_attachment: flag(o, &["has_attachment", "hasAttachment"]),
        ref_type: int32(o, &["ref_type", "refType"]),
        message_sender_id: int(o, &["message_sender_id", "messageSenderId"]),
        message_sender_username: text(o, &["message_sender_username", "messageSenderUsername"]),
        message_sender_avatar: text(o, &["message_sender_avatar", "messageSenderAvatar"]),
        message_sender_clan_nick: text(o, &["message_sender_clan_nick", "messageSenderClanNick"]),
        message_sender_display_name: text(
            o,
            &["message_sender_display_name", "messageSenderDisplayName"],
        ),
    }
}

pub(super) fn reaction(o: &Object) -> MessageReaction {
    MessageReaction {
        id: int(o, &["id"]),
        emoji_id: int(o, &["emoji_id", "emojiId"]),
        emoji: text(o, &["emoji"]),
        sender_id: int(o, &["sender_id", "senderId"]),
        sender_name: text(o, &["sender_name", "senderName"]),
        sender_avatar: text(o, &["sender_avatar", "senderAvatar"]),
        action: flag(o, &["action"]),
        count: int32(o, &["count"]),
        channel_id: int(o, &["channel_id", "channelId"]),
        message_id: int(o, &["message_id", "messageId"]),
        clan_id: int(o, &["clan_id", "clanId"]),
        mode: int32(o, &["mode"]),
        message_sender_id: int(o, &["message_sender_id", "messageSenderId"]),
        is_public: flag(o, &["is_public", "isPublic"]),
        topic_id: int(o, &["topic_id", "topicId"]),
        emoji_recent_id: int(o, &["emoji_recent_id", "emojiRecentId"]),
    }
}
