//! Malformed, oversized, binary and invalid frames get typed errors and never
//! crash the server or change the document; the connection stays usable after
//! every non-fatal error.

mod common;
mod gateway_support;

use std::time::Duration;

use gateway_support::*;
use quire_server::gateway::GatewayConfig;
use serde_json::json;

async fn still_alive(ws: &mut RawWs) {
    ws.send(json!({"type": "ping", "nonce": "alive"})).await;
    assert_eq!(ws.recv_type("pong").await["nonce"], "alive");
}

#[tokio::test]
async fn malformed_frames_are_typed_errors_and_the_socket_stays_open() {
    let server = start().await;
    let owner = server.signup("ada").await;
    let doc = server.create_doc(&owner, "d").await;
    let (mut ws, _) = RawWs::join_live(&server, &owner, &doc).await;
    for text in [
        "not json",
        "{}",
        r#"{"type":"explode"}"#,
        r#"{"type":"snapshotAck","seq":"one"}"#,
        r#"{"type":"ping","nonce":"n","extra":1}"#,
        r#"{"type":"presence","anchor":-1,"head":0,"version":0}"#,
    ] {
        ws.send_text(text).await;
        let error = ws.recv_type("error").await;
        assert_eq!(error["code"], "malformed", "{text} -> {error}");
        assert_eq!(error["fatal"], false);
        assert_eq!(error["retryable"], false);
    }
    ws.send_binary(vec![1, 2, 3]).await;
    assert_eq!(ws.recv_type("error").await["code"], "malformed");
    // A second join on a joined connection.
    ws.send(json!({"type": "join", "protocol": 1, "token": owner.token, "documentId": doc}))
        .await;
    assert_eq!(ws.recv_type("error").await["code"], "malformed");
    still_alive(&mut ws).await;
}

#[tokio::test]
async fn invalid_ops_are_refused_with_their_operation_id() {
    let server = start().await;
    let owner = server.signup("ada").await;
    let other = server.signup("bob").await;
    let doc = server.create_doc(&owner, "d").await;
    let (mut ws, _) = RawWs::join_live(&server, &owner, &doc).await;
    ws.send(insert_frame(&owner, "ok", 0, 0, "abc")).await;
    ws.recv_type("ack").await;
    let op = |id: &str, fields: serde_json::Value| {
        let mut op = json!({"operationId": id, "userId": owner.id, "baseVersion": 1});
        for (k, v) in fields.as_object().unwrap() {
            op[k] = v.clone();
        }
        json!({"type": "submit", "op": op})
    };
    let cases = [
        (
            op("e1", json!({"type": "insert", "position": 4, "text": "x"})),
            "bad_op",
        ),
        (
            op("e2", json!({"type": "insert", "position": 0, "text": ""})),
            "bad_op",
        ),
        (
            op("e3", json!({"type": "delete", "position": 0, "length": 0})),
            "bad_op",
        ),
        (
            op("e4", json!({"type": "delete", "position": 2, "length": 5})),
            "bad_op",
        ),
        (
            op(
                "e5",
                json!({"type": "insert", "position": 18446744073709551615u64, "text": "x"}),
            ),
            "bad_op",
        ),
        (
            op("e6", json!({"type": "insert", "position": -1, "text": "x"})),
            "bad_op",
        ),
        (
            op(
                "e7",
                json!({"type": "compound", "components": [1, {"d": 0}]}),
            ),
            "bad_op",
        ),
        (
            op(
                "e8",
                json!({"type": "insert", "position": 0, "text": "x", "baseVersion": 9}),
            ),
            "bad_op",
        ),
        (
            op(
                "e9",
                json!({"type": "insert", "position": 0, "text": "x", "userId": other.id}),
            ),
            "bad_op",
        ),
    ];
    for (frame, code) in cases {
        ws.send(frame.clone()).await;
        let error = ws.recv_type("error").await;
        assert_eq!(error["code"], code, "{frame} -> {error}");
        assert_eq!(error["operationId"], frame["op"]["operationId"], "{error}");
        assert_eq!(error["fatal"], false);
    }
    still_alive(&mut ws).await;
    assert_eq!(server_text(&server, &doc).await, "abc");
    assert_eq!(
        replay_stored_log(&server, &doc).await,
        ("abc".to_string(), 1)
    );
}

#[tokio::test]
async fn oversized_frames_get_too_large_and_close_the_socket() {
    let gateway = GatewayConfig {
        max_frame_bytes: 1024,
        ..Default::default()
    };
    let server = start_with(Default::default(), gateway).await;
    let owner = server.signup("ada").await;
    let doc = server.create_doc(&owner, "d").await;
    // Slightly over the limit: read, refused with a typed error.
    // Far over it (beyond the socket's own limit): the same answer.
    for size in [1500, 100_000] {
        let (mut ws, snapshot) = RawWs::join_live(&server, &owner, &doc).await;
        assert_eq!(snapshot["type"], "snapshot");
        ws.send(insert_frame(&owner, "big", 0, 0, &"x".repeat(size)))
            .await;
        let error = ws.recv_type("error").await;
        assert_eq!(error["code"], "too_large", "{error}");
        assert_eq!(error["fatal"], true);
        ws.expect_closed(Duration::from_secs(2)).await;
    }
    let (mut ws, _) = RawWs::join_live(&server, &owner, &doc).await;
    still_alive(&mut ws).await;
    assert_eq!(server_text(&server, &doc).await, "");
}

#[tokio::test]
async fn too_many_submits_are_rate_limited_with_their_operation_id() {
    let gateway = GatewayConfig {
        rate_limit_per_sec: 1,
        rate_limit_burst: 3,
        ..Default::default()
    };
    let server = start_with(Default::default(), gateway).await;
    let owner = server.signup("ada").await;
    let doc = server.create_doc(&owner, "d").await;
    let (mut ws, _) = RawWs::join_live(&server, &owner, &doc).await;
    for i in 0..3u64 {
        ws.send(insert_frame(&owner, &format!("ok{i}"), i, 0, "x"))
            .await;
        ws.recv_type("ack").await;
    }
    ws.send(insert_frame(&owner, "flood", 3, 0, "x")).await;
    let error = ws.recv_type("error").await;
    assert_eq!(
        (
            error["code"].as_str(),
            error["operationId"].as_str(),
            error["retryable"].as_bool()
        ),
        (Some("rate_limited"), Some("flood"), Some(true))
    );
    assert_eq!(server_text(&server, &doc).await, "xxx");
}
