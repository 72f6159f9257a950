//! What the client does on its own when events arrive: join channels and clans the bot is
//! added to, join activated threads, forget what it was removed from, and route component
//! interactions. Registered as internal handlers, so they run before user handlers.

use mezon_events::{Event, EventKind};

use crate::client::Client;
use crate::error::Error;
use crate::modes::ChannelType;
use crate::outgoing::Destination;

const THREAD_ACTIVE: i32 = 1;

pub(crate) fn install(client: &Client) {
    let d = &client.inner.dispatcher;
    let _ = d.on_internal(
        EventKind::UserChannelAddedEvent,
        |event, client: Client| async move {
            let Event::UserChannelAddedEvent(added) = &*event else {
                return Ok(());
            };
            let me = client.user_id();
            let Some(desc) = &added.channel_desc else {
                return Ok(());
            };
            if !added.users.iter().any(|u| u.user_id == me) {
                return Ok(());
            }
            let clan_id = if added.clan_id != 0 {
                added.clan_id
            } else {
                desc.clan_id
            };
            let dest = Destination::new(
                clan_id,
                desc.channel_id,
                ChannelType::from_i32(desc.r#type),
                desc.channel_private == 0,
            );
            client.join_channel(dest).await?;
            Ok::<(), Error>(())
        },
    );
    let _ = d.on_internal(
        EventKind::ChannelUpdatedEvent,
        |event, client: Client| async move {
            let Event::ChannelUpdatedEvent(updated) = &*event else {
                return Ok(());
            };
            if updated.channel_type != ChannelType::Thread.as_i32()
                || updated.status != THREAD_ACTIVE
            {
                return Ok(());
            }
            let dest = Destination::new(
                updated.clan_id,
                updated.channel_id,
                ChannelType::Thread,
                false,
            );
            client.join_channel(dest).await?;
            Ok::<(), Error>(())
        },
    );
    let _ = d.on_internal(
        EventKind::AddClanUserEvent,
        |event, client: Client| async move {
            let Event::AddClanUserEvent(added) = &*event else {
                return Ok(());
            };
            if added
                .user
                .as_ref()
                .is_some_and(|u| u.user_id == client.user_id())
            {
                client.join_clan(added.clan_id).await?;
            }
            Ok::<(), Error>(())
        },
    );
    let _ = d.on_internal(
        EventKind::UserChannelRemovedEvent,
        |event, client: Client| {
            if let Event::UserChannelRemovedEvent(removed) = &*event
                && removed.user_ids.contains(&client.user_id())
            {
                client.inner.state.left_channel(removed.channel_id);
            }
        },
    );
    let _ = d.on_internal(EventKind::UserClanRemovedEvent, |event, client: Client| {
        if let Event::UserClanRemovedEvent(removed) = &*event
            && removed.user_ids.contains(&client.user_id())
        {
            client.inner.state.left_clan(removed.clan_id);
        }
    });
    let _ = d.on_internal(EventKind::MessageButtonClicked, |event, client: Client| {
        if let Event::MessageButtonClicked(click) = &*event {
            unrouted(&client.inner.buttons, "button", &click.button_id);
        }
    });
    let _ = d.on_internal(EventKind::DropdownBoxSelected, |event, client: Client| {
        if let Event::DropdownBoxSelected(selected) = &*event {
            unrouted(&client.inner.selects, "select", &selected.selectbox_id);
        }
    });
}

/// Says so when an interaction matches no route while routes exist (a typo in an id is the
/// usual cause), rather than ignoring it silently.
fn unrouted(routes: &crate::routing::RouteTable, what: &str, id: &str) {
    if !routes.is_empty() && routes.winner(id).is_none() {
        tracing::debug!(what, id, "no route for this component id");
    }
}
