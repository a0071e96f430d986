//! Proptest strategies shared by the engine's tests: documents and ops that
//! mix ASCII, accented letters (precomposed and with combining marks), CJK,
//! astral-plane emoji and newlines, so code point arithmetic is exercised.
#![allow(dead_code)] // each test binary uses part of this module

use proptest::prelude::*;
use quire_engine::{Component, Edit, TextOp};

/// Grapheme-ish pieces a document is made of; several are more than one code
/// point or more than one UTF-16 unit.
pub const PIECES: &[&str] = &[
    "a", "b", "c", " ", "\n", "é", "e\u{301}", "中", "😀", "🤖", "👍🏽", "x",
];

/// A short text of [`PIECES`] (possibly empty).
pub fn text(max_pieces: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..=max_pieces).prop_map(|v| v.concat())
}

/// A non-empty text of [`PIECES`].
pub fn non_empty_text(max_pieces: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 1..=max_pieces.max(1))
        .prop_map(|v| v.concat())
}

pub fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Raw material for an op: (kind, amount, text) steps, turned into a valid op
/// for a given document length by [`shape_op`].
pub fn op_steps() -> impl Strategy<Value = Vec<(u8, usize, String)>> {
    prop::collection::vec((0u8..3, 1usize..6, non_empty_text(3)), 0..7)
}

/// A valid op on a document of `len` code points from [`op_steps`]: skips
/// and deletes are clamped so they never read past the end.
pub fn shape_op(len: usize, steps: Vec<(u8, usize, String)>) -> TextOp {
    let mut remaining = len;
    let mut components = Vec::new();
    for (kind, amount, text) in steps {
        match kind {
            0 if remaining > 0 => {
                let n = amount.min(remaining);
                remaining -= n;
                components.push(Component::Skip(n));
            }
            1 if remaining > 0 => {
                let n = amount.min(remaining);
                remaining -= n;
                components.push(Component::Delete(n));
            }
            _ => components.push(Component::Insert(text.as_str().into())),
        }
    }
    TextOp::from_components(components).expect("shaped op is valid")
}

/// A random valid op on a document of `len` code points: a mix of skips,
/// deletes and inserts that never reads past the end.
pub fn op_on(len: usize) -> impl Strategy<Value = TextOp> {
    op_steps().prop_map(move |steps| shape_op(len, steps))
}

/// A sequence of up to `max_ops` ops, each valid on the result of the
/// previous, starting from `doc`.
pub fn sequence_from(doc: String, max_ops: usize) -> BoxedStrategy<Vec<TextOp>> {
    let start = Just((doc, Vec::<TextOp>::new())).boxed();
    let grown = (0..max_ops).fold(start, |acc, _| {
        acc.prop_flat_map(|(current, ops)| {
            (
                Just(current.clone()),
                Just(ops),
                op_on(chars(&current)),
                any::<bool>(),
            )
                .prop_map(|(current, mut ops, op, keep)| {
                    // `keep == false` ends the sequence early (shorter sequences).
                    if keep || ops.is_empty() {
                        let next = op.apply_to_str(&current).expect("op fits");
                        ops.push(op);
                        (next, ops)
                    } else {
                        (current, ops)
                    }
                })
        })
        .boxed()
    });
    grown.prop_map(|(_, ops)| ops).boxed()
}

/// A random client edit (insert, delete or replace) valid on a document of
/// `len` code points.
pub fn edit_on(len: usize) -> impl Strategy<Value = Edit> {
    let insert = (0..=len, non_empty_text(4))
        .prop_map(|(position, text)| Edit::Insert { position, text })
        .boxed();
    if len == 0 {
        return insert;
    }
    let range = (0..len).prop_flat_map(move |position| (Just(position), 1..=len - position));
    let delete = range
        .clone()
        .prop_map(|(position, length)| Edit::Delete { position, length });
    let replace = (range, non_empty_text(4)).prop_map(|((position, length), text)| Edit::Replace {
        position,
        length,
        text,
    });
    prop_oneof![insert, delete, replace].boxed()
}

/// Applies ops in order with the reference string implementation.
pub fn apply_all<'a>(doc: &str, ops: impl IntoIterator<Item = &'a TextOp>) -> String {
    ops.into_iter().fold(doc.to_owned(), |text, op| {
        op.apply_to_str(&text).expect("op fits the document")
    })
}
