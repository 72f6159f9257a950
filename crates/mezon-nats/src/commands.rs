//! [`Commands`]: act as the bot from any process, through the relay that holds the socket.

use std::time::Duration;

use async_nats::client::RequestErrorKind;
use bytes::Bytes;
use mezon::outgoing::{self, EphemeralOp};
use mezon::proto::api::ChannelMessage;
use mezon::proto::realtime::ChannelMessageAck;
use mezon::transport::api::ApiMethod;
use mezon::{Destination, OutgoingMessage, Reaction};
use prost::Message as _;
use tokio::time::Instant;

use crate::error::CommandError;
use crate::subjects::{HEADER_STATUS, Names};
use crate::wire::{ApiCall, Command, DirectMessage, Failure, FailureKind, Op};

/// The default time a command waits for an answer.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends commands to the bot's relay over NATS request/reply (`mezon.<bot>.cmd`). Cheap to
/// clone.
///
/// While no relay listens (none running, or a failover in progress) a command is retried
/// until its timeout, since it was not delivered; once a relay has it, it is never sent
/// again, so a timeout then means "unknown outcome".
///
/// ```no_run
/// # async fn demo(nats: async_nats::Client) -> Result<(), mezon_nats::CommandError> {
/// use mezon::Destination;
/// let commands = mezon_nats::Commands::new(nats, 1_234);
/// let dest = Destination::new(1, 2, mezon::ChannelType::Text, true);
/// let ack = commands.send(dest, "hello from a worker").await?;
/// println!("sent message {}", ack.message_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Commands {
    nats: async_nats::Client,
    subject: String,
    timeout: Duration,
    retry: Duration,
}

impl Commands {
    /// Commands for bot `bot_id`, with the default timeout.
    pub fn new(nats: async_nats::Client, bot_id: i64) -> Self {
        Self {
            nats,
            subject: Names::new(bot_id).commands(),
            timeout: DEFAULT_COMMAND_TIMEOUT,
            retry: Duration::from_millis(100),
        }
    }

    /// Sets how long a command waits for an answer (at least 1 ms).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs one operation; the answer's protobuf on success.
    pub async fn run(&self, op: Op) -> Result<Bytes, CommandError> {
        let name = op.name();
        let body = Bytes::from(Command { op: Some(op) }.encode_to_vec());
        let started = Instant::now();
        let deadline = started + self.timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let request = async_nats::Request::new()
                .payload(body.clone())
                .timeout(Some(remaining.max(Duration::from_millis(1))));
            match self.nats.send_request(self.subject.clone(), request).await {
                Ok(answer) => return answer_of(name, answer),
                Err(e) if e.kind() == RequestErrorKind::NoResponders => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(self.timed_out(name, started, true));
                    }
                    tokio::time::sleep(self.retry.min(left)).await;
                }
                Err(e) if e.kind() == RequestErrorKind::TimedOut => {
                    return Err(self.timed_out(name, started, false));
                }
                Err(e) => {
                    return Err(CommandError::Nats {
                        op: name,
                        message: e.to_string(),
                    });
                }
            }
        }
    }

    fn timed_out(&self, op: &'static str, started: Instant, no_relay: bool) -> CommandError {
        CommandError::Timeout {
            op,
            subject: self.subject.clone(),
            after: started.elapsed(),
            no_relay,
        }
    }

    /// Sends a message to `dest`.
    pub async fn send(
        &self,
        dest: Destination,
        message: impl Into<OutgoingMessage>,
    ) -> Result<ChannelMessageAck, CommandError> {
        let body = self.run(Op::Send(message.into().to_send(&dest))).await?;
        decode("send", body)
    }

    /// Replies to `original` in its channel (and topic), referencing it.
    pub async fn reply(
        &self,
        original: &ChannelMessage,
        message: impl Into<OutgoingMessage>,
    ) -> Result<ChannelMessageAck, CommandError> {
        let mut out = message.into().reply_to(original);
        if original.topic_id != 0 {
            out = out.topic(original.topic_id);
        }
        self.send(Destination::of_message(original), out).await
    }

    /// Replaces the content of the bot's message `message_id` at `dest`.
    pub async fn edit(
        &self,
        dest: Destination,
        message_id: i64,
        message: impl Into<OutgoingMessage>,
    ) -> Result<(), CommandError> {
        self.run(Op::Edit(message.into().to_update(&dest, message_id)))
            .await
            .map(drop)
    }

    /// Deletes message `message_id` at `dest`.
    pub async fn delete(&self, dest: Destination, message_id: i64) -> Result<(), CommandError> {
        self.run(Op::Delete(outgoing::remove(&dest, message_id, 0)))
            .await
            .map(drop)
    }

    /// Reacts to `message` with an emoji.
    pub async fn react(
        &self,
        message: &ChannelMessage,
        reaction: impl Into<Reaction>,
    ) -> Result<(), CommandError> {
        self.reaction(message, reaction.into(), false).await
    }

    /// Takes the bot's reaction on `message` back.
    pub async fn unreact(
        &self,
        message: &ChannelMessage,
        reaction: impl Into<Reaction>,
    ) -> Result<(), CommandError> {
        self.reaction(message, reaction.into(), true).await
    }

    async fn reaction(
        &self,
        message: &ChannelMessage,
        reaction: Reaction,
        remove: bool,
    ) -> Result<(), CommandError> {
        let dest = Destination::of_message(message);
        let r = outgoing::reaction(
            &dest,
            message.message_id,
            message.sender_id,
            &reaction,
            remove,
        );
        self.run(Op::React(r)).await.map(drop)
    }

    /// Sends a message only `receivers` see; the message as the server recorded it, when it
    /// says.
    pub async fn send_ephemeral(
        &self,
        dest: Destination,
        receivers: &[i64],
        message: impl Into<OutgoingMessage>,
    ) -> Result<Option<ChannelMessage>, CommandError> {
        let e = outgoing::ephemeral(&dest, &message.into(), receivers, EphemeralOp::Send);
        let body = self.run(Op::Ephemeral(e)).await?;
        if body.is_empty() {
            return Ok(None);
        }
        decode("ephemeral", body).map(Some)
    }

    /// Sends a direct message to `user_id` (the relay creates the DM channel if needed).
    pub async fn send_dm(
        &self,
        user_id: i64,
        message: impl Into<OutgoingMessage>,
    ) -> Result<ChannelMessageAck, CommandError> {
        // The relay replaces the destination with the DM channel's.
        let send = message.into().to_send(&Destination::dm(0));
        let body = self
            .run(Op::Dm(DirectMessage {
                user_id,
                message: Some(send),
            }))
            .await?;
        decode("dm", body)
    }

    /// Shows "the bot is typing" in `dest`.
    pub async fn typing(&self, dest: Destination) -> Result<(), CommandError> {
        self.run(Op::Typing(outgoing::typing(&dest)))
            .await
            .map(drop)
    }

    /// Calls an API method, typed by its marker
    /// (`commands.call::<mezon::transport::api::methods::ListClanDescs>(req)`).
    pub async fn call<M: ApiMethod>(
        &self,
        request: M::Request,
    ) -> Result<M::Response, CommandError> {
        let body = self
            .call_by_name(M::NAME, Bytes::from(request.encode_to_vec()))
            .await?;
        decode("api", body)
    }

    /// Calls the API method named `method` with a protobuf request body; the response's
    /// protobuf.
    pub async fn call_by_name(&self, method: &str, body: Bytes) -> Result<Bytes, CommandError> {
        self.run(Op::Api(ApiCall {
            method: method.to_owned(),
            body,
        }))
        .await
    }
}

fn decode<T: prost::Message + Default>(op: &'static str, body: Bytes) -> Result<T, CommandError> {
    T::decode(body).map_err(|source| CommandError::Decode { op, source })
}

fn answer_of(op: &'static str, answer: async_nats::Message) -> Result<Bytes, CommandError> {
    let status = answer
        .headers
        .as_ref()
        .and_then(|h| h.get(HEADER_STATUS))
        .map(|v| v.as_str().to_owned());
    match status.as_deref() {
        Some("ok") => Ok(answer.payload),
        Some("error") => {
            let f: Failure = decode(op, answer.payload)?;
            Err(CommandError::Relay {
                op,
                kind: FailureKind::try_from(f.kind).unwrap_or(FailureKind::Unspecified),
                code: f.code,
                message: f.message,
            })
        }
        other => Err(CommandError::Relay {
            op,
            kind: FailureKind::Unspecified,
            code: 0,
            message: format!("answer without a valid {HEADER_STATUS} header ({other:?})"),
        }),
    }
}
