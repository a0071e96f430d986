//! Rebasing one incoming op over the ops applied since its base version
//! (side left), step by step, exactly like `transform_over`, but with a fast
//! path for the commonest op, a lone insert (a keystroke or a paste): its
//! position is moved with `transform_position(.., Side::Left)`, which puts it
//! exactly where `transform` would (before another insert at the same
//! position, at the start of a deleted range that contains it), without
//! building an intermediate op per step. Under heavy concurrency an op is
//! rebased over hundreds of ops, so this is the owner's hottest loop.
//!
//! The ops it steps over are described by their [`Shape`], kept inline in the
//! window: moving a position over a lone insert or delete is then two
//! comparisons on contiguous memory instead of a walk through each op's
//! separately allocated components (a cache miss per op, which made this loop
//! 15% of the owner's time with 100 submitters).

use quire_engine::op::{Component, InsertText, Side, TextOp, transform_position};

/// What moving a position over an op needs to know, for the common shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Inserts `len` code points at `at`.
    Insert { at: usize, len: usize },
    /// Deletes `len` code points at `at`.
    Delete { at: usize, len: usize },
    /// Anything else: use the op itself.
    Other,
}

impl Shape {
    pub fn of(op: &TextOp) -> Shape {
        match op.components() {
            [Component::Insert(text)] => Shape::Insert {
                at: 0,
                len: text.chars().count(),
            },
            [Component::Skip(at), Component::Insert(text)] => Shape::Insert {
                at: *at,
                len: text.chars().count(),
            },
            [Component::Delete(len)] => Shape::Delete { at: 0, len: *len },
            [Component::Skip(at), Component::Delete(len)] => Shape::Delete { at: *at, len: *len },
            _ => Shape::Other,
        }
    }
}

/// `transform_position(pos, op, Side::Left)`, where `shape` is `op`'s shape.
pub(crate) fn move_left(pos: usize, op: &TextOp, shape: Shape) -> usize {
    match shape {
        Shape::Insert { at, len } if pos > at => pos + len,
        Shape::Delete { at, len } if pos > at => pos - len.min(pos - at),
        Shape::Insert { .. } | Shape::Delete { .. } => pos,
        Shape::Other => transform_position(pos, op, Side::Left),
    }
}

pub(crate) enum Rebasing {
    /// `[at, text]`: only the position changes.
    Insert {
        at: usize,
        text: InsertText,
    },
    General(TextOp),
}

impl Rebasing {
    pub fn new(op: TextOp) -> Rebasing {
        match op.components() {
            [Component::Insert(text)] => Rebasing::Insert {
                at: 0,
                text: text.clone(),
            },
            [Component::Skip(at), Component::Insert(text)] => Rebasing::Insert {
                at: *at,
                text: text.clone(),
            },
            _ => Rebasing::General(op),
        }
    }

    /// Rewrites the op to apply after `other` (made against the same state),
    /// whose shape is `shape` (`Shape::Other` is always correct).
    pub fn over(&mut self, other: &TextOp, shape: Shape) {
        match self {
            Rebasing::Insert { at, .. } => *at = move_left(*at, other, shape),
            Rebasing::General(op) => *op = op.transform(other, Side::Left),
        }
    }

    pub fn finish(self) -> TextOp {
        match self {
            Rebasing::General(op) => op,
            Rebasing::Insert { at, text } => {
                let skip = (at > 0).then_some(Component::Skip(at));
                // The text was a valid insert and `at` a position inside a
                // document the op is about to be checked against; building
                // the same shape again cannot fail, but stay total anyway.
                TextOp::from_components(skip.into_iter().chain([Component::Insert(text)]))
                    .unwrap_or_default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An op valid on a document of `len` characters, from random choices.
    fn op_on(len: usize, choices: &[(u8, usize, String)]) -> TextOp {
        let mut components = Vec::new();
        let mut left = len;
        for (kind, n, text) in choices {
            match kind % 3 {
                0 if left > 0 => {
                    let n = 1 + n % left;
                    components.push(Component::Skip(n));
                    left -= n;
                }
                1 if left > 0 => {
                    let n = 1 + n % left;
                    components.push(Component::Delete(n));
                    left -= n;
                }
                _ if !text.is_empty() => components.push(Component::Insert(text.as_str().into())),
                _ => {}
            }
        }
        TextOp::from_components(components).unwrap()
    }

    fn len_after(len: usize, op: &TextOp) -> usize {
        (len as isize + op.net_change()) as usize
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn the_insert_fast_path_equals_transform(
            len in 0usize..12,
            at in 0usize..12,
            text in "[a-c😀]{1,3}",
            history in prop::collection::vec(
                prop::collection::vec((0u8..3, 0usize..12, "[x-z]{0,2}"), 0..5),
                1..4,
            ),
        ) {
            let at = at.min(len);
            let skip = (at > 0).then_some(Component::Skip(at));
            let op = TextOp::from_components(skip.into_iter().chain([Component::Insert(text.as_str().into())])).unwrap();
            let mut expected = op.clone();
            let mut fast = Rebasing::new(op);
            let is_fast = matches!(fast, Rebasing::Insert { .. });
            prop_assert!(is_fast);
            let mut doc_len = len;
            for choices in &history {
                let other = op_on(doc_len, choices);
                expected = expected.transform(&other, Side::Left);
                fast.over(&other, Shape::of(&other));
                for pos in 0..=doc_len {
                    prop_assert_eq!(
                        move_left(pos, &other, Shape::of(&other)),
                        transform_position(pos, &other, Side::Left)
                    );
                }
                doc_len = len_after(doc_len, &other);
            }
            prop_assert_eq!(fast.finish(), expected);
        }
    }
}
