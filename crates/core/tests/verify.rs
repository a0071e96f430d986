//! `verify` finds each kind of corruption, names it, and passes clean stores.

mod common;

use common::*;
use quire_core::CoreConfig;
use quire_core::verify::{Corruption, verify_document, verify_store};
use quire_engine::{DocVersion, DocumentId, OperationId, SeqId};
use quire_storage::{DocumentAudit, RegisteredOp, Snapshot, Store};
use std::time::Duration;

/// A document with 30 ops, snapshots every 10 and pruning: (doc, its audit).
async fn history(store: &std::sync::Arc<dyn Store>) -> (DocumentId, DocumentAudit) {
    let (doc, owner) = owned_document(&**store).await;
    let config = CoreConfig {
        snapshot_every_ops: 10,
        retention_ops: 5,
        ..small_config()
    };
    let hub = hub(store, config);
    for v in 0..30u64 {
        hub.submit_detached(
            doc,
            owner,
            insert(owner, &format!("v{v}"), v, (v % 4) as usize, "ab"),
        )
        .await
        .unwrap();
    }
    for _ in 0..300 {
        let audit = store.audit_document(doc).await.unwrap();
        if audit.pruned_through.0 >= 10 && audit.snapshots.iter().any(|s| s.seq.0 == 30) {
            // Shutdown waits for a prune that may still be running.
            hub.shutdown().await;
            return (doc, store.audit_document(doc).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("snapshots never appeared");
}

fn found(audit: &DocumentAudit) -> Vec<Corruption> {
    verify_document(DocumentId::new_random(), audit).corruptions
}

#[tokio::test]
async fn each_kind_of_corruption_is_named() {
    let b = backends().await.remove(0);
    let (doc, clean) = history(&b.store).await;
    let report = verify_document(doc, &clean);
    assert!(report.corruptions.is_empty(), "{:?}", report.corruptions);
    assert_eq!((report.version, report.content_chars), (DocVersion(30), 60));
    assert!(report.snapshots_replayed >= 2);
    let mid = 5; // an index into the retained log

    let mut a = clean.clone();
    let gone = a.ops.remove(mid).seq.0;
    assert!(found(&a).contains(&Corruption::SeqGap {
        expected: gone,
        found: gone + 1
    }));

    let mut a = clean.clone();
    a.ops[mid].version = DocVersion(a.ops[mid].version.0 + 7);
    assert!(matches!(found(&a)[0], Corruption::VersionMismatch { .. }));

    let mut a = clean.clone();
    a.ops[mid + 1].operation_id = a.ops[mid].operation_id.clone();
    assert!(
        found(&a)
            .iter()
            .any(|c| matches!(c, Corruption::AppliedTwice { .. }))
    );

    let mut a = clean.clone();
    a.registry
        .retain(|(_, id, _)| *id != clean.ops[mid].operation_id);
    assert_eq!(
        found(&a),
        vec![Corruption::NotRegistered {
            seq: clean.ops[mid].seq.0
        }]
    );

    // The registry outlives the log: entries below the log's horizon are
    // expected and clean.
    assert!(clean.registry_pruned_through < clean.pruned_through);
    assert!(
        clean
            .registry
            .iter()
            .any(|(_, _, r)| r.seq <= clean.pruned_through)
    );
    let logged_entry = |a: &DocumentAudit| {
        a.registry
            .iter()
            .position(|(_, id, _)| *id == a.ops[mid].operation_id)
            .unwrap()
    };

    let mut a = clean.clone();
    let i = logged_entry(&a);
    a.registry[i].1 = OperationId::parse("other").unwrap();
    assert_eq!(
        found(&a),
        vec![Corruption::RegistryMismatch {
            seq: clean.ops[mid].seq.0,
            registered_user: clean.ops[mid].user,
            registered: OperationId::parse("other").unwrap(),
            registered_version: clean.ops[mid].version.0,
            logged_user: clean.ops[mid].user,
            logged: clean.ops[mid].operation_id.clone(),
        }]
    );

    let mut a = clean.clone();
    let extra = (
        a.ops[0].user,
        OperationId::parse("ghost").unwrap(),
        RegisteredOp {
            version: DocVersion(31),
            seq: SeqId(31),
        },
    );
    a.registry.push(extra);
    assert!(matches!(
        found(&a)[0],
        Corruption::DanglingRegistryEntry { .. }
    ));

    // Below the log's horizon: two ids claiming one seq.
    let mut a = clean.clone();
    let old = a.registry[0].clone();
    a.registry
        .push((old.0, OperationId::parse("twin").unwrap(), old.2));
    assert_eq!(
        found(&a),
        vec![Corruption::RegistrySeqTwice {
            first: old.1.clone(),
            second: OperationId::parse("twin").unwrap(),
            seq: old.2.seq.0
        }]
    );

    // An entry the registry's horizon says was pruned.
    let mut a = clean.clone();
    a.registry_pruned_through = old.2.seq;
    assert_eq!(
        found(&a),
        vec![Corruption::RegistryEntryBelowHorizon {
            operation_id: old.1.clone(),
            seq: old.2.seq.0
        }]
    );

    // The registry's horizon past the log's.
    let mut a = clean.clone();
    a.registry_pruned_through = SeqId(clean.pruned_through.0 + 1);
    a.registry
        .retain(|(_, _, r)| r.seq > a.registry_pruned_through);
    assert!(found(&a).contains(&Corruption::RegistryHorizonPastLog {
        registry: clean.pruned_through.0 + 1,
        log: clean.pruned_through.0
    }));

    let mut a = clean.clone();
    a.ops[mid].op_json = "[{\"x\":1}]".into();
    assert!(matches!(found(&a)[0], Corruption::BadOp { .. }));

    let mut a = clean.clone();
    a.ops[mid].op_json = "[100000,\"x\"]".into();
    assert!(
        found(&a)
            .iter()
            .any(|c| matches!(c, Corruption::DoesNotApply { .. }))
    );

    let mut a = clean.clone();
    let last = a.snapshots.len() - 1;
    a.snapshots[last].content.push('!');
    assert_eq!(found(&a), vec![Corruption::SnapshotMismatch { seq: 30 }]);

    let mut a = clean.clone();
    a.ops.pop();
    assert!(found(&a).contains(&Corruption::SnapshotBeyondLog {
        seq: 30,
        log_end: 29
    }));

    let mut a = clean.clone();
    a.snapshots.clear();
    assert!(found(&a).contains(&Corruption::PrunedWithoutSnapshot {
        pruned: clean.pruned_through.0
    }));
}

#[tokio::test]
async fn a_wrong_snapshot_in_a_real_store_is_found() {
    for b in backends().await {
        let (doc, clean) = history(&b.store).await;
        let (other, _) = owned_document(&*b.store).await;
        assert!(verify_store(&*b.store).await.unwrap().is_ok(), "{}", b.name);
        let at = clean.ops[3].seq;
        b.store
            .save_snapshot(&Snapshot {
                doc,
                version: DocVersion(at.0),
                seq: at,
                content: "wrong".into(),
                created_at_ms: 0,
            })
            .await
            .unwrap();
        let report = verify_store(&*b.store).await.unwrap();
        assert!(!report.is_ok());
        let bad: Vec<_> = report.corruptions().collect();
        assert_eq!(
            bad,
            vec![(doc, &Corruption::SnapshotMismatch { seq: at.0 })],
            "{}",
            b.name
        );
        assert!(
            report
                .documents
                .iter()
                .any(|d| d.doc == other && d.corruptions.is_empty())
        );
    }
}

#[tokio::test]
async fn a_hole_in_a_sqlite_log_is_found() {
    let b = backends().await.remove(0);
    let (doc, clean) = history(&b.store).await;
    let victim = clean.ops[4].seq.0 as i64;
    let db = b.dir.as_ref().unwrap().path().join("quire.db");
    let conn = rusqlite::Connection::open(db).unwrap();
    let deleted = conn
        .execute("DELETE FROM ops WHERE seq = ?1", [victim])
        .unwrap();
    assert_eq!(deleted, 1);
    let report = verify_store(&*b.store).await.unwrap();
    let bad: Vec<_> = report.corruptions().map(|(_, c)| c.clone()).collect();
    assert!(
        bad.contains(&Corruption::SeqGap {
            expected: victim as u64,
            found: victim as u64 + 1
        }),
        "{bad:?}"
    );
    assert!(report.corruptions().all(|(d, _)| d == doc));
}
