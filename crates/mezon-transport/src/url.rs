//! Building the WebSocket and API URLs from what the login returned.

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

/// A URL that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Neither `ws_url` nor `api_url` names a host.
    #[error("the session names no socket host (ws_url and api_url are empty)")]
    NoHost,
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
