//! Session tokens: real three-part JWTs whose claims clients can read, remembered by the
//! server so it can check them.
//!
//! The signature part is an opaque constant, not an HMAC: clients decode the payload without
//! verifying the signature (`wire.md` §1), and the server checks tokens by looking them up.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::clock::unix_seconds;

/// Which kind of token a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Access,
    Refresh,
}

#[derive(Debug, Clone)]
struct Issued {
    user_id: i64,
    kind: TokenKind,
    expires: SystemTime,
}

/// Tokens handed out and not yet expired or revoked. `Debug` shows only how many.
#[derive(Default)]
pub(crate) struct Tokens {
    issued: HashMap<String, Issued>,
    serial: u64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("issued", &self.issued.len())
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// Mints a token for `user_id` valid for `ttl` from `now` (the server's [`Clock`]
    /// reading), and forgets the tokens expired by then.
    ///
    /// [`Clock`]: crate::clock::Clock
    pub(crate) fn mint(
        &mut self,
        user_id: i64,
        username: &str,
        kind: TokenKind,
        ttl: Duration,
        now: SystemTime,
    ) -> String {
        self.issued.retain(|_, t| t.expires > now);
        self.serial += 1;
        let expires = now + ttl;
        let exp = unix_seconds(expires);
        let header = serde_json::json!({ "alg": "HS256", "typ": "JWT" });
        let payload = serde_json::json!({
            "tid": format!("local-{}", self.serial),
            "uid": user_id,
            "usn": username,
            "exp": exp,
            "vrs": {},
            "kind": match kind { TokenKind::Access => "access", TokenKind::Refresh => "refresh" },
        });
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(b"mezon-test-server: not signed"),
        );
        self.issued.insert(
            token.clone(),
            Issued {
                user_id,
                kind,
                expires,
            },
        );
        token
    }

    /// The user a token of `kind` belongs to, if it is still live at `now`.
    pub(crate) fn check(&self, token: &str, kind: TokenKind, now: SystemTime) -> Option<i64> {
        self.issued
            .get(token)
            .filter(|t| t.kind == kind && t.expires > now)
            .map(|t| t.user_id)
    }

    /// Forgets every access token (refresh tokens stay valid).
    pub(crate) fn revoke_access(&mut self) {
        self.issued.retain(|_, t| t.kind == TokenKind::Refresh);
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn start() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    #[test]
    fn tokens_are_jwts_with_readable_claims() {
        let mut tokens = Tokens::default();
        let now = start();
        let token = tokens.mint(42, "bot", TokenKind::Access, Duration::from_secs(60), now);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(claims["uid"], 42);
        assert_eq!(claims["exp"].as_u64(), Some(1_800_000_060));
        assert!(claims["vrs"].is_object());

        assert_eq!(tokens.check(&token, TokenKind::Access, now), Some(42));
        assert_eq!(tokens.check(&token, TokenKind::Refresh, now), None);
        assert_eq!(tokens.check("a.b.c", TokenKind::Access, now), None);
        tokens.revoke_access();
        assert_eq!(tokens.check(&token, TokenKind::Access, now), None);
    }

    #[test]
    fn expired_tokens_are_refused() {
        let mut tokens = Tokens::default();
        let now = start();
        let token = tokens.mint(1, "bot", TokenKind::Access, Duration::ZERO, now);
        assert_eq!(tokens.check(&token, TokenKind::Access, now), None);

        let ttl = Duration::from_secs(60);
        let token = tokens.mint(1, "bot", TokenKind::Access, ttl, now);
        let later = |secs| now + Duration::from_secs(secs);
        assert_eq!(tokens.check(&token, TokenKind::Access, later(59)), Some(1));
        assert_eq!(tokens.check(&token, TokenKind::Access, later(60)), None);
        // Minting after the expiry forgets the dead token.
        tokens.mint(1, "bot", TokenKind::Access, ttl, later(61));
        assert_eq!(tokens.issued.len(), 1);
    }
}
