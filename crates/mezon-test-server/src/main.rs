//! `mezon-test-server`: runs the local Mezon server with the demo world until Ctrl-C.
//!
//! ```text
//! cargo run -p mezon-test-server -- --port 7350 [--bot-id N] [--api-key K] [--ws-scheme]
//! ```

use std::process::ExitCode;

use mezon_test_server::{ServerConfig, TestServer, World, demo};

const USAGE: &str =
    "usage: mezon-test-server [--port PORT] [--bot-id ID] [--api-key KEY] [--ws-scheme]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<ServerConfig, String> {
    let mut config = ServerConfig {
        port: Some(7350),
        world: World::demo(),
        ..ServerConfig::default()
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                let port = value("--port")?;
                config.port = Some(port.parse().map_err(|_| format!("bad port {port:?}"))?);
            }
            "--bot-id" => {
                let id = value("--bot-id")?;
                config.bot_id = id.parse().map_err(|_| format!("bad bot id {id:?}"))?;
            }
            "--api-key" => config.api_key = value("--api-key")?,
            "--ws-scheme" => config.ws_url_with_scheme = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let (bot_id, api_key) = (config.bot_id, config.api_key.clone());
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
        "  world:   clan {} with channel {} (public), {} (private), thread {}, user alice {} (DM {})",
        demo::CLAN_ID,
        demo::TEXT_CHANNEL_ID,
        demo::PRIVATE_CHANNEL_ID,
        demo::THREAD_ID,
        demo::ALICE_ID,
        demo::ALICE_DM_ID
    );
    println!("Ctrl-C to stop.");
    stop_signal().await;
    server.shutdown().await;
    ExitCode::SUCCESS
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

    fn parse(args: &[&str]) -> Result<ServerConfig, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn parses_flags() {
        let config = parse(&[
            "--port",
            "9000",
            "--bot-id",
            "77",
            "--api-key",
            "k",
            "--ws-scheme",
        ])
        .unwrap();
        assert_eq!(config.port, Some(9000));
        assert_eq!(config.bot_id, 77);
        assert_eq!(config.api_key, "k");
        assert!(config.ws_url_with_scheme);
        assert_eq!(parse(&[]).unwrap().port, Some(7350));
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["--nope"]).is_err());
    }
}
