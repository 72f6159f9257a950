//! End to end over loopback: local Mezon server → client + relay → a real `nats-server -js`
//! → workers → commands → local server.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use common::*;
use mezon::{ChannelMessageExt as _, Destination, EventKind, EventKindSet};
use mezon_nats::wire::FailureKind;
use mezon_nats::{
    CommandError, Commands, FailoverConfig, FailoverRelay, Relay, RelayConfig, RunningWorker,
    StorageType, StreamSettings, Worker, WorkerConfig,
};

const LIMIT: Duration = Duration::from_secs(60);

fn relay_config() -> RelayConfig {
    RelayConfig::default()
        .kinds(EventKindSet::of(EventKind::ChannelMessage))
        .stream(StreamSettings::default().storage(StorageType::Memory))
}

/// A relay for a new client of `server`, logged in.
async fn logged_in_relay(nats: &Nats, server: &mezon::testing::TestServer) -> Relay {
    let client = client_of(server);
    let relay = Relay::start(client.clone(), nats.connect().await, relay_config())
        .await
        .unwrap();
    client.login().await.unwrap();
    relay
}

/// A handled event: channel, sequence number from the text, delivery count, worker.
type Seen = Arc<Mutex<Vec<(i64, u32, u64, usize)>>>;

/// Starts a worker that records what it handles, taking `delay` per event, and replies to
/// the message "<n>" of each channel where `n + 1 == per_channel`.
async fn recording_worker(
    nats: &Nats,
    bot_id: i64,
    config: WorkerConfig,
    (id, delay): (usize, Duration),
    seen: &Seen,
    per_channel: u32,
) -> RunningWorker {
    let worker = Worker::with_config(nats.connect().await, bot_id, config);
    let seen = seen.clone();
    worker.on_channel_message(move |msg, delivery| {
        let seen = seen.clone();
        async move {
            let n: u32 = text_of(&msg).parse().unwrap_or(u32::MAX);
            seen.lock()
                .unwrap()
                .push((msg.channel_id, n, delivery.delivery_count(), id));
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if n + 1 == per_channel {
                delivery
                    .reply(&msg, format!("done {}", msg.channel_id))
                    .await?;
            }
            Ok::<(), CommandError>(())
        }
    });
    worker.start().await.unwrap()
}

fn send_burst(server: &mezon::testing::TestServer, channels: i64, per_channel: u32) {
    for n in 0..per_channel {
        for c in 0..channels {
            server
                .user(ALICE)
                .send_message(FIRST_CHANNEL + c, &n.to_string())
                .expect("send");
        }
    }
}

/// Per channel, the sequence numbers in handling order with repeats of the same event
/// (redeliveries) collapsed: must be exactly 0..per_channel.
fn assert_in_order(seen: &Seen, channels: i64, per_channel: u32) {
    let seen = seen.lock().unwrap();
    let mut by_channel: HashMap<i64, Vec<u32>> = HashMap::new();
    for (channel, n, _, _) in seen.iter() {
        let list = by_channel.entry(*channel).or_default();
        if list.last() != Some(n) {
            list.push(*n);
        }
    }
    for c in 0..channels {
        let got = by_channel.remove(&(FIRST_CHANNEL + c)).unwrap_or_default();
        let want: Vec<u32> = (0..per_channel).collect();
        assert!(got == want, "channel {c}: out of order or missing: {got:?}");
    }
}

fn distinct(seen: &Seen) -> usize {
    let seen = seen.lock().unwrap();
    let mut set: Vec<(i64, u32)> = seen.iter().map(|(c, n, _, _)| (*c, *n)).collect();
    set.sort_unstable();
    set.dedup();
    set.len()
}

fn done_replies(server: &mezon::testing::TestServer, channels: i64, bot: i64) -> usize {
    (0..channels)
        .filter(|c| {
            server
                .messages(FIRST_CHANNEL + c)
                .iter()
                .any(|m| m.sender_id == bot && text_of(m).starts_with("done"))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_channels_keep_their_order_across_two_workers_of_different_speeds() {
    let Some(nats) = Nats::start("order") else {
        return;
    };
    let server = mezon_server().await;
    let bot = server.bot_id();
    let relay = logged_in_relay(&nats, &server).await;

    let seen: Seen = Arc::default();
    let per_channel = 1_000;
    let fast = recording_worker(
        &nats,
        bot,
        WorkerConfig::default(),
        (0, Duration::ZERO),
        &seen,
        per_channel,
    )
    .await;
    let slow = recording_worker(
        &nats,
        bot,
        WorkerConfig::default(),
        (1, Duration::from_micros(300)),
        &seen,
        per_channel,
    )
    .await;

    send_burst(&server, CHANNELS, per_channel);
    let total = CHANNELS as usize * per_channel as usize;
    until("every event handled", LIMIT, || distinct(&seen) == total).await;
    until("a reply in every channel", LIMIT, || {
        done_replies(&server, CHANNELS, bot) == CHANNELS as usize
    })
    .await;
    assert_in_order(&seen, CHANNELS, per_channel);
    let by_worker = |id| seen.lock().unwrap().iter().filter(|e| e.3 == id).count();
    assert!(
        by_worker(0) > 0 && by_worker(1) > 0,
        "both workers took events"
    );
    assert_eq!(seen.lock().unwrap().len(), total, "no event handled twice");

    fast.shutdown().await;
    slow.shutdown().await;
    assert_eq!(relay.shutdown().await, total as u64);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_burst_loses_nothing() {
    let Some(nats) = Nats::start("killed worker") else {
        return;
    };
    let server = mezon_server().await;
    let bot = server.bot_id();
    let relay = logged_in_relay(&nats, &server).await;

    let seen: Seen = Arc::default();
    let (channels, per_channel) = (4, 100);
    let config = WorkerConfig::default().ack_wait(Duration::from_millis(800));
    // The victim is slow, so it is in the middle of a handler when killed.
    let victim = recording_worker(
        &nats,
        bot,
        config.clone(),
        (0, Duration::from_millis(30)),
        &seen,
        per_channel,
    )
    .await;
    let survivor = recording_worker(
        &nats,
        bot,
        config,
        (1, Duration::from_millis(1)),
        &seen,
        per_channel,
    )
    .await;
    send_burst(&server, channels, per_channel);
    let by = |id| seen.lock().unwrap().iter().filter(|e| e.3 == id).count();
    until("the victim handled a few events", LIMIT, || by(0) >= 5).await;
    victim.abort();
    let total = (channels * i64::from(per_channel)) as usize;
    until("every event handled", LIMIT, || distinct(&seen) == total).await;
    assert_in_order(&seen, channels, per_channel);
    let redelivered: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.2 > 1)
        .cloned()
        .collect();
    assert!(
        !redelivered.is_empty() && redelivered.iter().all(|e| e.3 == 1),
        "the victim's unacknowledged events went to the survivor: {redelivered:?}"
    );
    survivor.shutdown().await;
    relay.shutdown().await;
    server.shutdown().await;
}

async fn stored(js: &jetstream::Context, bot: i64) -> u64 {
    let mut stream = js.get_stream(format!("MEZON_{bot}")).await.unwrap();
    stream.info().await.unwrap().state.last_sequence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_relay_does_not_store_an_event_twice() {
    let Some(nats) = Nats::start("relay restart") else {
        return;
    };
    let server = mezon_server().await;
    let bot = server.bot_id();
    let js = jetstream::new(nats.connect().await);

    let relay = logged_in_relay(&nats, &server).await;
    send_burst(&server, 2, 25);
    until("50 events stored", LIMIT, || {
        futures_lite_block(stored(&js, bot)) == 50
    })
    .await;
    assert_eq!(relay.shutdown().await, 50);
    assert_eq!(stored(&js, bot).await, 50);

    // A new relay (a new process, say) gets the same events again, as after a resync.
    let relay = logged_in_relay(&nats, &server).await;
    for c in 0..2 {
        for message in server.messages(FIRST_CHANNEL + c) {
            server.push(mezon::proto::realtime::envelope::Message::ChannelMessage(
                message,
            ));
        }
    }
    server
        .user(ALICE)
        .send_message(FIRST_CHANNEL, "new")
        .unwrap();
    until("the new message", LIMIT, || {
        futures_lite_block(stored(&js, bot)) == 51
    })
    .await;
    assert_eq!(relay.shutdown().await, 1, "only the new message was stored");
    assert_eq!(stored(&js, bot).await, 51);
    server.shutdown().await;
}

/// Runs a future to completion from a sync poll closure (on a multi-thread runtime).
fn futures_lite_block<F: std::future::Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_reach_the_server_and_failures_are_typed() {
    let Some(nats) = Nats::start("commands") else {
        return;
    };
    let server = mezon_server().await;
    let bot = server.bot_id();
    let relay = logged_in_relay(&nats, &server).await;
    let commands = Commands::new(nats.connect().await, bot);
    let dest = Destination::new(CLAN, FIRST_CHANNEL, mezon::ChannelType::Text, true);

    let ack = commands.send(dest, "hello").await.unwrap();
    assert_ne!(ack.message_id, 0);
    let sent = server
        .messages(FIRST_CHANNEL)
        .into_iter()
        .find(|m| m.message_id == ack.message_id)
        .expect("stored by the server");
    assert_eq!(text_of(&sent), "hello");
    assert_eq!(sent.sender_id, bot);

    let original_id = server
        .user(ALICE)
        .send_message(FIRST_CHANNEL, "hi bot")
        .unwrap();
    let original = server
        .messages(FIRST_CHANNEL)
        .into_iter()
        .find(|m| m.message_id == original_id)
        .unwrap();
    let reply = commands.reply(&original, "hi alice").await.unwrap();
    let stored_reply = server
        .messages(FIRST_CHANNEL)
        .into_iter()
        .find(|m| m.message_id == reply.message_id)
        .unwrap();
    assert!(
        stored_reply
            .references()
            .is_ok_and(|r| r.iter().any(|r| r.message_ref_id == original_id))
    );

    commands.react(&original, "👍").await.unwrap();
    commands.typing(dest).await.unwrap();
    commands
        .edit(dest, ack.message_id, "hello again")
        .await
        .unwrap();
    until("the edit", LIMIT, || {
        server
            .messages(FIRST_CHANNEL)
            .iter()
            .any(|m| m.message_id == ack.message_id && text_of(m) == "hello again")
    })
    .await;
    commands.delete(dest, ack.message_id).await.unwrap();
    let dm = commands.send_dm(ALICE, "psst").await.unwrap();
    assert_ne!(dm.message_id, 0);

    let clans = commands
        .call::<mezon::transport::api::methods::ListClanDescs>(Default::default())
        .await
        .unwrap();
    assert!(clans.clandesc.iter().any(|c| c.clan_id == CLAN));

    let unknown = commands
        .call_by_name("NoSuchMethod", Default::default())
        .await;
    assert!(
        matches!(
            unknown,
            Err(CommandError::Relay {
                kind: FailureKind::UnknownMethod,
                ..
            })
        ),
        "{unknown:?}"
    );
    let bad = commands
        .call_by_name("ListClanDescs", vec![0xFF, 0xFF].into())
        .await;
    assert!(
        matches!(
            bad,
            Err(CommandError::Relay {
                kind: FailureKind::BadRequest,
                ..
            })
        ),
        "{bad:?}"
    );

    relay.shutdown().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_without_a_relay_times_out_clearly() {
    let Some(nats) = Nats::start("dead relay") else {
        return;
    };
    let commands = Commands::new(nats.connect().await, 77).with_timeout(Duration::from_millis(500));
    let dest = Destination::new(CLAN, FIRST_CHANNEL, mezon::ChannelType::Text, true);
    let started = Instant::now();
    let err = commands.send(dest, "anyone?").await.unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(err, CommandError::Timeout { no_relay: true, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("no relay is listening"), "{err}");
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_relay_takes_over_and_there_is_never_a_second_socket() {
    let Some(nats) = Nats::start("failover") else {
        return;
    };
    let server = Arc::new(mezon_server().await);
    let bot = server.bot_id();
    let config = FailoverConfig::default()
        .ttl(Duration::from_secs(1))
        .relay(relay_config());
    let factory = |server: &Arc<mezon::testing::TestServer>| -> mezon_nats::ClientFactory {
        let server = server.clone();
        Arc::new(move || Ok(client_of(&server)))
    };

    // Watch the socket count the whole time.
    let most = Arc::new(AtomicUsize::new(0));
    let watcher = tokio::spawn({
        let (server, most) = (server.clone(), most.clone());
        async move {
            loop {
                most.fetch_max(server.connections().len(), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });

    let first = FailoverRelay::start(
        nats.connect().await,
        bot,
        factory(&server),
        config.clone().holder("first"),
    )
    .await
    .unwrap();
    tokio::time::timeout(LIMIT, first.wait_active())
        .await
        .unwrap();
    let second = FailoverRelay::start(
        nats.connect().await,
        bot,
        factory(&server),
        config.clone().holder("second"),
    )
    .await
    .unwrap();
    // The standby stays a standby while the first renews its lease.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(first.is_active() && !second.is_active());

    let crashed = Instant::now();
    first.abort().await;
    tokio::time::timeout(LIMIT, second.wait_active())
        .await
        .unwrap();
    let took = crashed.elapsed();
    assert!(took < Duration::from_secs(5), "takeover took {took:?}");

    // The new relay serves events and commands.
    let worker = Worker::new(nats.connect().await, bot);
    worker.on_channel_message(|msg, delivery| async move {
        delivery.reply(&msg, "still here").await?;
        Ok::<(), CommandError>(())
    });
    let running = worker.start().await.unwrap();
    server
        .user(ALICE)
        .send_message(FIRST_CHANNEL, "hello?")
        .unwrap();
    until("the worker's reply through the new relay", LIMIT, || {
        server
            .messages(FIRST_CHANNEL)
            .iter()
            .any(|m| m.sender_id == bot && text_of(m) == "still here")
    })
    .await;
    running.shutdown().await;
    second.shutdown().await;
    watcher.abort();
    assert_eq!(most.load(Ordering::SeqCst), 1, "never two sockets at once");
    if let Ok(server) = Arc::try_unwrap(server) {
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_events_and_headers_reach_workers_by_default() {
    let Some(nats) = Nats::start("lifecycle") else {
        return;
    };
    let server = mezon_server().await;
    let bot = server.bot_id();
    let client = client_of(&server);
    let relay = Relay::start(client.clone(), nats.connect().await, RelayConfig::default())
        .await
        .unwrap();
    let worker = Worker::new(nats.connect().await, bot);
    let ready = Arc::new(Mutex::new(None));
    worker.dispatcher().on_ready({
        let ready = ready.clone();
        move |event, _delivery| *ready.lock().unwrap() = Some(event.user_id)
    });
    let running = worker.start().await.unwrap();
    client.login().await.unwrap();
    until("the relayed ready event", LIMIT, || {
        *ready.lock().unwrap() == Some(bot)
    })
    .await;

    // With no worker left to take it off the (work-queue) stream, the stored message can be
    // read back: the envelope as received, and the documented headers.
    running.shutdown().await;
    let id = server
        .user(ALICE)
        .send_message(FIRST_CHANNEL, "headers")
        .unwrap();
    let js = jetstream::new(nats.connect().await);
    let stream = js.get_stream(format!("MEZON_{bot}")).await.unwrap();
    let partition = mezon_nats::subjects::partition_of(FIRST_CHANNEL, 16);
    let subject = format!("mezon.{bot}.ev.{partition}.channel_message");
    let mut stored = None;
    until("the stored message", LIMIT, || {
        stored = futures_lite_block(stream.get_last_raw_message_by_subject(&subject)).ok();
        stored.is_some()
    })
    .await;
    let stored = stored.unwrap();
    let headers = stored.headers;
    let header = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
    assert_eq!(header("Mezon-Kind").as_deref(), Some("channel_message"));
    assert_eq!(header("Mezon-Channel"), Some(FIRST_CHANNEL.to_string()));
    assert_eq!(header("Mezon-Clan"), Some(CLAN.to_string()));
    assert_eq!(header("Mezon-Message"), Some(id.to_string()));
    let (_, event) = mezon::Event::decode(stored.payload).unwrap();
    assert!(matches!(event, mezon::Event::ChannelMessage(m) if m.message_id == id));
    relay.shutdown().await;
    server.shutdown().await;
}
