//! Convergence: the server and every client end with the same text, whatever
//! the interleaving, with the sides the system uses (server: incoming stale op
//! left; client: pending ops left, remote op right).

mod common;

use common::{apply_all, chars, op_on, sequence_from, text};
use proptest::prelude::*;
use quire_engine::{Side, TextOp, transform_over, transform_pending, transform_x};

fn apply(doc: &str, op: &TextOp) -> String {
    op.apply_to_str(doc).expect("op fits")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// The server applied `a`, then receives `b` (made on the same document):
    /// it applies `b` transformed over `a` with side left. The client that
    /// made `b` applied it locally and transforms `a` over its pending `b`.
    #[test]
    fn single_op_converges(
        (doc, a, b) in text(12).prop_flat_map(|d| { let n = chars(&d); (Just(d), op_on(n), op_on(n)) })
    ) {
        let server = apply(&apply(&doc, &a), &b.transform(&a, Side::Left));
        let (b_after_a, a_after_b) = transform_x(&b, &a);
        prop_assert_eq!(&b_after_a, &b.transform(&a, Side::Left));
        let client = apply(&apply(&doc, &b), &a_after_b);
        prop_assert_eq!(server, client);
    }

    /// TP1 for both sides, and transformed ops stay valid on the document they
    /// now apply to.
    #[test]
    fn both_sides_converge_and_fit(
        (doc, a, b) in text(12).prop_flat_map(|d| { let n = chars(&d); (Just(d), op_on(n), op_on(n)) })
    ) {
        for side in [Side::Left, Side::Right] {
            let a2 = a.transform(&b, side);
            let b2 = b.transform(&a, side.flip());
            let after_b = apply(&doc, &b);
            let after_a = apply(&doc, &a);
            prop_assert!(a2.input_len() <= chars(&after_b));
            prop_assert!(b2.input_len() <= chars(&after_a));
            prop_assert_eq!(apply(&after_b, &a2), apply(&after_a, &b2));
        }
    }

    /// A client with several pending ops receives several server ops; the
    /// server applies the server ops, then the client's ops rebased (the
    /// first transformed over every server op with side left).
    #[test]
    fn sequences_converge(
        (doc, server_ops, client_ops) in text(10).prop_flat_map(|d| {
            (Just(d.clone()), sequence_from(d.clone(), 4), sequence_from(d, 4))
        })
    ) {
        // Client: applied its ops, then each remote op arrives.
        let mut client_text = apply_all(&doc, &client_ops);
        let mut pending = client_ops.clone();
        for remote in &server_ops {
            let remote_local = transform_pending(&mut pending, remote);
            client_text = apply(&client_text, &remote_local);
        }
        // Server: the first client op arrives stale (base = doc) and is
        // transformed over everything applied since; the later ones were
        // sent after its ack, already rebased by the client.
        let first_on_server = transform_over(&client_ops[0], &server_ops, Side::Left);
        prop_assert_eq!(&first_on_server, &pending[0]);
        let server_text = apply_all(&apply_all(&doc, &server_ops), &pending);
        prop_assert_eq!(server_text, client_text);
    }

    /// Transforming over a sequence equals transforming step by step, and the
    /// result applies after the whole sequence.
    #[test]
    fn transform_over_sequence_is_stepwise(
        (doc, op, others) in text(10).prop_flat_map(|d| {
            let n = chars(&d);
            (Just(d.clone()), op_on(n), sequence_from(d, 4))
        }),
        left in any::<bool>(),
    ) {
        let side = if left { Side::Left } else { Side::Right };
        let mut stepwise = op.clone();
        for other in &others {
            stepwise = stepwise.transform(other, side);
        }
        let over = transform_over(&op, &others, side);
        prop_assert_eq!(&over, &stepwise);
        let after = apply_all(&doc, &others);
        prop_assert!(over.apply_to_str(&after).is_ok());
    }

    /// compose(a, b) applies like a then b.
    #[test]
    fn compose_matches_sequential_apply((doc, ops) in text(12).prop_flat_map(|d| (Just(d.clone()), sequence_from(d, 3)))) {
        let composed = ops.iter().skip(1).fold(ops[0].clone(), |acc, op| acc.compose(op));
        prop_assert_eq!(apply(&doc, &composed), apply_all(&doc, &ops));
    }
}
