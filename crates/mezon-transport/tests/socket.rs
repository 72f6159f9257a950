//! The socket: request correlation, reconnects, heartbeat, bad frames, backpressure.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{config, creds, event_number, next, next_lifecycle, numbered_event, server};
use mezon_test_server::{RawFrame, ServerConfig, Target};
use mezon_transport::proto::realtime::envelope::Message;
use mezon_transport::proto::realtime::{ClanJoin, Ping};
use mezon_transport::{
    DisconnectReason, Inbound, Lifecycle, LoginError, RejoinHook, RequestError, Transport,
    TransportError, TransportHandle,
};
use tokio::time::Instant;

#[tokio::test]
async fn seventy_thousand_sequential_requests_wrap_the_cid() {
    let server = server(ServerConfig::default()).await;
    let (handle, _inbound) = Transport::connect(config(&server), creds(&server), None)
        .await
        .expect("connect");
    let started = std::time::Instant::now();
    for i in 0..70_000u32 {
        let answer = handle.request(Message::Ping(Ping {})).await;
        match answer {
            Ok(envelope) => assert!(matches!(envelope.message, Some(Message::Pong(_)))),
            Err(e) => panic!("request {i} failed: {e}"),
        }
    }
    let elapsed = started.elapsed();
    println!(
        "70000 request round trips in {elapsed:?} ({:.0}/s)",
        70_000.0 / elapsed.as_secs_f64()
    );
    assert_eq!(handle.pending_count(), 0, "no pending entry leaked");
    assert_eq!(server.connections().len(), 1, "one connection throughout");
    handle.shutdown().await;
}

/// Records the order of rejoins and events as the consumer sees them.
struct RecordingHook {
    log: Arc<Mutex<Vec<String>>>,
    server_pushes: Arc<dyn Fn() + Send + Sync>,
}

#[async_trait::async_trait]
impl RejoinHook for RecordingHook {
    async fn rejoin(&self, handle: &TransportHandle) -> Result<(), RequestError> {
        // An event pushed on the new connection while we rejoin must wait for us.
        (self.server_pushes)();
        tokio::time::sleep(Duration::from_millis(500)).await;
        handle
            .request(Message::ClanJoin(ClanJoin {
                clan_id: 0,
                ..Default::default()
            }))
            .await?;
        self.log.lock().expect("log").push("rejoined".into());
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn dropped_connection_reconnects_rejoins_first_and_fails_in_flight_requests() {
    common::keep_clock_ticking();
    let server = Arc::new(server(ServerConfig::default()).await);
    let log = Arc::new(Mutex::new(Vec::new()));
    let pusher = Arc::clone(&server);
    let hook = Arc::new(RecordingHook {
        log: Arc::clone(&log),
        server_pushes: Arc::new(move || pusher.push(numbered_event(2))),
    });
    let (handle, mut inbound) = common::connect(&server, config(&server), Some(hook)).await;

    server.push(numbered_event(1));
    match next(&mut inbound, Duration::from_secs(5)).await {
        Inbound::Envelope(bytes) => assert_eq!(event_number(&bytes), Some(1)),
        other => panic!("unexpected {other:?}"),
    }

    // A request in flight when the link drops fails at once, not at its timeout.
    server.set_answer_delay(Duration::from_secs(5));
    let requester = handle.clone();
    let in_flight = tokio::spawn(async move {
        let started = Instant::now();
        let result = requester.request(Message::Ping(Ping {})).await;
        (result, started.elapsed())
    });
    server
        .wait_for_received(
            |e| matches!(e.message, Some(Message::Ping(_))),
            Duration::from_secs(5),
        )
        .await
        .expect("ping reached the server");
    server.drop_connections();
    let (result, waited) = in_flight.await.expect("task");
    assert!(
        matches!(result, Err(RequestError::ConnectionLost)),
        "{result:?}"
    );
    assert!(waited < Duration::from_secs(1), "failed after {waited:?}");
    server.set_answer_delay(Duration::ZERO);

    let mut lifecycle = Vec::new();
    loop {
        match next(&mut inbound, Duration::from_secs(30)).await {
            Inbound::Lifecycle(l) => {
                let done = matches!(l, Lifecycle::Reconnected { .. });
                lifecycle.push(l);
                if done {
                    break;
                }
            }
            Inbound::Envelope(bytes) => {
                log.lock()
                    .expect("log")
                    .push(format!("event {:?}", event_number(&bytes)));
            }
            Inbound::FrameError { error, .. } => panic!("bad frame {error}"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        matches!(lifecycle.as_slice(), [
            Lifecycle::Disconnected { .. },
            Lifecycle::Reconnecting { attempt: 1, delay },
            Lifecycle::Reconnected { .. },
        ] if *delay <= Duration::from_secs(1)),
        "{lifecycle:?}"
    );
    match next(&mut inbound, Duration::from_secs(5)).await {
        Inbound::Envelope(bytes) => {
            log.lock()
                .expect("log")
                .push(format!("event {:?}", event_number(&bytes)));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(*log.lock().expect("log"), ["rejoined", "event Some(2)"]);
    assert!(handle.is_connected());
    handle
        .request(Message::Ping(Ping {}))
        .await
        .expect("new link works");
    handle.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn silent_link_is_declared_dead_and_replaced_within_20_s() {
    common::keep_clock_ticking();
    let server = server(ServerConfig::default()).await;
    let (handle, mut inbound) = common::connect(&server, config(&server), None).await;
    // Let a few heartbeats pass normally first.
    tokio::time::sleep(Duration::from_secs(25)).await;
    assert!(handle.is_connected());
    assert_eq!(server.connections().len(), 1);

    server.set_answer_pings(false);
    let silent_since = Instant::now();
    let lifecycle = next_lifecycle(&mut inbound, Duration::from_secs(20)).await;
    assert!(
        matches!(
            lifecycle,
            Lifecycle::Disconnected {
                reason: DisconnectReason::HeartbeatTimeout
            }
        ),
        "{lifecycle:?}"
    );
    server.set_answer_pings(true);
    loop {
        if let Lifecycle::Reconnected { .. } =
            next_lifecycle(&mut inbound, Duration::from_secs(20)).await
        {
            break;
        }
    }
    let replaced_after = silent_since.elapsed();
    assert!(
        replaced_after <= Duration::from_secs(20),
        "{replaced_after:?}"
    );
    assert!(
        replaced_after >= Duration::from_secs(10),
        "{replaced_after:?}"
    );
    // The old connection's heartbeat is gone: the new link stays up through several of its
    // own heartbeats.
    let quiet = tokio::time::timeout(
        Duration::from_secs(35),
        futures_util::StreamExt::next(&mut inbound),
    )
    .await;
    assert!(quiet.is_err(), "unexpected {quiet:?}");
    assert!(handle.is_connected());
    handle
        .request(Message::Ping(Ping {}))
        .await
        .expect("new link works");
    handle.shutdown().await;
}

#[tokio::test]
async fn oversize_frames_are_refused_from_their_header() {
    let server = server(ServerConfig::default()).await;
    let config = config(&server).max_frame_size(64 * 1024);
    let (handle, mut inbound) = Transport::connect(config, creds(&server), None)
        .await
        .expect("connect");
    server.send_raw_frame(Target::All, RawFrame::oversize(100 * 1024));
    let reason = loop {
        match next(&mut inbound, Duration::from_secs(5)).await {
            Inbound::Lifecycle(Lifecycle::Disconnected { reason }) => break reason.to_string(),
            Inbound::Lifecycle(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(
        reason.contains("Space limit exceeded")
            || reason.contains("too long")
            || reason.contains("size"),
        "{reason}"
    );
    // The supervisor reconnects, and the new link works.
    loop {
        if let Inbound::Lifecycle(Lifecycle::Reconnected { .. }) =
            next(&mut inbound, Duration::from_secs(5)).await
        {
            break;
        }
    }
    handle
        .request(Message::Ping(Ping {}))
        .await
        .expect("new link works");
    handle.shutdown().await;
}

#[tokio::test]
async fn bad_frames_are_reported_and_skipped() {
    let server = server(ServerConfig {
        outbound_queue: 10_000,
        ..ServerConfig::default()
    })
    .await;
    let config = config(&server).max_frame_size(64 * 1024);
    let (handle, mut inbound) = Transport::connect(config, creds(&server), None)
        .await
        .expect("connect");
    // Unknown variants are delivered (not bad); oversize frames end the connection (see
    // `oversize_frames_are_refused_from_their_header`).
    let bad_frames = [
        RawFrame::garbage(),
        RawFrame::Text("{\"not\":\"binary\"}".into()),
        RawFrame::unknown_variant(),
    ];
    let mut injected = 0;
    for n in 0..1000 {
        server.push(numbered_event(n));
        if n % 10 == 5 {
            server.send_raw_frame(Target::All, bad_frames[injected % bad_frames.len()].clone());
            injected += 1;
        }
        if n % 100 == 50 {
            // Valid frames that are not events: a binary pong, and a raw answer nobody asked
            // for. Neither reaches the consumer nor counts as bad.
            server.send_raw_frame(Target::All, mezon_transport::frame::encode_binary_pong(7));
            let stray = mezon_transport::frame::encode_raw_answer(
                4242,
                0,
                &bytes::Bytes::from_static(b"stray"),
                64,
            );
            for frame in stray {
                server.send_raw_frame(Target::All, frame);
            }
        }
    }
    let mut events = Vec::new();
    let mut reported = Vec::new();
    let mut unknown = 0;
    while events.len() < 1000 {
        match next(&mut inbound, Duration::from_secs(5)).await {
            Inbound::Envelope(bytes) => match event_number(&bytes) {
                Some(n) => events.push(n),
                None => unknown += 1,
            },
            Inbound::FrameError { error, len } => reported.push((error.to_string(), len)),
            Inbound::Lifecycle(Lifecycle::Connected) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(events, (0..1000).collect::<Vec<_>>());
    let unknown_injected = injected / 3;
    assert_eq!(unknown, unknown_injected, "unknown variants are delivered");
    assert_eq!(reported.len(), injected - unknown_injected, "{reported:?}");
    assert_eq!(
        handle.unknown_answers(),
        10,
        "stray raw answers are counted"
    );
    assert!(reported.iter().any(|(e, _)| e.contains("text")));
    assert!(reported.iter().any(|(e, _)| e.contains("parse")));
    assert!(handle.is_connected());
    assert_eq!(server.connections().len(), 1);
    handle.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn rejected_login_stops_reconnecting() {
    common::keep_clock_ticking();
    let server = server(ServerConfig::default()).await;
    let (handle, mut inbound) = common::connect(&server, config(&server), None).await;
    server.revoke_tokens();
    server.refuse_logins(1_000);
    server.drop_connections();
    let stopped = loop {
        if let Lifecycle::Stopped { error } =
            next_lifecycle(&mut inbound, Duration::from_secs(30)).await
        {
            break error;
        }
    };
    let error = stopped.expect("stopped with an error");
    assert!(
        matches!(
            *error,
            TransportError::Login(LoginError::Unauthorized { .. })
        ),
        "{error:?}"
    );
    // The stream ends, and nothing keeps trying.
    assert!(
        tokio::time::timeout(Duration::from_secs(5), async {
            while inbound.recv().await.is_some() {}
        })
        .await
        .is_ok()
    );
    let logins_after_drop = server
        .http_log()
        .iter()
        .filter(|c| c.path.ends_with("/authenticate/token") && !c.authorized)
        .count();
    assert_eq!(logins_after_drop, 1);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(server.connections().len(), 0);
    let error = handle
        .request(Message::Ping(Ping {}))
        .await
        .expect_err("stopped");
    assert!(matches!(error, RequestError::Stopped(_)), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn slow_consumer_loses_nothing_and_never_reconnects() {
    const EVENTS: i64 = 20_000;
    const CAPACITY: usize = 256;
    let server = server(ServerConfig {
        outbound_queue: 30_000,
        ..ServerConfig::default()
    })
    .await;
    let config = config(&server)
        .inbound_capacity(CAPACITY)
        .event_overflow(CAPACITY, 1 << 20);
    let (handle, mut inbound) = common::connect(&server, config, None).await;
    for n in 0..EVENTS {
        server.push(numbered_event(n));
    }
    let started = Instant::now();
    let mut expected = 0;
    while expected < EVENTS {
        match next(&mut inbound, Duration::from_secs(30)).await {
            Inbound::Envelope(bytes) => {
                assert_eq!(event_number(&bytes), Some(expected));
                expected += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => panic!("unexpected {other:?} after {expected} events"),
        }
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1000), "{took:?}");
    assert!(handle.is_connected());
    assert_eq!(server.connections().len(), 1, "never reconnected");
    assert!(
        handle.backlog_high_water() <= CAPACITY,
        "reader held {} events",
        handle.backlog_high_water()
    );
    // The overflow did fill up: the reader paused instead of reading on.
    assert_eq!(handle.backlog_high_water(), CAPACITY);
    // The link is still healthy after 1000 s of backpressure.
    handle.request(Message::Ping(Ping {})).await.expect("ping");
    handle.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn reconnect_does_not_wait_for_a_slow_consumer_to_catch_up() {
    const EVENTS: i64 = 500;
    const CAPACITY: usize = 16;
    common::keep_clock_ticking();
    let server = server(ServerConfig {
        outbound_queue: 2_000,
        ..ServerConfig::default()
    })
    .await;
    let config = config(&server).inbound_capacity(CAPACITY);
    let (handle, mut inbound) = common::connect(&server, config, None).await;
    for n in 0..EVENTS {
        server.push(numbered_event(n));
    }
    let held = tokio::time::timeout(Duration::from_secs(5), async {
        while handle.backlog_high_water() < EVENTS as usize - CAPACITY {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(held.is_ok(), "the reader read the burst");
    let first = server.connections();
    server.drop_connections();
    // Not one event has been taken, yet the transport is back on a new socket.
    let replaced = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let now = server.connections();
            if !now.is_empty() && now != first && handle.is_connected() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(replaced.is_ok(), "reconnect waited for the consumer");
    server.push(numbered_event(EVENTS));
    // Old events first, then the lifecycle of the drop, then the new connection's event.
    for expected in 0..EVENTS {
        match next(&mut inbound, Duration::from_secs(5)).await {
            Inbound::Envelope(bytes) => assert_eq!(event_number(&bytes), Some(expected)),
            other => panic!("unexpected {other:?} before event {expected}"),
        }
    }
    assert!(matches!(
        next(&mut inbound, Duration::from_secs(5)).await,
        Inbound::Lifecycle(Lifecycle::Disconnected { .. })
    ));
    assert!(matches!(
        next(&mut inbound, Duration::from_secs(5)).await,
        Inbound::Lifecycle(Lifecycle::Reconnecting { attempt: 1, .. })
    ));
    assert!(matches!(
        next(&mut inbound, Duration::from_secs(5)).await,
        Inbound::Lifecycle(Lifecycle::Reconnected { .. })
    ));
    match next(&mut inbound, Duration::from_secs(5)).await {
        Inbound::Envelope(bytes) => assert_eq!(event_number(&bytes), Some(EVENTS)),
        other => panic!("unexpected {other:?}"),
    }
    handle.shutdown().await;
}

/// A consumer that stops reading events in the middle of a burst to await a request: the
/// answer, queued behind the rest of the burst, overtakes the events when the overflow can
/// hold them, and the request times out when it cannot. Either way no event is lost.
async fn request_in_the_middle_of_a_burst(overflow: usize) -> Result<(), RequestError> {
    const EVENTS: i64 = 5_000;
    const CAPACITY: usize = 256;
    const READ_FIRST: i64 = 100;
    common::keep_clock_ticking();
    let server = server(ServerConfig {
        outbound_queue: 10_000,
        ..ServerConfig::default()
    })
    .await;
    let config = config(&server)
        .inbound_capacity(CAPACITY)
        .event_overflow(overflow, 64 << 20);
    let (handle, mut inbound) = common::connect(&server, config, None).await;
    settle(&server, &handle).await;
    for n in 0..EVENTS {
        server.push(numbered_event(n));
    }
    let mut expected = 0;
    let mut receive = async |inbound: &mut mezon_transport::InboundStream| {
        match next(inbound, Duration::from_secs(30)).await {
            Inbound::Envelope(bytes) => assert_eq!(event_number(&bytes), Some(expected)),
            other => panic!("unexpected {other:?} after {expected} events"),
        }
        expected += 1;
    };
    for _ in 0..READ_FIRST {
        receive(&mut inbound).await;
    }
    // Within the default 10 s request timeout, or `Timeout`.
    let answer = handle.request(Message::Ping(Ping {})).await;
    for _ in READ_FIRST..EVENTS {
        receive(&mut inbound).await;
    }
    assert_eq!(server.connections().len(), 1, "never reconnected");
    assert!(
        handle.backlog_high_water() <= overflow,
        "reader held {} events",
        handle.backlog_high_water()
    );
    handle.shutdown().await;
    answer.map(drop)
}

#[tokio::test(start_paused = true)]
async fn answer_overtakes_a_burst_the_overflow_can_hold() {
    request_in_the_middle_of_a_burst(8_192)
        .await
        .expect("the answer arrives while the consumer is not reading events");
}

#[tokio::test(start_paused = true)]
async fn answer_behind_a_burst_larger_than_the_overflow_times_out() {
    let error = request_in_the_middle_of_a_burst(256)
        .await
        .expect_err("the reader paused before reaching the answer");
    assert!(matches!(error, RequestError::Timeout), "{error:?}");
}

/// Waits until the heartbeat's first ping has been answered, so only the test's own requests
/// are in flight afterwards.
async fn settle(server: &mezon_test_server::TestServer, handle: &TransportHandle) {
    server
        .wait_for_received(
            |e| matches!(e.message, Some(Message::Ping(_))),
            Duration::from_secs(5),
        )
        .await
        .expect("first heartbeat ping");
    let settled = tokio::time::timeout(Duration::from_secs(5), async {
        while handle.pending_count() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(settled.is_ok(), "the first ping was never answered");
}

#[tokio::test(start_paused = true)]
async fn dropping_a_request_frees_its_cid_and_a_late_answer_is_counted() {
    common::keep_clock_ticking();
    let server = server(ServerConfig::default()).await;
    let (handle, _inbound) = Transport::connect(config(&server), creds(&server), None)
        .await
        .expect("connect");
    settle(&server, &handle).await;
    server.set_answer_delay(Duration::from_secs(2));
    let given_up = tokio::time::timeout(
        Duration::from_millis(100),
        handle.request(Message::Ping(Ping {})),
    )
    .await;
    assert!(given_up.is_err(), "the answer is delayed");
    assert_eq!(
        handle.pending_count(),
        0,
        "dropping the future freed the cid"
    );
    let counted = tokio::time::timeout(Duration::from_secs(5), async {
        while handle.unknown_answers() == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(counted.is_ok(), "the late answer was not counted");
    assert_eq!(handle.unknown_answers(), 1);
    handle.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn unanswered_request_times_out() {
    common::keep_clock_ticking();
    let server = server(ServerConfig::default()).await;
    let config = config(&server).request_timeout(Duration::from_secs(1));
    let (handle, _inbound) = Transport::connect(config, creds(&server), None)
        .await
        .expect("connect");
    settle(&server, &handle).await;
    server.set_answer_delay(Duration::from_secs(5));
    let started = Instant::now();
    let error = handle
        .request(Message::Ping(Ping {}))
        .await
        .expect_err("times out");
    assert!(matches!(error, RequestError::Timeout), "{error:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_millis(1100),
        "{waited:?}"
    );
    assert_eq!(handle.pending_count(), 0);
    handle.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn request_made_while_reconnecting_waits_for_the_new_link() {
    common::keep_clock_ticking();
    let server = server(ServerConfig::default()).await;
    let (handle, mut inbound) = common::connect(&server, config(&server), None).await;
    server.drop_connections();
    assert!(matches!(
        next_lifecycle(&mut inbound, Duration::from_secs(5)).await,
        Lifecycle::Disconnected { .. }
    ));
    let requester = handle.clone();
    let waiting = tokio::spawn(async move { requester.request(Message::Ping(Ping {})).await });
    loop {
        if let Lifecycle::Reconnected { .. } =
            next_lifecycle(&mut inbound, Duration::from_secs(10)).await
        {
            break;
        }
    }
    let answer = waiting
        .await
        .expect("task")
        .expect("answered on the new link");
    assert!(matches!(answer.message, Some(Message::Pong(_))));
    handle.shutdown().await;
    assert!(matches!(
        next_lifecycle(&mut inbound, Duration::from_secs(5)).await,
        Lifecycle::Stopped { error: None }
    ));
    let error = handle
        .request(Message::Ping(Ping {}))
        .await
        .expect_err("shut down");
    assert!(matches!(error, RequestError::Closed), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn backoff_between_failed_attempts_then_give_up() {
    common::keep_clock_ticking();
    let server = server(ServerConfig::default()).await;
    let config = config(&server)
        .reconnect(mezon_transport::ReconnectPolicy::default().max_attempts(Some(4)))
        .reconnect_wait(Duration::from_secs(2))
        .max_waiting_requests(1);
    let (handle, mut inbound) = common::connect(&server, config, None).await;
    server.shutdown().await;

    assert!(matches!(
        next_lifecycle(&mut inbound, Duration::from_secs(5)).await,
        Lifecycle::Disconnected { .. }
    ));
    let disconnected_at = Instant::now();
    // One request may wait for the link (bounded in time); a second one is refused at once.
    let requester = handle.clone();
    let waiting = tokio::spawn(async move {
        let started = Instant::now();
        (
            requester.request(Message::Ping(Ping {})).await,
            started.elapsed(),
        )
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    let refused = handle.request(Message::Ping(Ping {})).await;
    assert!(
        matches!(refused, Err(RequestError::QueueFull)),
        "{refused:?}"
    );

    let mut attempts = Vec::new();
    let stopped = loop {
        match next_lifecycle(&mut inbound, Duration::from_secs(60)).await {
            Lifecycle::Reconnecting { attempt, delay } => attempts.push((attempt, delay)),
            Lifecycle::Stopped { error } => break error,
            other => panic!("unexpected {other:?}"),
        }
    };
    let down_for = disconnected_at.elapsed();
    let ceilings = [1, 2, 4, 8];
    assert_eq!(attempts.len(), 4, "{attempts:?}");
    for (i, (attempt, delay)) in attempts.iter().enumerate() {
        assert_eq!(*attempt as usize, i + 1);
        assert!(
            *delay <= Duration::from_secs(ceilings[i]),
            "attempt {attempt}: {delay:?}"
        );
    }
    // Every attempt waited its delay before failing.
    let slept: Duration = attempts.iter().map(|(_, delay)| *delay).sum();
    assert!(down_for >= slept, "down {down_for:?}, delays {slept:?}");
    assert!(
        down_for <= slept + Duration::from_millis(100),
        "down {down_for:?}, delays {slept:?}"
    );
    let error = stopped.expect("gave up with an error");
    assert!(
        matches!(*error, TransportError::GaveUp { attempts: 4 }),
        "{error:?}"
    );

    let (result, waited) = waiting.await.expect("task");
    assert!(
        matches!(
            result,
            Err(RequestError::NotConnected | RequestError::Stopped(_))
        ),
        "{result:?}"
    );
    assert!(waited <= Duration::from_secs(2), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn pacing_holds_requests_back_but_never_pings() {
    common::keep_clock_ticking();
    let server = server(ServerConfig::default()).await;
    let config = config(&server).rate_limits(mezon_transport::RateLimits::new(Some(10.0), None));
    let (handle, _inbound) = common::connect(&server, config, None).await;
    // 10 frames of burst, then 10 per second: 260 frames take 25 s, during which the
    // heartbeat must keep pinging on its own schedule.
    let started = Instant::now();
    let mut senders = Vec::new();
    for n in 0..260 {
        let sender = handle.clone();
        senders.push(tokio::spawn(async move {
            sender
                .send(Message::ClanJoin(ClanJoin {
                    clan_id: n,
                    ..Default::default()
                }))
                .await
        }));
    }
    for sender in senders {
        sender.await.expect("task").expect("sent");
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(25) && took < Duration::from_secs(26),
        "{took:?}"
    );
    let pings = server
        .received()
        .iter()
        .filter(|r| matches!(r.envelope.message, Some(Message::Ping(_))))
        .count();
    assert!(pings >= 3, "only {pings} pings while paced");
    assert!(handle.is_connected());
    assert_eq!(server.connections().len(), 1);
    handle.shutdown().await;
}
