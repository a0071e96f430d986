//! Paced broadcast delivery through the hub (docs/protocol.md §4, "Delivery
//! timing"): with many sessions per document, committed ops reach watchers in
//! rounds, several commits per event, while the submitter's ack is never held
//! and always comes after every op before it. The pacing itself (groups,
//! spacing, the hold) is tested on a virtual clock in `owner::sessions`.

mod common;

use common::*;
use quire_core::{CommittedOp, CoreConfig};
use quire_storage::Role;
use std::sync::Arc;
use std::time::Duration;

/// A hold long enough (2 s for two sessions) that the three commits below
/// always fall inside one, even on a slow disk.
fn paced() -> CoreConfig {
    CoreConfig {
        broadcast_interval: Duration::from_secs(2),
        broadcast_interval_per_session: Duration::from_secs(1),
        ..small_config()
    }
}

fn seqs(ops: &[Arc<CommittedOp>]) -> Vec<u64> {
    ops.iter().map(|c| c.seq.0).collect()
}

#[tokio::test]
async fn watchers_get_commits_in_rounds_and_acks_are_not_held() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let reader = user(&*b.store, "reader").await;
        share(&*b.store, doc, reader, Role::Read).await;
        let hub = hub(&b.store, paced());
        let (mut watcher, _, _) = join_live(&hub, doc, reader, Role::Read).await;
        let (mut writer, _, _) = join_live(&hub, doc, owner, Role::Owner).await;

        for v in 0..3u64 {
            writer
                .handle
                .submit(insert(owner, &format!("w{v}"), v, 0, "x"))
                .unwrap();
            // The ack (the writer's own op, last) comes at once: the test
            // would take 2 s per op if it waited for a round.
            let started = std::time::Instant::now();
            let ops = next_committed(&mut writer.events).await;
            assert_eq!(seqs(&ops), [v + 1], "{}", b.name);
            assert_eq!(ops[0].origin, Some(writer.handle.id()));
            assert!(started.elapsed() < Duration::from_secs(1), "{}", b.name);
        }

        // The watcher gets all three, in order, in fewer events than commits.
        let mut got = Vec::new();
        let mut events = 0;
        while got.len() < 3 {
            got.extend(seqs(&next_committed(&mut watcher.events).await));
            events += 1;
        }
        assert_eq!(got, [1, 2, 3], "{}", b.name);
        assert!(events < 3, "{}: {events} events for 3 commits", b.name);
        no_event_within(&mut watcher.events, 50).await;
    }
}

#[tokio::test]
async fn an_ack_brings_the_held_ops_before_it() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let other = user(&*b.store, "other").await;
        share(&*b.store, doc, other, Role::Write).await;
        let hub = hub(&b.store, paced());
        let (mut a, _, _) = join_live(&hub, doc, owner, Role::Owner).await;
        let (mut b_session, _, _) = join_live(&hub, doc, other, Role::Write).await;

        // Two commits by `b`: whatever `a` already got of them in a round,
        // its ack for the third op comes with the rest, contiguous.
        for v in 0..2u64 {
            b_session
                .handle
                .submit(insert(other, &format!("b{v}"), v, 0, "y"))
                .unwrap();
            assert_eq!(seqs(&next_committed(&mut b_session.events).await), [v + 1]);
        }
        a.handle.submit(insert(owner, "a0", 2, 0, "x")).unwrap();
        let mut got = Vec::new();
        loop {
            let ops = next_committed(&mut a.events).await;
            got.extend(seqs(&ops));
            if ops.last().unwrap().origin == Some(a.handle.id()) {
                break;
            }
        }
        assert_eq!(got, [1, 2, 3], "{}", b.name);
    }
}
