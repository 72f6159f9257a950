//! Lifecycle events while the local server drops the link: the client reconnects on its own,
//! re-joins its clans and channels, and messages flow again.
//!
//! ```sh
//! cargo run --example reconnect
//! ```

use std::time::Duration;

use mezon::testing::{World, demo, start_local_server};
use mezon::{ChannelType, Destination, ReconnectPolicy};
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (server, builder) = start_local_server(World::demo()).await?;
    let client = builder
        .reconnect(
            ReconnectPolicy::default().delays(Duration::from_millis(100), Duration::from_secs(2)),
        )
        .build()?;

    client.on_connected(|c, _| println!("[lifecycle] connected (connection {})", c.connection));
    client.on_disconnected(|d, _| {
        println!(
            "[lifecycle] disconnected: {} (will reconnect: {})",
            d.reason, d.will_reconnect
        )
    });
    client.on_reconnecting(|r, _| {
        println!(
            "[lifecycle] reconnecting: attempt {} in {:?}",
            r.attempt, r.delay
        )
    });
    let (back_tx, mut back) = mpsc::channel::<()>(4);
    client.on_reconnected(move |r, _| {
        println!("[lifecycle] reconnected after {} attempt(s)", r.attempts);
        let _ = back_tx.try_send(());
    });
    client.on_ready(|r, _| println!("[lifecycle] ready: {} clan(s)", r.clans));
    let (msg_tx, mut messages) = mpsc::channel::<String>(4);
    client.on_channel_message(move |msg, _| {
        let _ = msg_tx.try_send(format!(
            "#{} {}> {}",
            msg.channel_id(),
            msg.username(),
            msg.text()
        ));
    });

    client.login().await?;
    let thread = Destination::new(demo::CLAN_ID, demo::THREAD_ID, ChannelType::Thread, false);
    client.join_channel(thread).await?;

    let timeout = Duration::from_secs(10);
    for round in 1..=2 {
        println!("-- the server drops every connection (round {round})");
        server.drop_connections();
        tokio::time::timeout(timeout, back.recv()).await?;
    }
    server
        .user(demo::ALICE_ID)
        .send_message(demo::THREAD_ID, "still there?")?;
    let line = tokio::time::timeout(timeout, messages.recv())
        .await?
        .ok_or("no message")?;
    println!("message after the drops: {line}");

    client.shutdown().await;
    server.shutdown().await;
    Ok(())
}
