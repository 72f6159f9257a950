//! The capabilities a ported bot reaches for, each against the local server: lookups by id,
//! message codes, reaction counts, the other socket writes, component routes, unknown
//! variants, and a dropped client stopping itself.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use mezon::proto::realtime::envelope::Message as M;
use mezon::{Destination, MessageCode, NameKind, Reaction};
use tokio::sync::mpsc;

fn general() -> Destination {
    Destination::new(
        demo::CLAN_ID,
        demo::TEXT_CHANNEL_ID,
        mezon::ChannelType::Text,
        true,
    )
}

#[tokio::test]
async fn a_message_is_found_by_id_from_the_cache_or_the_api() {
    let (server, client) = logged_in().await;
    // Seen by no handler and not cached: a fresh client must ask the server.
    let first = server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "first")
        .unwrap();
    for i in 0..30 {
        server
            .user(demo::ALICE_ID)
            .send_message(demo::TEXT_CHANNEL_ID, &format!("filler {i}"))
            .unwrap();
    }
    let fresh = client_for(&server);
    fresh.login().await.unwrap();
    let before = api_request_bodies(&server, "ListChannelMessages").len();
    let (a, b) = tokio::join!(
        fresh.message(demo::TEXT_CHANNEL_ID, first),
        fresh.message(demo::TEXT_CHANNEL_ID, first)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.id(), b.id()), (first, first));
    assert_eq!(a.text(), "first");
    assert_eq!(a.sender_id(), demo::ALICE_ID);
    assert_eq!(
        api_request_bodies(&server, "ListChannelMessages").len(),
        before + 1,
        "concurrent lookups of one message make one call"
    );
    // Now cached: no further call; and the handle works for replies.
    let channel = fresh.channel(demo::TEXT_CHANNEL_ID).await.unwrap();
    let again = channel.message(first).await.unwrap();
    assert_eq!(
        api_request_bodies(&server, "ListChannelMessages").len(),
        before + 1
    );
    let reply = again.reply("found it").await.unwrap();
    assert_eq!(reply.references()[0].message_ref_id, first);
    // A message that does not exist is NotFound.
    assert!(matches!(
        fresh.message(demo::TEXT_CHANNEL_ID, 42).await,
        Err(mezon::Error::NotFound {
            what: "message",
            ..
        })
    ));
    fresh.shutdown().await;
    client.shutdown().await;
}

#[tokio::test]
async fn a_send_carries_its_typed_message_code() {
    let (server, client) = logged_in().await;
    let sent = client
        .send(
            general(),
            mezon::OutgoingMessage::from("wake up").code(MessageCode::Buzz),
        )
        .await
        .unwrap();
    assert_eq!(sent.code(), MessageCode::Buzz);
    let stored = server.messages(demo::TEXT_CHANNEL_ID);
    assert_eq!(stored.last().map(|m| m.code), Some(8));
    client.shutdown().await;
}

#[tokio::test]
async fn a_reaction_carries_its_count() {
    let (server, client) = logged_in().await;
    let sent = client.send(general(), "react to me").await.unwrap();
    sent.react(Reaction::unicode("🎉").count(3)).await.unwrap();
    let reaction = server
        .wait_for_received(
            |e| matches!(&e.message, Some(M::MessageReactionEvent(r)) if r.message_id == sent.id()),
            WAIT,
        )
        .await
        .unwrap();
    let Some(M::MessageReactionEvent(r)) = reaction.message else {
        unreachable!()
    };
    assert_eq!((r.count, r.emoji.as_str(), r.action), (3, "🎉", false));
    client.shutdown().await;
}

#[tokio::test]
async fn custom_status_voice_and_channel_membership_are_written_to_the_socket() {
    let (server, client) = logged_in().await;
    client
        .set_custom_status(demo::CLAN_ID, "brewing coffee", 3600, false)
        .await
        .unwrap();
    client
        .voice_joined(demo::CLAN_ID, demo::TEXT_CHANNEL_ID, "bot")
        .await
        .unwrap();
    client
        .voice_left(demo::CLAN_ID, demo::TEXT_CHANNEL_ID)
        .await
        .unwrap();
    let private = Destination::new(
        demo::CLAN_ID,
        demo::PRIVATE_CHANNEL_ID,
        mezon::ChannelType::Text,
        false,
    );
    client.join_channel(private).await.unwrap();
    let conn = server.connections()[0];
    assert!(
        server
            .joined_channels(conn)
            .contains(&demo::PRIVATE_CHANNEL_ID)
    );
    client.leave_channel(private).await.unwrap();
    assert!(
        !server
            .joined_channels(conn)
            .contains(&demo::PRIVATE_CHANNEL_ID)
    );

    let me = client.user_id();
    let received: Vec<_> = server
        .received()
        .into_iter()
        .map(|r| r.envelope.message)
        .collect();
    assert!(received.iter().any(|m| matches!(m,
        Some(M::CustomStatusEvent(s)) if s.status == "brewing coffee" && s.user_id == me && s.time_reset == 3600)));
    assert!(received.iter().any(|m| matches!(m,
        Some(M::VoiceJoinedEvent(v)) if v.voice_channel_id == demo::TEXT_CHANNEL_ID && v.user_id == me)));
    assert!(received.iter().any(|m| matches!(m,
        Some(M::VoiceLeavedEvent(v)) if v.voice_channel_id == demo::TEXT_CHANNEL_ID && v.voice_user_id == me)));
    assert!(received.iter().any(|m| matches!(m,
        Some(M::ChannelLeave(l)) if l.channel_id == demo::PRIVATE_CHANNEL_ID)));
    client.shutdown().await;
}

#[tokio::test]
async fn clan_and_channel_names_are_checked() {
    let (_server, client) = logged_in().await;
    assert!(client.name_exists(NameKind::Clan, "demo", 0).await.unwrap());
    assert!(!client.name_exists(NameKind::Clan, "nope", 0).await.unwrap());
    assert!(
        client
            .name_exists(NameKind::Channel, "general", demo::CLAN_ID)
            .await
            .unwrap()
    );
    assert!(
        !client
            .name_exists(NameKind::Channel, "random", demo::CLAN_ID)
            .await
            .unwrap()
    );
    client.shutdown().await;
}

#[tokio::test]
async fn button_and_select_routes_are_subscriptions_and_accept_sync_handlers() {
    let (server, client) = logged_in().await;
    let (tx, mut rx) = mpsc::channel::<String>(8);
    let prefix_tx = tx.clone();
    let prefix = client.on_button("vote:*", move |click, _client| {
        let _ = prefix_tx.try_send(format!("prefix {}", click.button_id));
    });
    let exact_tx = tx.clone();
    let exact = client.on_button("vote:yes", move |click, _client| {
        let exact_tx = exact_tx.clone();
        async move {
            let _ = exact_tx.send(format!("exact {}", click.button_id)).await;
        }
    });
    let select_tx = tx.clone();
    let _select = client.on_select("pick", move |sel, _client| {
        let _ = select_tx.try_send(format!("select {}", sel.values.join(",")));
    });
    let sent = client.send(general(), "vote").await.unwrap();
    let alice = server.user(demo::ALICE_ID);
    alice
        .click_button(sent.id(), demo::TEXT_CHANNEL_ID, "vote:yes", "{}")
        .unwrap();
    assert_eq!(recv(&mut rx).await, "exact vote:yes");
    alice
        .click_button(sent.id(), demo::TEXT_CHANNEL_ID, "vote:no", "{}")
        .unwrap();
    assert_eq!(recv(&mut rx).await, "prefix vote:no");
    // Unsubscribing the exact route hands its id back to the prefix route.
    assert!(exact.unsubscribe());
    alice
        .click_button(sent.id(), demo::TEXT_CHANNEL_ID, "vote:yes", "{}")
        .unwrap();
    assert_eq!(recv(&mut rx).await, "prefix vote:yes");
    assert!(prefix.unsubscribe());
    server.push(M::DropdownBoxSelected(
        mezon::proto::realtime::DropdownBoxSelected {
            message_id: sent.id(),
            channel_id: demo::TEXT_CHANNEL_ID,
            selectbox_id: "pick".into(),
            user_id: demo::ALICE_ID,
            values: vec!["a".into(), "b".into()],
            ..Default::default()
        },
    ));
    assert_eq!(recv(&mut rx).await, "select a,b");
    client.shutdown().await;
}

#[tokio::test]
async fn every_catalogue_kind_has_a_typed_method_and_voice_interactive_is_one() {
    let (server, client) = logged_in().await;
    let (tx, mut rx) = mpsc::channel::<i64>(2);
    let _ = client.on_voice_interactive(move |event, _client| {
        let _ = tx.try_send(event.clan_id);
    });
    server.push(M::VoiceInteractiveEvent(
        mezon::proto::realtime::VoiceInteractiveEvent {
            clan_id: 77,
            ..Default::default()
        },
    ));
    assert_eq!(recv(&mut rx).await, 77);
    client.shutdown().await;
}

#[tokio::test]
#[ignore = "the transport drops unknown variants until the inbound path delivers them (issue 14)"]
async fn variants_newer_than_the_schema_reach_on_unknown() {
    let (server, client) = logged_in().await;
    let (tx, mut rx) = mpsc::channel::<(u32, usize)>(2);
    let _ = client.on_unknown(move |field_number, raw, _client| {
        let _ = tx.try_send((field_number, raw.len()));
    });
    server.send_raw_frame(
        server.connections()[0],
        mezon::testing::RawFrame::unknown_variant(),
    );
    let (field, len) = recv(&mut rx).await;
    assert!(
        mezon::EventKind::from_field_number(field).is_none(),
        "{field}"
    );
    assert!(len > 0);
    client.shutdown().await;
}

#[tokio::test]
async fn dropping_the_last_client_stops_its_socket_and_tasks() {
    let server = server().await;
    let client = client_for(&server);
    let handled = Arc::new(AtomicUsize::new(0));
    let h = handled.clone();
    let _ = client.on_channel_message(move |_msg, _client| {
        h.fetch_add(1, Ordering::SeqCst);
    });
    client.login().await.unwrap();
    server.wait_for_connections(1, WAIT).await.unwrap();
    let clone = client.clone();
    drop(client);
    // A clone keeps it running.
    server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "still there?")
        .unwrap();
    tokio::time::timeout(WAIT, async {
        while handled.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the clone keeps the client running");
    assert_eq!(server.connections().len(), 1);
    drop(clone);
    // The last drop closes the socket and ends every task: the handler (holding the
    // counter) is released with the client.
    tokio::time::timeout(WAIT, async {
        while !server.connections().is_empty() || Arc::strong_count(&handled) > 1 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("socket closed and tasks ended after the last drop");
}

#[tokio::test]
async fn ai_agent_session_events_arrive_from_the_event_stream_without_repeats() {
    let server = server().await;
    let client = builder_for(&server)
        .agent_events(server.base_url())
        .build()
        .unwrap();
    let (tx, mut rx) = mpsc::channel::<(String, String, i64)>(8);
    let t = tx.clone();
    let _ = client.on_session_started(move |e, _client| {
        let _ = t.try_send(("started".into(), e.session_id.clone(), e.channel_id));
    });
    let t = tx.clone();
    let _ = client.on_session_ended(move |e, _client| {
        let _ = t.try_send(("ended".into(), e.session_id.clone(), e.channel_id));
    });
    let _ = client.on_room_summary_done(move |e, _client| {
        let _ = tx.try_send(("summary".into(), e.id.clone(), e.clan_id));
    });
    // One event before login is delivered once the stream opens.
    server.push_agent_event(
        "session_started",
        &serde_json::json!({"session_id": "s1", "channel_id": demo::TEXT_CHANNEL_ID.to_string()}),
    );
    client.login().await.unwrap();
    assert_eq!(
        recv(&mut rx).await,
        ("started".into(), "s1".into(), demo::TEXT_CHANNEL_ID)
    );
    // The response ended after that batch; the reader comes back with Last-Event-ID, so the
    // next events arrive once each.
    server.push_agent_event(
        "session_ended",
        &serde_json::json!({"session_id": "s1", "channel_id": demo::TEXT_CHANNEL_ID}),
    );
    let summary_id = server.push_agent_event(
        "room_summary_done",
        &serde_json::json!({"clan_id": demo::CLAN_ID}),
    );
    assert_eq!(
        recv(&mut rx).await,
        ("ended".into(), "s1".into(), demo::TEXT_CHANNEL_ID)
    );
    assert_eq!(
        recv(&mut rx).await,
        ("summary".into(), summary_id.to_string(), demo::CLAN_ID)
    );
    assert!(server.agent_stream_requests() >= 2);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "no event is delivered twice"
    );
    client.shutdown().await;
}
