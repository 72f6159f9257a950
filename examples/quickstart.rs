//! An echo / ping bot.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! With `MEZON_BOT_ID` and `MEZON_API_KEY` set (optionally `MEZON_HOST`, `MEZON_PORT`,
//! `MEZON_USE_SSL`), it connects to the real service and answers until Ctrl-C. Without them it
//! starts the local Mezon server embedded in the SDK, plays a user "alice" who sends a few
//! messages, prints the bot's answers, and exits.

use mezon::testing::{World, demo, start_local_server};
use mezon::{Client, ConfigError, Message};
use tokio::sync::mpsc;

/// What the bot answers to a message, if anything.
fn answer(text: &str) -> Option<String> {
    match text.trim() {
        "" => None,
        "!ping" => Some("pong 🏓".to_owned()),
        other => Some(format!("you said: {other}")),
    }
}

/// Registers the bot's behaviour; each answer sent is also reported on `answers`, if given.
fn register(client: &Client, answers: Option<mpsc::Sender<Message>>) {
    client.on_channel_message(move |msg, _client| {
        let answers = answers.clone();
        async move {
            let Some(text) = answer(&msg.text()) else {
                return Ok(());
            };
            let sent = msg.reply(text).await?;
            if let Some(answers) = answers {
                let _ = answers.send(sent).await;
            }
            Ok::<(), mezon::Error>(())
        }
    });
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match Client::from_env() {
        Ok(client) => online(client).await,
        Err(ConfigError::MissingEnv(_)) => offline().await,
        Err(e) => Err(e.into()),
    }
}

async fn online(client: Client) -> Result<(), Box<dyn std::error::Error>> {
    register(&client, None);
    client.login().await?;
    println!(
        "logged in as bot {}; press Ctrl-C to stop",
        client.user_id()
    );
    client.run_until_shutdown().await;
    Ok(())
}

async fn offline() -> Result<(), Box<dyn std::error::Error>> {
    println!("No MEZON_BOT_ID / MEZON_API_KEY: running against the embedded local server.");
    let (server, builder) = start_local_server(World::demo()).await?;
    let client = builder.build()?;
    let (tx, mut answers) = mpsc::channel(8);
    register(&client, Some(tx));
    client.login().await?;
    println!(
        "bot {} logged in at {}",
        client.user_id(),
        server.base_url()
    );

    let alice = server.user(demo::ALICE_ID);
    for text in ["!ping", "hello", "how are you?"] {
        println!("alice> {text}");
        alice.send_message(demo::TEXT_CHANNEL_ID, text)?;
        tokio::select! {
            reply = answers.recv() => match reply {
                Some(reply) => println!("  bot> {}", reply.text()),
                None => break,
            },
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {
                println!("  (no answer within 5 s)");
                break;
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    let stored = server.messages(demo::TEXT_CHANNEL_ID).len();
    println!("the server stored {stored} messages in #general; done.");
    client.shutdown().await;
    server.shutdown().await;
    Ok(())
}
