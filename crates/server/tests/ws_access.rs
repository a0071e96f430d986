//! Who may join and submit over the WebSocket: token checks on `join`, read
//! access to join, write access to submit (a reader is refused and nothing
//! changes), and a revoked user told and disconnected at once.

mod common;
mod gateway_support;

use std::time::Duration;

use gateway_support::*;
use serde_json::json;

#[tokio::test]
async fn a_reader_joins_but_cannot_submit_and_nothing_changes() {
    let server = start().await;
    let owner = server.signup("owner").await;
    let reader = server.signup("reader").await;
    let doc = server.create_doc(&owner, "d").await;
    server.share(&owner, &doc, &reader, "read").await;
    let (mut w, _) = RawWs::join_live(&server, &owner, &doc).await;
    w.send(insert_frame(&owner, "o1", 0, 0, "hello")).await;
    w.recv_type("ack").await;

    let (mut r, joined) = RawWs::join(&server, &reader, &doc, None).await;
    assert_eq!(joined["role"], "read");
    assert_eq!(joined["username"], "reader");
    let snapshot = r.recv_type("snapshot").await;
    assert_eq!(snapshot["content"], "hello");
    r.send(json!({"type": "snapshotAck", "seq": 1})).await;
    r.recv_type("live").await;

    r.send(insert_frame(&reader, "r1", 1, 0, "evil")).await;
    let error = r.recv_type("error").await;
    assert_eq!(error["code"], "forbidden", "{error}");
    assert_eq!(error["operationId"], "r1");
    assert_eq!(error["fatal"], false);
    // The socket stays open and the reader still follows the document.
    r.send(json!({"type": "ping"})).await;
    r.recv_type("pong").await;
    w.send(insert_frame(&owner, "o2", 1, 5, "!")).await;
    w.recv_type("ack").await;
    assert_eq!(r.recv_type("ops").await["ops"][0]["operationId"], "o2");
    assert_eq!(server_text(&server, &doc).await, "hello!");
    assert_eq!(replay_stored_log(&server, &doc).await.1, 2);
}

#[tokio::test]
async fn a_revoked_user_is_told_and_disconnected_at_once() {
    let server = start().await;
    let owner = server.signup("owner").await;
    let writer = server.signup("writer").await;
    let doc = server.create_doc(&owner, "d").await;
    server.share(&owner, &doc, &writer, "write").await;
    let (mut ws, _) = RawWs::join_live(&server, &writer, &doc).await;
    ws.send(insert_frame(&writer, "w1", 0, 0, "x")).await;
    ws.recv_type("ack").await;

    let reply = server
        .delete(
            &format!("/api/documents/{doc}/collaborators/{}", writer.id),
            &owner.token,
        )
        .await;
    assert!(reply.status < 300, "revoke: {reply:?}");
    let error = ws.recv_type("error").await;
    assert_eq!(error["code"], "forbidden", "{error}");
    assert_eq!(error["fatal"], true);
    ws.expect_closed(Duration::from_secs(2)).await;

    // And the revoked user cannot come back.
    let mut again = RawWs::connect(&server).await;
    again
        .send(json!({"type": "join", "protocol": 1, "token": writer.token, "documentId": doc}))
        .await;
    let error = again.recv().await;
    assert_eq!(
        (error["code"].as_str(), error["fatal"].as_bool()),
        (Some("not_found"), Some(true))
    );
    again.expect_closed(Duration::from_secs(2)).await;
    assert_eq!(server_text(&server, &doc).await, "x");
}

#[tokio::test]
async fn join_refuses_bad_tokens_strangers_and_other_first_frames() {
    let server = start().await;
    let owner = server.signup("owner").await;
    let stranger = server.signup("stranger").await;
    let doc = server.create_doc(&owner, "d").await;
    let forged = format!("{}x", owner.token);
    let cases = [
        (
            json!({"type": "join", "protocol": 1, "token": forged, "documentId": doc}),
            "unauthorized",
        ),
        (
            json!({"type": "join", "protocol": 1, "token": "not-a-jwt", "documentId": doc}),
            "unauthorized",
        ),
        (
            json!({"type": "join", "protocol": 1, "token": stranger.token, "documentId": doc}),
            "not_found",
        ),
        (
            json!({"type": "join", "protocol": 1, "token": owner.token, "documentId": "0b8e2d8c-1f2a-4c3b-8d4e-5f6a7b8c9d0e"}),
            "not_found",
        ),
        (
            json!({"type": "join", "protocol": 2, "token": owner.token, "documentId": doc}),
            "malformed",
        ),
        (json!({"type": "ping"}), "unauthorized"),
        (
            json!({"type": "join", "token": owner.token, "documentId": doc}),
            "malformed",
        ),
    ];
    for (frame, code) in cases {
        let mut ws = RawWs::connect(&server).await;
        ws.send(frame.clone()).await;
        let error = ws.recv().await;
        assert_eq!(error["type"], "error", "{frame} -> {error}");
        assert_eq!(error["code"], code, "{frame} -> {error}");
        assert_eq!(error["fatal"], true);
        ws.expect_closed(Duration::from_secs(2)).await;
    }

    // An expired token.
    server.clock.advance_ms(400 * 24 * 3600 * 1000);
    let mut ws = RawWs::connect(&server).await;
    ws.send(json!({"type": "join", "protocol": 1, "token": owner.token, "documentId": doc}))
        .await;
    let error = ws.recv().await;
    assert_eq!(error["code"], "unauthorized");
    assert!(
        error["message"].as_str().unwrap().contains("expired"),
        "{error}"
    );
}

#[tokio::test]
async fn a_connection_that_never_joins_is_closed_after_the_join_timeout() {
    let gateway = quire_server::gateway::GatewayConfig {
        join_timeout: Duration::from_millis(200),
        ..Default::default()
    };
    let server = start_with(Default::default(), gateway).await;
    let mut ws = RawWs::connect(&server).await;
    let error = ws.recv().await;
    assert_eq!(
        (error["code"].as_str(), error["fatal"].as_bool()),
        (Some("unauthorized"), Some(true))
    );
    ws.expect_closed(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_and_pings_keep_it_open() {
    let gateway = quire_server::gateway::GatewayConfig {
        idle_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let server = start_with(Default::default(), gateway).await;
    let owner = server.signup("owner").await;
    let doc = server.create_doc(&owner, "d").await;
    let (mut ws, _) = RawWs::join_live(&server, &owner, &doc).await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        ws.send(json!({"type": "ping"})).await;
        ws.recv_type("pong").await;
    }
    let error = ws.recv_type("error").await;
    assert_eq!(
        (
            error["code"].as_str(),
            error["fatal"].as_bool(),
            error["retryable"].as_bool()
        ),
        (Some("unavailable"), Some(true), Some(true))
    );
    ws.expect_closed(Duration::from_secs(2)).await;
}
