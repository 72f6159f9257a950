//! A bot built with the `mezon` SDK, configured from the environment only, for testing the
//! server binary end to end as a separate process (`tests/e2e_bot.rs`).
//!
//! ```sh
//! cargo run -p mezon-test-server &          # the server, on 127.0.0.1:7350
//! MEZON_BOT_ID=1000000001 MEZON_API_KEY=local-api-key \
//!   MEZON_BASE_URL=http://127.0.0.1:7350 cargo run -p mezon-test-server --example sdk_bot
//! ```
//!
//! It answers `!ping` with a reply `pong`, `!react` with a 👍 reaction, `!edit` with a reply
//! it then edits to `edited`, and `!dm` with a DM `hello in private` to the sender.

use mezon::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let client = Client::from_env()?;
    client.on_channel_message(|msg, _client| async move {
        match msg.text().trim() {
            "!ping" => {
                msg.reply("pong").await?;
            }
            "!react" => msg.react("👍").await?,
            "!edit" => {
                let draft = msg.reply("draft").await?;
                draft.edit("edited").await?;
            }
            "!dm" => {
                msg.author().send_dm("hello in private").await?;
            }
            _ => {}
        }
        Ok::<(), mezon::Error>(())
    });
    client.login().await?;
    println!("bot {} ready", client.user_id());
    client.run_until_shutdown().await;
    Ok(())
}
