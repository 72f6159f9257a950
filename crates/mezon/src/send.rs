//! Outbound operations on [`Client`]: send, reply, edit, delete, react, ephemeral, DM,
//! typing, read marks, pins. Each returns a typed result or a clear [`Error`].

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use mezon_proto::api::{self, CreateChannelDescRequest, DeletePinMessage, PinMessageRequest};
use mezon_proto::realtime::envelope::Message as Outgoing;
use mezon_proto::realtime::{ChannelMessageSend, Envelope};
use mezon_transport::api::methods;
use prost::Message as _;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::handles::{Channel, Message};
use crate::modes::ChannelType;
use crate::outgoing::{self, Destination, EphemeralOp, OutgoingMessage, Reaction};

fn now_seconds() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| u32::try_from(d.as_secs()).ok())
        .unwrap_or_default()
}

/// The message as the server will show it, from what was sent and the ack.
fn sent_message(
    send: &ChannelMessageSend,
    ack: Option<&mezon_proto::realtime::ChannelMessageAck>,
    sender_id: i64,
) -> api::ChannelMessage {
    // An empty list encodes to no bytes, which is what the server sends for "none".
    let mentions = api::MessageMentionList {
        mentions: send.mentions.clone(),
    };
    let attachments = api::MessageAttachmentList {
        attachments: send.attachments.clone(),
    };
    let references = api::MessageRefList {
        refs: send.references.clone(),
    };
    api::ChannelMessage {
        clan_id: send.clan_id,
        channel_id: send.channel_id,
        message_id: ack.map(|a| a.message_id).unwrap_or_default(),
        code: send.code,
        sender_id,
        username: ack.map(|a| a.username.clone()).unwrap_or_default(),
        content: send.content.clone(),
        mentions: Bytes::from(mentions.encode_to_vec()),
        attachments: Bytes::from(attachments.encode_to_vec()),
        references: Bytes::from(references.encode_to_vec()),
        create_time_seconds: ack
            .map(|a| a.create_time_seconds)
            .unwrap_or_else(now_seconds),
        mode: send.mode,
        is_public: send.is_public,
        topic_id: send.topic_id,
        ..api::ChannelMessage::default()
    }
}

/// Runs `send`; when the server refuses it with "Must join channel", runs `join` and then
/// `send` once more, whatever that second answer is.
async fn with_one_join_retry<T, S, SF, J, JF>(send: S, join: J) -> Result<T>
where
    S: Fn() -> SF,
    SF: Future<Output = Result<T>>,
    J: FnOnce() -> JF,
    JF: Future<Output = Result<()>>,
{
    match send().await {
        Err(e) if e.is_must_join() => {
            tracing::debug!("server asks for a join; joining and retrying once");
            join().await?;
            send().await
        }
        other => other,
    }
}

impl Client {
    /// Sends a request that needs the channel joined: when the server refuses with "Must
    /// join channel", joins (type from the mode) and retries once.
    async fn request_in_channel(&self, dest: &Destination, message: Outgoing) -> Result<Envelope> {
        let handle = self.handle()?;
        let join_dest = Destination {
            channel_type: ChannelType::for_join(dest.mode()),
            ..*dest
        };
        with_one_join_retry(
            || async { Ok(handle.request(message.clone()).await?) },
            || self.join_channel(join_dest),
        )
        .await
    }

    /// Sends a message to `dest` and returns it (with the id the server gave it).
    pub async fn send(
        &self,
        dest: Destination,
        message: impl Into<OutgoingMessage>,
    ) -> Result<Message> {
        let send = message.into().to_send(&dest);
        let answer = self
            .request_in_channel(&dest, Outgoing::ChannelMessageSend(send.clone()))
            .await?;
        let ack = match &answer.message {
            Some(Outgoing::ChannelMessageAck(ack)) => Some(ack),
            _ => None,
        };
        let msg = sent_message(&send, ack, self.user_id());
        self.inner.state.on_message(&msg);
        Ok(Message::from_proto(self.clone(), msg))
    }

    /// Replaces the content of message `message_id` (sent by the bot) at `dest`, over the
    /// socket API (`UpdateChannelMessage`).
    pub async fn edit_message(
        &self,
        dest: Destination,
        message_id: i64,
        message: impl Into<OutgoingMessage>,
    ) -> Result<()> {
        let update = message.into().to_update(&dest, message_id);
        self.handle()?
            .call_socket::<methods::UpdateChannelMessage>(update)
            .await?;
        Ok(())
    }

    /// Deletes message `message_id` at `dest`, over the socket API (`DeleteChannelMessage`).
    pub async fn delete_message(&self, dest: Destination, message_id: i64) -> Result<()> {
        let remove = outgoing::remove(&dest, message_id, 0);
        self.handle()?
            .call_socket::<methods::DeleteChannelMessage>(remove)
            .await?;
        self.inner.state.messages.remove(message_id);
        Ok(())
    }

    /// Adds a reaction to a message (`message_sender_id` is the message's author).
    pub async fn react(
        &self,
        dest: Destination,
        message_id: i64,
        message_sender_id: i64,
        reaction: impl Into<Reaction>,
    ) -> Result<()> {
        self.send_reaction(dest, message_id, message_sender_id, reaction.into(), false)
            .await
    }

    /// Removes the bot's reaction from a message.
    pub async fn unreact(
        &self,
        dest: Destination,
        message_id: i64,
        message_sender_id: i64,
        reaction: impl Into<Reaction>,
    ) -> Result<()> {
        self.send_reaction(dest, message_id, message_sender_id, reaction.into(), true)
            .await
    }

    async fn send_reaction(
        &self,
        dest: Destination,
        message_id: i64,
        message_sender_id: i64,
        reaction: Reaction,
        remove: bool,
    ) -> Result<()> {
        let r = outgoing::reaction(&dest, message_id, message_sender_id, &reaction, remove);
        self.request_in_channel(&dest, Outgoing::MessageReactionEvent(r))
            .await?;
        Ok(())
    }

    async fn ephemeral(
        &self,
        dest: Destination,
        receivers: &[i64],
        message: OutgoingMessage,
        op: EphemeralOp,
    ) -> Result<Option<api::ChannelMessage>> {
        let e = outgoing::ephemeral(&dest, &message, receivers, op);
        let answer = self
            .request_in_channel(&dest, Outgoing::EphemeralMessageSend(e))
            .await?;
        Ok(match answer.message {
            Some(Outgoing::ChannelMessage(m)) => Some(m),
            _ => None,
        })
    }

    /// Sends a message only `receivers` see; returns it as the server recorded it.
    pub async fn send_ephemeral(
        &self,
        dest: Destination,
        receivers: &[i64],
        message: impl Into<OutgoingMessage>,
    ) -> Result<Option<api::ChannelMessage>> {
        self.ephemeral(dest, receivers, message.into(), EphemeralOp::Send)
            .await
    }

    /// Replaces the ephemeral message `id`.
    pub async fn update_ephemeral(
        &self,
        dest: Destination,
        receivers: &[i64],
        id: i64,
        message: impl Into<OutgoingMessage>,
    ) -> Result<Option<api::ChannelMessage>> {
        self.ephemeral(dest, receivers, message.into(), EphemeralOp::Update(id))
            .await
    }

    /// Deletes the ephemeral message `id`.
    pub async fn delete_ephemeral(
        &self,
        dest: Destination,
        receivers: &[i64],
        id: i64,
    ) -> Result<()> {
        self.ephemeral(
            dest,
            receivers,
            OutgoingMessage::default(),
            EphemeralOp::Delete(id),
        )
        .await?;
        Ok(())
    }

    /// Shows "the bot is typing" in `dest`.
    pub async fn send_typing(&self, dest: Destination) -> Result<()> {
        self.request_in_channel(&dest, Outgoing::MessageTypingEvent(outgoing::typing(&dest)))
            .await?;
        Ok(())
    }

    /// Marks everything up to `message_id` in `dest` as read.
    pub async fn mark_read(&self, dest: Destination, message_id: i64) -> Result<()> {
        let seen = outgoing::mark_read(&dest, message_id, now_seconds());
        self.handle()?
            .request(Outgoing::LastSeenMessageEvent(seen))
            .await?;
        Ok(())
    }

    /// Pins a message.
    pub async fn pin(
        &self,
        dest: Destination,
        message_id: i64,
    ) -> Result<api::ChannelMessageHeader> {
        Ok(self
            .handle()?
            .call::<methods::CreatePinMessage>(PinMessageRequest {
                message_id,
                channel_id: dest.channel_id,
                clan_id: dest.clan_id,
            })
            .await?)
    }

    /// Unpins a message.
    pub async fn unpin(&self, dest: Destination, message_id: i64) -> Result<()> {
        self.handle()?
            .call::<methods::DeletePinMessage>(DeletePinMessage {
                message_id,
                channel_id: dest.channel_id,
                clan_id: dest.clan_id,
                ..DeletePinMessage::default()
            })
            .await?;
        Ok(())
    }

    /// The DM channel with `user_id`, created and joined first if there is none yet.
    /// Concurrent calls for one user create one channel.
    pub async fn dm_channel(&self, user_id: i64) -> Result<Channel> {
        let state = self.inner.state.clone();
        let channel_id = state
            .dm_flights
            .get(
                user_id,
                || state.dm_with(user_id),
                || async {
                    let created = self
                        .handle()?
                        .call::<methods::CreateChannelDesc>(CreateChannelDescRequest {
                            clan_id: 0,
                            r#type: ChannelType::Dm.as_i32(),
                            channel_private: 1,
                            user_ids: vec![user_id],
                            ..CreateChannelDescRequest::default()
                        })
                        .await?;
                    let channel_id = created.channel_id;
                    let mut desc = created;
                    if desc.user_ids.is_empty() {
                        desc.user_ids = vec![user_id];
                    }
                    desc.r#type = ChannelType::Dm.as_i32();
                    state.put_channel(desc);
                    self.join_channel(Destination::dm(channel_id)).await?;
                    Ok::<_, Error>(channel_id)
                },
                |id| state.set_dm(user_id, *id),
            )
            .await?;
        if !state.has_joined_channel(channel_id) {
            self.join_channel(Destination::dm(channel_id)).await?;
        }
        let desc = state
            .channels
            .get(channel_id)
            .unwrap_or_else(|| api::ChannelDescription {
                channel_id,
                r#type: ChannelType::Dm.as_i32(),
                channel_private: 1,
                user_ids: vec![user_id],
                ..api::ChannelDescription::default()
            });
        Ok(Channel::from_proto(self.clone(), desc))
    }

    /// Sends a direct message to `user_id`, creating the DM channel when needed.
    pub async fn send_dm(
        &self,
        user_id: i64,
        message: impl Into<OutgoingMessage>,
    ) -> Result<Message> {
        let channel = self.dm_channel(user_id).await?;
        self.send(channel.destination(), message).await
    }
}

/// What [`Client::name_exists`] checks a name against (`CheckNameExistedEvent.type`, as the
/// official clients number it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameKind {
    /// Clan names (0).
    Clan,
    /// Channel names within a clan (1).
    Channel,
    /// Another type number.
    Other(i32),
}

impl NameKind {
    /// The wire value.
    pub fn as_i32(self) -> i32 {
        match self {
            NameKind::Clan => 0,
            NameKind::Channel => 1,
            NameKind::Other(n) => n,
        }
    }
}

impl Client {
    /// Sets the bot's custom status in `clan_id` (`custom_status_event`): `time_reset` is how
    /// many seconds until it clears (0: never), `no_clear` keeps it across sessions.
    pub async fn set_custom_status(
        &self,
        clan_id: i64,
        status: impl Into<String>,
        time_reset: i32,
        no_clear: bool,
    ) -> Result<()> {
        let status = mezon_proto::realtime::CustomStatusEvent {
            clan_id,
            user_id: self.user_id(),
            status: status.into(),
            time_reset,
            no_clear,
            ..Default::default()
        };
        self.handle()?
            .request(Outgoing::CustomStatusEvent(status))
            .await?;
        Ok(())
    }

    /// Announces that the bot joined voice channel `voice_channel_id` of `clan_id`
    /// (`voice_joined_event`), shown as `participant`.
    pub async fn voice_joined(
        &self,
        clan_id: i64,
        voice_channel_id: i64,
        participant: impl Into<String>,
    ) -> Result<()> {
        let joined = mezon_proto::realtime::VoiceJoinedEvent {
            clan_id,
            voice_channel_id,
            user_id: self.user_id(),
            participant: participant.into(),
            ..Default::default()
        };
        self.handle()?
            .request(Outgoing::VoiceJoinedEvent(joined))
            .await?;
        Ok(())
    }

    /// Announces that the bot left voice channel `voice_channel_id` of `clan_id`
    /// (`voice_leaved_event`).
    pub async fn voice_left(&self, clan_id: i64, voice_channel_id: i64) -> Result<()> {
        let left = mezon_proto::realtime::VoiceLeavedEvent {
            clan_id,
            voice_channel_id,
            voice_user_id: self.user_id(),
            ..Default::default()
        };
        self.handle()?
            .request(Outgoing::VoiceLeavedEvent(left))
            .await?;
        Ok(())
    }

    /// Whether a clan or channel named `name` already exists (`check_name_existed_event`);
    /// for channels, `clan_id` is the clan to look in.
    pub async fn name_exists(
        &self,
        kind: NameKind,
        name: impl Into<String>,
        clan_id: i64,
    ) -> Result<bool> {
        let check = mezon_proto::realtime::CheckNameExistedEvent {
            name: name.into(),
            condition_id: clan_id,
            r#type: kind.as_i32(),
            clan_id,
            exist: false,
        };
        let answer = self
            .handle()?
            .request(Outgoing::CheckNameExistedEvent(check))
            .await?;
        match answer.message {
            Some(Outgoing::CheckNameExistedEvent(checked)) => Ok(checked.exist),
            _ => Err(Error::UnexpectedAnswer {
                request: "check_name_existed_event",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use mezon_transport::RequestError;

    fn must_join() -> Error {
        Error::from(RequestError::Server {
            code: 3,
            message: "Must join channel before sending messages".into(),
        })
    }

    #[tokio::test]
    async fn a_must_join_refusal_joins_and_retries_exactly_once() {
        let (sends, joins) = (AtomicUsize::new(0), AtomicUsize::new(0));
        // A server that refuses every time: two sends and one join, then the refusal.
        let result: Result<()> = with_one_join_retry(
            || async {
                sends.fetch_add(1, Ordering::SeqCst);
                Err(must_join())
            },
            || async {
                joins.fetch_add(1, Ordering::SeqCst);
                Ok(())
            },
        )
        .await;
        assert!(result.is_err_and(|e| e.is_must_join()));
        assert_eq!(
            (sends.load(Ordering::SeqCst), joins.load(Ordering::SeqCst)),
            (2, 1)
        );
    }

    #[tokio::test]
    async fn other_failures_and_a_failed_join_are_not_retried() {
        let sends = AtomicUsize::new(0);
        let result: Result<()> = with_one_join_retry(
            || async {
                sends.fetch_add(1, Ordering::SeqCst);
                Err(Error::from(RequestError::Timeout))
            },
            || async { panic!("no join for a timeout") },
        )
        .await;
        assert!(result.is_err());
        assert_eq!(sends.load(Ordering::SeqCst), 1);

        let sends = AtomicUsize::new(0);
        let result: Result<()> = with_one_join_retry(
            || async {
                sends.fetch_add(1, Ordering::SeqCst);
                Err(must_join())
            },
            || async { Err(Error::from(RequestError::ConnectionLost)) },
        )
        .await;
        assert!(matches!(
            result,
            Err(Error::Request(RequestError::ConnectionLost))
        ));
        assert_eq!(sends.load(Ordering::SeqCst), 1);
    }
}
