//! A string that never shows up in `Debug` output or logs.

use std::fmt;

/// A secret value (api key, token). `Debug` prints `***`; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for putting on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// A bot's login credentials: its id and api key.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The bot id (the `appid` of the login body).
    pub bot_id: i64,
    /// The api key.
    pub api_key: Secret,
}

impl Credentials {
    /// Credentials for the bot `bot_id` with its api key.
    pub fn new(bot_id: i64, api_key: impl Into<String>) -> Self {
        Self {
            bot_id,
            api_key: Secret::new(api_key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let creds = Credentials::new(7, "super-secret-key");
        let shown = format!("{creds:?}");
        assert!(!shown.contains("super-secret-key"), "{shown}");
        assert!(shown.contains("***"));
        assert_eq!(creds.api_key.expose(), "super-secret-key");
    }
}
