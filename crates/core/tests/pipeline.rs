//! The pipeline's order and every rejection: each refused op changes nothing.

mod common;

use common::*;
use quire_core::{BadOp, CoreConfig, CoreError};
use quire_engine::client_op::Edit;
use quire_engine::limits::Limits;
use quire_engine::op::Component;
use quire_engine::{DocVersion, DocumentId, SeqId};
use quire_storage::Role;

#[tokio::test]
async fn accepted_ops_advance_version_and_seq_together() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let hub = hub(&b.store, small_config());
        let a1 = hub
            .submit_detached(doc, owner, insert(owner, "a1", 0, 0, "héllo"))
            .await
            .unwrap();
        assert_eq!(
            (a1.version, a1.seq, a1.duplicate),
            (DocVersion(1), SeqId(1), false),
            "{}",
            b.name
        );
        let a2 = hub
            .submit_detached(doc, owner, insert(owner, "a2", 1, 5, " 😀"))
            .await
            .unwrap();
        assert_eq!((a2.version, a2.seq), (DocVersion(2), SeqId(2)));
        let a3 = hub
            .submit_detached(doc, owner, delete(owner, "a3", 2, 0, 1))
            .await
            .unwrap();
        assert_eq!(a3.seq, SeqId(3));
        let view = hub.read(doc).await.unwrap();
        assert_eq!(view.content, "éllo 😀", "{}", b.name);
        assert_eq!((view.version, view.seq), (DocVersion(3), SeqId(3)));
    }
}

/// Submits `op` and expects `expected`; the document must be unchanged.
async fn assert_rejected(
    hub: &quire_core::Hub,
    doc: DocumentId,
    user: quire_engine::UserId,
    op: quire_engine::client_op::ClientOp,
    expected: fn(&CoreError) -> bool,
) {
    let before = hub.read(doc).await.unwrap();
    let err = hub
        .submit_detached(doc, user, op)
        .await
        .expect_err("op must be rejected");
    assert!(expected(&err), "unexpected error {err:?}");
    assert!(
        !err.is_retryable() || matches!(err, CoreError::Overloaded | CoreError::Unavailable(_))
    );
    assert_eq!(
        hub.read(doc).await.unwrap(),
        before,
        "a rejected op changed the document"
    );
}

#[tokio::test]
async fn every_rejection_changes_nothing() {
    for b in backends().await {
        let store = &*b.store;
        let (doc, owner) = owned_document(store).await;
        let reader = user(store, "reader").await;
        share(store, doc, reader, Role::Read).await;
        let stranger = user(store, "stranger").await;
        let config = CoreConfig {
            limits: Limits {
                max_op_chars: 8,
                max_document_chars: 12,
            },
            ..small_config()
        };
        let hub = hub(&b.store, config);
        hub.submit_detached(doc, owner, insert(owner, "seed", 0, 0, "abc"))
            .await
            .unwrap();

        // Permission comes first: even a malformed op from a reader is `forbidden`.
        assert_rejected(&hub, doc, reader, insert(reader, "r1", 1, 0, "x"), |e| {
            *e == CoreError::Forbidden
        })
        .await;
        assert_rejected(&hub, doc, reader, insert(owner, "r2", 9, 99, ""), |e| {
            *e == CoreError::Forbidden
        })
        .await;
        assert_rejected(
            &hub,
            doc,
            stranger,
            insert(stranger, "s1", 1, 0, "x"),
            |e| *e == CoreError::Forbidden,
        )
        .await;
        // Then the user check: an op claiming another user.
        assert_rejected(&hub, doc, owner, insert(reader, "w1", 1, 0, "x"), |e| {
            *e == CoreError::BadOp(BadOp::WrongUser)
        })
        .await;
        // Future base version.
        assert_rejected(&hub, doc, owner, insert(owner, "f1", 2, 0, "x"), |e| {
            matches!(e, CoreError::BadOp(BadOp::FutureBaseVersion { .. }))
        })
        .await;
        // Shape: empty insert, zero-length delete, overflowing numbers.
        assert_rejected(&hub, doc, owner, insert(owner, "e1", 1, 0, ""), |e| {
            matches!(e, CoreError::BadOp(BadOp::Invalid(_)))
        })
        .await;
        assert_rejected(&hub, doc, owner, delete(owner, "e2", 1, 0, 0), |e| {
            matches!(e, CoreError::BadOp(BadOp::Invalid(_)))
        })
        .await;
        assert_rejected(
            &hub,
            doc,
            owner,
            delete(owner, "e3", 1, usize::MAX, 2),
            |e| matches!(e, CoreError::BadOp(BadOp::Invalid(_))),
        )
        .await;
        let compound = op(
            owner,
            "e4",
            1,
            Edit::Compound {
                components: vec![Component::Skip(0)],
            },
        );
        assert_rejected(&hub, doc, owner, compound, |e| {
            matches!(e, CoreError::BadOp(_))
        })
        .await;
        // Ranges against the document (after transform).
        assert_rejected(&hub, doc, owner, insert(owner, "o1", 1, 4, "x"), |e| {
            matches!(e, CoreError::BadOp(BadOp::Invalid(_)))
        })
        .await;
        assert_rejected(&hub, doc, owner, delete(owner, "o2", 1, 1, 3), |e| {
            matches!(e, CoreError::BadOp(BadOp::Invalid(_)))
        })
        .await;
        // Sizes: op text over max_op_chars, document over max_document_chars.
        assert_rejected(
            &hub,
            doc,
            owner,
            insert(owner, "t1", 1, 0, "123456789"),
            |e| matches!(e, CoreError::TooLarge(_)) && e.code() == "too_large",
        )
        .await;
        hub.submit_detached(doc, owner, insert(owner, "fill", 1, 0, "12345678"))
            .await
            .unwrap();
        assert_rejected(&hub, doc, owner, insert(owner, "t2", 2, 0, "xy"), |e| {
            matches!(e, CoreError::TooLarge(_))
        })
        .await;
        // No such document.
        let missing = DocumentId::new_random();
        let err = hub
            .submit_detached(missing, owner, insert(owner, "n1", 0, 0, "x"))
            .await;
        assert_eq!(err, Err(CoreError::NotFound), "{}", b.name);
        assert_eq!(hub.read(missing).await, Err(CoreError::NotFound));

        // A rejected id was never registered: the same id, fixed, is applied.
        let ack = hub
            .submit_detached(doc, owner, insert(owner, "o1", 2, 0, "x"))
            .await
            .unwrap();
        assert!(!ack.duplicate);
        assert_eq!(
            hub.read(doc).await.unwrap().content,
            "x12345678abc",
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn dedup_comes_before_version_and_range_checks() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let hub = hub(&b.store, small_config());
        let first = hub
            .submit_detached(doc, owner, insert(owner, "d1", 0, 0, "ab"))
            .await
            .unwrap();
        // The resend carries the original base; the document moved on and the
        // range would no longer be checked the same way: it is recognised.
        hub.submit_detached(doc, owner, delete(owner, "d2", 1, 0, 2))
            .await
            .unwrap();
        let again = hub
            .submit_detached(doc, owner, insert(owner, "d1", 0, 0, "ab"))
            .await
            .unwrap();
        assert!(again.duplicate);
        assert_eq!((again.version, again.seq), (first.version, first.seq));
        assert_eq!(hub.read(doc).await.unwrap().content, "", "{}", b.name);
    }
}

#[tokio::test]
async fn an_op_that_transforms_into_a_noop_is_accepted_like_any_other() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let hub = hub(&b.store, small_config());
        hub.submit_detached(doc, owner, insert(owner, "n0", 0, 0, "abc"))
            .await
            .unwrap();
        hub.submit_detached(doc, owner, delete(owner, "n1", 1, 1, 1))
            .await
            .unwrap();
        // Concurrent delete of the same character: transforms into [].
        let ack = hub
            .submit_detached(doc, owner, delete(owner, "n2", 1, 1, 1))
            .await
            .unwrap();
        assert_eq!(
            (ack.version, ack.seq, ack.duplicate),
            (DocVersion(3), SeqId(3), false)
        );
        let audit = b.store.audit_document(doc).await.unwrap();
        let last = audit.ops.last().unwrap();
        assert_eq!(
            (last.seq, last.op_json.as_str()),
            (SeqId(3), "[]"),
            "{}",
            b.name
        );
        assert_eq!(hub.read(doc).await.unwrap().content, "ac");
        // And a resend of it is recognised.
        let again = hub
            .submit_detached(doc, owner, delete(owner, "n2", 1, 1, 1))
            .await
            .unwrap();
        assert!(again.duplicate);
    }
}
