//! Turning a `ChannelMessageSend` into the stored and pushed `ChannelMessage`.

use bytes::Bytes;
use mezon_proto::api;
use mezon_proto::prost::Message as _;
use mezon_proto::realtime::ChannelMessageSend;

use crate::state::State;
use crate::world::Channel;

/// Builds a new message with a fresh id, sent by `sender_id` into `channel`. The nested lists
/// are stored in their current form: serialized `Message*List` bytes. A reply carries the
/// message it references (first reference, same channel) in `referenced_message`.
pub(crate) fn new_message(
    state: &mut State,
    channel: &Channel,
    sender_id: i64,
    send: &ChannelMessageSend,
) -> api::ChannelMessage {
    let now = state.clock.unix_seconds();
    let username = state.username(sender_id);
    let clan_name = state
        .world
        .find_clan(channel.clan_id)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let referenced_message = send
        .references
        .first()
        .and_then(|r| state.find_message(channel.id, r.message_ref_id))
        .map(|m| Bytes::from(m.encode_to_vec()))
        .unwrap_or_default();
    api::ChannelMessage {
        clan_id: channel.clan_id,
        channel_id: channel.id,
        message_id: state.next_id(),
        code: send.code,
        sender_id,
        display_name: username.clone(),
        username,
        avatar: send.avatar.clone(),
        content: send.content.clone(),
        channel_label: channel.name.clone(),
        clan_nick: String::new(),
        clan_avatar: String::new(),
        clan_logo: String::new(),
        category_name: clan_name,
        reactions: Bytes::new(),
        mentions: list_bytes(api::MessageMentionList {
            mentions: send.mentions.clone(),
        }),
        attachments: list_bytes(api::MessageAttachmentList {
            attachments: send.attachments.clone(),
        }),
        references: list_bytes(api::MessageRefList {
            refs: send.references.clone(),
        }),
        referenced_message,
        create_time_seconds: now,
        update_time_seconds: now,
        mode: channel.stream_mode(),
        hide_editted: false,
        is_public: !channel.private,
        topic_id: send.topic_id,
    }
}

/// Empty lists stay empty bytes, as the platform sends them.
fn list_bytes(list: impl mezon_proto::prost::Message) -> Bytes {
    if list.encoded_len() == 0 {
        Bytes::new()
    } else {
        Bytes::from(list.encode_to_vec())
    }
}
