//! `Text` (rope + pending typing run) behaves exactly like applying ops to a
//! `String`, after every step of an editing session that mixes typing runs,
//! backspacing, forward deletes, jumps, replaces and multi-range ops.

mod common;

use common::{PIECES, chars, op_steps, shape_op, text};
use proptest::prelude::*;
use quire_engine::text::MAX_PENDING_BYTES;
use quire_engine::{Component, OpError, Text, TextOp};

/// One step of a session, relative to a moving cursor.
#[derive(Debug, Clone)]
enum Step {
    Type(&'static str),
    Backspace(usize),
    DeleteForward(usize),
    Jump(usize),
    /// Any op valid on the current text (usually multi-range).
    Op(Vec<(u8, usize, String)>),
    /// An op that reads past the end: must fail and change nothing.
    Invalid,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => prop::sample::select(PIECES).prop_map(Step::Type),
        3 => (1usize..3).prop_map(Step::Backspace),
        2 => (1usize..3).prop_map(Step::DeleteForward),
        2 => any::<usize>().prop_map(Step::Jump),
        1 => op_steps().prop_map(Step::Op),
        1 => Just(Step::Invalid),
    ]
}

fn op(components: Vec<Component>) -> TextOp {
    TextOp::from_components(components).unwrap()
}

fn at(pos: usize, component: Component) -> TextOp {
    op(vec![Component::Skip(pos), component]
        .into_iter()
        .filter(|c| *c != Component::Skip(0))
        .collect::<Vec<_>>())
}

fn check(text: &Text, model: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(text.to_string(), model);
    prop_assert_eq!(text.len_chars(), chars(model));
    prop_assert!(*text == *model);
    prop_assert!(text.chars().eq(model.chars()));
    prop_assert_eq!(text, &Text::from_str(model));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn text_matches_a_string_model(start in text(8), steps in prop::collection::vec(step(), 1..40)) {
        let mut text = Text::from_str(&start);
        let mut model = start.clone();
        let mut cursor = chars(&model);
        for step in steps {
            let len = chars(&model);
            let op = match step {
                Step::Type(piece) => {
                    let op = at(cursor, Component::Insert(piece.into()));
                    cursor += chars(piece);
                    op
                }
                Step::Backspace(n) => {
                    let n = n.min(cursor);
                    if n == 0 { continue; }
                    cursor -= n;
                    at(cursor, Component::Delete(n))
                }
                Step::DeleteForward(n) => {
                    let n = n.min(len - cursor);
                    if n == 0 { continue; }
                    at(cursor, Component::Delete(n))
                }
                Step::Jump(to) => {
                    cursor = to % (len + 1);
                    continue;
                }
                Step::Op(steps) => {
                    let op = shape_op(len, steps);
                    cursor = cursor.min(chars(&op.apply_to_str(&model).unwrap()));
                    op
                }
                Step::Invalid => {
                    let op = at(len, Component::Delete(1));
                    prop_assert_eq!(text.apply(&op), Err(OpError::OutOfRange { end: len + 1, doc_len: len }));
                    check(&text, &model)?;
                    continue;
                }
            };
            model = op.apply_to_str(&model).unwrap();
            text.apply(&op).unwrap();
            check(&text, &model)?;
            // A clone taken mid-run is independent of the original.
            let snapshot = text.clone();
            check(&snapshot, &model)?;
        }
    }
}

#[test]
fn long_typing_runs_are_bounded_and_exact() {
    let mut text = Text::new();
    let mut model = String::new();
    // Well past the run bound, in one-character and one-emoji keystrokes.
    for i in 0..(3 * MAX_PENDING_BYTES) {
        let piece = if i % 7 == 0 { "😀" } else { "a" };
        text.apply(&at(chars(&model), Component::Insert(piece.into())))
            .unwrap();
        model.push_str(piece);
    }
    assert_eq!(text.to_string(), model);
    // Backspace half of it, one character at a time.
    for _ in 0..chars(&model) / 2 {
        let len = chars(&model);
        text.apply(&at(len - 1, Component::Delete(1))).unwrap();
        model.pop();
    }
    assert_eq!(text.to_string(), model);
    assert_eq!(text.len_chars(), chars(&model));
    // A paste larger than the bound.
    let paste = "é".repeat(MAX_PENDING_BYTES);
    text.apply(&at(1, Component::Insert(paste.as_str().into())))
        .unwrap();
    let second_char = model.char_indices().nth(1).unwrap().0;
    model.insert_str(second_char, &paste);
    assert_eq!(text.to_string(), model);
}

#[test]
fn empty_text_edges() {
    let mut text = Text::new();
    assert!(text.is_empty());
    assert_eq!(text.to_string(), "");
    assert_eq!(
        text.apply(&at(0, Component::Delete(1))),
        Err(OpError::OutOfRange { end: 1, doc_len: 0 })
    );
    text.apply(&at(0, Component::Insert("👍🏽".into()))).unwrap();
    text.apply(&at(0, Component::Delete(2))).unwrap();
    assert!(text.is_empty());
    assert_eq!(text.to_string(), "");
    assert!(text == *"");
}

#[test]
fn text_can_be_shared_across_tasks() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Text>();
}
