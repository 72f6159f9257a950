//! Buttons and an interactive embed, routed by component id.
//!
//! ```sh
//! cargo run --example buttons
//! ```
//!
//! Runs against the embedded local server: alice asks for a poll, the bot posts a card with
//! buttons, alice clicks one, and the bot announces the vote.

use mezon::builders::SelectOption;
use mezon::testing::{World, demo, start_local_server};
use mezon::{ButtonBuilder, ButtonStyle, InteractiveBuilder, MessageContent, OutgoingMessage};
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (server, builder) = start_local_server(World::demo()).await?;
    let client = builder.build()?;

    let (poll_tx, mut polls) = mpsc::channel::<i64>(1);
    client.on_channel_message(move |msg, _client| {
        let poll_tx = poll_tx.clone();
        async move {
            if msg.text() != "!poll" {
                return Ok(());
            }
            let card = InteractiveBuilder::new("Lunch?")
                .color("#2e86de")
                .description("Pick what we eat today")
                .field("Deadline", "noon", true)
                .select_field(
                    "lunch:kind",
                    "Kind",
                    vec![
                        SelectOption::new("Pizza", "pizza"),
                        SelectOption::new("Salad", "salad"),
                    ],
                );
            let buttons = ButtonBuilder::new()
                .button("vote:yes", "Yes", ButtonStyle::SUCCESS)
                .button("vote:no", "No", ButtonStyle::DANGER);
            let poll = msg
                .respond(
                    OutgoingMessage::new(MessageContent::text("Vote below"))
                        .embed(card)
                        .action_row(buttons),
                )
                .await?;
            let _ = poll_tx.send(poll.id()).await;
            Ok::<(), mezon::Error>(())
        }
    });

    let (vote_tx, mut votes) = mpsc::channel::<String>(1);
    client.on_button("vote:*", move |click, client| {
        let vote_tx = vote_tx.clone();
        async move {
            let choice = click.button_id.trim_start_matches("vote:").to_owned();
            let voter = client.user(click.user_id);
            let line = format!("{} voted {choice}", voter.username());
            if let Ok(channel) = client.channel(click.channel_id).await {
                let _ = channel.send(line.as_str()).await;
            }
            let _ = vote_tx.send(line).await;
        }
    });

    client.login().await?;
    let alice = server.user(demo::ALICE_ID);
    println!("alice> !poll");
    alice.send_message(demo::TEXT_CHANNEL_ID, "!poll")?;
    let timeout = std::time::Duration::from_secs(5);
    let poll_id = tokio::time::timeout(timeout, polls.recv())
        .await?
        .ok_or("no poll")?;
    println!("  bot> (a card with buttons, message {poll_id})");
    println!("alice clicks [Yes]");
    alice.click_button(poll_id, demo::TEXT_CHANNEL_ID, "vote:yes", "{}")?;
    let vote = tokio::time::timeout(timeout, votes.recv())
        .await?
        .ok_or("no vote")?;
    println!("  bot> {vote}");

    client.shutdown().await;
    server.shutdown().await;
    Ok(())
}
