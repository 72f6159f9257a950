//! Reconnects, resilience and shutdown against the local server.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use mezon::proto::realtime::envelope::Message as M;
use mezon::testing::RawFrame;
use mezon::{ChannelType, Destination, Event, EventKind, EventKindSet, Message};
use tokio::sync::mpsc;

#[tokio::test]
async fn forced_drop_rejoins_every_clan_and_channel_and_thread_messages_flow_again() {
    let (server, client) = logged_in().await;
    let (tx, mut rx) = mpsc::channel::<Message>(8);
    let _ = client.on_channel_message(move |msg, _c| {
        let _ = tx.try_send(msg);
    });
    let mut lifecycle = client
        .events_filtered(EventKindSet::of(EventKind::Reconnected).with(EventKind::Disconnected));
    client
        .join_channel(Destination::new(
            demo::CLAN_ID,
            demo::THREAD_ID,
            ChannelType::Thread,
            false,
        ))
        .await
        .unwrap();
    client
        .join_channel(Destination::new(
            demo::CLAN_ID,
            demo::PRIVATE_CHANNEL_ID,
            ChannelType::Text,
            false,
        ))
        .await
        .unwrap();
    let dm = client.dm_channel(CAROL_ID).await.unwrap();
    // A clan the bot is added to after login (joined on the event) is re-joined too.
    const LATER_CLAN: i64 = 1_840_000_000_000_000_777;
    server.add_bot_to_clan(LATER_CLAN, "later");
    server
        .wait_for_received(
            |env| matches!(&env.message, Some(M::ClanJoin(j)) if j.clan_id == LATER_CLAN),
            WAIT,
        )
        .await
        .expect("joined the new clan");
    let before = server.connections();
    assert_eq!(before.len(), 1);
    let sorted = |mut ids: Vec<i64>| {
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let clans_before = sorted(server.joined_clans(before[0]));
    assert_eq!(clans_before, vec![0, demo::CLAN_ID, LATER_CLAN]);
    let channels_before = sorted(server.joined_channels(before[0]));
    for id in [demo::THREAD_ID, demo::PRIVATE_CHANNEL_ID, dm.id()] {
        assert!(channels_before.contains(&id), "{id} joined before the drop");
    }

    server.drop_connections();
    let mut saw_disconnect = false;
    loop {
        match tokio::time::timeout(WAIT, lifecycle.recv())
            .await
            .expect("in time")
        {
            Some(Event::Disconnected(_)) => saw_disconnect = true,
            Some(Event::Reconnected(_)) => break,
            Some(_) => {}
            None => panic!("stream ended"),
        }
    }
    assert!(saw_disconnect);
    let after = server.wait_for_connections(1, WAIT).await.unwrap();
    assert_ne!(after, before, "a new connection");
    let channels = server.joined_channels(after[0]);
    for id in [demo::THREAD_ID, demo::PRIVATE_CHANNEL_ID, dm.id()] {
        assert!(channels.contains(&id), "{id} re-joined: {channels:?}");
    }
    assert_eq!(sorted(server.joined_clans(after[0])), clans_before);
    assert_eq!(
        sorted(channels),
        channels_before,
        "the same channels re-joined"
    );

    server
        .user(demo::ALICE_ID)
        .send_message(demo::THREAD_ID, "after the drop")
        .unwrap();
    let msg = recv(&mut rx).await;
    assert_eq!(msg.channel_id(), demo::THREAD_ID);
    assert_eq!(msg.text(), "after the drop");
    client.shutdown().await;
}

/// Registers a handler that reports message texts, and counts handler failures.
fn observe(client: &mezon::Client) -> (mpsc::Receiver<String>, Arc<AtomicUsize>) {
    let failures = Arc::new(AtomicUsize::new(0));
    let counted = failures.clone();
    client.dispatcher().set_error_hook(move |_failure| {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    let (tx, rx) = mpsc::channel::<String>(8);
    let _ = client.on_channel_message(move |msg, _c| {
        let _ = tx.try_send(msg.text());
    });
    (rx, failures)
}

#[tokio::test]
async fn a_failing_handler_does_not_stop_the_client() {
    let (server, client) = logged_in().await;
    let _ = client.on_channel_message(|_msg, _c| async move {
        Err::<(), _>(std::io::Error::other("handler failed"))
    });
    let (mut texts, failures) = observe(&client);
    let alice = server.user(demo::ALICE_ID);
    alice.send_message(demo::TEXT_CHANNEL_ID, "one").unwrap();
    alice.send_message(demo::TEXT_CHANNEL_ID, "two").unwrap();
    assert_eq!(recv(&mut texts).await, "one");
    assert_eq!(recv(&mut texts).await, "two");
    assert_eq!(failures.load(Ordering::SeqCst), 2);
    assert!(client.is_connected());
    client.shutdown().await;
}

#[tokio::test]
async fn a_panicking_handler_does_not_stop_the_client() {
    let (server, client) = logged_in().await;
    let _ = client.on_channel_message(|msg, _c| {
        if msg.text() == "boom" {
            panic!("handler panicked");
        }
    });
    let (mut texts, failures) = observe(&client);
    let alice = server.user(demo::ALICE_ID);
    alice.send_message(demo::TEXT_CHANNEL_ID, "boom").unwrap();
    alice
        .send_message(demo::TEXT_CHANNEL_ID, "still here?")
        .unwrap();
    assert_eq!(recv(&mut texts).await, "boom");
    assert_eq!(recv(&mut texts).await, "still here?");
    assert_eq!(failures.load(Ordering::SeqCst), 1);
    assert!(client.is_connected());
    client.shutdown().await;
}

#[tokio::test]
async fn malformed_frames_do_not_stop_the_client() {
    let (server, client) = logged_in().await;
    let (mut texts, _failures) = observe(&client);
    let all = mezon::testing::Target::All;
    server.send_raw_frame(all, RawFrame::garbage());
    server.send_raw_frame(all, RawFrame::unknown_variant());
    server.send_raw_frame(all, RawFrame::Text("not a frame".into()));
    // A channel_message envelope whose payload is truncated.
    server.send_raw_frame(
        all,
        RawFrame::Binary(bytes::Bytes::from_static(&[0x32, 0x05, 0x08])),
    );
    server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "after the garbage")
        .unwrap();
    assert_eq!(recv(&mut texts).await, "after the garbage");
    assert!(client.is_connected());
    assert_eq!(server.connections().len(), 1, "no reconnect was needed");
    client.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_streams_and_run_until_shutdown_and_refuses_new_work() {
    let (_server, client) = logged_in().await;
    let mut events = client.events();
    let runner = {
        let client = client.clone();
        tokio::spawn(async move { client.run_until_shutdown().await })
    };
    client.shutdown().await;
    tokio::time::timeout(WAIT, runner)
        .await
        .expect("runner ends")
        .unwrap();
    // The stream drains what it had, then ends.
    while let Some(_event) = tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("ends")
    {}
    assert!(!client.is_connected());
    let err = client
        .send(Destination::dm(demo::ALICE_DM_ID), "late")
        .await
        .unwrap_err();
    assert!(matches!(err, mezon::Error::Shutdown), "{err:?}");
    assert!(matches!(client.login().await, Err(mezon::Error::Shutdown)));
    client.shutdown().await; // idempotent
}

#[tokio::test]
async fn ready_and_connected_are_dispatched_and_streamed_on_login() {
    let server = server().await;
    let client = client_for(&server);
    let (tx, mut rx) = mpsc::channel::<(i64, usize)>(2);
    let _ = client.on_ready(move |ready, _c| {
        let _ = tx.try_send((ready.user_id, ready.clans));
    });
    let mut stream = client.events_filtered(EventKindSet::of(EventKind::Connected));
    client.login().await.unwrap();
    assert_eq!(recv(&mut rx).await, (server.bot_id(), 1));
    let Some(Event::Connected(c)) = tokio::time::timeout(WAIT, stream.recv()).await.unwrap() else {
        panic!("connected first");
    };
    assert_eq!(c.connection, 1);
    client.shutdown().await;
}

#[tokio::test]
async fn wrong_api_key_fails_login_with_a_clear_error() {
    let server = server().await;
    let client = mezon::Client::builder(server.bot_id(), "wrong-key")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let err = client.login().await.unwrap_err();
    let refused = matches!(&err, mezon::Error::Login(login) if login.is_unauthorized());
    assert!(refused, "{err:?}");
    assert!(!format!("{err:?}").contains("wrong-key"));
}

#[tokio::test]
async fn thread_activation_and_clan_membership_trigger_joins() {
    let (server, client) = logged_in().await;
    server.push(M::ChannelUpdatedEvent(
        mezon::proto::realtime::ChannelUpdatedEvent {
            clan_id: demo::CLAN_ID,
            channel_id: demo::THREAD_ID,
            channel_type: 7,
            status: 1,
            ..Default::default()
        },
    ));
    server
        .wait_for_received(
            |env| matches!(&env.message, Some(M::ChannelJoin(j)) if j.channel_id == demo::THREAD_ID && j.channel_type == 7 && !j.is_public),
            WAIT,
        )
        .await
        .expect("thread joined");
    const NEW_CLAN: i64 = 1_840_000_000_000_000_999;
    server.push(M::AddClanUserEvent(
        mezon::proto::realtime::AddClanUserEvent {
            clan_id: NEW_CLAN,
            user: Some(mezon::proto::realtime::UserProfileRedis {
                user_id: server.bot_id(),
                ..Default::default()
            }),
            ..Default::default()
        },
    ));
    server
        .wait_for_received(
            |env| matches!(&env.message, Some(M::ClanJoin(j)) if j.clan_id == NEW_CLAN),
            WAIT,
        )
        .await
        .expect("clan joined");
    client.shutdown().await;
}

#[tokio::test]
async fn login_pages_through_more_clans_than_one_page_and_joins_each_once() {
    const EXTRA: i64 = 230;
    const FIRST_EXTRA_CLAN: i64 = 1_840_000_000_000_100_000;
    let mut world = world();
    for n in 0..EXTRA {
        world = world.clan(FIRST_EXTRA_CLAN + n, format!("clan-{n}"));
    }
    let server = server_with(mezon::testing::ServerConfig {
        world,
        ..Default::default()
    })
    .await;
    let client = builder_for(&server)
        .rate_limits(mezon::RateLimits::disabled())
        .build()
        .unwrap();
    client.login().await.unwrap();

    let bodies = api_request_bodies(&server, "ListClanDescs");
    let pages: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            <mezon::proto::api::ListClanDescRequest as prost::Message>::decode(body).unwrap()
        })
        .collect();
    // 231 clans at 100 a page: two full pages and a short one, each continuing after the
    // last clan of the previous page.
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages.iter().all(|p| p.limit == 100));
    assert_eq!(pages[0].cursor, "");
    assert_eq!(pages[1].cursor, (FIRST_EXTRA_CLAN + 98).to_string());
    assert_eq!(pages[2].cursor, (FIRST_EXTRA_CLAN + 198).to_string());

    let conn = server.wait_for_connections(1, WAIT).await.unwrap()[0];
    let mut expected: Vec<i64> = std::iter::once(0)
        .chain(std::iter::once(demo::CLAN_ID))
        .chain((0..EXTRA).map(|n| FIRST_EXTRA_CLAN + n))
        .collect();
    expected.sort_unstable();
    let mut joined = server.joined_clans(conn);
    joined.sort_unstable();
    assert_eq!(joined, expected);
    let clan_joins = server
        .received()
        .iter()
        .filter(|r| matches!(r.envelope.message, Some(M::ClanJoin(_))))
        .count();
    assert_eq!(clan_joins, expected.len(), "each clan joined once");
    assert_eq!(client.clans().len(), 1 + EXTRA as usize);
    client.shutdown().await;
}

#[tokio::test]
async fn handlers_that_reply_during_a_burst_larger_than_the_dispatch_queue_all_get_answers() {
    const BURST: usize = 60;
    let server = server().await;
    let client = builder_for(&server)
        .rate_limits(mezon::RateLimits::disabled())
        .dispatch(
            mezon::DispatchConfig::default()
                .mode(mezon::DispatchMode::Sequential)
                .queue_capacity(2),
        )
        .build()
        .unwrap();
    let (tx, mut replies) = mpsc::channel::<mezon::Result<i64>>(BURST);
    let _ = client.on_channel_message(move |msg, _c| {
        let tx = tx.clone();
        async move {
            let sent = msg.reply(format!("re: {}", msg.text())).await;
            let _ = tx.send(sent.map(|m| m.id())).await;
        }
    });
    client.login().await.unwrap();
    let alice = server.user(demo::ALICE_ID);
    for n in 0..BURST {
        alice
            .send_message(demo::TEXT_CHANNEL_ID, &format!("burst {n}"))
            .unwrap();
    }
    for _ in 0..BURST {
        let reply = recv(&mut replies).await;
        assert!(reply.is_ok(), "{reply:?}");
    }
    let bot_messages = server
        .messages(demo::TEXT_CHANNEL_ID)
        .iter()
        .filter(|m| m.sender_id == server.bot_id())
        .count();
    assert_eq!(bot_messages, BURST);
    client.shutdown().await;
}

/// Tasks alive on this test's runtime.
fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[tokio::test]
async fn shutdown_leaves_no_task_of_the_client_behind() {
    let server = server().await;
    let baseline = alive_tasks();
    let client = client_for(&server);
    let events = client.events();
    let _ = client.on_channel_message(|msg, _c| async move {
        let _ = msg.reply("hi").await;
    });
    client.login().await.unwrap();
    server
        .user(demo::ALICE_ID)
        .send_message(demo::TEXT_CHANNEL_ID, "hello")
        .unwrap();
    let bot_id = server.bot_id();
    server
        .wait_for_message(demo::TEXT_CHANNEL_ID, |m| m.sender_id == bot_id, WAIT)
        .await
        .unwrap();
    assert!(alive_tasks() > baseline, "the client runs tasks while up");
    client.shutdown().await;
    drop(events);
    // The server closes its side of the connection on its own schedule; the client's tasks
    // must all be gone once it has.
    let settled = tokio::time::timeout(WAIT, async {
        while alive_tasks() > baseline {
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        settled.is_ok(),
        "{} tasks alive after shutdown, {baseline} before login",
        alive_tasks()
    );
}

#[tokio::test]
async fn a_failed_connect_sequence_closes_the_link_and_login_can_be_retried() {
    let server = server().await;
    let client = builder_for(&server)
        .rate_limits(mezon::RateLimits::disabled())
        .request_timeout(std::time::Duration::from_millis(200))
        .build()
        .unwrap();
    // Answers slower than the request timeout: listing the clans fails.
    server.set_answer_delay(std::time::Duration::from_secs(1));
    let err = client.login().await.unwrap_err();
    assert!(!matches!(err, mezon::Error::Shutdown), "{err:?}");
    assert!(!client.is_connected());
    assert!(matches!(client.api(), Err(mezon::Error::NotLoggedIn)));

    server.set_answer_delay(std::time::Duration::ZERO);
    client.login().await.expect("a second login works");
    assert!(client.is_connected());
    let conns = server.wait_for_connections(1, WAIT).await.unwrap();
    assert_eq!(server.joined_clans(conns[0]), vec![0, demo::CLAN_ID]);
    client.shutdown().await;
}

#[tokio::test]
async fn a_join_cut_by_a_drop_is_redone_and_a_refused_join_is_not() {
    let (server, client) = logged_in().await;
    let mut reconnected = client.events_filtered(EventKindSet::of(EventKind::Reconnected));
    const MISSING_CHANNEL: i64 = 999;
    let refused = client
        .join_channel(Destination::new(
            demo::CLAN_ID,
            MISSING_CHANNEL,
            ChannelType::Text,
            false,
        ))
        .await;
    assert!(refused.is_err());

    // The server holds its answers back, so the drop comes while the join is in flight.
    server.set_answer_delay(std::time::Duration::from_secs(2));
    let joining = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .join_channel(Destination::new(
                    demo::CLAN_ID,
                    demo::THREAD_ID,
                    ChannelType::Thread,
                    false,
                ))
                .await
        }
    });
    server
        .wait_for_received(
            |env| matches!(&env.message, Some(M::ChannelJoin(j)) if j.channel_id == demo::THREAD_ID),
            WAIT,
        )
        .await
        .expect("join sent");
    server.set_answer_delay(std::time::Duration::ZERO);
    server.drop_connections();
    let cut = tokio::time::timeout(WAIT, joining).await.unwrap().unwrap();
    assert!(cut.is_err(), "the link dropped before the answer: {cut:?}");
    let _ = tokio::time::timeout(WAIT, reconnected.recv())
        .await
        .expect("reconnected");

    let conn = server.wait_for_connections(1, WAIT).await.unwrap()[0];
    assert!(server.joined_channels(conn).contains(&demo::THREAD_ID));
    let missing_joins = server
        .received()
        .iter()
        .filter(|r| matches!(&r.envelope.message, Some(M::ChannelJoin(j)) if j.channel_id == MISSING_CHANNEL))
        .count();
    assert_eq!(missing_joins, 1, "the refused join is not redone");
    client.shutdown().await;
}
