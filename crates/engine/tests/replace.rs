//! The side (tie-break) rule and the replace cases, as documented in the
//! crate docs. Each case plays both orders: the server applied `earlier`,
//! then receives the stale `incoming` (side left); the client that sent
//! `incoming` applied it locally and receives `earlier` (side right). Both
//! must produce the documented text.

use quire_engine::{Edit, Limits, Side, TextOp, transform_x};

fn op(edit: Edit) -> TextOp {
    edit.to_text_op(&Limits::default()).unwrap()
}

fn insert(position: usize, text: &str) -> TextOp {
    op(Edit::Insert {
        position,
        text: text.into(),
    })
}

fn delete(position: usize, length: usize) -> TextOp {
    op(Edit::Delete { position, length })
}

fn replace(position: usize, length: usize, text: &str) -> TextOp {
    op(Edit::Replace {
        position,
        length,
        text: text.into(),
    })
}

/// The text both the server and the sending client end with.
fn converged(doc: &str, earlier: &TextOp, incoming: &TextOp) -> String {
    let server_op = incoming.transform(earlier, Side::Left);
    let server = server_op
        .apply_to_str(&earlier.apply_to_str(doc).unwrap())
        .unwrap();
    let (incoming_after, earlier_after) = transform_x(incoming, earlier);
    assert_eq!(incoming_after, server_op);
    let client = earlier_after
        .apply_to_str(&incoming.apply_to_str(doc).unwrap())
        .unwrap();
    assert_eq!(server, client, "server and client diverge");
    server
}

#[test]
fn side_left_puts_the_op_first() {
    let mine = insert(2, "X");
    let theirs = insert(2, "Y");
    let doc = "abcd";
    let after_theirs = theirs.apply_to_str(doc).unwrap();
    assert_eq!(
        mine.transform(&theirs, Side::Left)
            .apply_to_str(&after_theirs)
            .unwrap(),
        "abXYcd"
    );
    assert_eq!(
        mine.transform(&theirs, Side::Right)
            .apply_to_str(&after_theirs)
            .unwrap(),
        "abYXcd"
    );
}

#[test]
fn incoming_stale_insert_goes_first_on_a_tie() {
    // Y was applied first; X arrives later against the old version: X first.
    assert_eq!(
        converged("abcd", &insert(2, "Y"), &insert(2, "X")),
        "abXYcd"
    );
    assert_eq!(converged("", &insert(0, "😀"), &insert(0, "é")), "é😀");
    assert_eq!(converged("ab", &insert(2, "Y"), &insert(2, "X")), "abXY");
}

#[test]
fn inserts_at_different_positions_do_not_tie() {
    assert_eq!(
        converged("abcd", &insert(1, "Y"), &insert(3, "X")),
        "aYbcXd"
    );
    assert_eq!(
        converged("abcd", &insert(3, "Y"), &insert(1, "X")),
        "aXbcYd"
    );
}

#[test]
fn replace_is_delete_then_insert() {
    assert_eq!(
        serde_json::to_string(&replace(1, 3, "R")).unwrap(),
        r#"[1,{"d":3},"R"]"#
    );
    assert_eq!(
        serde_json::to_string(&replace(0, 1, "R")).unwrap(),
        r#"[{"d":1},"R"]"#
    );
}

#[test]
fn insert_inside_a_replaced_range_survives_before_the_replacement() {
    // "abcdef": R replaces "bcd" with "R"; Y is inserted between b and c.
    let r = replace(1, 3, "R");
    let y = insert(2, "Y");
    assert_eq!(converged("abcdef", &y, &r), "aYRef");
    assert_eq!(converged("abcdef", &r, &y), "aYRef");
}

#[test]
fn insert_at_the_start_of_a_replaced_range_goes_before_the_replacement() {
    let r = replace(1, 3, "R");
    let y = insert(1, "Y");
    assert_eq!(converged("abcdef", &y, &r), "aYRef");
    assert_eq!(converged("abcdef", &r, &y), "aYRef");
}

#[test]
fn insert_at_the_end_of_a_replaced_range_ties_and_the_incoming_op_goes_first() {
    let r = replace(1, 3, "R");
    let y = insert(4, "Y");
    assert_eq!(converged("abcdef", &y, &r), "aRYef");
    assert_eq!(converged("abcdef", &r, &y), "aYRef");
}

#[test]
fn delete_overlapping_a_replace_deletes_the_union_once() {
    let r = replace(1, 3, "R");
    let d = delete(2, 3);
    assert_eq!(converged("abcdef", &d, &r), "aRf");
    assert_eq!(converged("abcdef", &r, &d), "aRf");
    // A delete covering the whole replaced range.
    assert_eq!(converged("abcdef", &delete(0, 6), &r), "R");
}

#[test]
fn two_replaces_of_one_range_keep_both_texts_incoming_first() {
    let r = replace(1, 3, "R");
    let s = replace(1, 3, "S");
    assert_eq!(converged("abcdef", &s, &r), "aRSef");
    assert_eq!(converged("abcdef", &r, &s), "aSRef");
}

#[test]
fn overlapping_replaces_delete_the_union_and_keep_both_texts() {
    let r = replace(1, 3, "R"); // "bcd"
    let s = replace(2, 3, "S"); // "cde"
    assert_eq!(converged("abcdef", &s, &r), "aRSf");
    assert_eq!(converged("abcdef", &r, &s), "aRSf");
}

#[test]
fn deleting_text_already_deleted_becomes_a_noop() {
    let d = delete(1, 2);
    let transformed = d.transform(&delete(0, 4), Side::Left);
    assert!(transformed.is_noop());
    assert_eq!(converged("abcdef", &delete(0, 4), &d), "ef");
}

#[test]
fn astral_characters_count_as_one_position() {
    // Four code points: 👍🏽 is a thumb plus a skin-tone modifier.
    let doc = "😀🤖👍🏽";
    assert_eq!(
        converged(doc, &insert(1, "x"), &replace(2, 2, "é")),
        "😀x🤖é"
    );
    assert_eq!(converged(doc, &delete(0, 1), &insert(4, "!")), "🤖👍🏽!");
    assert_eq!(converged(doc, &delete(0, 1), &insert(3, "!")), "🤖👍!🏽");
}
