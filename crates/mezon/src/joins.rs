//! Joining clans and channels: the connect sequence of wire.md §3.5, the joins the client
//! makes on its own, and redoing all of them after a reconnect.

use std::sync::Arc;
use std::time::Duration;

use mezon_proto::api::ListChannelDescsRequest;
use mezon_proto::realtime::{ClanJoin, envelope::Message as Outgoing};
use mezon_transport::api::methods;
use mezon_transport::{RejoinHook, RequestError, TransportHandle};

use crate::client::Client;
use crate::error::Result;
use crate::modes::ChannelType;
use crate::outgoing::Destination;
use crate::state::State;

/// Lists (page by page) and joins every clan (plus clan 0 for DMs and groups) and learns the DM channels.
/// Returns how many clans (not counting clan 0) were joined.
pub(crate) async fn connect_sequence(client: &Client, handle: &TransportHandle) -> Result<usize> {
    let state = &client.inner.state;
    let clans = crate::clan_list::list_all(
        crate::clan_list::PAGE_SIZE,
        crate::clan_list::MAX_PAGES,
        |request| async move {
            let page = handle.call::<methods::ListClanDescs>(request).await?;
            Ok::<_, crate::Error>(page.clandesc)
        },
    )
    .await?;
    let mut clan_ids = vec![0];
    for clan in clans {
        if clan.clan_id != 0 {
            clan_ids.push(clan.clan_id);
        }
        state.clans.put(clan.clan_id, clan);
    }
    for &clan_id in &clan_ids {
        join_clan(handle, state, clan_id).await?;
    }
    let dms = handle
        .call::<methods::ListChannelDescs>(ListChannelDescsRequest {
            channel_type: ChannelType::Dm.as_i32(),
            ..ListChannelDescsRequest::default()
        })
        .await?;
    for channel in dms.channeldesc {
        state.put_channel(channel);
    }
    Ok(clan_ids.len() - 1)
}

/// Whether a join that failed with `error` is still to be redone after the reconnect: the
/// link dropped while it was in flight, so the re-join will make it.
fn redo_after_reconnect(error: &RequestError) -> bool {
    matches!(error, RequestError::ConnectionLost)
}

async fn join_clan(handle: &TransportHandle, state: &State, clan_id: i64) -> Result<()> {
    // Recorded before sending, so a drop while the join is in flight cannot lose it.
    let new = state.joined_clan(clan_id);
    let sent = handle
        .request(Outgoing::ClanJoin(ClanJoin {
            clan_id,
            is_last_field: false,
        }))
        .await;
    if let Err(e) = sent {
        if new && !redo_after_reconnect(&e) {
            state.forget_clan_join(clan_id);
        }
        return Err(e.into());
    }
    tracing::debug!(clan_id, "joined clan");
    Ok(())
}

impl Client {
    /// Joins a clan's stream (the client does this for every clan at login and when the bot
    /// is added to a clan; joins are redone after reconnects).
    pub async fn join_clan(&self, clan_id: i64) -> Result<()> {
        join_clan(&self.handle()?, &self.inner.state, clan_id).await
    }

    /// Joins a channel, thread or DM (needed for private channels, threads and DMs; redone
    /// after reconnects).
    pub async fn join_channel(&self, dest: Destination) -> Result<()> {
        let join = dest.join();
        let handle = self.handle()?;
        let state = &self.inner.state;
        // Recorded before sending, so a drop while the join is in flight cannot lose it.
        let new = state.joined_channel(join);
        if let Err(e) = handle.request(Outgoing::ChannelJoin(join)).await {
            if new && !redo_after_reconnect(&e) {
                state.left_channel(join.channel_id);
            }
            return Err(e.into());
        }
        tracing::debug!(channel_id = dest.channel_id, "joined channel");
        Ok(())
    }

    /// Leaves a channel, thread or DM (`channel_leave`): the client stops rejoining it after
    /// reconnects.
    pub async fn leave_channel(&self, dest: Destination) -> Result<()> {
        let join = dest.join();
        let leave = mezon_proto::realtime::ChannelLeave {
            clan_id: join.clan_id,
            channel_id: join.channel_id,
            channel_type: join.channel_type,
            is_public: join.is_public,
        };
        let handle = self.handle()?;
        self.inner.state.left_channel(dest.channel_id);
        handle.request(Outgoing::ChannelLeave(leave)).await?;
        tracing::debug!(channel_id = dest.channel_id, "left channel");
        Ok(())
    }
}

/// Redoes every clan and channel join after a reconnect (there is no resume on the server).
pub(crate) struct Rejoiner {
    state: Arc<State>,
}

impl Rejoiner {
    pub(crate) fn new(state: Arc<State>) -> Self {
        Self { state }
    }
}

/// Attempts per join in a re-join (the first try included).
const REJOIN_ATTEMPTS: u32 = 4;
/// Wait before the first retry of a join; doubled after each failure.
const REJOIN_BACKOFF: Duration = Duration::from_millis(200);

/// Whether a failed join is worth another try on the same link: the server did not answer in
/// time or the client was momentarily full. A refusal is final, and a lost link means the
/// supervisor reconnects and re-joins anyway.
fn retry_join(error: &RequestError) -> bool {
    matches!(
        error,
        RequestError::Timeout | RequestError::QueueFull | RequestError::TooManyInFlight
    )
}

/// Sends one join, retrying transient failures with bounded backoff.
async fn join_with_retry(handle: &TransportHandle, join: Outgoing) -> Result<(), RequestError> {
    let mut delay = REJOIN_BACKOFF;
    let mut attempt = 1;
    loop {
        match handle.request(join.clone()).await {
            Ok(_) => return Ok(()),
            Err(e) if attempt < REJOIN_ATTEMPTS && retry_join(&e) => {
                tracing::debug!(attempt, error = %e, "join failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[async_trait::async_trait]
impl RejoinHook for Rejoiner {
    async fn rejoin(&self, handle: &TransportHandle) -> Result<(), RequestError> {
        let mut first_error = None;
        let clans = self.state.clan_joins();
        let channels = self.state.channel_joins();
        for clan_id in &clans {
            let join = Outgoing::ClanJoin(ClanJoin {
                clan_id: *clan_id,
                is_last_field: false,
            });
            if let Err(e) = join_with_retry(handle, join).await {
                tracing::warn!(clan_id, error = %e, "re-joining a clan failed");
                first_error.get_or_insert(e);
            }
        }
        for join in channels.iter().copied() {
            if let Err(e) = join_with_retry(handle, Outgoing::ChannelJoin(join)).await {
                tracing::warn!(channel_id = join.channel_id, error = %e, "re-joining a channel failed");
                first_error.get_or_insert(e);
            }
        }
        tracing::info!(
            clans = clans.len(),
            channels = channels.len(),
            "re-joined after reconnect"
        );
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_join_failures_are_retried() {
        assert!(retry_join(&RequestError::Timeout));
        assert!(retry_join(&RequestError::TooManyInFlight));
        assert!(!retry_join(&RequestError::ConnectionLost));
        assert!(!retry_join(&RequestError::Server {
            code: 3,
            message: "not a member".into()
        }));
    }
}
