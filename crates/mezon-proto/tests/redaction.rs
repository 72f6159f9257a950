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
