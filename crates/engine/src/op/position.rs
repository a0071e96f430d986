//! Moving a cursor position over an op (for presence), with the semantics of
//! `ot-text-unicode`'s `transformPosition`.

use super::{Component, Side, TextOp};

/// `pos` (a code point offset in the document before `op`) mapped to the
/// document after `op`. Inside a deleted range the cursor moves to the start
/// of the range. An insert exactly at the cursor leaves the cursor before it
/// with [`Side::Left`] (`ot-text-unicode`'s `transformPosition`) and moves it
/// after the insert with [`Side::Right`].
pub fn transform_position(pos: usize, op: &TextOp, side: Side) -> usize {
    let mut cursor = pos;
    let mut at = 0usize;
    for component in op.components() {
        let continues = match side {
            Side::Left => cursor > at,
            Side::Right => cursor >= at,
        };
        if !continues {
            break;
        }
        match component {
            Component::Skip(n) => at = at.saturating_add(*n),
            Component::Insert(text) => {
                let n = text.chars().count();
                at = at.saturating_add(n);
                cursor = cursor.saturating_add(n);
            }
            Component::Delete(n) => cursor -= (*n).min(cursor - at),
        }
    }
    cursor
}
