//! Building the WebSocket and API URLs from what the login returned, and the plaintext policy
//! every URL is checked against before anything is sent to it.

/// The socket URL: `{ws|wss}://{host[:port]}/ws?lang=en&status=true&token=…&format=protobuf`.
///
/// `ws_url` may come with or without a scheme (`ws`, `wss`, `http`, `https`) and may be empty,
/// in which case the host of `api_url` is used. TLS follows `ws_url`'s scheme when it has one,
/// else `api_url`'s; with neither, TLS is used.
pub fn websocket_url(ws_url: &str, api_url: &str, token: &str) -> Result<String, UrlError> {
    let (ws_tls, ws_host) = split_scheme(ws_url.trim());
    let (api_tls, api_host) = split_scheme(api_url.trim());
    let host = if ws_host.is_empty() {
        api_host
    } else {
        ws_host
    };
    if host.is_empty() {
        return Err(UrlError::NoHost);
    }
    let tls = ws_tls.or(api_tls).unwrap_or(true);
    let scheme = if tls { "wss" } else { "ws" };
    Ok(format!(
        "{scheme}://{host}/ws?lang=en&status=true&token={}&format=protobuf",
        percent_encode(token)
    ))
}

/// The HTTP API URL of `method`: `{api_url}/mezon.api.Mezon/{method}`.
pub fn api_method_url(api_url: &str, method: &str) -> String {
    format!(
        "{}/mezon.api.Mezon/{method}",
        api_url.trim().trim_end_matches('/')
    )
}

/// The login URL under a base URL.
pub fn login_url(base_url: &str) -> String {
    format!(
        "{}/v2/apps/authenticate/token",
        base_url.trim().trim_end_matches('/')
    )
}

/// A URL that cannot be built or is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Neither `ws_url` nor `api_url` names a host.
    #[error("the session names no socket host (ws_url and api_url are empty)")]
    NoHost,
    /// The login was configured with TLS (`https`), and this address would move the client
    /// onto plaintext (`http`/`ws`).
    #[error("refusing plaintext to {host}: the client was configured with TLS")]
    Downgrade {
        /// The host the plaintext address names.
        host: String,
    },
    /// Plaintext to a host that is not loopback, without
    /// [`TransportConfig::allow_plaintext`](crate::TransportConfig::allow_plaintext).
    #[error("refusing plaintext to non-loopback host {host} (allow it explicitly to proceed)")]
    Plaintext {
        /// The host.
        host: String,
    },
    /// The URL's scheme is none of `http`, `https`, `ws`, `wss`.
    #[error("unsupported URL scheme (expected http, https, ws or wss)")]
    Scheme,
}

/// Which URLs the configuration allows: TLS everywhere when the login base URL is `https`;
/// plaintext to loopback hosts otherwise, and to other hosts only with the explicit opt-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlPolicy {
    /// The user configured TLS: no address may move the client onto plaintext.
    pub tls_required: bool,
    /// Plaintext to non-loopback hosts is allowed.
    pub allow_plaintext: bool,
}

impl UrlPolicy {
    /// The policy for a login base URL.
    pub fn for_base_url(base_url: &str, allow_plaintext: bool) -> Self {
        let (tls, _) = split_scheme(base_url.trim());
        Self {
            tls_required: tls.unwrap_or(true),
            allow_plaintext,
        }
    }

    /// Checks one URL (with scheme). `Ok(true)` when it is plaintext to a non-loopback host
    /// that the opt-in allows (worth a warning).
    pub fn check(&self, url: &str) -> Result<bool, UrlError> {
        let url = url.trim();
        let Some((scheme, _)) = url.split_once("://") else {
            return Err(UrlError::Scheme);
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "https" || scheme == "wss" {
            return Ok(false);
        }
        if scheme != "http" && scheme != "ws" {
            return Err(UrlError::Scheme);
        }
        let (_, authority) = split_scheme(url);
        let host = host_of(authority);
        if self.tls_required {
            return Err(UrlError::Downgrade { host: host.into() });
        }
        if is_loopback(host) {
            Ok(false)
        } else if self.allow_plaintext {
            Ok(true)
        } else {
            Err(UrlError::Plaintext { host: host.into() })
        }
    }
}

/// The host of `host[:port]` (brackets of an IPv6 literal removed, user info dropped).
fn host_of(authority: &str) -> &str {
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

/// `localhost`, `*.localhost`, 127.0.0.0/8 and `::1`.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Splits an optional scheme off and returns (TLS if the scheme says so, host[:port]).
fn split_scheme(url: &str) -> (Option<bool>, &str) {
    let (tls, rest) = match url.split_once("://") {
        Some((scheme, rest)) => {
            let scheme = scheme.to_ascii_lowercase();
            (Some(scheme == "wss" || scheme == "https"), rest)
        }
        None => (None, url),
    };
    // Keep host[:port] only; a path, if any, is not part of the socket address.
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    (tls, host)
}

fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAIL: &str = "/ws?lang=en&status=true&token=a.b%2Bc%3D&format=protobuf";

    #[test]
    fn host_without_scheme_takes_tls_from_api_url() {
        assert_eq!(
            websocket_url("sock.example:8443", "https://api.example:443", "a.b+c=").as_deref(),
            Ok(format!("wss://sock.example:8443{TAIL}").as_str())
        );
        assert_eq!(
            websocket_url("127.0.0.1:7350", "http://127.0.0.1:7350", "a.b+c=").as_deref(),
            Ok(format!("ws://127.0.0.1:7350{TAIL}").as_str())
        );
    }

    #[test]
    fn scheme_on_ws_url_wins() {
        for (ws, expected) in [
            ("ws://h:1", "ws://h:1"),
            ("wss://h:1/", "wss://h:1"),
            ("http://h:1/ws", "ws://h:1"),
            ("HTTPS://h", "wss://h"),
        ] {
            assert_eq!(
                websocket_url(ws, "https://other", "a.b+c=").as_deref(),
                Ok(format!("{expected}{TAIL}").as_str()),
                "{ws}"
            );
        }
    }

    #[test]
    fn empty_ws_url_falls_back_to_api_host() {
        assert_eq!(
            websocket_url("", "http://api:80/", "a.b+c=").as_deref(),
            Ok(format!("ws://api:80{TAIL}").as_str())
        );
        assert_eq!(websocket_url("", "", "t"), Err(UrlError::NoHost));
        // Neither has a scheme: TLS by default.
        assert!(websocket_url("h:1", "", "t").is_ok_and(|u| u.starts_with("wss://h:1/ws?")));
    }

    #[test]
    fn tls_configured_refuses_every_plaintext_address() {
        let policy = UrlPolicy::for_base_url("https://gw.example", false);
        assert_eq!(policy.check("https://api.example/x"), Ok(false));
        assert_eq!(policy.check("wss://sock.example/ws"), Ok(false));
        for url in [
            "http://api.example",
            "ws://127.0.0.1:1/ws?token=t",
            "HTTP://[::1]:8",
        ] {
            assert!(
                matches!(policy.check(url), Err(UrlError::Downgrade { .. })),
                "{url}"
            );
        }
        // Even with the opt-in: the opt-in is for plaintext configured by the user.
        let opted = UrlPolicy::for_base_url("https://gw.example", true);
        assert!(opted.check("http://api.example").is_err());
    }

    #[test]
    fn plaintext_is_for_loopback_unless_opted_in() {
        let policy = UrlPolicy::for_base_url("http://127.0.0.1:7350", false);
        for url in [
            "http://127.0.0.1:7350",
            "ws://localhost:1/ws",
            "http://[::1]:80/",
            "http://127.8.9.10",
            "ws://a.localhost",
        ] {
            assert_eq!(policy.check(url), Ok(false), "{url}");
        }
        assert_eq!(
            policy.check("http://10.0.0.1:7350"),
            Err(UrlError::Plaintext {
                host: "10.0.0.1".into()
            })
        );
        assert_eq!(
            policy.check("ws://user@localhost.evil.com/ws"),
            Err(UrlError::Plaintext {
                host: "localhost.evil.com".into()
            })
        );
        let opted = UrlPolicy::for_base_url("http://bot-host:7350", true);
        assert_eq!(opted.check("http://bot-host:7350"), Ok(true));
        assert_eq!(policy.check("ftp://x"), Err(UrlError::Scheme));
        assert_eq!(policy.check("no-scheme"), Err(UrlError::Scheme));
    }

    #[test]
    fn api_and_login_urls() {
        assert_eq!(
            api_method_url("https://api.example:443/", "ListClanDescs"),
            "https://api.example:443/mezon.api.Mezon/ListClanDescs"
        );
        assert_eq!(
            login_url("http://127.0.0.1:1"),
            "http://127.0.0.1:1/v2/apps/authenticate/token"
        );
    }
}
