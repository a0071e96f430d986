//! Idle documents unload (only without sessions) and reload to the same
//! state; requests racing with an unload, or queued at an owner that
//! panicked, are served by a fresh owner; a stopped owner's claim outlives
//! its store calls.

mod common;

use common::*;
use quire_core::{CoreConfig, Hub};
use quire_storage::Role;
use std::time::Duration;

async fn wait_unloaded(hub: &Hub) -> bool {
    for _ in 0..300 {
        if hub.open_documents() == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn an_idle_document_unloads_and_reloads_unchanged() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let config = CoreConfig {
            idle_unload_after: Duration::from_millis(50),
            ..CoreConfig::default()
        };
        let hub = hub(&b.store, config);
        hub.submit_detached(doc, owner, insert(owner, "u1", 0, 0, "kept"))
            .await
            .unwrap();
        let before = hub.read(doc).await.unwrap();
        assert_eq!(hub.open_documents(), 1);
        assert!(wait_unloaded(&hub).await, "{}: never unloaded", b.name);
        assert_eq!(hub.read(doc).await.unwrap(), before);
        assert_eq!(hub.open_documents(), 1);
        // The registry survived the unload.
        let again = hub
            .submit_detached(doc, owner, insert(owner, "u1", 0, 0, "kept"))
            .await
            .unwrap();
        assert!(again.duplicate);
    }
}

#[tokio::test]
async fn a_document_with_a_session_stays_loaded() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let config = CoreConfig {
            idle_unload_after: Duration::from_millis(30),
            ..CoreConfig::default()
        };
        let hub = hub(&b.store, config);
        let (session, _, _) = join_live(&hub, doc, owner, Role::Owner).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            hub.open_documents(),
            1,
            "{}: unloaded under a session",
            b.name
        );
        // Dropping the receiver and the handle leaves the document.
        drop(session);
        assert!(wait_unloaded(&hub).await, "{}", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_racing_with_unloads_are_never_lost() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let config = CoreConfig {
            idle_unload_after: Duration::from_millis(1),
            ..CoreConfig::default()
        };
        let hub = hub(&b.store, config);
        let mut unloads_seen = 0;
        for v in 0..150u64 {
            // Owners check for idleness every 10 ms: pauses of 0-12 ms make
            // requests land before, during and after unloads.
            tokio::time::sleep(Duration::from_millis(v % 13)).await;
            if hub.open_documents() == 0 {
                unloads_seen += 1;
            }
            let ack = hub
                .submit_detached(doc, owner, insert(owner, &format!("r{v}"), v, 0, "."))
                .await
                .unwrap_or_else(|e| panic!("{}: op {v} failed: {e}", b.name));
            assert_eq!(ack.version.0, v + 1);
        }
        let view = hub.read(doc).await.unwrap();
        assert_eq!(view.content.len(), 150);
        assert!(unloads_seen > 0, "{}: the race was never exercised", b.name);
    }
}

#[tokio::test]
async fn a_request_queued_at_an_owner_that_panics_is_served_by_a_fresh_one() {
    for b in backends().await {
        let (gated, hub, doc, owner) = gated_store::gated_hub(&b, small_config()).await;
        gated
            .panic_next_load
            .store(1, std::sync::atomic::Ordering::SeqCst);
        // The read waits in the mailbox while the first owner loads and
        // panics; once that owner's claim is given up, a new owner loads
        // the document and answers it.
        let view = hub.read(doc).await.expect("served by a fresh owner");
        assert_eq!(view.content, "", "{}", b.name);
        let ack = hub
            .submit_detached(doc, owner, insert(owner, "after-panic", 0, 0, "x"))
            .await
            .unwrap();
        assert_eq!(ack.version.0, 1, "{}", b.name);
    }
}

#[tokio::test]
async fn a_stopped_owner_gives_its_claim_up_only_once_its_snapshot_save_ended() {
    for b in backends().await {
        let config = CoreConfig {
            snapshot_every_ops: 1,
            ..small_config()
        };
        let (gated, hub, doc, owner) = gated_store::gated_hub(&b, config).await;
        gated.hold_snapshots();
        hub.submit_detached(doc, owner, insert(owner, "s1", 0, 0, "x"))
            .await
            .unwrap();
        gated_store::wait_for(&gated.snapshots_started, 1, "a snapshot save").await;
        // Told the document is gone, the owner stops at once, its snapshot
        // save still held in the store: a new owner (here or on another
        // instance) must not load the document before that call ends.
        hub.document_deleted(doc).await;
        assert!(
            wait_unloaded(&hub).await,
            "{}: the owner did not stop",
            b.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let releases = || gated.releases.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            releases(),
            0,
            "{}: claim given up during a store call",
            b.name
        );
        gated.release_snapshots();
        gated_store::wait_for(&gated.releases, 1, "the claim's release").await;
    }
}
