//! The relay half of a bot scaled out on NATS JetStream (see `docs/scale-out.md`).
//!
//! ```sh
//! nats-server -js &                                   # a local NATS with JetStream
//! cargo run -p mezon-nats --example nats_relay        # this: local Mezon server + relay
//! cargo run -p mezon-nats --example nats_worker       # two echo workers (another terminal)
//! ```
//!
//! It starts the local Mezon server embedded in the SDK, logs the bot in, and relays its
//! events to NATS (`NATS_URL`, default `127.0.0.1:4222`). A user "alice" then writes in
//! `#general` every second; the workers' echoes, sent back through the relay, are printed.
//! Stops after `ROUNDS` messages (default 20) or on Ctrl-C.

use std::time::Duration;

use mezon::testing::{World, demo, start_local_server};
use mezon_nats::{Relay, RelayConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned());
    let rounds: u32 = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);

    let (server, builder) = start_local_server(World::demo()).await?;
    let client = builder.build()?;
    let nats = async_nats::connect(&url).await?;
    // Subscribe before logging in, so no event is missed.
    let relay = Relay::start(client.clone(), nats, RelayConfig::default()).await?;
    client.login().await?;
    println!("bot {} logged in; relaying to {url}", server.bot_id());

    let mut shown = 0;
    for round in 1..=rounds {
        let text = format!("message {round}");
        server
            .user(demo::ALICE_ID)
            .send_message(demo::TEXT_CHANNEL_ID, &text)?;
        println!("alice: {text}");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let messages = server.messages(demo::TEXT_CHANNEL_ID);
        for m in messages
            .iter()
            .filter(|m| m.sender_id == server.bot_id())
            .skip(shown)
        {
            let text = mezon::MessageContent::parse(&m.content)
                .map(|c| c.as_text().to_owned())
                .unwrap_or_default();
            println!("  bot: {text}");
            shown += 1;
        }
    }
    let stored = relay.shutdown().await;
    println!("relay stopped after storing {stored} events");
    server.shutdown().await;
    Ok(())
}
