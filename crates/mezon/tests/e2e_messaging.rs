//! A simulated user talks to the bot through the local server; the bot answers with every
//! outbound operation, and the server records what arrived.

mod common;

use common::*;
use mezon::proto::api;
use mezon::proto::realtime::{ChannelMessageSend, envelope::Message as M};
use mezon::{
    ChannelMessageExt as _, ChannelType, Destination, Message, MessageContent, OutgoingMessage,
};
use tokio::sync::mpsc;

fn general() -> Destination {
    Destination::new(
        demo::CLAN_ID,
        demo::TEXT_CHANNEL_ID,
        ChannelType::Text,
        true,
    )
}

#[tokio::test]
async fn login_joins_clan_zero_and_every_clan_and_learns_dm_channels() {
    let (server, client) = logged_in().await;
    let conns = server.wait_for_connections(1, WAIT).await.unwrap();
    assert_eq!(server.joined_clans(conns[0]), vec![0, demo::CLAN_ID]);
    assert_eq!(client.clans().len(), 1);
    assert_eq!(client.clans()[0].name(), "demo");
    // The DM with alice is known from the login listing: no CreateChannelDesc needed.
    let dm = client.dm_channel(demo::ALICE_ID).await.unwrap();
    assert_eq!(dm.id(), demo::ALICE_DM_ID);
    assert!(
        !server
            .http_log()
            .iter()
            .any(|c| c.method_name.as_deref() == Some("CreateChannelDesc"))
    );
    client.shutdown().await;
}

#[tokio::test]
async fn user_message_reaches_on_channel_message_with_typed_content_and_mentions() {
    let (server, client) = logged_in().await;
    let (tx, mut rx) = mpsc::channel::<Message>(4);
    let _ = client.on_channel_message(move |msg, _client| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(msg).await;
        }
    });
    let content = MessageContent::text("hey ")
        .mention(server.bot_id(), "local-bot")
        .plain(" 😀 ")
        .bold("now");
    let mentions = content.mentions.clone();
    server
        .user(demo::ALICE_ID)
        .send(ChannelMessageSend {
            channel_id: demo::TEXT_CHANNEL_ID,
            content: content.to_json_string(),
            mentions,
            ..Default::default()
        })
        .unwrap();
    let msg = recv(&mut rx).await;
    assert_eq!(msg.sender_id(), demo::ALICE_ID);
    assert_eq!(msg.channel_id(), demo::TEXT_CHANNEL_ID);
    assert_eq!(msg.text(), "hey @local-bot 😀 now");
    let parsed = msg.content();
    assert_eq!(parsed.markdown.len(), 1);
    assert_eq!(
        parsed.span_text(parsed.markdown[0].s, parsed.markdown[0].e),
        Some("now")
    );
    let mentions = msg.mentions();
    assert_eq!(mentions.len(), 1);
    assert_eq!(mentions[0].user_id, server.bot_id());
    assert_eq!((mentions[0].s, mentions[0].e), (4, 14));
    assert!(msg.mentions_bot());
    client.shutdown().await;
}

#[tokio::test]
async fn reply_is_recorded_with_a_reference_to_the_original() {
    let (server, client) = logged_in().await;
    let (tx, mut rx) = mpsc::channel::<mezon::Result<Message>>(4);
    let _ = client.on_channel_message(move |msg, _client| {
        let tx = tx.clone();
        async move {
            let sent = msg.reply("pong").await;
            let _ = tx.send(sent).await;
        }
    });
    let original = server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "!ping")
        .unwrap();
    let reply = recv(&mut rx).await.expect("reply sent");
    assert_ne!(reply.id(), 0);
    let stored = server.messages(demo::TEXT_CHANNEL_ID);
    let stored = stored
        .iter()
        .find(|m| m.message_id == reply.id())
        .expect("stored");
    assert_eq!(stored.sender_id, server.bot_id());
    let refs = stored.references().unwrap();
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].message_ref_id, original);
    assert_eq!(refs[0].message_sender_id, demo::ALICE_ID);
    assert_eq!(refs[0].message_sender_username, "alice");
    assert_eq!(refs[0].content, text_content("!ping"));
    assert_eq!(stored.content().unwrap().as_text(), "pong");
    client.shutdown().await;
}

#[tokio::test]
async fn edit_and_delete_go_over_the_socket_api() {
    let (server, client) = logged_in().await;
    let channel = client.channel(demo::TEXT_CHANNEL_ID).await.unwrap();
    assert_eq!(channel.name(), "general");
    let sent = channel.send("first draft").await.unwrap();
    sent.edit("final text").await.unwrap();
    let stored = server.messages(demo::TEXT_CHANNEL_ID);
    let edited = stored
        .iter()
        .find(|m| m.message_id == sent.id())
        .expect("stored");
    assert_eq!(edited.content().unwrap().as_text(), "final text");
    sent.delete().await.unwrap();
    assert!(
        !server
            .messages(demo::TEXT_CHANNEL_ID)
            .iter()
            .any(|m| m.message_id == sent.id() && m.code != 2)
    );
    let api_calls: Vec<(i32, bytes::Bytes)> = server
        .received()
        .into_iter()
        .filter_map(|r| match r.envelope.message {
            Some(M::ApiRequestEvent(req)) => Some((req.api_index, req.body)),
            _ => None,
        })
        .collect();
    let body = |index: i32| {
        api_calls
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, body)| body.clone())
            .unwrap_or_else(|| panic!("no socket API call {index}: {api_calls:?}"))
    };
    let update: mezon::proto::realtime::ChannelMessageUpdate =
        prost::Message::decode(body(181)).unwrap();
    assert_eq!(
        (update.channel_id, update.message_id, update.mode),
        (demo::TEXT_CHANNEL_ID, sent.id(), 2)
    );
    assert_eq!(
        MessageContent::parse(&update.content).unwrap().as_text(),
        "final text"
    );
    let remove: mezon::proto::realtime::ChannelMessageRemove =
        prost::Message::decode(body(182)).unwrap();
    assert_eq!(
        (remove.channel_id, remove.message_id),
        (demo::TEXT_CHANNEL_ID, sent.id())
    );
    // Not the older envelope route.
    assert!(!server.received().iter().any(|r| matches!(
        r.envelope.message,
        Some(M::ChannelMessageUpdate(_) | M::ChannelMessageRemove(_))
    )));
    client.shutdown().await;
}

#[tokio::test]
async fn reaction_and_its_removal_reach_the_server() {
    let (server, client) = logged_in().await;
    let id = server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "react to me")
        .unwrap();
    client
        .react(general(), id, demo::ALICE_ID, "👍")
        .await
        .unwrap();
    client
        .unreact(general(), id, demo::ALICE_ID, "👍")
        .await
        .unwrap();
    let reactions: Vec<api::MessageReaction> = server
        .received()
        .into_iter()
        .filter_map(|r| match r.envelope.message {
            Some(M::MessageReactionEvent(x)) => Some(x),
            _ => None,
        })
        .collect();
    assert_eq!(reactions.len(), 2);
    assert_eq!(reactions[0].message_id, id);
    assert_eq!(reactions[0].message_sender_id, demo::ALICE_ID);
    assert_eq!(reactions[0].emoji, "👍");
    assert_eq!(reactions[0].channel_id, demo::TEXT_CHANNEL_ID);
    assert_eq!(reactions[0].mode, 2);
    assert!(!reactions[0].action);
    assert!(reactions[1].action);
    client.shutdown().await;
}

#[tokio::test]
async fn ephemeral_message_goes_to_two_receivers() {
    let (server, client) = logged_in().await;
    let recorded = client
        .send_ephemeral(general(), &[demo::ALICE_ID, BOB_ID], "only you two")
        .await
        .unwrap();
    assert!(recorded.is_some());
    let sent = server
        .received()
        .into_iter()
        .find_map(|r| match r.envelope.message {
            Some(M::EphemeralMessageSend(e)) => Some(e),
            _ => None,
        })
        .expect("ephemeral received");
    assert_eq!(sent.receiver_ids, vec![demo::ALICE_ID, BOB_ID]);
    let inner = sent.message.expect("message");
    assert_eq!(inner.code, 12);
    assert_eq!(inner.channel_id, demo::TEXT_CHANNEL_ID);
    assert_eq!(
        MessageContent::parse(&inner.content).unwrap().as_text(),
        "only you two"
    );
    client.shutdown().await;
}

#[tokio::test]
async fn dm_to_a_user_without_a_dm_channel_creates_joins_and_sends() {
    let (server, client) = logged_in().await;
    let sent = client.user(CAROL_ID).send_dm("hello carol").await.unwrap();
    let bodies = api_request_bodies(&server, "CreateChannelDesc");
    let creates: Vec<api::CreateChannelDescRequest> = bodies
        .into_iter()
        .map(|body| prost::Message::decode(body).expect("a CreateChannelDescRequest"))
        .collect();
    assert_eq!(creates.len(), 1, "CreateChannelDesc was called once");
    let create = &creates[0];
    assert_eq!(
        (
            create.clan_id,
            create.r#type,
            create.channel_private,
            create.user_ids.as_slice()
        ),
        (0, 3, 1, [CAROL_ID].as_slice())
    );
    let join = server
        .received()
        .into_iter()
        .find_map(|r| match r.envelope.message {
            Some(M::ChannelJoin(j)) if j.channel_id == sent.channel_id() => Some(j),
            _ => None,
        })
        .expect("the new DM channel was joined");
    assert_eq!(
        (join.clan_id, join.channel_type, join.is_public),
        (0, 3, false)
    );
    let stored = server.messages(sent.channel_id());
    assert!(
        stored
            .iter()
            .any(|m| m.message_id == sent.id() && m.mode == 4)
    );
    // A second DM reuses the channel.
    let again = client.send_dm(CAROL_ID, "again").await.unwrap();
    assert_eq!(again.channel_id(), sent.channel_id());
    client.shutdown().await;
}

#[tokio::test]
async fn bot_added_to_a_private_channel_joins_it_and_can_send() {
    let (server, client) = logged_in().await;
    server
        .add_bot_to_channel(demo::CLAN_ID, demo::PRIVATE_CHANNEL_ID)
        .unwrap();
    let join = server
        .wait_for_received(
            |env| matches!(&env.message, Some(M::ChannelJoin(j)) if j.channel_id == demo::PRIVATE_CHANNEL_ID),
            WAIT,
        )
        .await
        .expect("joined");
    let Some(M::ChannelJoin(join)) = join.message else {
        unreachable!()
    };
    assert!(!join.is_public);
    assert_eq!(join.channel_type, 1);
    let channel = client.channel(demo::PRIVATE_CHANNEL_ID).await.unwrap();
    assert!(channel.is_private());
    channel.send("hi staff").await.unwrap();
    client.shutdown().await;
}

#[tokio::test]
async fn must_join_refusal_is_answered_by_a_join_and_one_retry() {
    let server = server_with(mezon::testing::ServerConfig {
        world: world(),
        strict_joins: true,
        ..Default::default()
    })
    .await;
    let client = client_for(&server);
    client.login().await.unwrap();
    let thread = Destination::new(demo::CLAN_ID, demo::THREAD_ID, ChannelType::Thread, false);
    let sent = client.send(thread, "in the thread").await.unwrap();
    assert!(
        server
            .messages(demo::THREAD_ID)
            .iter()
            .any(|m| m.message_id == sent.id())
    );
    let kinds: Vec<&'static str> = server
        .received()
        .iter()
        .filter_map(|r| match &r.envelope.message {
            Some(M::ChannelMessageSend(_)) => Some("send"),
            Some(M::ChannelJoin(j)) if j.channel_id == demo::THREAD_ID => {
                assert_eq!(j.channel_type, 7);
                Some("join")
            }
            _ => None,
        })
        .collect();
    assert_eq!(kinds, vec!["send", "join", "send"]);
    client.shutdown().await;
}

#[tokio::test]
async fn button_clicks_are_routed_by_component_id() {
    let (server, client) = logged_in().await;
    let (tx, mut rx) = mpsc::channel::<(String, i64)>(4);
    client.on_button("vote:*", move |click, _client| {
        let tx = tx.clone();
        async move {
            let _ = tx.send((click.button_id.clone(), click.user_id)).await;
        }
    });
    let row = mezon::ButtonBuilder::new()
        .button("vote:yes", "Yes", mezon::ButtonStyle::SUCCESS)
        .button("vote:no", "No", mezon::ButtonStyle::DANGER);
    let sent = client
        .send(
            general(),
            OutgoingMessage::new(MessageContent::text("Vote!")).action_row(row),
        )
        .await
        .unwrap();
    server
        .user(demo::ALICE_ID)
        .click_button(sent.id(), demo::TEXT_CHANNEL_ID, "vote:no", "{}")
        .unwrap();
    assert_eq!(recv(&mut rx).await, ("vote:no".to_owned(), demo::ALICE_ID));
    client.shutdown().await;
}

#[tokio::test]
async fn own_messages_are_ignored_unless_asked_for() {
    let server = server_with(mezon::testing::ServerConfig {
        world: world(),
        echo_to_sender: true,
        ..Default::default()
    })
    .await;
    let client = client_for(&server);
    let (tx, mut rx) = mpsc::channel::<i64>(8);
    let _ = client.on_channel_message(move |msg, _c| {
        let _ = tx.try_send(msg.sender_id());
    });
    client.login().await.unwrap();
    client.send(general(), "from the bot").await.unwrap();
    server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "from alice")
        .unwrap();
    // Messages arrive in order on one connection: had the echo been delivered, it would
    // come first.
    assert_eq!(recv(&mut rx).await, demo::ALICE_ID);
    client.shutdown().await;
}

#[tokio::test]
async fn own_messages_are_delivered_when_asked_for() {
    let server = server_with(mezon::testing::ServerConfig {
        world: world(),
        echo_to_sender: true,
        ..Default::default()
    })
    .await;
    let client = builder_for(&server)
        .receive_own_messages(true)
        .build()
        .unwrap();
    let (tx, mut rx) = mpsc::channel::<(i64, String)>(8);
    let _ = client.on_channel_message(move |msg, _c| {
        let _ = tx.try_send((msg.sender_id(), msg.text()));
    });
    client.login().await.unwrap();
    client.send(general(), "from the bot").await.unwrap();
    assert_eq!(
        recv(&mut rx).await,
        (server.bot_id(), "from the bot".to_owned())
    );
    client.shutdown().await;
}

#[tokio::test]
async fn concurrent_lookups_of_an_uncached_channel_make_one_api_call() {
    let (server, client) = logged_in().await;
    let lookups: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.channel(demo::PRIVATE_CHANNEL_ID).await })
        })
        .collect();
    for lookup in lookups {
        assert_eq!(lookup.await.unwrap().unwrap().name(), "staff");
    }
    let detail_calls = server
        .received()
        .iter()
        .filter(
            |r| matches!(&r.envelope.message, Some(M::ApiRequestEvent(req)) if req.api_index == 39),
        )
        .count()
        + server
            .http_log()
            .iter()
            .filter(|c| c.method_name.as_deref() == Some("ListChannelDetail"))
            .count();
    assert_eq!(detail_calls, 1);
    client.shutdown().await;
}

#[tokio::test]
async fn typing_read_marks_and_ephemeral_updates_carry_the_right_fields() {
    let (server, client) = logged_in().await;
    let id = server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "read me")
        .unwrap();
    client.send_typing(general()).await.unwrap();
    client.mark_read(general(), id).await.unwrap();
    client
        .update_ephemeral(general(), &[demo::ALICE_ID], 77, "changed")
        .await
        .unwrap();
    client
        .delete_ephemeral(general(), &[demo::ALICE_ID], 77)
        .await
        .unwrap();
    let received: Vec<M> = server
        .received()
        .into_iter()
        .filter_map(|r| r.envelope.message)
        .collect();
    assert!(received.iter().any(|m| matches!(m,
        M::MessageTypingEvent(t) if t.channel_id == demo::TEXT_CHANNEL_ID && t.clan_id == demo::CLAN_ID && t.mode == 2)));
    assert!(received.iter().any(|m| matches!(m,
        M::LastSeenMessageEvent(s) if s.message_id == id && s.channel_id == demo::TEXT_CHANNEL_ID && s.mode == 2)));
    let codes: Vec<(i32, i64)> = received
        .iter()
        .filter_map(|m| match m {
            M::EphemeralMessageSend(e) => e.message.as_ref().map(|m| (m.code, m.id)),
            _ => None,
        })
        .collect();
    assert_eq!(codes, vec![(14, 77), (15, 77)]);
    client.shutdown().await;
}

#[tokio::test]
async fn a_pushed_session_is_adopted_and_the_bot_keeps_working() {
    let (server, client) = logged_in().await;
    let fresh = server.push_session_refresh();
    // The push and the next request travel on the same socket, in order.
    client.send(general(), "after refresh").await.unwrap();
    let handle = client.transport().unwrap();
    assert_eq!(handle.session().token.expose(), fresh.token);
    client.shutdown().await;
}

#[tokio::test]
async fn handles_resolve_clans_channels_members_and_authors() {
    let (server, client) = logged_in().await;
    let clan = client.clan(demo::CLAN_ID).await.unwrap();
    assert_eq!(clan.name(), "demo");
    let channels = clan.channels().await.unwrap();
    assert!(
        channels
            .iter()
            .any(|c| c.id() == demo::TEXT_CHANNEL_ID && c.name() == "general")
    );
    let members = clan.members().await.unwrap();
    assert!(
        members
            .iter()
            .any(|u| u.id() == demo::ALICE_ID && u.username() == "alice")
    );
    let roles = clan.roles().await.unwrap();
    assert_eq!(roles.clan_id, demo::CLAN_ID);
    assert!(matches!(
        client.clan(42).await,
        Err(mezon::Error::NotFound {
            what: "clan",
            id: 42
        })
    ));

    let (tx, mut rx) = mpsc::channel::<(String, String)>(2);
    let _ = client.on_channel_message(move |msg, _client| {
        let tx = tx.clone();
        async move {
            let channel = msg
                .channel()
                .await
                .map(|c| c.name().to_owned())
                .unwrap_or_default();
            let _ = tx.send((channel, msg.author().username().to_owned())).await;
        }
    });
    server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "who am i")
        .unwrap();
    assert_eq!(
        recv(&mut rx).await,
        ("general".to_owned(), "alice".to_owned())
    );
    client.shutdown().await;
}

#[tokio::test]
async fn generic_registration_by_kind_receives_pushed_events() {
    let (server, client) = logged_in().await;
    let (tx, mut rx) = mpsc::channel::<i64>(2);
    let _ = client.on(mezon::EventKind::GiveCoffeeEvent, move |event, _client| {
        if let mezon::Event::GiveCoffeeEvent(coffee) = &*event {
            let _ = tx.try_send(coffee.token_count.into());
        }
    });
    server.push(M::GiveCoffeeEvent(api::GiveCoffeeEvent {
        token_count: 3,
        ..Default::default()
    }));
    assert_eq!(recv(&mut rx).await, 3);
    client.shutdown().await;
}

#[tokio::test]
async fn pin_and_unpin_send_the_pin_api_requests() {
    use prost::Message as _;
    let (server, client) = logged_in().await;
    let id = server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "pin me")
        .unwrap();
    // The local server does not implement pins: the calls fail, naming the method, after
    // the request reached it.
    match client.pin(general(), id).await {
        Err(mezon::Error::Api(e)) => assert_eq!(e.method(), "CreatePinMessage"),
        other => panic!("{other:?}"),
    }
    match client.unpin(general(), id).await {
        Err(mezon::Error::Api(e)) => assert_eq!(e.method(), "DeletePinMessage"),
        other => panic!("{other:?}"),
    }
    let bodies: Vec<(i32, bytes::Bytes)> = server
        .received()
        .into_iter()
        .filter_map(|r| match r.envelope.message {
            Some(M::ApiRequestEvent(req)) if req.api_index == 102 || req.api_index == 207 => {
                Some((req.api_index, req.body))
            }
            _ => None,
        })
        .collect();
    assert_eq!(bodies.len(), 2);
    let pin = api::PinMessageRequest::decode(bodies[0].1.clone()).unwrap();
    assert_eq!(
        (pin.message_id, pin.channel_id, pin.clan_id),
        (id, demo::TEXT_CHANNEL_ID, demo::CLAN_ID)
    );
    let unpin = api::DeletePinMessage::decode(bodies[1].1.clone()).unwrap();
    assert_eq!(
        (unpin.message_id, unpin.channel_id),
        (id, demo::TEXT_CHANNEL_ID)
    );
    client.shutdown().await;
}
