//! Two echo workers of a bot scaled out on NATS JetStream; run `nats_relay` beside them
//! (see that example and `docs/scale-out.md`).
//!
//! ```sh
//! cargo run -p mezon-nats --example nats_worker
//! ```
//!
//! `NATS_URL` (default `127.0.0.1:4222`) and `MEZON_BOT_ID` (default: the local server's bot)
//! say where to find the events. Each worker answers every message through the relay; any
//! of them may take any channel, but a channel's messages are handled in order. Ctrl-C stops.

use mezon_nats::{CommandError, Worker};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned());
    let bot_id: i64 = match std::env::var("MEZON_BOT_ID") {
        Ok(id) => id.parse()?,
        Err(_) => mezon::testing::ServerConfig::default().bot_id,
    };

    let mut running = Vec::new();
    for name in ["worker-a", "worker-b"] {
        // Each worker has its own connection, as if it ran on its own machine.
        let worker = Worker::new(async_nats::connect(&url).await?, bot_id);
        worker.on_channel_message(move |msg, delivery| async move {
            let text = mezon::MessageContent::parse(&msg.content)
                .map(|c| c.as_text().to_owned())
                .unwrap_or_default();
            println!("{name} (partition {}): {text}", delivery.partition());
            delivery
                .reply(&msg, format!("{name} echoes: {text}"))
                .await?;
            Ok::<(), CommandError>(())
        });
        // Waits for the relay to create the stream.
        let started = loop {
            match worker.start().await {
                Ok(started) => break started,
                Err(mezon_nats::Error::NoStream(_)) => {
                    println!("{name}: waiting for the relay to create the stream…");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        running.push(started);
    }
    println!("two workers consuming bot {bot_id}'s events from {url}; Ctrl-C stops");
    tokio::signal::ctrl_c().await?;
    for worker in running {
        worker.shutdown().await;
    }
    Ok(())
}
