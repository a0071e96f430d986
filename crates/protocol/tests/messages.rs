//! Every message of docs/protocol.md round-trips through its JSON form, the
//! JSON is exactly the documented shape, and bad frames get the right typed
//! error.

use quire_engine::client_op::{ClientOp, Edit};
use quire_engine::op::{Component, TextOp};
use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, UserId};
use quire_protocol::*;
use serde_json::{Value, json};

const MAX: usize = 4 << 20;

fn uid() -> UserId {
    "6f1c1a52-4a3b-4c47-9a4e-7d1f2a0b9c11".parse().unwrap()
}
fn did() -> DocumentId {
    "0b8e2d8c-1f2a-4c3b-8d4e-5f6a7b8c9d0e".parse().unwrap()
}

fn client_round_trip(message: ClientMessage, expected: Value) {
    let text = encode_frame(&message).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
    assert_eq!(decode_client_frame(&text, MAX).unwrap(), message);
}

fn server_round_trip(message: ServerMessage, expected: Value) {
    let text = encode_frame(&message).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
    assert_eq!(decode_server_frame(&text, MAX).unwrap(), message);
}

#[test]
fn client_messages_have_the_documented_shape() {
    client_round_trip(
        ClientMessage::Join(Join {
            protocol: 1,
            token: "t.o.k".into(),
            document_id: did(),
            since: Some(Since {
                version: DocVersion(4),
                seq: SeqId(4),
            }),
            client_name: Some("test".into()),
        }),
        json!({"type": "join", "protocol": 1, "token": "t.o.k", "documentId": did().to_string(),
               "since": {"version": 4, "seq": 4}, "clientName": "test"}),
    );
    client_round_trip(
        ClientMessage::SnapshotAck { seq: SeqId(9) },
        json!({"type": "snapshotAck", "seq": 9}),
    );
    client_round_trip(
        ClientMessage::Submit {
            op: ClientOp {
                operation_id: OperationId::parse("op-1").unwrap(),
                user_id: uid(),
                base_version: DocVersion(12),
                edit: Edit::Replace {
                    position: 3,
                    length: 2,
                    text: "hé".into(),
                },
            },
        },
        json!({"type": "submit", "op": {"operationId": "op-1", "userId": uid().to_string(),
               "baseVersion": 12, "type": "replace", "position": 3, "length": 2, "text": "hé"}}),
    );
    client_round_trip(
        ClientMessage::Submit {
            op: ClientOp {
                operation_id: OperationId::parse("op-2").unwrap(),
                user_id: uid(),
                base_version: DocVersion(0),
                edit: Edit::Compound {
                    components: vec![
                        Component::Skip(3),
                        Component::Insert("x".into()),
                        Component::Delete(2),
                    ],
                },
            },
        },
        json!({"type": "submit", "op": {"operationId": "op-2", "userId": uid().to_string(),
               "baseVersion": 0, "type": "compound", "components": [3, "x", {"d": 2}]}}),
    );
    client_round_trip(
        ClientMessage::Presence {
            anchor: 1,
            head: 5,
            version: DocVersion(7),
        },
        json!({"type": "presence", "anchor": 1, "head": 5, "version": 7}),
    );
    client_round_trip(
        ClientMessage::Ping {
            nonce: Some("n1".into()),
        },
        json!({"type": "ping", "nonce": "n1"}),
    );
    client_round_trip(ClientMessage::Ping { nonce: None }, json!({"type": "ping"}));
}

#[test]
fn server_messages_have_the_documented_shape() {
    server_round_trip(
        ServerMessage::Joined {
            document_id: did(),
            user_id: uid(),
            username: "ada".into(),
            role: Role::Write,
            limits: WireLimits {
                max_frame_bytes: 1,
                max_op_chars: 2,
                max_document_chars: 3,
            },
        },
        json!({"type": "joined", "documentId": did().to_string(), "userId": uid().to_string(),
               "username": "ada", "role": "write",
               "limits": {"maxFrameBytes": 1, "maxOpChars": 2, "maxDocumentChars": 3}}),
    );
    server_round_trip(
        ServerMessage::Snapshot {
            content: "héllo 😀".into(),
            version: DocVersion(3),
            seq: SeqId(3),
        },
        json!({"type": "snapshot", "content": "héllo 😀", "version": 3, "seq": 3}),
    );
    let entry = OpEntry {
        seq: SeqId(4),
        version: DocVersion(4),
        user_id: uid(),
        operation_id: OperationId::parse("a.b:c_d-e").unwrap(),
        op: TextOp::from_components([Component::Skip(2), Component::Insert("x".into())]).unwrap(),
    };
    let entry_json = json!({"seq": 4, "version": 4, "userId": uid().to_string(),
                            "operationId": "a.b:c_d-e", "op": [2, "x"]});
    server_round_trip(
        ServerMessage::CatchUp {
            ops: vec![entry.clone()],
            version: DocVersion(4),
            seq: SeqId(4),
        },
        json!({"type": "catchUp", "ops": [entry_json.clone()], "version": 4, "seq": 4}),
    );
    server_round_trip(
        ServerMessage::Live { seq: SeqId(4) },
        json!({"type": "live", "seq": 4}),
    );
    server_round_trip(
        ServerMessage::Ops { ops: vec![entry] },
        json!({"type": "ops", "ops": [entry_json]}),
    );
    server_round_trip(
        ServerMessage::Ack {
            operation_id: OperationId::parse("x").unwrap(),
            version: DocVersion(5),
            seq: SeqId(5),
            duplicate: true,
        },
        json!({"type": "ack", "operationId": "x", "version": 5, "seq": 5, "duplicate": true}),
    );
    server_round_trip(
        ServerMessage::Presence {
            users: Some(vec![PresenceUser {
                session_id: 3,
                user_id: uid(),
                username: "ada".into(),
                color: "#aa3377".into(),
                anchor: 0,
                head: 2,
                version: DocVersion(5),
            }]),
            left: None,
            session_id: None,
        },
        json!({"type": "presence", "users": [{"sessionId": 3, "userId": uid().to_string(), "username": "ada",
               "color": "#aa3377", "anchor": 0, "head": 2, "version": 5}]}),
    );
    server_round_trip(
        ServerMessage::Presence {
            users: None,
            left: Some(uid()),
            session_id: Some(3),
        },
        json!({"type": "presence", "left": uid().to_string(), "sessionId": 3}),
    );
    server_round_trip(
        ServerMessage::Error(
            ErrorFrame::new(ErrorCode::RateLimited, "slow down")
                .with_operation(Some(OperationId::parse("o").unwrap())),
        ),
        json!({"type": "error", "code": "rate_limited", "message": "slow down",
               "operationId": "o", "retryable": true, "fatal": false}),
    );
    server_round_trip(ServerMessage::Pong { nonce: None }, json!({"type": "pong"}));
}

#[test]
fn every_error_code_is_snake_case_and_retryable_as_documented() {
    let retryable = ["rate_limited", "overloaded", "unavailable"];
    for code in [
        ErrorCode::Malformed,
        ErrorCode::TooLarge,
        ErrorCode::BadOp,
        ErrorCode::ResyncRequired,
        ErrorCode::OutcomeUnknown,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::RateLimited,
        ErrorCode::Overloaded,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ] {
        let wire = serde_json::to_value(code).unwrap();
        assert_eq!(wire, json!(code.as_str()));
        assert_eq!(
            code.is_retryable(),
            retryable.contains(&code.as_str()),
            "{code:?}"
        );
    }
}

#[test]
fn spliced_frames_equal_serialised_frames() {
    let entries = [
        r#"{"seq":1,"version":1,"userId":"6f1c1a52-4a3b-4c47-9a4e-7d1f2a0b9c11","operationId":"a","op":["hi"]}"#,
        r#"{"seq":2,"version":2,"userId":"6f1c1a52-4a3b-4c47-9a4e-7d1f2a0b9c11","operationId":"b","op":[1,{"d":1}]}"#,
    ];
    let ops = decode_server_frame(&encode_ops_frame(&entries), MAX).unwrap();
    let ServerMessage::Ops { ops } = ops else {
        panic!("not ops: {ops:?}")
    };
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[1].seq, SeqId(2));
    assert_eq!(
        ops[1].op.components(),
        &[Component::Skip(1), Component::Delete(1)]
    );

    let frame = encode_catch_up_frame(&entries, DocVersion(2), SeqId(2));
    let ServerMessage::CatchUp { ops, version, seq } = decode_server_frame(&frame, MAX).unwrap()
    else {
        panic!("not catchUp")
    };
    assert_eq!((ops.len(), version, seq), (2, DocVersion(2), SeqId(2)));
    assert_eq!(
        decode_server_frame(
            &encode_snapshot_frame("a\"😀", DocVersion(2), SeqId(2)).unwrap(),
            MAX
        )
        .unwrap(),
        ServerMessage::Snapshot {
            content: "a\"😀".into(),
            version: DocVersion(2),
            seq: SeqId(2)
        }
    );
    let empty: [&str; 0] = [];
    assert_eq!(
        decode_server_frame(&encode_catch_up_frame(&empty, DocVersion(0), SeqId(0)), MAX).unwrap(),
        ServerMessage::CatchUp {
            ops: vec![],
            version: DocVersion(0),
            seq: SeqId(0)
        }
    );
}

#[test]
fn join_debug_never_shows_the_token() {
    let join = Join {
        protocol: 1,
        token: "secret-token-value".into(),
        document_id: did(),
        since: None,
        client_name: None,
    };
    let shown = format!("{join:?} {:?}", ClientMessage::Join(join.clone()));
    assert!(!shown.contains("secret-token-value"), "{shown}");
}

fn decode_err(text: &str) -> FrameError {
    decode_client_frame(text, MAX).expect_err(text)
}

#[test]
fn malformed_frames_get_typed_errors() {
    for text in [
        "",
        "not json",
        "[]",
        r#"{"type": "nope"}"#,
        r#"{"seq": 1}"#,
        r#"{"type": "snapshotAck"}"#,
        r#"{"type": "snapshotAck", "seq": -1}"#,
        r#"{"type": "snapshotAck", "seq": "1"}"#,
        r#"{"type": "snapshotAck", "seq": 1, "extra": true}"#,
        r#"{"type": "presence", "anchor": 1, "head": 1.5, "version": 0}"#,
        r#"{"type": "join", "protocol": 1, "token": "t", "documentId": "not-a-uuid"}"#,
        r#"{"type": "ping", "nonce": 7}"#,
    ] {
        let err = decode_err(text);
        assert_eq!(err.code(), ErrorCode::Malformed, "{text}: {err}");
        let frame = err.to_error_frame();
        assert!(!frame.fatal && !frame.retryable && frame.operation_id.is_none());
    }
    let long_nonce = format!(r#"{{"type":"ping","nonce":"{}"}}"#, "n".repeat(65));
    assert_eq!(decode_err(&long_nonce).code(), ErrorCode::Malformed);
}

#[test]
fn bad_submits_name_their_operation_id() {
    let user = uid().to_string();
    let cases = [
        (
            format!(
                r#"{{"type":"submit","op":{{"operationId":"op-7","userId":"{user}","baseVersion":0,"type":"insert","position":-3,"text":"x"}}}}"#
            ),
            Some("op-7"),
        ),
        (
            format!(
                r#"{{"type":"submit","op":{{"operationId":"op-8","userId":"{user}","baseVersion":0,"type":"explode"}}}}"#
            ),
            Some("op-8"),
        ),
        (
            format!(
                r#"{{"type":"submit","op":{{"operationId":"op 9!","userId":"{user}","baseVersion":0,"type":"insert","position":0,"text":"x"}}}}"#
            ),
            None,
        ),
        (
            format!(
                r#"{{"type":"submit","op":{{"operationId":"op-10","userId":"{user}","baseVersion":0,"type":"insert","position":18446744073709551616,"text":"x"}}}}"#
            ),
            Some("op-10"),
        ),
    ];
    for (text, id) in cases {
        let err = decode_err(&text);
        assert_eq!(err.code(), ErrorCode::BadOp, "{text}: {err}");
        let frame = err.to_error_frame();
        assert_eq!(
            frame.operation_id.as_ref().map(|i| i.as_str()),
            id,
            "{text}"
        );
        assert!(!frame.fatal);
    }
}

#[test]
fn oversized_frames_are_refused_before_parsing_and_are_fatal() {
    let text = format!(r#"{{"type":"ping","nonce":"{}"}}"#, "x".repeat(40));
    let err = decode_client_frame(&text, 32).unwrap_err();
    assert_eq!(
        err,
        FrameError::TooLarge {
            len: text.len(),
            max: 32
        }
    );
    let frame = err.to_error_frame();
    assert_eq!(frame.code, ErrorCode::TooLarge);
    assert!(frame.fatal);
    assert!(matches!(
        decode_server_frame(&text, 32),
        Err(FrameError::TooLarge { .. })
    ));
}

#[test]
fn ops_frames_are_decoded_as_strictly_as_every_other_frame() {
    for text in [
        r#"{"type":"ops","ops":[],"extra":1}"#,
        r#"{"type":"ops"}"#,
        r#"{"type":"ops","ops":[{"seq":1}]}"#,
        r#"{"type":"ops","ops":[{"seq":1,"version":1,"userId":"6f1c1a52-4a3b-4c47-9a4e-7d1f2a0b9c11","operationId":"a","op":[0]}]}"#,
    ] {
        assert!(
            matches!(
                decode_server_frame(text, MAX),
                Err(FrameError::Malformed { .. })
            ),
            "{text}"
        );
    }
    assert_eq!(
        decode_server_frame(r#"{"ops":[],"type":"ops"}"#, MAX).unwrap(),
        ServerMessage::Ops { ops: vec![] }
    );
}

#[test]
fn presence_frames_need_exactly_one_of_users_and_left() {
    for text in [
        r#"{"type":"presence"}"#,
        r#"{"type":"presence","users":[],"left":"6f1c1a52-4a3b-4c47-9a4e-7d1f2a0b9c11"}"#,
    ] {
        assert!(matches!(
            decode_server_frame(text, MAX),
            Err(FrameError::Malformed { .. })
        ));
    }
}
