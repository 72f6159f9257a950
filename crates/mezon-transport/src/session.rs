//! Login, the session it yields, and its refresh (`wire.md` §1).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use prost::Message as _;

use crate::config::TransportConfig;
use crate::error::LoginError;
use crate::http::{Auth, HttpClient, HttpFailure, Lane};
use crate::proto::api;
use crate::secret::{Credentials, Secret};
use crate::url::{UrlError, UrlPolicy, api_method_url, login_url, websocket_url};

/// A logged-in session: tokens, the bot's user id, and where to reach the API and socket.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Session {
    /// The access token (a JWT).
    pub token: Secret,
    /// The refresh token (a JWT).
    pub refresh_token: Secret,
    /// The id token.
    pub id_token: Secret,
    /// The bot's user id (from the session, else the token's `uid` claim).
    pub user_id: i64,
    /// The API base URL, with scheme.
    pub api_url: String,
    /// The socket host, with or without scheme.
    pub ws_url: String,
    /// The server's session id.
    pub session_id: String,
    /// When the access token expires (`exp` claim), if it says.
    pub expires_at: Option<SystemTime>,
    /// When the refresh token expires, if it says.
    pub refresh_expires_at: Option<SystemTime>,
    /// The token's custom variables (`vrs` claim).
    pub vars: HashMap<String, String>,
}

impl Session {
    /// Builds a session from the server's `mezon.api.Session`, reading the token's claims
    /// (without verifying its signature). Tokens that are not JWTs are kept, without expiry.
    pub fn from_proto(session: api::Session) -> Self {
        let claims = decode_claims(&session.token).unwrap_or_default();
        let refresh_claims = decode_claims(&session.refresh_token).unwrap_or_default();
        let user_id = if session.user_id != 0 {
            session.user_id
        } else {
            claims.uid.unwrap_or(0)
        };
        Self {
            token: Secret::new(session.token),
            refresh_token: Secret::new(session.refresh_token),
            id_token: Secret::new(session.id_token),
            user_id,
            api_url: session.api_url,
            ws_url: session.ws_url,
            session_id: session.session_id,
            expires_at: claims.exp,
            refresh_expires_at: refresh_claims.exp,
            vars: claims.vars,
        }
    }

    /// Takes a pushed or refreshed session, keeping what the new one leaves empty, and keeping
    /// the current addresses when the new ones are refused by `policy` (a server cannot move
    /// a TLS client onto plaintext).
    pub(crate) fn updated_with(&self, fresh: api::Session, policy: UrlPolicy) -> Self {
        let mut next = Self::from_proto(fresh);
        if let Err(error) = next.check_addresses(policy) {
            tracing::warn!(%error, "ignoring the addresses of a new session");
            next.api_url = self.api_url.clone();
            next.ws_url = self.ws_url.clone();
        }
        if next.refresh_token.is_empty() {
            next.refresh_token = self.refresh_token.clone();
            next.refresh_expires_at = self.refresh_expires_at;
        }
        if next.id_token.is_empty() {
            next.id_token = self.id_token.clone();
        }
        if next.user_id == 0 {
            next.user_id = self.user_id;
        }
        if next.api_url.is_empty() {
            next.api_url = self.api_url.clone();
        }
        if next.ws_url.is_empty() {
            next.ws_url = self.ws_url.clone();
        }
        if next.session_id.is_empty() {
            next.session_id = self.session_id.clone();
        }
        next
    }

    /// How long until the access token expires (zero if it has); `None` if unknown.
    pub fn remaining(&self) -> Option<Duration> {
        self.expires_at
            .map(|at| at.duration_since(SystemTime::now()).unwrap_or_default())
    }

    /// Checks the session's API and socket addresses against `policy` (empty ones are fine:
    /// the configured base URL stands in for them).
    pub(crate) fn check_addresses(&self, policy: UrlPolicy) -> Result<(), UrlError> {
        if !self.api_url.trim().is_empty() {
            policy.check(&self.api_url)?;
        }
        let fallback = if self.api_url.trim().is_empty() {
            "https://"
        } else {
            &self.api_url
        };
        match websocket_url(&self.ws_url, fallback, "") {
            Ok(url) => policy.check(&url).map(|_| ()),
            Err(UrlError::NoHost) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The API base URL, falling back to the login base URL when the session names none.
    pub(crate) fn api_base<'a>(&'a self, config: &'a TransportConfig) -> &'a str {
        if self.api_url.trim().is_empty() {
            &config.base_url
        } else {
            &self.api_url
        }
    }
}

/// The JWT claims the SDK uses.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Claims {
    pub(crate) exp: Option<SystemTime>,
    pub(crate) uid: Option<i64>,
    pub(crate) vars: HashMap<String, String>,
}

/// Decodes a JWT's payload without verifying it. `None` if it is not a JWT with a JSON payload.
pub(crate) fn decode_claims(token: &str) -> Option<Claims> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = json
        .get("exp")
        .and_then(as_i64)
        .and_then(|secs| u64::try_from(secs).ok())
        .and_then(|secs| UNIX_EPOCH.checked_add(Duration::from_secs(secs)));
    let uid = json.get("uid").and_then(as_i64);
    let vars = json
        .get("vrs")
        .and_then(|v| v.as_object())
        .map(|map| {
            map.iter()
                .map(|(k, v)| {
                    let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.clone(), value)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Claims { exp, uid, vars })
}

fn as_i64(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Logs in with the bot id and api key (`POST {base_url}/v2/apps/authenticate/token`).
///
/// ```no_run
/// # async fn demo() -> Result<(), mezon_transport::LoginError> {
/// use mezon_transport::{Credentials, TransportConfig};
/// let config = TransportConfig::new("http://127.0.0.1:7350");
/// let session = mezon_transport::login(&config, &Credentials::new(1, "api-key")).await?;
/// println!("logged in as {}", session.user_id);
/// # Ok(()) }
/// ```
pub async fn login(config: &TransportConfig, creds: &Credentials) -> Result<Session, LoginError> {
    let http = HttpClient::new(config, false).map_err(LoginError::Setup)?;
    login_with(&http, config, creds).await
}

pub(crate) async fn login_with(
    http: &HttpClient,
    config: &TransportConfig,
    creds: &Credentials,
) -> Result<Session, LoginError> {
    let body = serde_json::json!({
        "account": { "appid": creds.bot_id.to_string(), "token": creds.api_key.expose() }
    });
    let answer = http
        .post(
            Lane::Auth,
            &login_url(&config.base_url),
            Auth::Basic(&creds.api_key),
            "application/json",
            body.to_string().into_bytes(),
        )
        .await
        .map_err(login_failure)?;
    let session = Session::from_proto(api::Session::decode(answer).map_err(LoginError::Decode)?);
    session.check_addresses(config.url_policy())?;
    tracing::debug!(user_id = session.user_id, "logged in");
    Ok(session)
}

/// Exchanges the refresh token for a new session (`SessionRefresh` over HTTP, Basic auth).
pub(crate) async fn refresh_with(
    http: &HttpClient,
    config: &TransportConfig,
    creds: &Credentials,
    current: &Session,
) -> Result<Session, LoginError> {
    let request = api::SessionRefreshRequest {
        token: current.refresh_token.expose().to_owned(),
        ..Default::default()
    };
    let answer = http
        .post(
            Lane::Auth,
            &api_method_url(current.api_base(config), "SessionRefresh"),
            Auth::Basic(&creds.api_key),
            "application/proto",
            request.encode_to_vec(),
        )
        .await
        .map_err(login_failure)?;
    let fresh = api::Session::decode(answer).map_err(LoginError::Decode)?;
    Ok(current.updated_with(fresh, config.url_policy()))
}

fn login_failure(failure: HttpFailure) -> LoginError {
    match failure {
        HttpFailure::Status(status @ (401 | 403)) => LoginError::Unauthorized { status },
        HttpFailure::Status(status) => LoginError::Status { status },
        HttpFailure::Timeout => LoginError::Timeout,
        HttpFailure::Transport(e) => LoginError::Http(e),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn a_new_session_cannot_downgrade_a_tls_client() {
        let old = Session::from_proto(api::Session {
            token: "t1".into(),
            api_url: "https://api.example".into(),
            ws_url: "sock.example:443".into(),
            ..Default::default()
        });
        let policy = UrlPolicy::for_base_url("https://gw.example", false);
        for (api_url, ws_url) in [
            ("http://api.example", ""),
            ("https://api.example", "ws://sock.example"),
            ("http://evil.example", "evil.example:80"),
        ] {
            let new = old.updated_with(
                api::Session {
                    token: "t2".into(),
                    api_url: api_url.into(),
                    ws_url: ws_url.into(),
                    ..Default::default()
                },
                policy,
            );
            assert_eq!(new.token.expose(), "t2", "the tokens are taken");
            assert_eq!(
                (new.api_url.as_str(), new.ws_url.as_str()),
                ("https://api.example", "sock.example:443"),
                "{api_url} {ws_url}"
            );
        }
        // TLS addresses elsewhere are adopted.
        let moved = old.updated_with(
            api::Session {
                api_url: "https://api2.example".into(),
                ws_url: "wss://sock2.example".into(),
                ..Default::default()
            },
            policy,
        );
        assert_eq!(moved.api_url, "https://api2.example");
    }

    /// An unsigned JWT with the given JSON payload.
    pub(crate) fn jwt(payload: &serde_json::Value) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            engine.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            engine.encode(payload.to_string())
        )
    }

    #[test]
    fn reads_exp_uid_and_vars() {
        let token =
            jwt(&serde_json::json!({"exp": 1_900_000_000, "uid": "42", "vrs": {"a": "b", "n": 3}}));
        let claims = decode_claims(&token).expect("claims");
        assert_eq!(
            claims.exp,
            Some(UNIX_EPOCH + Duration::from_secs(1_900_000_000))
        );
        assert_eq!(claims.uid, Some(42));
        assert_eq!(claims.vars.get("a").map(String::as_str), Some("b"));
        assert_eq!(claims.vars.get("n").map(String::as_str), Some("3"));
    }

    #[test]
    fn absurd_expiry_does_not_panic() {
        for exp in [
            serde_json::json!(u64::MAX),
            serde_json::json!(-5),
            serde_json::json!(1e300),
        ] {
            let token = jwt(&serde_json::json!({"exp": exp, "uid": 1}));
            let session = Session::from_proto(api::Session {
                token,
                ..Default::default()
            });
            assert_eq!(session.user_id, 1);
            let _ = session.remaining();
        }
    }

    #[test]
    fn non_jwt_tokens_have_no_claims() {
        assert_eq!(decode_claims("opaque"), None);
        assert_eq!(decode_claims("a.%%%.c"), None);
        assert_eq!(decode_claims("a.bm90IGpzb24.c"), None);
    }

    #[test]
    fn session_takes_uid_when_user_id_is_zero_and_hides_tokens() {
        let token = jwt(&serde_json::json!({"exp": 1_900_000_000, "uid": 77}));
        let session = Session::from_proto(api::Session {
            token: token.clone(),
            refresh_token: "refresh-secret".into(),
            api_url: "http://h:1".into(),
            ..Default::default()
        });
        assert_eq!(session.user_id, 77);
        let shown = format!("{session:?}");
        assert!(
            !shown.contains(&token) && !shown.contains("refresh-secret"),
            "{shown}"
        );
    }

    #[test]
    fn pushed_session_keeps_what_it_leaves_empty() {
        let old = Session::from_proto(api::Session {
            token: "t1".into(),
            refresh_token: "r1".into(),
            user_id: 5,
            api_url: "http://a".into(),
            ws_url: "a:1".into(),
            ..Default::default()
        });
        let new = old.updated_with(
            api::Session {
                token: "t2".into(),
                ..Default::default()
            },
            UrlPolicy::for_base_url("http://a", false),
        );
        assert_eq!(new.token.expose(), "t2");
        assert_eq!(new.refresh_token.expose(), "r1");
        assert_eq!(
            (new.user_id, new.api_url.as_str(), new.ws_url.as_str()),
            (5, "http://a", "a:1")
        );
    }
}
