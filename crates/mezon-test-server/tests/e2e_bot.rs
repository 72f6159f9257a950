//! End to end, across processes: the server binary with default flags, and a bot built with
//! the `mezon` SDK (`examples/sdk_bot.rs`) as a second process that knows only the server's
//! URL. The test drives the bot and checks what it did through `/_control/...` alone, as a
//! test of a bot in any language would.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use mezon_test_server::{ServerConfig, demo};
use serde_json::{Value, json};

/// How long the bot may take for one step (a loaded CI machine).
const STEP: Duration = Duration::from_secs(30);

/// The example bot, built next to this test by `cargo test` (which builds examples).
fn bot_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    // target/<profile>/deps/e2e_bot-<hash> → target/<profile>/examples/sdk_bot
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>");
    let path = profile_dir
        .join("examples")
        .join(format!("sdk_bot{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p mezon-test-server` (which builds examples) or \
         `cargo build -p mezon-test-server --example sdk_bot` first",
        path.display()
    );
    path
}

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `GET /_control/<route>` until `check` accepts the answer; bounded by [`STEP`].
async fn poll(server: &ServerProcess, route: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + STEP;
    loop {
        let (status, answer) = control_get(server.addr, route).await;
        if status == 200 && check(&answer) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "GET {route}: not as expected within {STEP:?}: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn items(answer: &Value) -> &[Value] {
    answer["items"].as_array().map_or(&[], Vec::as_slice)
}

#[tokio::test]
async fn an_sdk_bot_in_its_own_process_is_driven_and_checked_over_http() {
    let server = ServerProcess::spawn(&[]);
    let defaults = ServerConfig::default();
    let bot_id = defaults.bot_id;
    let _bot = Killed(
        Command::new(bot_binary())
            .env("MEZON_BOT_ID", bot_id.to_string())
            .env("MEZON_API_KEY", &defaults.api_key)
            .env("MEZON_BASE_URL", &server.base_url)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the bot starts"),
    );

    // Logged in, connected, and joined clan 0 and the demo clan.
    poll(&server, "frames/received?kind=clan_join", |a| {
        items(a).len() >= 2
    })
    .await;

    let channel = demo::TEXT_CHANNEL_ID;
    let ping = control_ok(
        server.addr,
        "users/send",
        json!({"channel_id": channel, "text": "!ping"}),
    )
    .await;
    let ping_id = id_of(&ping["message_id"]);
    let from_bot = format!("messages?channel_id={channel}&sender_id={bot_id}");
    let answer = poll(&server, &from_bot, |a| !items(a).is_empty()).await;
    let reply = &items(&answer)[0];
    assert_eq!(reply["content"], r#"{"t":"pong"}"#);
    let (_, sent) = control_get(server.addr, "frames/received?kind=channel_message_send").await;
    let send = &items(&sent)[0]["envelope"]["channel_message_send"];
    assert_eq!(
        send["references"][0]["message_ref_id"],
        ping_id.to_string(),
        "a reply references the ping: {send}"
    );

    let react = control_ok(
        server.addr,
        "users/send",
        json!({"channel_id": channel, "text": "!react"}),
    )
    .await;
    let reactions = poll(
        &server,
        "frames/received?kind=message_reaction_event",
        |a| !items(a).is_empty(),
    )
    .await;
    let reaction = &items(&reactions)[0]["envelope"]["message_reaction_event"];
    assert_eq!(reaction["message_id"], react["message_id"]);
    assert_eq!(reaction["emoji"], "👍");

    control_ok(
        server.addr,
        "users/send",
        json!({"channel_id": channel, "text": "!edit"}),
    )
    .await;
    poll(&server, &from_bot, |a| {
        items(a).iter().any(|m| m["content"] == r#"{"t":"edited"}"#)
    })
    .await;

    control_ok(
        server.addr,
        "users/send",
        json!({"channel_id": channel, "text": "!dm"}),
    )
    .await;
    let dm = poll(
        &server,
        &format!(
            "messages?channel_id={}&sender_id={bot_id}",
            demo::ALICE_DM_ID
        ),
        |a| !items(a).is_empty(),
    )
    .await;
    assert_eq!(items(&dm)[0]["content"], r#"{"t":"hello in private"}"#);

    let (_, status) = control_get(server.addr, "status").await;
    assert_eq!(status["counters"]["logins"], 1, "{status}");
    assert_eq!(status["connections"].as_array().map(Vec::len), Some(1));
}
