//! `mezon-test-server`: runs the local Mezon server until Ctrl-C (or SIGTERM).
//!
//! ```text
//! cargo run -p mezon-test-server -- [--port 7350] [--world world.toml] [--no-echo] …
//! ```
//!
//! `--help` lists every flag.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use mezon_test_server::world_file::{self, BotEntry, Format};
use mezon_test_server::{ServerConfig, TestServer};

const USAGE: &str = "\
usage: mezon-test-server [FLAGS]

  --host ADDR            address to listen on (default 127.0.0.1: this machine only)
  --port PORT            port (default 7350; 0 picks a free one)
  --world FILE           clans, channels, users, DMs and bots from a JSON or TOML file
                         (default: the demo world)
  --print-world          print the world in its file format (TOML for a .toml --world,
                         else JSON) and exit
  --bot-id ID            the bot's id (overrides the world file's first bot)
  --api-key KEY          the bot's api key (overrides the world file's first bot)
  --no-echo              do not send a bot's own channel_message back to it
  --join-policy POLICY   clan (default): public channels of a joined clan and DMs of a
                         participant are writable without channel_join; strict: every
                         send needs a channel_join
  --token-ttl SECS       access token lifetime (default 3600)
  --raw-chunk-size BYTES largest payload of one raw API answer frame (default 8192)
  --ws-scheme            put ws:// in the session's ws_url (default: host:port only)
  -h, --help             this text

Drive it over HTTP under /_control/ (see the crate's README).";

/// What the command line asks for.
#[derive(Debug)]
struct Args {
    config: ServerConfig,
    print_world: bool,
    world_format: Format,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut config = ServerConfig {
        port: Some(7350),
        echo_to_sender: true,
        ..ServerConfig::default()
    };
    let mut print_world = false;
    let mut world: Option<PathBuf> = None;
    let (mut bot_id, mut api_key) = (None, None);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--host" => {
                let host = value("--host")?;
                config.host = host
                    .parse::<IpAddr>()
                    .map_err(|_| format!("bad --host {host:?}: expected an IP address"))?;
            }
            "--port" => config.port = Some(number(&value("--port")?, "--port")?),
            "--bot-id" => bot_id = Some(number(&value("--bot-id")?, "--bot-id")?),
            "--api-key" => api_key = Some(value("--api-key")?),
            "--ws-scheme" => config.ws_url_with_scheme = true,
            "--no-echo" => config.echo_to_sender = false,
            "--join-policy" => {
                config.strict_joins = match value("--join-policy")?.as_str() {
                    "clan" => false,
                    "strict" => true,
                    other => {
                        return Err(format!(
                            "bad --join-policy {other:?}: expected clan or strict"
                        ));
                    }
                };
            }
            "--token-ttl" => {
                let secs: u64 = number(&value("--token-ttl")?, "--token-ttl")?;
                if secs == 0 {
                    return Err("--token-ttl must be at least 1 second".into());
                }
                config.token_ttl = Duration::from_secs(secs);
            }
            "--raw-chunk-size" => {
                let size: usize = number(&value("--raw-chunk-size")?, "--raw-chunk-size")?;
                if size == 0 {
                    return Err("--raw-chunk-size must be at least 1".into());
                }
                config.raw_chunk_size = size;
            }
            "--world" => world = Some(PathBuf::from(value("--world")?)),
            "--print-world" => print_world = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    let mut world_format = Format::Json;
    if let Some(path) = world {
        world_format = Format::of_path(&path);
        let loaded = world_file::load(&path).map_err(|e| e.to_string())?;
        if let Some(bot) = loaded.bot {
            config.bot_id = bot.id;
            config.bot_username = bot.username;
            config.api_key = bot.api_key;
        }
        config.world = loaded.world;
    }
    if let Some(id) = bot_id {
        config.bot_id = id;
    }
    if let Some(key) = api_key {
        config.api_key = key;
    }
    Ok(Args {
        config,
        print_world,
        world_format,
    })
}

fn number<T: std::str::FromStr>(text: &str, flag: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("bad {flag} {text:?}: expected a number"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let config = args.config;
    if args.print_world {
        let bot = BotEntry {
            id: config.bot_id,
            username: config.bot_username.clone(),
            api_key: config.api_key.clone(),
        };
        print!(
            "{}",
            world_file::render(&bot, &config.world, args.world_format)
        );
        return ExitCode::SUCCESS;
    }
    let (bot_id, api_key) = (config.bot_id, config.api_key.clone());
    let summary = world_summary(&config);
    let server = match TestServer::start(config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    println!("local Mezon server at {}", server.base_url());
    println!(
        "  login:   POST {}/v2/apps/authenticate/token",
        server.base_url()
    );
    println!("  bot id:  {bot_id}");
    println!("  api key: {api_key}");
    println!(
        "  world:   {summary} (GET {}/_control/world)",
        server.base_url()
    );
    println!("  control: {}/_control/status", server.base_url());
    println!("Ctrl-C to stop.");
    stop_signal().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}

fn world_summary(config: &ServerConfig) -> String {
    let world = &config.world;
    let dms = world
        .channels
        .iter()
        .filter(|c| c.dm_peer.is_some())
        .count();
    format!(
        "{} clan(s), {} channel(s), {} DM(s), {} user(s), {} more bot(s)",
        world.clans.len(),
        world.channels.len() - dms,
        dms,
        world.users.len(),
        world.bots.len()
    )
}

/// Ctrl-C, or SIGTERM on Unix (so `kill` and process supervisors stop it cleanly too).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn parses_flags() {
        let args = parse(&[
            "--port",
            "9000",
            "--bot-id",
            "77",
            "--api-key",
            "k",
            "--ws-scheme",
            "--no-echo",
            "--join-policy",
            "strict",
            "--token-ttl",
            "60",
            "--raw-chunk-size",
            "16",
            "--host",
            "0.0.0.0",
        ])
        .unwrap();
        let config = args.config;
        assert_eq!(config.port, Some(9000));
        assert_eq!(config.bot_id, 77);
        assert_eq!(config.api_key, "k");
        assert!(config.ws_url_with_scheme);
        assert!(!config.echo_to_sender);
        assert!(config.strict_joins);
        assert_eq!(config.token_ttl, Duration::from_secs(60));
        assert_eq!(config.raw_chunk_size, 16);
        assert_eq!(config.host.to_string(), "0.0.0.0");

        let defaults = parse(&[]).unwrap().config;
        assert_eq!(defaults.port, Some(7350));
        assert!(defaults.echo_to_sender, "the binary echoes by default");
        assert!(!defaults.strict_joins);
        assert_eq!(defaults.host.to_string(), "127.0.0.1");
        for bad in [
            &["--port"][..],
            &["--port", "x"],
            &["--nope"],
            &["--join-policy", "loose"],
            &["--token-ttl", "0"],
            &["--host", "localhost:1"],
            &["--world", "/nonexistent/world.toml"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
