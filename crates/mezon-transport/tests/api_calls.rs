//! Typed API calls over HTTP and over the socket.

mod common;

use common::{config, creds, server};
use mezon_test_server::ServerConfig;
use mezon_transport::api::methods::{GetListPermission, ListClanDescs};
use mezon_transport::{ApiError, Route, Transport};
use prost::Message as _;

#[tokio::test]
async fn same_answer_over_http_and_socket() {
    let server = server(ServerConfig::default()).await;
    let (handle, _inbound) = Transport::connect(config(&server), creds(&server), None)
        .await
        .expect("connect");
    let over_http = handle
        .call_http::<ListClanDescs>(Default::default())
        .await
        .expect("http");
    let over_socket = handle
        .call_socket::<ListClanDescs>(Default::default())
        .await
        .expect("socket");
    assert!(!over_http.clandesc.is_empty());
    assert_eq!(over_http, over_socket);
    let convenience = handle
        .api()
        .list_clan_descs(Default::default())
        .await
        .expect("api()");
    assert_eq!(convenience, over_http);
    assert!(
        server
            .http_log()
            .iter()
            .any(|c| c.method_name.as_deref() == Some("ListClanDescs") && c.authorized)
    );
    assert_eq!(handle.pending_count(), 0);
    handle.shutdown().await;
}

#[tokio::test]
async fn three_chunk_raw_answer_is_reassembled() {
    // Measure the answer, then serve it in chunks of a third of its size.
    let probe = server(ServerConfig::default()).await;
    let (handle, _inbound) = Transport::connect(config(&probe), creds(&probe), None)
        .await
        .expect("connect");
    let expected = handle
        .call_http::<ListClanDescs>(Default::default())
        .await
        .expect("http");
    handle.shutdown().await;
    let len = expected.encoded_len();
    assert!(len >= 3, "answer too small to split: {len}");

    let server = server(ServerConfig {
        raw_chunk_size: len.div_ceil(3),
        ..ServerConfig::default()
    })
    .await;
    let (handle, _inbound) = Transport::connect(config(&server), creds(&server), None)
        .await
        .expect("connect");
    let answer = handle
        .call_socket::<ListClanDescs>(Default::default())
        .await
        .expect("socket");
    assert_eq!(answer.encoded_len(), len);
    assert_eq!(answer.clandesc.len(), expected.clandesc.len());
    handle.shutdown().await;
}

#[tokio::test]
async fn non_zero_status_names_the_method() {
    let server = server(ServerConfig::default()).await;
    let (handle, _inbound) = Transport::connect(config(&server), creds(&server), None)
        .await
        .expect("connect");
    // The local server does not implement this method on either route.
    let error = handle
        .call_socket::<GetListPermission>(())
        .await
        .expect_err("unsupported");
    assert!(
        matches!(error, ApiError::Status { method: "GetListPermission", route: Route::Socket, status } if status != 0),
        "{error:?}"
    );
    assert!(error.to_string().contains("GetListPermission"));
    let error = handle
        .call_http::<GetListPermission>(())
        .await
        .expect_err("unsupported");
    assert!(
        matches!(
            error,
            ApiError::Status {
                method: "GetListPermission",
                route: Route::Http,
                status: 404
            }
        ),
        "{error:?}"
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn http_401_reauthenticates_once_and_retries() {
    let server = server(ServerConfig::default()).await;
    let (handle, _inbound) = Transport::connect(config(&server), creds(&server), None)
        .await
        .expect("connect");
    let before = handle.session().token;
    server.revoke_tokens();
    handle
        .call_http::<ListClanDescs>(Default::default())
        .await
        .expect("retried after refresh");
    assert_ne!(handle.session().token, before);
    let calls: Vec<(Option<String>, bool)> = server
        .http_log()
        .into_iter()
        .filter(|c| c.method_name.is_some())
        .map(|c| (c.method_name, c.authorized))
        .collect();
    let names: Vec<(&str, bool)> = calls
        .iter()
        .map(|(m, a)| (m.as_deref().unwrap_or_default(), *a))
        .collect();
    assert_eq!(
        names,
        [
            ("ListClanDescs", false),
            ("SessionRefresh", true),
            ("ListClanDescs", true)
        ]
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn error_answer_fails_the_request_with_code_and_message() {
    use mezon_transport::RequestError;
    use mezon_transport::proto::realtime::{ChannelJoin, envelope::Message};

    let server = server(ServerConfig::default()).await;
    let (handle, _inbound) = Transport::connect(config(&server), creds(&server), None)
        .await
        .expect("connect");
    let error = handle
        .request(Message::ChannelJoin(ChannelJoin {
            channel_id: 424_242,
            channel_type: 1,
            ..Default::default()
        }))
        .await
        .expect_err("no such channel");
    match error {
        RequestError::Server { code, message } => {
            assert_eq!(code, 3, "bad input");
            assert!(message.contains("424242"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    handle.shutdown().await;
}
