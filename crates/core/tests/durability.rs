//! Durability before acknowledgement: no ack or broadcast before the commit;
//! a failed commit is a retryable error, the op is not in storage, a resend
//! applies it exactly once; a commit that succeeded but reported a failure is
//! recognised on reload and acknowledged, never applied twice.

mod common;

use common::gated_store::{GatedStore, gated_hub};
use common::*;
use quire_core::{CoreError, SessionEvent};
use quire_engine::{DocVersion, SeqId};
use quire_storage::Role;
use std::sync::atomic::Ordering;
use std::time::Duration;

async fn wait_for_appends(store: &GatedStore, n: usize) {
    common::gated_store::wait_for(&store.appends_started, n, "a commit").await;
}

#[tokio::test]
async fn no_ack_and_no_broadcast_before_the_commit_is_durable() {
    for b in backends().await {
        let (gated, hub, doc, owner) = gated_hub(&b, small_config()).await;
        let (mut watcher, _, _) = join_live(&hub, doc, owner, Role::Owner).await;

        gated.close_gate();
        let submit = {
            let hub = hub.clone();
            tokio::spawn(async move {
                hub.submit_detached(doc, owner, insert(owner, "held", 0, 0, "x"))
                    .await
            })
        };
        wait_for_appends(&gated, 1).await;
        no_event_within(&mut watcher.events, 200).await;
        assert!(
            !submit.is_finished(),
            "{}: acknowledged before the commit",
            b.name
        );
        assert!(b.store.audit_document(doc).await.unwrap().ops.is_empty());

        gated.open_gate();
        let ack = submit.await.unwrap().unwrap();
        assert_eq!((ack.seq, ack.duplicate), (SeqId(1), false));
        let committed = next_committed(&mut watcher.events).await;
        assert_eq!(committed.len(), 1);
        assert_eq!(committed[0].seq, SeqId(1));
        assert_eq!(
            b.store.audit_document(doc).await.unwrap().ops.len(),
            1,
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn a_failed_commit_is_retryable_and_a_resend_applies_once() {
    for b in backends().await {
        let (gated, hub, doc, owner) = gated_hub(&b, small_config()).await;
        hub.submit_detached(doc, owner, insert(owner, "base", 0, 0, "ab"))
            .await
            .unwrap();

        // One op in flight (held), two more applied in memory on top of it.
        gated.close_gate();
        gated.fail_next.store(1, Ordering::SeqCst);
        let first = {
            let hub = hub.clone();
            tokio::spawn(async move {
                hub.submit_detached(doc, owner, insert(owner, "f1", 1, 0, "1"))
                    .await
            })
        };
        wait_for_appends(&gated, 2).await;
        let mut later = Vec::new();
        for (i, id) in ["f2", "f3"].into_iter().enumerate() {
            let hub = hub.clone();
            later.push(tokio::spawn(async move {
                hub.submit_detached(doc, owner, insert(owner, id, 1, 2, &i.to_string()))
                    .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Where the store keeps pipelined calls in order (SQLite), f2 and f3
        // are already handed over behind the held f1 (in one call or two),
        // and fail with it. Ops handed over: base, f1 and those.
        let expected_ops = if b.store.ordered_appends_in_flight() > 1 {
            4
        } else {
            2
        };
        assert_eq!(
            gated.ops_started.load(Ordering::SeqCst),
            expected_ops,
            "{}",
            b.name
        );
        gated.open_gate();

        let err = first
            .await
            .unwrap()
            .expect_err("the failed commit must not be acknowledged");
        assert!(
            matches!(err, CoreError::Unavailable(_)) && err.is_retryable(),
            "{err:?}"
        );
        for task in later {
            // Applied in memory on top of the failed op: rejected with it.
            let e = task
                .await
                .unwrap()
                .expect_err("an op built on a failed one must fail");
            assert!(e.is_retryable(), "{e:?}");
        }
        let durable = hub.read(doc).await.unwrap();
        assert!(
            !durable.content.contains('1'),
            "{}: the failed op is visible",
            b.name
        );
        let audit = b.store.audit_document(doc).await.unwrap();
        assert!(audit.ops.iter().all(|o| o.operation_id.as_str() != "f1"));

        // The client resends with the same id and base: applied exactly once.
        let ack = hub
            .submit_detached(doc, owner, insert(owner, "f1", 1, 0, "1"))
            .await
            .unwrap();
        assert!(!ack.duplicate);
        let again = hub
            .submit_detached(doc, owner, insert(owner, "f1", 1, 0, "1"))
            .await
            .unwrap();
        assert!(again.duplicate);
        assert_eq!((again.seq, again.version), (ack.seq, ack.version));
        let content = hub.read(doc).await.unwrap().content;
        assert_eq!(content.matches('1').count(), 1, "{}: {content}", b.name);
        let report =
            quire_core::verify::verify_document(doc, &b.store.audit_document(doc).await.unwrap());
        assert!(report.corruptions.is_empty(), "{:?}", report.corruptions);
    }
}

#[tokio::test]
async fn a_commit_that_reported_failure_but_was_written_is_acknowledged_once() {
    for b in backends().await {
        let (gated, hub, doc, owner) = gated_hub(&b, small_config()).await;
        gated.commit_then_fail_next.store(1, Ordering::SeqCst);
        let ack = hub
            .submit_detached(doc, owner, insert(owner, "amb", 0, 0, "x"))
            .await
            .unwrap();
        assert_eq!(
            (ack.version, ack.duplicate),
            (DocVersion(1), false),
            "{}",
            b.name
        );
        let next = hub
            .submit_detached(doc, owner, insert(owner, "after", 1, 1, "y"))
            .await
            .unwrap();
        assert_eq!(next.seq, SeqId(2));
        assert_eq!(hub.read(doc).await.unwrap().content, "xy");
        assert_eq!(b.store.audit_document(doc).await.unwrap().ops.len(), 2);
    }
}

#[tokio::test]
async fn an_op_another_writer_logged_first_is_never_acknowledged() {
    for b in backends().await {
        let (gated, hub, doc, owner) = gated_hub(&b, small_config()).await;
        // The log gets another op at the same seq (a writer this owner does
        // not know of) and the owner's commit fails on it: the owner's op is
        // not in the log, so it must be refused, not acknowledged.
        gated
            .foreign_write_then_fail_next
            .store(1, Ordering::SeqCst);
        let refused = hub
            .submit_detached(doc, owner, insert(owner, "mine", 0, 0, "x"))
            .await;
        assert!(refused.is_err(), "{}: {refused:?}", b.name);
        let audit = b.store.audit_document(doc).await.unwrap();
        let ids: Vec<&str> = audit.ops.iter().map(|o| o.operation_id.as_str()).collect();
        assert_eq!(ids, ["foreign-1"], "{}", b.name);
    }
}

#[tokio::test]
async fn a_session_sees_a_rejection_then_a_gapless_stream() {
    for b in backends().await {
        let (gated, hub, doc, owner) = gated_hub(&b, small_config()).await;
        let (mut s, _, _) = join_live(&hub, doc, owner, Role::Owner).await;
        gated.fail_next.store(1, Ordering::SeqCst);
        s.handle.submit(insert(owner, "s1", 0, 0, "a")).unwrap();
        match next_event(&mut s.events).await {
            SessionEvent::Rejected {
                operation_id,
                error,
            } => {
                assert_eq!(operation_id.as_str(), "s1");
                assert!(error.is_retryable());
            }
            other => panic!("{}: expected a rejection, got {other:?}", b.name),
        }
        s.handle.submit(insert(owner, "s1", 0, 0, "a")).unwrap();
        let own = next_committed(&mut s.events).await;
        assert_eq!((own[0].seq, own[0].origin), (SeqId(1), Some(s.id)));
        s.handle.submit(insert(owner, "s2", 1, 1, "b")).unwrap();
        assert_eq!(next_committed(&mut s.events).await[0].seq, SeqId(2));
    }
}
