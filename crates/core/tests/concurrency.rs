//! Many submitters on one document converge: every acknowledged op is in
//! the log exactly once, the content equals the replay of the log, and a
//! live session that applies the stream it receives ends with the same text.

mod common;

use common::*;
use quire_core::{CoreConfig, SessionEvent};
use quire_engine::op::TextOp;
use quire_engine::{DocVersion, SeqId};
use quire_storage::Role;
use std::collections::HashSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_submitters_converge_and_every_ack_is_logged_once() {
    const SUBMITTERS: usize = 16;
    const OPS_EACH: usize = 40;
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let config = CoreConfig {
            snapshot_every_ops: 97,
            window_ops: 64,
            ..small_config()
        };
        let hub = hub(&b.store, config);
        let (mut watcher, snapshot, _) = join_live(&hub, doc, owner, Role::Owner).await;

        let mut tasks = Vec::new();
        for s in 0..SUBMITTERS {
            let hub = hub.clone();
            tasks.push(tokio::spawn(async move {
                let mut acks = Vec::new();
                let mut version = DocVersion(0);
                for i in 0..OPS_EACH {
                    // Insert after this submitter's previous text, or delete
                    // what it typed: positions valid against `version` only
                    // if the server rebases correctly.
                    let id = format!("s{s}-{i}");
                    let op = if i % 5 == 4 {
                        delete(owner, &id, version.0, 0, 1)
                    } else {
                        insert(owner, &id, version.0, 0, &format!("{}", s % 10))
                    };
                    let ack = hub.submit_detached(doc, owner, op).await.expect("submit");
                    version = ack.version;
                    acks.push((id, ack.seq));
                }
                acks
            }));
        }
        let mut acked = Vec::new();
        for t in tasks {
            acked.extend(t.await.unwrap());
        }
        let total = SUBMITTERS * OPS_EACH;
        assert_eq!(acked.len(), total);
        let seqs: HashSet<SeqId> = acked.iter().map(|(_, s)| *s).collect();
        assert_eq!(seqs.len(), total, "{}: two acks share a seq", b.name);

        // The log holds each acknowledged op once, at the acknowledged seq.
        let audit = b.store.audit_document(doc).await.unwrap();
        let view = hub.read(doc).await.unwrap();
        assert_eq!(view.version, DocVersion(total as u64));
        let report = quire_core::verify::verify_document(doc, &audit);
        assert!(
            report.corruptions.is_empty(),
            "{}: {:?}",
            b.name,
            report.corruptions
        );
        assert_eq!(report.version, view.version);
        assert_eq!(report.content_chars, view.content.chars().count());
        if audit.pruned_through == SeqId(0) {
            for (id, seq) in &acked {
                let logged = &audit.ops[(seq.0 - 1) as usize];
                assert_eq!(
                    (logged.operation_id.as_str(), logged.seq),
                    (id.as_str(), *seq)
                );
            }
        }

        // The watcher applies what it receives and ends with the same text.
        let mut text = snapshot;
        let mut last = SeqId(0);
        while last.0 < total as u64 {
            match next_event(&mut watcher.events).await {
                SessionEvent::Committed(ops) => {
                    for c in ops.iter() {
                        assert_eq!(c.seq, last.next().unwrap(), "gap in the stream");
                        last = c.seq;
                        let op: &TextOp = &c.op;
                        text = op.apply_to_str(&text).unwrap();
                    }
                }
                SessionEvent::Presence(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(text, view.content, "{}", b.name);
    }
}
