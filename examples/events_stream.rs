//! A bot written as a loop over a stream of events instead of handlers.
//!
//! ```sh
//! cargo run --example events_stream
//! ```

use futures_util::StreamExt as _;
use mezon::testing::{World, demo, start_local_server};
use mezon::{Event, EventKind, EventKindSet};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (server, builder) = start_local_server(World::demo()).await?;
    let client = builder.build()?;
    // Only these kinds are decoded for the stream; everything else is skipped unread.
    let mut events = client.events_filtered(
        EventKindSet::of(EventKind::ChannelMessage)
            .with(EventKind::Ready)
            .with(EventKind::MessageReactionEvent),
    );
    client.login().await?;

    let alice = server.user(demo::ALICE_ID);
    for text in ["one", "two", "three"] {
        alice.send_message(demo::TEXT_CHANNEL_ID, text)?;
    }

    let mut seen = 0;
    while let Some(event) = events.next().await {
        match &event {
            Event::Ready(ready) => println!("ready: {} clan(s)", ready.clans),
            Event::ChannelMessage(_) => {
                if let Some(msg) = client.message_of(&event) {
                    println!("{}> {}", msg.username(), msg.text());
                    msg.react("👀").await?;
                    seen += 1;
                    if seen == 3 {
                        // Ends the stream too.
                        client.shutdown().await;
                    }
                }
            }
            other => println!("event: {}", other.name()),
        }
    }
    println!("stream ended after {seen} messages");
    server.shutdown().await;
    Ok(())
}
