//! The join protocol, frame by frame (docs/protocol.md §5): snapshot, ops
//! buffered until `snapshotAck`, never an op at or below the snapshot's seq;
//! catch-up with `since`; a resent op acknowledged as a duplicate, or, below
//! the operation-id horizon, answered `outcome_unknown`.

mod common;
mod gateway_support;

use std::time::Duration;

use gateway_support::*;
use serde_json::json;

#[tokio::test]
async fn ops_committed_before_the_snapshot_ack_arrive_after_it_in_order() {
    let server = start().await;
    let owner = server.signup("ada").await;
    let doc = server.create_doc(&owner, "d").await;
    let (mut writer, _) = RawWs::join_live(&server, &owner, &doc).await;
    writer.send(insert_frame(&owner, "w1", 0, 0, "ab")).await;
    assert_eq!(writer.recv_type("ack").await["seq"], 1);

    // The joiner gets the snapshot at seq 1 and does not acknowledge it yet.
    let (mut joiner, joined) = RawWs::join(&server, &owner, &doc, None).await;
    assert_eq!(joined["role"], "owner");
    assert_eq!(joined["limits"]["maxFrameBytes"], 4 << 20);
    let snapshot = joiner.recv_type("snapshot").await;
    assert_eq!(
        (snapshot["content"].as_str(), snapshot["seq"].as_u64()),
        (Some("ab"), Some(1))
    );

    // Ops committed meanwhile are buffered for the joiner, not sent.
    for (i, text) in ["c", "d", "e"].iter().enumerate() {
        let base = 1 + i as u64;
        writer
            .send(insert_frame(
                &owner,
                &format!("w{}", base + 1),
                base,
                base + 1,
                text,
            ))
            .await;
        let ack = writer.recv_type("ack").await;
        assert_eq!(ack["seq"], base + 1);
        assert_eq!(ack["duplicate"], false);
    }
    assert!(
        joiner
            .try_recv(std::time::Duration::from_millis(200))
            .await
            .is_none_or(|f| f["type"] == "presence"),
        "the joiner must get nothing before its snapshotAck"
    );

    joiner.send(json!({"type": "snapshotAck", "seq": 1})).await;
    let mut seqs = Vec::new();
    loop {
        let frame = joiner.recv().await;
        match frame["type"].as_str() {
            Some("ops") => {
                for entry in frame["ops"].as_array().unwrap() {
                    assert_eq!(entry["userId"], owner.id.as_str());
                    seqs.push(entry["seq"].as_u64().unwrap());
                }
            }
            Some("live") => {
                assert_eq!(frame["seq"], 4);
                break;
            }
            Some("presence") => {}
            _ => panic!("unexpected {frame}"),
        }
    }
    assert_eq!(
        seqs,
        [2, 3, 4],
        "exactly the ops after the snapshot, in order"
    );

    // Live: the next op arrives as a broadcast entry with its version.
    writer.send(insert_frame(&owner, "w5", 4, 0, ">")).await;
    writer.recv_type("ack").await;
    let ops = joiner.recv_type("ops").await;
    assert_eq!(ops["ops"][0]["seq"], 5);
    assert_eq!(ops["ops"][0]["version"], 5);
    assert_eq!(ops["ops"][0]["operationId"], "w5");
    assert_eq!(ops["ops"][0]["op"], json!([">"]));
    assert_eq!(server_text(&server, &doc).await, ">abcde");
}

#[tokio::test]
async fn join_with_since_catches_up_and_a_resend_is_a_duplicate() {
    let server = start().await;
    let owner = server.signup("ada").await;
    let doc = server.create_doc(&owner, "d").await;
    let (mut ws, _) = RawWs::join_live(&server, &owner, &doc).await;
    for i in 0..3u64 {
        ws.send(insert_frame(&owner, &format!("op{i}"), i, i, "x"))
            .await;
        assert_eq!(ws.recv_type("ack").await["seq"], i + 1);
    }
    drop(ws);

    let (mut again, _) = RawWs::join(&server, &owner, &doc, Some((1, 1))).await;
    let catch_up = again.recv_type("catchUp").await;
    assert_eq!(
        (catch_up["version"].as_u64(), catch_up["seq"].as_u64()),
        (Some(3), Some(3))
    );
    let seqs: Vec<u64> = catch_up["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(catch_up["ops"][0]["operationId"], "op1");
    assert_eq!(again.recv_type("live").await["seq"], 3);

    // The op applied at seq 2, resent with its original id and base version.
    again.send(insert_frame(&owner, "op1", 1, 1, "x")).await;
    let ack = again.recv_type("ack").await;
    assert_eq!(
        ack,
        json!({"type": "ack", "operationId": "op1", "version": 2, "seq": 2, "duplicate": true})
    );
    assert_eq!(server_text(&server, &doc).await, "xxx");
    assert_eq!(
        replay_stored_log(&server, &doc).await,
        ("xxx".to_string(), 3)
    );
}

#[tokio::test]
async fn stale_ops_are_transformed_and_ping_is_answered() {
    let server = start().await;
    let owner = server.signup("ada").await;
    let doc = server.create_doc(&owner, "d").await;
    let (mut a, _) = RawWs::join_live(&server, &owner, &doc).await;
    let (mut b, _) = RawWs::join_live(&server, &owner, &doc).await;
    a.send(insert_frame(&owner, "a1", 0, 0, "A")).await;
    assert_eq!(a.recv_type("ack").await["seq"], 1);
    // b has not seen a1: its insert at 0 (base 0) lands before "A" (side left).
    b.send(insert_frame(&owner, "b1", 0, 0, "B")).await;
    let ops = b.recv_type("ops").await;
    assert_eq!(ops["ops"][0]["operationId"], "a1");
    assert_eq!(b.recv_type("ack").await["seq"], 2);
    let ops = a.recv_type("ops").await;
    assert_eq!(ops["ops"][0]["op"], json!(["B"]));
    assert_eq!(server_text(&server, &doc).await, "BA");

    a.send(json!({"type": "ping", "nonce": "n-1"})).await;
    assert_eq!(
        a.recv_type("pong").await,
        json!({"type": "pong", "nonce": "n-1"})
    );
}

#[tokio::test]
async fn a_joiner_whose_buffer_overflows_is_told_to_resync_and_can_rejoin() {
    let core = quire_core::CoreConfig {
        join_buffer_ops: 3,
        ..Default::default()
    };
    let server = start_with(core, Default::default()).await;
    let owner = server.signup("ada").await;
    let doc = server.create_doc(&owner, "d").await;
    let (mut writer, _) = RawWs::join_live(&server, &owner, &doc).await;
    let (mut slow, _) = RawWs::join(&server, &owner, &doc, None).await;
    assert_eq!(slow.recv_type("snapshot").await["seq"], 0);
    // Four ops while the joiner has not acknowledged its snapshot: one too many.
    for i in 0..4u64 {
        writer
            .send(insert_frame(&owner, &format!("w{i}"), i, 0, "x"))
            .await;
        writer.recv_type("ack").await;
    }
    let error = slow.recv_type("error").await;
    assert_eq!(
        (error["code"].as_str(), error["fatal"].as_bool()),
        (Some("resync_required"), Some(true)),
        "{error}"
    );
    slow.expect_closed(Duration::from_secs(2)).await;

    // Rejoining from its last state catches up.
    let (mut again, _) = RawWs::join(&server, &owner, &doc, Some((0, 0))).await;
    let first = again.recv().await;
    let seqs: Vec<u64> = match first["type"].as_str() {
        Some("catchUp") => first["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect(),
        _ => panic!("expected catchUp, got {first}"),
    };
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(again.recv_type("live").await["seq"], 4);
}

/// docs/protocol.md §5 rule 6: a resend whose `baseVersion` lies below the
/// operation-id horizon cannot be classified; it is refused with
/// `outcome_unknown` (naming it, not fatal) and applies nothing, while an
/// unknown op between the two horizons is plain `resync_required`.
#[tokio::test]
async fn a_resend_below_the_operation_id_horizon_is_answered_outcome_unknown() {
    let core = quire_core::CoreConfig {
        window_ops: 2,
        snapshot_every_ops: 4,
        retention_ops: 0,
        registry_retention_ops: 4,
        ..Default::default()
    };
    let server = start_with(core, Default::default()).await;
    let owner = server.signup("ada").await;
    let doc = server.create_doc(&owner, "d").await;
    let (mut ws, _) = RawWs::join_live(&server, &owner, &doc).await;
    for i in 0..13u64 {
        ws.send(insert_frame(&owner, &format!("op{i}"), i, 0, "x"))
            .await;
        assert_eq!(ws.recv_type("ack").await["seq"], i + 1);
    }
    // Snapshots at 4, 8, 12: the log is pruned through 12, the ids through 8.
    for _ in 0..300 {
        let audit = server.state.store.audit_document(doc_id(&doc)).await;
        if audit.is_ok_and(|a| a.pruned_through.0 >= 12 && a.registry_pruned_through.0 >= 8) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = server_text(&server, &doc).await;

    ws.send(insert_frame(&owner, "op0", 0, 0, "x")).await;
    let error = ws.recv_type("error").await;
    assert_eq!(
        (
            error["code"].as_str(),
            error["operationId"].as_str(),
            error["fatal"].as_bool(),
            error["retryable"].as_bool()
        ),
        (
            Some("outcome_unknown"),
            Some("op0"),
            Some(false),
            Some(false)
        ),
        "{error}"
    );
    ws.send(insert_frame(&owner, "new", 9, 0, "y")).await;
    let error = ws.recv_type("error").await;
    assert_eq!(
        (error["code"].as_str(), error["operationId"].as_str()),
        (Some("resync_required"), Some("new")),
        "{error}"
    );
    assert_eq!(server_text(&server, &doc).await, before);
    // The connection is still live.
    ws.send(insert_frame(&owner, "op13", 13, 0, "z")).await;
    assert_eq!(ws.recv_type("ack").await["seq"], 14);
}

#[tokio::test]
async fn the_url_may_name_the_document_and_the_join_must_match_it() {
    let server = start().await;
    let owner = server.signup("ada").await;
    let doc = server.create_doc(&owner, "routed").await;
    let other = server.create_doc(&owner, "other").await;
    let join = |document: &str| json!({"type": "join", "protocol": 1, "token": owner.token, "documentId": document});

    let mut ws = RawWs::connect_to(&format!("{}?document={doc}", ws_url(&server))).await;
    ws.send(join(&doc)).await;
    assert_eq!(ws.recv().await["type"], "joined");
    assert_eq!(ws.recv_type("snapshot").await["seq"], 0);

    // A load balancer routed this connection by `document`: a join for
    // another document is refused, and nothing is joined.
    let mut ws = RawWs::connect_to(&format!("{}?document={doc}", ws_url(&server))).await;
    ws.send(join(&other)).await;
    let error = ws.recv().await;
    assert_eq!(
        (error["code"].as_str(), error["fatal"].as_bool()),
        (Some("malformed"), Some(true)),
        "{error}"
    );
    ws.expect_closed(FRAME_WAIT).await;

    // A query that does not parse is refused before the upgrade, and so is
    // another spelling of the id (a balancer hashing the text would send it
    // to another instance than the id as the API writes it).
    let upper = format!("?document={}", doc.to_uppercase());
    let braced = format!("?document={{{doc}}}");
    let simple = format!("?document={}", doc.replace('-', ""));
    for query in ["?document=nope", "?doc=x", &upper, &braced, &simple] {
        let refused = tokio_tungstenite::connect_async(format!("{}{query}", ws_url(&server))).await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 400, "{query}");
                let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                    .into_owned();
                assert!(body.contains("invalid_query"), "{query}: {body}");
            }
            other => panic!("{query}: expected a 400 answer, got {other:?}"),
        }
    }
}
