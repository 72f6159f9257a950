//! The inbound loop: frames from the transport become typed events for the caches, the
//! handlers and the streams. Nothing a frame contains can end this loop; only the end of the
//! transport's stream (shutdown, or reconnecting gave up) does.

use std::sync::Arc;

use bytes::Bytes;
use mezon_events::lifecycle::{Connected, Disconnected, Reconnected, Reconnecting};
use mezon_events::{Dispatcher as _, Event, EventKind, EventKindSet, peek};
use mezon_transport::{DisconnectReason, Inbound, InboundStream, Lifecycle};

use crate::client::{Client, Phase};

/// Kinds the client reads for its caches even when no handler wants them.
const CACHE_KINDS: EventKindSet = EventKindSet::empty()
    .with(EventKind::ChannelMessage)
    .with(EventKind::ChannelCreatedEvent)
    .with(EventKind::ChannelUpdatedEvent)
    .with(EventKind::ChannelDeletedEvent)
    .with(EventKind::ClanUpdatedEvent)
    .with(EventKind::UserChannelAddedEvent);

pub(crate) async fn run(client: Client, mut inbound: InboundStream) {
    let mut connection: u64 = 0;
    let mut attempts: u32 = 0;
    while let Some(item) = inbound.recv().await {
        match item {
            Inbound::Envelope(frame) => handle_frame(&client, frame).await,
            Inbound::Lifecycle(change) => {
                let stop = matches!(change, Lifecycle::Stopped { .. });
                for event in lifecycle_events(change, &mut connection, &mut attempts) {
                    client.emit(event).await;
                }
                if stop {
                    break;
                }
            }
            Inbound::FrameError { error, len } => {
                tracing::warn!(%error, len, "skipped a frame the client cannot read");
            }
            other => tracing::debug!(?other, "ignored an inbound item of a newer transport"),
        }
    }
    // The transport stopped (shutdown, or reconnecting gave up): no more work is accepted,
    // and `run_until_shutdown` wakes up to finish the shutdown.
    client.inner.phase.send_if_modified(|phase| {
        let running = matches!(phase, Phase::Running | Phase::Requested);
        if running {
            *phase = Phase::TransportEnded;
        }
        running
    });
    tracing::debug!("event pump finished");
}

fn lifecycle_events(change: Lifecycle, connection: &mut u64, attempts: &mut u32) -> Vec<Event> {
    match change {
        Lifecycle::Connected => {
            *connection += 1;
            vec![Event::Connected(Arc::new(Connected {
                connection: *connection,
            }))]
        }
        Lifecycle::Disconnected { reason } => vec![Event::Disconnected(Arc::new(Disconnected {
            connection: *connection,
            will_reconnect: reason != DisconnectReason::Shutdown,
            reason: reason.to_string(),
        }))],
        Lifecycle::Reconnecting { attempt, delay } => {
            *attempts = attempt;
            vec![Event::Reconnecting(Arc::new(Reconnecting {
                attempt,
                delay,
            }))]
        }
        Lifecycle::Reconnected { downtime } => {
            *connection += 1;
            let done = std::mem::take(attempts).max(1);
            tracing::info!(?downtime, attempts = done, "reconnected");
            vec![
                Event::Connected(Arc::new(Connected {
                    connection: *connection,
                })),
                Event::Reconnected(Arc::new(Reconnected { attempts: done })),
            ]
        }
        Lifecycle::Stopped { error } => {
            match &error {
                Some(e) => tracing::error!(error = %e, "transport stopped"),
                None => tracing::debug!("transport stopped"),
            }
            vec![Event::Disconnected(Arc::new(Disconnected {
                connection: *connection,
                reason: error.map_or_else(|| "shut down".to_owned(), |e| e.to_string()),
                will_reconnect: false,
            }))]
        }
        other => {
            tracing::debug!(?other, "ignored a lifecycle change of a newer transport");
            Vec::new()
        }
    }
}

async fn handle_frame(client: &Client, frame: Bytes) {
    let peeked = match peek(&frame) {
        Ok(p) => p,
        Err(error) => {
            tracing::warn!(%error, len = frame.len(), "skipped an envelope that does not parse");
            return;
        }
    };
    let inner = &client.inner;
    if let Some(kind) = peeked.kind() {
        let wanted = CACHE_KINDS
            .union(inner.dispatcher.interests())
            .union(inner.streams.interests().0)
            .union(inner.raw.interests());
        if !wanted.contains(kind) {
            return;
        }
    }
    // A cheap handle on the same buffer, kept for raw subscribers (crate::raw).
    let raw_frame = frame.clone();
    let event = match Event::decode_peeked(frame, peeked) {
        Ok((_, event)) => event,
        Err(error) => {
            tracing::warn!(%error, "skipped an envelope that does not decode");
            return;
        }
    };
    apply_to_state(client, &event);
    if is_own_message(client, &event) {
        return;
    }
    inner.raw.publish(&event, Some(&raw_frame)).await;
    client.emit(event).await;
}

fn apply_to_state(client: &Client, event: &Event) {
    let state = &client.inner.state;
    match event {
        Event::ChannelMessage(m) => state.on_message_shared(m),
        Event::ChannelCreatedEvent(e) => state.on_channel_created(e),
        Event::ChannelUpdatedEvent(e) => state.on_channel_updated(e),
        Event::ChannelDeletedEvent(e) => state.on_channel_deleted(e),
        Event::ClanUpdatedEvent(e) => state.on_clan_updated(e),
        Event::UserChannelAddedEvent(e) => {
            if let Some(desc) = &e.channel_desc {
                state.put_channel(desc.clone());
            }
        }
        _ => {}
    }
}

fn is_own_message(client: &Client, event: &Event) -> bool {
    match event {
        Event::ChannelMessage(m) => {
            !client.inner.config.receive_own_messages && m.sender_id == client.user_id()
        }
        _ => false,
    }
}
