//! Exactly-once: a resent operation id is recognised (from the in-memory
//! window, from the stored registry beyond it, after a reload) and answered
//! with the original ack; another user's op with the same id is a different op;
//! below the pruning horizon a resend is rejected, never applied twice.

mod common;

use common::*;
use quire_core::{CoreConfig, CoreError, Hub};
use quire_engine::{DocumentId, UserId};
use quire_storage::Role;
use std::time::Duration;

async fn type_chars(hub: &Hub, doc: DocumentId, user: UserId, from_version: u64, n: u64) {
    for i in 0..n {
        let v = from_version + i;
        hub.submit_detached(doc, user, insert(user, &format!("fill-{v}"), v, 0, "."))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_resend_gets_the_original_ack_and_changes_nothing() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let hub = hub(&b.store, small_config());
        let first = hub
            .submit_detached(doc, owner, insert(owner, "once", 0, 0, "x"))
            .await
            .unwrap();
        type_chars(&hub, doc, owner, 1, 3).await;
        for _ in 0..3 {
            let again = hub
                .submit_detached(doc, owner, insert(owner, "once", 0, 0, "x"))
                .await
                .unwrap();
            assert!(again.duplicate, "{}", b.name);
            assert_eq!((again.version, again.seq), (first.version, first.seq));
        }
        let view = hub.read(doc).await.unwrap();
        assert_eq!(view.content, "...x");
        assert_eq!(view.version.0, 4);
    }
}

#[tokio::test]
async fn another_user_reusing_an_id_is_a_different_op() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let other = user(&*b.store, "other").await;
        share(&*b.store, doc, other, Role::Write).await;
        let hub = hub(&b.store, small_config());
        let mine = hub
            .submit_detached(doc, owner, insert(owner, "same-id", 0, 0, "a"))
            .await
            .unwrap();
        let theirs = hub
            .submit_detached(doc, other, insert(other, "same-id", 0, 0, "b"))
            .await
            .unwrap();
        assert!(
            !theirs.duplicate,
            "{}: one user made another's op a duplicate",
            b.name
        );
        assert_ne!(mine.seq, theirs.seq);
        assert_eq!(hub.read(doc).await.unwrap().content, "ba");
        // Each user's resend is still recognised as their own.
        let again = hub
            .submit_detached(doc, other, insert(other, "same-id", 0, 0, "b"))
            .await
            .unwrap();
        assert_eq!((again.duplicate, again.seq), (true, theirs.seq));
    }
}

#[tokio::test]
async fn resends_older_than_the_window_and_after_a_reload_are_recognised() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let config = CoreConfig {
            window_ops: 2,
            ..small_config()
        };
        let hub1 = hub(&b.store, config.clone());
        let first = hub1
            .submit_detached(doc, owner, insert(owner, "old", 0, 0, "x"))
            .await
            .unwrap();
        type_chars(&hub1, doc, owner, 1, 6).await;
        // base 0 is below the window: answered from the stored registry.
        let again = hub1
            .submit_detached(doc, owner, insert(owner, "old", 0, 0, "x"))
            .await
            .unwrap();
        assert_eq!(
            (again.duplicate, again.seq),
            (true, first.seq),
            "{}",
            b.name
        );
        hub1.shutdown().await;

        // A fresh hub (as after a restart) loads the document from storage.
        let hub2 = hub(&b.store, config);
        let again = hub2
            .submit_detached(doc, owner, insert(owner, "old", 0, 0, "x"))
            .await
            .unwrap();
        assert_eq!(
            (again.duplicate, again.seq),
            (true, first.seq),
            "{}",
            b.name
        );
        let recent = hub2
            .submit_detached(doc, owner, insert(owner, "fill-6", 6, 0, "."))
            .await
            .unwrap();
        assert!(recent.duplicate);
        assert_eq!(hub2.read(doc).await.unwrap().content, "......x");
    }
}

#[tokio::test]
async fn below_the_pruning_horizon_a_resend_is_rejected_not_reapplied() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let config = CoreConfig {
            window_ops: 2,
            snapshot_every_ops: 4,
            retention_ops: 0,
            ..small_config()
        };
        let hub = hub(&b.store, config);
        hub.submit_detached(doc, owner, insert(owner, "early", 0, 0, "x"))
            .await
            .unwrap();
        type_chars(&hub, doc, owner, 1, 12).await;
        let mut pruned = quire_engine::SeqId(0);
        for _ in 0..200 {
            pruned = b.store.audit_document(doc).await.unwrap().pruned_through;
            if pruned.0 >= 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(pruned.0 >= 4, "{}: never pruned", b.name);
        let before = hub.read(doc).await.unwrap();
        let resend = hub
            .submit_detached(doc, owner, insert(owner, "early", 0, 0, "x"))
            .await;
        assert_eq!(resend, Err(CoreError::ResyncRequired), "{}", b.name);
        let fresh = hub
            .submit_detached(doc, owner, insert(owner, "new-but-stale", 1, 0, "y"))
            .await;
        assert_eq!(fresh, Err(CoreError::ResyncRequired));
        assert_eq!(hub.read(doc).await.unwrap(), before);
    }
}
