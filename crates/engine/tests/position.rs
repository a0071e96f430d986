//! Cursor positions over ops (presence), with `ot-text-unicode`'s
//! `transformPosition` semantics for side left.

mod common;

use common::{chars, op_on, text};
use proptest::prelude::*;
use quire_engine::{Component, Side, TextOp, transform_position};

fn op(components: Vec<Component>) -> TextOp {
    TextOp::from_components(components).unwrap()
}

#[test]
fn cursor_moves_with_inserts_before_it() {
    let insert_at_1 = op(vec![Component::Skip(1), "😀é".into()]);
    assert_eq!(transform_position(3, &insert_at_1, Side::Left), 5);
    assert_eq!(transform_position(0, &insert_at_1, Side::Left), 0);
}

#[test]
fn insert_at_the_cursor_depends_on_side() {
    let insert_at_2 = op(vec![Component::Skip(2), "xy".into()]);
    assert_eq!(transform_position(2, &insert_at_2, Side::Left), 2);
    assert_eq!(transform_position(2, &insert_at_2, Side::Right), 4);
    let insert_at_0 = op(vec!["xy".into()]);
    assert_eq!(transform_position(0, &insert_at_0, Side::Left), 0);
    assert_eq!(transform_position(0, &insert_at_0, Side::Right), 2);
}

#[test]
fn cursor_inside_a_deleted_range_moves_to_its_start() {
    let delete_1_to_4 = op(vec![Component::Skip(1), Component::Delete(3)]);
    assert_eq!(transform_position(2, &delete_1_to_4, Side::Left), 1);
    assert_eq!(transform_position(4, &delete_1_to_4, Side::Left), 1);
    assert_eq!(transform_position(6, &delete_1_to_4, Side::Left), 3);
    // Delete then insert at the same place (a replace): the cursor that was
    // inside stays before the replacement text on side left.
    let replace = op(vec![Component::Skip(1), Component::Delete(3), "R".into()]);
    assert_eq!(transform_position(3, &replace, Side::Left), 1);
    assert_eq!(transform_position(3, &replace, Side::Right), 2);
}

#[test]
fn huge_positions_do_not_overflow() {
    let insert = op(vec!["ab".into()]);
    assert_eq!(
        transform_position(usize::MAX, &insert, Side::Left),
        usize::MAX
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A position inside the document stays inside it, and keeps its order
    /// relative to other positions.
    #[test]
    fn positions_stay_in_range_and_ordered(
        (doc, op, a, b) in text(10).prop_flat_map(|d| {
            let n = chars(&d);
            (Just(d), op_on(n), 0..=n, 0..=n)
        }),
        left in any::<bool>(),
    ) {
        let side = if left { Side::Left } else { Side::Right };
        let after = chars(&op.apply_to_str(&doc).unwrap());
        let (ta, tb) = (transform_position(a, &op, side), transform_position(b, &op, side));
        prop_assert!(ta <= after && tb <= after);
        if a <= b {
            prop_assert!(ta <= tb);
        }
        prop_assert!(transform_position(a, &op, Side::Left) <= transform_position(a, &op, Side::Right));
    }
}
