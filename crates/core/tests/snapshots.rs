//! Snapshots every N ops or M bytes, pruning below the retention horizon once
//! the snapshot is durable, and a reload (snapshot + short tail) that equals
//! the state before.

mod common;

use common::*;
use quire_core::{CoreConfig, CoreError};
use quire_engine::SeqId;
use quire_storage::{DocumentAudit, Store};
use std::time::Duration;

async fn wait_for(
    store: &dyn Store,
    doc: quire_engine::DocumentId,
    ok: impl Fn(&DocumentAudit) -> bool,
) -> DocumentAudit {
    for _ in 0..300 {
        let audit = store.audit_document(doc).await.unwrap();
        if ok(&audit) {
            return audit;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the stored state never reached the expected shape");
}

#[tokio::test]
async fn snapshot_prune_and_reload_give_the_same_document() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let config = CoreConfig {
            snapshot_every_ops: 10,
            retention_ops: 15,
            window_ops: 4,
            ..small_config()
        };
        let hub1 = hub(&b.store, config.clone());
        for v in 0..100u64 {
            let op = if v % 3 == 2 {
                delete(owner, &format!("o{v}"), v, 0, 1)
            } else {
                insert(owner, &format!("o{v}"), v, (v / 2) as usize % 3, "ab")
            };
            hub1.submit_detached(doc, owner, op).await.unwrap();
        }
        let before = hub1.read(doc).await.unwrap();
        let audit = wait_for(&*b.store, doc, |a| {
            a.snapshots.iter().any(|s| s.seq == SeqId(100)) && a.pruned_through.0 >= 80
        })
        .await;
        // Pruned through a kept snapshot, at least `retention_ops` below the latest.
        assert!(audit.pruned_through.0 <= 100 - 15, "{}", b.name);
        assert!(
            audit
                .snapshots
                .iter()
                .any(|s| s.seq == audit.pruned_through)
        );
        assert!(
            audit
                .snapshots
                .iter()
                .all(|s| s.seq >= audit.pruned_through)
        );
        assert_eq!(audit.ops.first().unwrap().seq.0, audit.pruned_through.0 + 1);
        // The registry outlives the log: with the default registry retention
        // every op of this short history is still recognisable.
        assert_eq!(audit.registry_pruned_through, SeqId(0), "{}", b.name);
        assert_eq!(audit.registry.len(), 100, "{}", b.name);
        let report = quire_core::verify::verify_document(doc, &audit);
        assert!(
            report.corruptions.is_empty(),
            "{}: {:?}",
            b.name,
            report.corruptions
        );
        assert!(report.snapshots_replayed >= 2);
        let stored = b.store.load_document_state(doc).await.unwrap();
        assert!(
            stored.tail.len() < 10,
            "{}: recovery tail of {}",
            b.name,
            stored.tail.len()
        );
        hub1.shutdown().await;

        let hub2 = hub(&b.store, config);
        assert_eq!(hub2.read(doc).await.unwrap(), before, "{}", b.name);
        // Below the horizon: resync. Above it but below the window: rebased
        // from the stored log.
        let below = audit.pruned_through.0 - 1;
        let err = hub2
            .submit_detached(doc, owner, insert(owner, "late", below, 0, "z"))
            .await;
        assert_eq!(err, Err(CoreError::ResyncRequired));
        let above = audit.pruned_through.0 + 1;
        let ack = hub2
            .submit_detached(doc, owner, insert(owner, "stale", above, 0, "z"))
            .await
            .unwrap();
        assert_eq!(ack.seq.0, 101);
        assert!(hub2.read(doc).await.unwrap().content.starts_with('z'));
    }
}

#[tokio::test]
async fn large_ops_trigger_a_snapshot_by_bytes() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let config = CoreConfig {
            snapshot_every_ops: 1_000_000,
            snapshot_every_bytes: 1_000,
            ..small_config()
        };
        let hub = hub(&b.store, config);
        let big = "x".repeat(600);
        hub.submit_detached(doc, owner, insert(owner, "b1", 0, 0, &big))
            .await
            .unwrap();
        hub.submit_detached(doc, owner, insert(owner, "b2", 1, 0, &big))
            .await
            .unwrap();
        let audit = wait_for(&*b.store, doc, |a| !a.snapshots.is_empty()).await;
        assert_eq!(audit.snapshots[0].seq, SeqId(2), "{}", b.name);
        assert_eq!(audit.snapshots[0].content.len(), 1200);
    }
}
