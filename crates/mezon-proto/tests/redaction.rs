//! Credentials never reach `Debug` output.

use mezon_proto::api::{Session, SessionRefreshRequest, UpdateAppRequest};

#[test]
fn session_debug_hides_tokens_but_shows_the_rest() {
    let session = Session {
        token: "secret-access-token".into(),
        refresh_token: "secret-refresh-token".into(),
        id_token: "secret-id-token".into(),
        user_id: 42,
        api_url: "https://api.example:443".into(),
        ..Session::default()
    };
    let debug = format!("{session:?}");
    for secret in [
        "secret-access-token",
        "secret-refresh-token",
        "secret-id-token",
    ] {
        assert!(!debug.contains(secret), "{debug}");
    }
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(debug.contains("user_id: 42"), "{debug}");
    assert!(debug.contains("https://api.example:443"), "{debug}");
}

#[test]
fn empty_and_wrapped_secrets_are_told_apart_without_showing_them() {
    let refresh = SessionRefreshRequest::default();
    assert!(format!("{refresh:?}").contains("token: <unset>"));

    // A `google.protobuf.StringValue` secret: `Option<String>`.
    let update = UpdateAppRequest {
        token: Some("app-token-value".into()),
        ..UpdateAppRequest::default()
    };
    let debug = format!("{update:?}");
    assert!(!debug.contains("app-token-value"), "{debug}");
    assert!(debug.contains("token: <redacted>"), "{debug}");
}

/// Redaction is by rule (a field named with the word token, password, secret or key), not by
/// a list: the fields an exact list missed are hidden too.
#[test]
fn fields_named_like_credentials_are_redacted_by_rule() {
    use mezon_proto::api::{
        MezonOauthClient, RegistFcmDeviceTokenRequest, RegistrationEmailRequest, Rpc,
        SessionLogoutRequest,
    };
    let shown = [
        format!(
            "{:?}",
            RegistrationEmailRequest {
                old_password: "leak-old-password".into(),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            MezonOauthClient {
                client_secret: "leak-client-secret".into(),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            Rpc {
                http_key: "leak-http-key".into(),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            SessionLogoutRequest {
                fcm_token: "leak-fcm-token".into(),
                ..Default::default()
            }
        ),
        format!(
            "{:?}",
            RegistFcmDeviceTokenRequest {
                voip_token: "leak-voip-token".into(),
                ..Default::default()
            }
        ),
    ];
    for debug in &shown {
        assert!(!debug.contains("leak-"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }
}
