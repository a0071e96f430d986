//! The client algorithm without I/O: every rule of docs/protocol.md §5 that
//! DocState implements, one scenario each.

use quire_client::DocState;
use quire_client::doc_state::{Change, Desync, Rejection, SnapshotOutcome, edit_of};
use quire_engine::client_op::Edit;
use quire_engine::limits::Limits;
use quire_engine::op::{Component, TextOp};
use quire_engine::{DocVersion, OperationId, SeqId, UserId};
use quire_protocol::OpEntry;

fn me() -> UserId {
    "6f1c1a52-4a3b-4c47-9a4e-7d1f2a0b9c11".parse().unwrap()
}
fn them() -> UserId {
    "0b8e2d8c-1f2a-4c3b-8d4e-5f6a7b8c9d0e".parse().unwrap()
}

fn ins(at: usize, text: &str) -> TextOp {
    TextOp::from_components(
        [Component::Skip(at), Component::Insert(text.into())]
            .into_iter()
            .filter(|c| c.len_chars() > 0),
    )
    .unwrap()
}

fn del(at: usize, n: usize) -> TextOp {
    TextOp::from_components(
        [Component::Skip(at), Component::Delete(n)]
            .into_iter()
            .filter(|c| c.len_chars() > 0),
    )
    .unwrap()
}

fn loaded(content: &str, seq: u64) -> DocState {
    let mut state = DocState::new(Limits::default());
    state.set_identity(me(), Limits::default());
    assert_eq!(
        state.on_snapshot(content, DocVersion(seq), SeqId(seq)),
        SnapshotOutcome::Applied(Change::Replaced)
    );
    state
}

fn entry(seq: u64, user: UserId, id: &str, op: TextOp) -> OpEntry {
    OpEntry {
        seq: SeqId(seq),
        version: DocVersion(seq),
        user_id: user,
        operation_id: OperationId::parse(id).unwrap(),
        op,
    }
}

#[test]
fn remote_ops_are_transformed_over_in_flight_and_pending_edits() {
    let mut s = loaded("abc", 3);
    s.local_edit(ins(1, "X")).unwrap(); // aXbc
    let sent = s.take_submit().unwrap();
    assert_eq!(sent.base_version, DocVersion(3));
    assert_eq!(
        sent.edit,
        Edit::Insert {
            position: 1,
            text: "X".into()
        }
    );
    s.local_edit(ins(4, "Y")).unwrap(); // aXbcY (pending)
    assert!(s.take_submit().is_none(), "one op in flight at a time");

    // A remote insert at the same position as the in-flight one: local first.
    let change = s.on_entry(&entry(4, them(), "r1", ins(1, "R"))).unwrap();
    assert_eq!(change, Change::Remote(ins(2, "R")));
    assert_eq!(s.text().to_string(), "aXRbcY");
    assert_eq!(s.version(), DocVersion(4));

    // The ack applies the in-flight op; the pending one goes next, rebased.
    let acked = s
        .on_ack(&sent.operation_id, DocVersion(5), SeqId(5))
        .unwrap();
    assert!(matches!(acked, Change::Acked { seq: SeqId(5), .. }));
    let next = s.take_submit().unwrap();
    assert_eq!(next.base_version, DocVersion(5));
    assert_eq!(
        next.edit,
        Edit::Insert {
            position: 5,
            text: "Y".into()
        }
    );
    assert_ne!(next.operation_id, sent.operation_id);
}

#[test]
fn old_and_duplicate_frames_are_dropped_and_gaps_force_a_reconnect() {
    let mut s = loaded("abc", 3);
    assert_eq!(
        s.on_entry(&entry(3, them(), "old", ins(0, "Z"))).unwrap(),
        Change::None
    );
    assert_eq!(
        s.on_entry(&entry(2, them(), "older", ins(0, "Z"))).unwrap(),
        Change::None
    );
    assert_eq!(
        s.on_entry(&entry(5, them(), "gap", ins(0, "Z"))),
        Err(Desync::Gap {
            expected: 4,
            got: 5
        })
    );
    s.on_entry(&entry(4, them(), "ok", ins(0, "Z"))).unwrap();
    assert_eq!(
        s.on_entry(&entry(4, them(), "ok", ins(0, "Z"))).unwrap(),
        Change::None,
        "a duplicated frame"
    );
    assert_eq!(s.text().to_string(), "Zabc");
    assert_eq!(
        s.on_ack(
            &OperationId::parse("nothing-in-flight").unwrap(),
            DocVersion(5),
            SeqId(5)
        ),
        Err(Desync::UnexpectedAck)
    );
}

#[test]
fn the_in_flight_op_seen_in_the_stream_counts_as_its_ack_and_resends_keep_id_and_base() {
    let mut s = loaded("", 0);
    s.local_edit(ins(0, "hi")).unwrap();
    let sent = s.take_submit().unwrap();
    s.local_edit(ins(2, "!")).unwrap();
    // Reconnect: the resend is the op exactly as first sent.
    assert_eq!(s.resend(), Some(sent.clone()));
    s.on_entry(&entry(1, them(), "r", ins(0, ">"))).unwrap();
    assert_eq!(
        s.resend(),
        Some(sent.clone()),
        "still the original base version and op"
    );
    // The catch-up holds our op (applied before the connection dropped).
    let change = s
        .on_entry(&entry(2, me(), sent.operation_id.as_str(), ins(0, "hi")))
        .unwrap();
    assert!(matches!(change, Change::Acked { seq: SeqId(2), .. }));
    // The pending "!" was typed right after "hi" and stays there (local side left).
    assert_eq!(s.text().to_string(), "hi!>");
    // A duplicate ack for it later is ignored.
    assert_eq!(
        s.on_ack(&sent.operation_id, DocVersion(2), SeqId(2))
            .unwrap(),
        Change::None
    );
    assert_eq!(
        s.take_submit().unwrap().edit,
        Edit::Insert {
            position: 2,
            text: "!".into()
        }
    );
}

#[test]
fn a_snapshot_after_reconnect_resolves_the_in_flight_op_then_rebases_local_edits() {
    // The in-flight op turns out to be in the snapshot (duplicate ack at or
    // below its seq): only the pending edit remains, rebased.
    let mut s = loaded("abc", 3);
    s.local_edit(ins(3, "X")).unwrap();
    let sent = s.take_submit().unwrap();
    s.local_edit(ins(0, "P")).unwrap(); // PabcX
    let outcome = s.on_snapshot("QQabcX", DocVersion(6), SeqId(6));
    assert_eq!(outcome, SnapshotOutcome::ResendInFlight(sent.clone()));
    assert!(
        s.take_submit().is_none(),
        "nothing new is sent while resolving"
    );
    assert_eq!(
        s.on_ack(&sent.operation_id, DocVersion(4), SeqId(4))
            .unwrap(),
        Change::Replaced
    );
    assert_eq!(s.text().to_string(), "PQQabcX");
    assert_eq!((s.version(), s.seq()), (DocVersion(6), SeqId(6)));
    let next = s.take_submit().unwrap();
    assert_eq!(next.base_version, DocVersion(6));
    assert_eq!(
        next.edit,
        Edit::Insert {
            position: 0,
            text: "P".into()
        }
    );

    // Refused (never applied): it is rebased with the pending edits as one new op.
    let mut s = loaded("abc", 3);
    s.local_edit(ins(3, "X")).unwrap();
    let sent = s.take_submit().unwrap();
    let _ = s.on_snapshot("abcQQ", DocVersion(5), SeqId(5));
    assert_eq!(
        s.on_rejected(&sent.operation_id, Rejection::RetryAsNew),
        Change::Replaced
    );
    assert_eq!(s.text().to_string(), "abcXQQ");
    let next = s.take_submit().unwrap();
    assert_ne!(next.operation_id, sent.operation_id);

    // Its fate is unknowable (`outcome_unknown`): it is never re-created;
    // the snapshot says whether it is there, and the edits typed after it
    // keep their place next to it.
    for (snapshot, expected) in [("abXcQ", "abXYcQ"), ("abcQ", "abYcQ")] {
        let mut s = loaded("abc", 3);
        s.local_edit(ins(2, "X")).unwrap();
        let sent = s.take_submit().unwrap();
        s.local_edit(ins(3, "Y")).unwrap(); // abXYc
        let _ = s.on_snapshot(snapshot, DocVersion(5), SeqId(5));
        assert_eq!(
            s.on_rejected(&sent.operation_id, Rejection::OutcomeUnknown),
            Change::Replaced
        );
        assert_eq!(s.text().to_string(), expected, "snapshot {snapshot}");
        let next = s.take_submit().unwrap();
        assert_ne!(next.operation_id, sent.operation_id);
        assert_eq!(next.edit, edit_of(&ins(expected.find('Y').unwrap(), "Y")));
        assert!(s.take_submit().is_none());
    }

    // Applied after the snapshot: a fresh snapshot is needed, then it is known applied.
    let mut s = loaded("abc", 3);
    s.local_edit(ins(3, "X")).unwrap();
    let sent = s.take_submit().unwrap();
    let _ = s.on_snapshot("abc", DocVersion(3), SeqId(3));
    assert_eq!(
        s.on_ack(&sent.operation_id, DocVersion(4), SeqId(4)),
        Err(Desync::NeedFreshSnapshot)
    );
    assert_eq!(
        s.on_snapshot("abcX", DocVersion(4), SeqId(4)),
        SnapshotOutcome::Applied(Change::Replaced)
    );
    assert_eq!(s.text().to_string(), "abcX");
    assert!(!s.has_unacked());
}

#[test]
fn a_refused_op_is_undone_locally_and_pending_edits_survive() {
    let mut s = loaded("hello", 5);
    s.local_edit(del(0, 2)).unwrap(); // llo
    let sent = s.take_submit().unwrap();
    s.local_edit(ins(3, "!")).unwrap(); // llo!
    assert_eq!(
        s.on_rejected(&sent.operation_id, Rejection::Undo),
        Change::Replaced
    );
    assert_eq!(s.text().to_string(), "hello!");
    assert_eq!(
        s.take_submit().unwrap().edit,
        Edit::Insert {
            position: 5,
            text: "!".into()
        }
    );
}

#[test]
fn local_edits_are_checked_against_the_local_text() {
    let mut s = DocState::new(Limits::default());
    assert!(s.local_edit(ins(0, "x")).is_err(), "not loaded yet");
    let mut s = loaded("ab", 2);
    assert!(s.local_edit(ins(3, "x")).is_err());
    assert!(s.local_edit(del(1, 2)).is_err());
    assert_eq!(s.text().to_string(), "ab");
    assert!(!s.has_unacked());
}

#[test]
fn ops_are_sent_in_their_readable_form_when_they_have_one() {
    let replace = TextOp::from_components([
        Component::Skip(2),
        Component::Delete(1),
        Component::Insert("é".into()),
    ])
    .unwrap();
    assert_eq!(
        edit_of(&replace),
        Edit::Replace {
            position: 2,
            length: 1,
            text: "é".into()
        }
    );
    assert_eq!(
        edit_of(&del(0, 3)),
        Edit::Delete {
            position: 0,
            length: 3
        }
    );
    let two = TextOp::from_components([
        Component::Insert("a".into()),
        Component::Skip(2),
        Component::Insert("b".into()),
    ])
    .unwrap();
    assert_eq!(
        edit_of(&two),
        Edit::Compound {
            components: two.components().to_vec()
        }
    );
}
