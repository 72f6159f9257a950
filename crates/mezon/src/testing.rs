//! The local Mezon server (`mezon-test-server`), for running bots and their tests offline,
//! plus [`start_local_server`] to get a client builder pointed at it in one step.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mezon::testing::{World, demo, start_local_server};
//!
//! let (server, builder) = start_local_server(World::demo()).await?;
//! let client = builder.build()?;
//! client.login().await?;
//! server.user(demo::ALICE_ID).send_message(demo::TEXT_CHANNEL_ID, "!ping")?;
//! # client.shutdown().await;
//! # Ok(()) }
//! ```

pub use mezon_test_server::*;

use crate::client::Client;
use crate::config::ClientBuilder;

/// Starts a local server (on 127.0.0.1, a free port) holding `world`, and returns it with a
/// [`ClientBuilder`] for its bot, pointed at it (the chat server and its fake Mezon Money
/// Network: ledger over JSON-RPC and gRPC, and ZK prover). Adjust the builder (reconnect
/// policy, timeouts, ledger route…) before calling [`ClientBuilder::build`].
pub async fn start_local_server(world: World) -> Result<(TestServer, ClientBuilder), StartError> {
    let server = TestServer::start(ServerConfig {
        world,
        ..ServerConfig::default()
    })
    .await?;
    let mmn = server.mmn();
    let builder = Client::builder(server.bot_id(), server.api_key())
        .base_url(server.base_url())
        .mmn_url(mmn.jsonrpc_url())
        .mmn_grpc_url(mmn.grpc_url())
        .zk_url(mmn.zk_url());
    Ok((server, builder))
}
