//! A local Mezon server that speaks the wire protocol over loopback, for the SDK's own tests,
//! the offline quickstart, and bot authors' tests.
//!
//! It serves the login (`POST /v2/apps/authenticate/token`), the API route
//! (`POST /mezon.api.Mezon/<Method>`) and the socket (`GET /ws?token=…`) on 127.0.0.1, for a
//! [`World`] of clans, channels, users and DMs set up in code or read from a file
//! ([`world_file`]). A [`TestServer`] is also the control handle: act as a human user, push
//! any envelope, inspect what clients sent, and inject faults (dropped connections, unanswered
//! pings, stalled sockets, slow answers, bad frames, refused logins, expired or revoked
//! tokens). The same operations are served over HTTP under `/_control/` on the server's port
//! (JSON; see the README), so a bot in any language, in another process, can be tested too.
//!
//! ```no_run
//! use mezon_test_server::{ServerConfig, TestServer, World};
//!
//! # async fn run() -> Result<(), mezon_test_server::StartError> {
//! let server = TestServer::start(ServerConfig { world: World::demo(), ..Default::default() }).await?;
//! println!("base url {}, bot {}", server.base_url(), server.bot_id());
//! # Ok(())
//! # }
//! ```
//!
//! Tokens are real three-part JWTs whose payload carries `exp`, `uid` and `vrs`; the
//! signature part is an opaque constant that clients do not (and cannot) verify.
//!
//! Supported API methods: `ListClanDescs`, `ListChannelDescs`, `ListChannelDetail`,
//! `CreateChannelDesc`, `ListClanUsers`, `ListChannelMessages`, `GetAccount`,
//! `SessionRefresh`, `Add/List/DeleteQuickMenuAccess`, `UpdateChannelMessage`,
//! `DeleteChannelMessage`, and (empty, the world has none) `ListRoles` and
//! `ListChannelVoiceUsers`; others answer 404 (HTTP) or status 12 (socket).
//!
//! # Time
//! The server reads time through tokio's clock: "now" is the wall time at start plus the time
//! tokio's clock has run since. On a paused clock, `tokio::time::advance` therefore expires
//! tokens ([`ServerConfig::token_ttl`]), ends [`refuse_logins_for`](TestServer::refuse_logins_for)
//! and moves message timestamps and `exp` claims, without waiting.
//!
//! Socket I/O stays real, though: while a frame is in flight the runtime can look idle, and a
//! paused clock then jumps straight to the next pending timer. A test that waits for a frame
//! under `tokio::time::timeout` on a paused clock may therefore time out spuriously; pause
//! only around `advance` (then `tokio::time::resume`), or bound such waits with a real-time
//! guard (for example a thread that completes a oneshot).
#![deny(missing_docs)]

mod agent_sse;
mod api;
mod clock;
mod compose;
mod config;
mod control;
mod control_http;
mod error;
mod frames;
mod http;
mod human;
mod mmn;
mod mmn_grpc;
mod mmn_http;
mod protojson;
mod requests;
mod server;
mod shared;
mod socket;
mod state;
mod tls;
mod token;
pub mod world;
pub mod world_file;

pub use config::ServerConfig;
pub use control::{RawFrame, Target};
pub use error::{ControlError, StartError, WaitError};
pub use human::HumanUser;
pub use mmn::{AcceptedTx, MmnFakes, MmnRoute, ProveCall};
pub use requests::MUST_JOIN;
pub use server::TestServer;
pub use state::{ConnId, HttpCall, Received};
pub use world::{World, channel_type, demo};

/// Compiles the README's example.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
