//! Exactly-once: a resent operation id is recognised (from the in-memory
//! window, from the stored registry beyond it, after a reload) and answered
//! with the original ack; another user's op with the same id is a different op;
//! after the log below it was pruned a resend is still recognised while the
//! registry remembers it, and beyond the registry's horizon it is rejected,
//! never applied twice.

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

/// Waits until the stored horizons reach at least (log, registry).
async fn wait_for_pruning(b: &Backend, doc: DocumentId, log: u64, registry: u64) {
    for _ in 0..300 {
        let audit = b.store.audit_document(doc).await.unwrap();
        if audit.pruned_through.0 >= log && audit.registry_pruned_through.0 >= registry {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{}: never pruned through ({log}, {registry})", b.name);
}

/// The lost-ack scenario: op "early" is applied, its ack is lost, the log is
/// pruned past it; the client resends it with its original baseVersion.
#[tokio::test]
async fn a_resend_after_the_log_was_pruned_gets_the_original_ack() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let config = CoreConfig {
            window_ops: 2,
            snapshot_every_ops: 4,
            retention_ops: 0,
            ..small_config()
        };
        let hub1 = hub(&b.store, config.clone());
        let first = hub1
            .submit_detached(doc, owner, insert(owner, "early", 0, 0, "x"))
            .await
            .unwrap();
        type_chars(&hub1, doc, owner, 1, 12).await;
        wait_for_pruning(&b, doc, 4, 0).await;
        let audit = b.store.audit_document(doc).await.unwrap();
        assert!(audit.ops.iter().all(|o| o.seq > first.seq), "{}", b.name);
        assert_eq!(audit.registry_pruned_through.0, 0, "{}", b.name);
        let before = hub1.read(doc).await.unwrap();

        let again = hub1
            .submit_detached(doc, owner, insert(owner, "early", 0, 0, "x"))
            .await
            .unwrap();
        assert!(again.duplicate, "{}", b.name);
        assert_eq!((again.version, again.seq), (first.version, first.seq));
        assert_eq!(hub1.read(doc).await.unwrap(), before, "{}", b.name);

        // A brand-new op with an equally old base was never applied: it
        // cannot be rebased (its log is gone), so the client must resync.
        let fresh = hub1
            .submit_detached(doc, owner, insert(owner, "new-but-stale", 0, 0, "y"))
            .await;
        assert_eq!(fresh, Err(CoreError::ResyncRequired), "{}", b.name);
        assert_eq!(hub1.read(doc).await.unwrap(), before, "{}", b.name);
        hub1.shutdown().await;

        // After a reload the stored registry horizon still says it is known.
        let hub2 = hub(&b.store, config);
        let again = hub2
            .submit_detached(doc, owner, insert(owner, "early", 0, 0, "x"))
            .await
            .unwrap();
        assert_eq!(
            (again.duplicate, again.version, again.seq),
            (true, first.version, first.seq),
            "{}",
            b.name
        );
        assert_eq!(hub2.read(doc).await.unwrap(), before, "{}", b.name);
    }
}

#[tokio::test]
async fn beyond_the_registry_horizon_a_resend_is_rejected_not_reapplied() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let config = CoreConfig {
            window_ops: 2,
            snapshot_every_ops: 4,
            retention_ops: 0,
            registry_retention_ops: 4,
            ..small_config()
        };
        let hub = hub(&b.store, config);
        hub.submit_detached(doc, owner, insert(owner, "early", 0, 0, "x"))
            .await
            .unwrap();
        type_chars(&hub, doc, owner, 1, 12).await;
        // Snapshots at seqs 4, 8, 12: the log is pruned through 12, the
        // registry through 12 - 4.
        wait_for_pruning(&b, doc, 12, 8).await;
        let audit = b.store.audit_document(doc).await.unwrap();
        assert!(
            audit.registry_pruned_through < audit.pruned_through,
            "{}: the registry must trail the log",
            b.name
        );
        let before = hub.read(doc).await.unwrap();
        let resend = hub
            .submit_detached(doc, owner, insert(owner, "early", 0, 0, "x"))
            .await;
        // Its status is unknowable: rejected, and said to be unknowable.
        assert_eq!(resend, Err(CoreError::OutcomeUnknown), "{}", b.name);
        assert_eq!(hub.read(doc).await.unwrap(), before);
        // So is any op based below the registry horizon, new or not.
        let fresh = hub
            .submit_detached(doc, owner, insert(owner, "never-sent", 3, 0, "y"))
            .await;
        assert_eq!(fresh, Err(CoreError::OutcomeUnknown), "{}", b.name);
        // Between the two horizons an unknown id was never applied: plain
        // `resync_required`, safe to re-create.
        let between = hub
            .submit_detached(doc, owner, insert(owner, "never-sent-2", 9, 0, "y"))
            .await;
        assert_eq!(between, Err(CoreError::ResyncRequired), "{}", b.name);
        assert_eq!(hub.read(doc).await.unwrap(), before);
        // Still known between the two horizons: the op at seq 10 (base 9).
        let known = hub
            .submit_detached(doc, owner, insert(owner, "fill-9", 9, 0, "."))
            .await
            .unwrap();
        assert_eq!((known.duplicate, known.seq.0), (true, 10), "{}", b.name);
        assert_eq!(hub.read(doc).await.unwrap(), before);
    }
}
