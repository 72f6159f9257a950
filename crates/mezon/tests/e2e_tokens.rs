//! Token transfers end to end over loopback: the bot logs in to the local server, gets a ZK
//! proof from its fake prover, and sends tokens through its fake ledger node (which verifies
//! the real Ed25519 signature) over each route; the chat side then pushes `token_sent_event`.

use std::time::Duration;

use mezon::mmn::{LedgerError, ProverError, TransferError, TransportFailure};
use mezon::testing::{MmnRoute, TestServer, World, demo, start_local_server};
use mezon::{Client, Error, LedgerRoute, TokenAmount, TokenSend};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

fn tokens(n: u64) -> TokenAmount {
    TokenAmount::new(n).expect("positive")
}

/// A logged-in client on `route`, and the stream of its typed `on_token_send` events.
async fn bot(route: LedgerRoute) -> (TestServer, Client, mpsc::Receiver<TokenSend>) {
    let (server, builder) = start_local_server(World::demo()).await.expect("server");
    let client = builder.ledger_route(route).build().expect("config");
    let (tx, rx) = mpsc::channel(8);
    client.on_token_send(move |event, _client| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(event).await;
        }
    });
    client.login().await.expect("login");
    (server, client, rx)
}

async fn next(rx: &mut mpsc::Receiver<TokenSend>) -> TokenSend {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("a token_sent_event in time")
        .expect("stream open")
}

async fn send_five_tokens_over(route: LedgerRoute, expected: MmnRoute) {
    let (server, client, mut events) = bot(route).await;
    let bot_id = server.bot_id();

    let tx_hash = client
        .send_tokens(demo::ALICE_ID, tokens(5), "thanks for the help")
        .await
        .expect("transfer accepted");
    assert_eq!(tx_hash.len(), 64, "hex SHA-256: {tx_hash}");

    // The node accepted exactly this transaction, on this route, after verifying the real
    // Ed25519 signature (it refuses anything else) with the key the prover was shown.
    let accepted = server.mmn().transactions();
    assert_eq!(accepted.len(), 1);
    let tx = &accepted[0];
    assert_eq!(tx.tx_hash, tx_hash);
    assert_eq!(tx.route, expected);
    assert_eq!(tx.tx.amount, "5000000");
    assert_eq!(tx.tx.sender, mezon::mmn::Address::of_user(bot_id).as_str());
    assert_eq!(
        tx.tx.recipient,
        mezon::mmn::Address::of_user(demo::ALICE_ID).as_str()
    );
    let proofs = server.mmn().prove_calls();
    assert!(proofs.iter().all(|p| p.granted));
    assert_eq!(proofs.len(), 1, "one proof serves the process");
    assert_eq!(
        proofs[0].ephemeral_pk, tx.verified_key,
        "signed with the key the proof is bound to"
    );
    assert_eq!(server.mmn().balance(demo::ALICE_ID), 5_000_000);

    let event = next(&mut events).await;
    assert_eq!(event.sender_id, bot_id);
    assert_eq!(event.receiver_id, demo::ALICE_ID);
    assert_eq!(event.amount, 5);
    assert_eq!(event.note, "thanks for the help");
    assert_eq!(event.transaction_id, tx_hash);
    assert!(event.extra_attribute.contains(r#""type":"transfer_token""#));

    assert_eq!(client.token_balance().await.expect("balance"), 995);
    client.shutdown().await;
}

#[tokio::test]
async fn send_five_tokens_over_json_rpc() {
    send_five_tokens_over(LedgerRoute::JsonRpc, MmnRoute::JsonRpc).await;
}

#[tokio::test]
async fn send_five_tokens_over_grpc() {
    send_five_tokens_over(LedgerRoute::Grpc, MmnRoute::Grpc).await;
}

#[tokio::test]
async fn insufficient_funds_is_a_typed_error_with_the_raw_message() {
    let (server, client, _events) = bot(LedgerRoute::JsonRpc).await;
    server.mmn().set_balance(server.bot_id(), 3);
    let error = client
        .send_tokens(demo::ALICE_ID, tokens(5), "")
        .await
        .expect_err("3 tokens cannot pay 5");
    let Error::Transfer(TransferError::Ledger(ledger)) = &error else {
        panic!("unexpected error {error:?}");
    };
    assert!(
        matches!(ledger, LedgerError::InsufficientFunds { .. }),
        "{ledger:?}"
    );
    assert_eq!(ledger.code(), Some("insufficient_funds"));
    assert!(ledger.raw_message().is_some_and(|m| m.contains("balance")));
    assert!(server.mmn().transactions().is_empty());
    client.shutdown().await;
}

#[tokio::test]
async fn a_stale_nonce_is_retried_once_then_succeeds() {
    for route in [LedgerRoute::JsonRpc, LedgerRoute::Grpc] {
        let (server, client, _events) = bot(route).await;
        server.mmn().serve_stale_nonces(1);
        client
            .send_tokens(demo::ALICE_ID, tokens(1), "")
            .await
            .expect("the retry with a fresh nonce succeeds");
        assert_eq!(server.mmn().transactions().len(), 1);

        // Stale twice in a row: one retry only, then the node's error.
        server.mmn().serve_stale_nonces(2);
        let error = client
            .send_tokens(demo::ALICE_ID, tokens(1), "")
            .await
            .expect_err("no second retry");
        assert!(
            matches!(
                error,
                Error::Transfer(TransferError::Ledger(LedgerError::NonceTooLow { .. }))
            ),
            "{error:?}"
        );
        assert_eq!(server.mmn().transactions().len(), 1);
        client.shutdown().await;
    }
}

#[tokio::test]
async fn prover_down_at_login_does_not_fail_login_and_the_transfer_says_why() {
    let (server, builder) = start_local_server(World::demo()).await.expect("server");
    server.mmn().set_prover_down(true);
    let client = builder.build().expect("config");
    client
        .login()
        .await
        .expect("login succeeds without a prover");

    let error = client
        .send_tokens(demo::ALICE_ID, tokens(5), "")
        .await
        .expect_err("no proof, no transfer");
    assert!(
        matches!(
            error,
            Error::Transfer(TransferError::Prover(ProverError::Unreachable(
                TransportFailure::Status(503)
            )))
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("ZK proof"), "{error}");
    assert!(server.mmn().transactions().is_empty());

    // Once the prover is back, the next transfer fetches the proof itself.
    server.mmn().set_prover_down(false);
    client
        .send_tokens(demo::ALICE_ID, tokens(5), "")
        .await
        .expect("transfer after the prover recovered");
    client.shutdown().await;
}

#[tokio::test]
async fn self_transfer_is_rejected_before_any_network_call() {
    let (server, builder) = start_local_server(World::demo()).await.expect("server");
    let client = builder.build().expect("config");
    // Not even logged in: there is no connection a call could have used.
    let error = client
        .send_tokens(server.bot_id(), tokens(1), "")
        .await
        .expect_err("self-transfer");
    assert!(
        matches!(error, Error::Transfer(TransferError::SelfTransfer)),
        "{error:?}"
    );
    assert!(server.mmn().prove_calls().is_empty());
    assert!(server.http_log().is_empty());
}

#[tokio::test]
async fn identical_transfers_in_one_slot_are_not_duplicates() {
    // The nonce is a 400 ms slot: back-to-back identical transfers would sign the same bytes.
    let (server, client, _events) = bot(LedgerRoute::JsonRpc).await;
    for _ in 0..3 {
        client
            .send_tokens(demo::ALICE_ID, tokens(1), "same")
            .await
            .expect("each transfer gets its own nonce");
    }
    let nonces: std::collections::HashSet<u64> = server
        .mmn()
        .transactions()
        .iter()
        .map(|t| t.tx.nonce)
        .collect();
    assert_eq!(nonces.len(), 3);
    client.shutdown().await;
}

#[tokio::test]
async fn a_revoked_proof_is_fetched_again_once() {
    let (server, client, _events) = bot(LedgerRoute::JsonRpc).await;
    client
        .send_tokens(demo::ALICE_ID, tokens(1), "")
        .await
        .expect("first transfer");
    server.mmn().revoke_proofs();
    client
        .send_tokens(demo::ALICE_ID, tokens(1), "")
        .await
        .expect("invalid_signature → new proof → accepted");
    assert_eq!(server.mmn().prove_calls().len(), 2);
    assert_eq!(server.mmn().transactions().len(), 2);
    client.shutdown().await;
}

#[tokio::test]
async fn user_handle_sends_tokens_and_receipts_are_opt_in() {
    let (server, builder) = start_local_server(World::demo()).await.expect("server");
    let client = builder.token_dm_receipt(true).build().expect("config");
    client.login().await.expect("login");
    let tx_hash = client
        .user(demo::ALICE_ID)
        .send_tokens(tokens(2), "lunch")
        .await
        .expect("transfer");
    let receipt = server
        .wait_for_message(demo::ALICE_DM_ID, |m| m.content.contains(&tx_hash), WAIT)
        .await;
    assert!(receipt.is_ok(), "receipt DM with the hash");
    client.shutdown().await;
}
