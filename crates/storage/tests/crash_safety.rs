//! SIGKILL at arbitrary moments leaves the store consistent and loses nothing
//! that was acknowledged.
//!
//! The test re-runs its own binary as a child process (`crash_child`, which
//! does nothing unless `QUIRE_CRASH_CHILD_TARGET` is set). The child appends
//! 1-op requests to several documents from concurrent tasks, saves snapshots
//! and prunes now and then, and prints `ACK doc seq operation_id` after every
//! acknowledged append. The parent kills it with SIGKILL at a random moment,
//! several times, reopening the store in between, and checks every document:
//! sequence ids contiguous after the pruning horizon, registry entries exactly
//! those of the logged ops, every acknowledged op present with its id.

mod harness;

use harness::{Db, user};
use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, UserId};
use quire_storage::{LoggedOp, PruneRequest, Snapshot, Store, StoreError};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DOCS: usize = 6;
const ROUNDS: usize = 4;
const CHILD_TARGET: &str = "QUIRE_CRASH_CHILD_TARGET";
/// The child stops by itself after this long if nobody kills it.
const CHILD_LIFETIME: Duration = Duration::from_secs(20);

store_tests!(sigkill_at_random_points_leaves_a_consistent_store);

async fn sigkill_at_random_points_leaves_a_consistent_store(db: Db) {
    let owner = user(&db.store, "crash").await;
    let mut docs = Vec::new();
    for i in 0..DOCS {
        docs.push(harness::document(&db.store, owner, "crash", i as i64).await);
    }
    // The child writes; this process only reads, between rounds (a SQLite
    // directory is open in one store at a time).
    let db = db.close();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut acked: HashMap<(DocumentId, u64), String> = HashMap::new();

    for round in 0..ROUNDS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = Duration::from_millis(50 + seed % 600);
        let doc_list = docs
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_TARGET, db.target())
            .env("QUIRE_CRASH_CHILD_DOCS", doc_list)
            .env("QUIRE_CRASH_CHILD_USER", owner.to_string())
            .env("QUIRE_CRASH_CHILD_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Read acks on a thread; kill once the child has been acknowledging for `kill_after`.
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("ACK ") {
                    lines.push(line);
                }
            }
            lines
        });
        let started = Instant::now();
        tokio::time::sleep(kill_after).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        eprintln!(
            "round {round}: killed after {:?} with {} acks",
            started.elapsed(),
            lines.len()
        );
        for line in lines {
            let mut parts = line.split(' ').skip(1);
            let doc: DocumentId = parts.next().unwrap().parse().unwrap();
            let seq: u64 = parts.next().unwrap().parse().unwrap();
            acked.insert((doc, seq), parts.next().unwrap().to_owned());
        }
        // The child was killed holding the directory: opening it again also
        // shows that a crash never leaves it locked.
        let store = db.open().await;
        for &doc in &docs {
            check_document(&store, doc, &acked).await;
        }
    }
    assert!(!acked.is_empty(), "the child never acknowledged anything");
}

async fn check_document(
    store: &Arc<dyn Store>,
    doc: DocumentId,
    acked: &HashMap<(DocumentId, u64), String>,
) {
    let audit = store.audit_document(doc).await.unwrap();
    let horizon = audit.pruned_through.0;
    let seqs: Vec<u64> = audit.ops.iter().map(|o| o.seq.0).collect();
    let expected: Vec<u64> = (horizon + 1..=horizon + seqs.len() as u64).collect();
    assert_eq!(
        seqs, expected,
        "document {doc}: log not contiguous after horizon {horizon}"
    );
    let end = seqs.last().copied().unwrap_or(horizon);
    let registry: Vec<(UserId, String, u64)> = audit
        .registry
        .iter()
        .map(|(u, id, r)| (*u, id.to_string(), r.seq.0))
        .collect();
    let from_ops: Vec<(UserId, String, u64)> = audit
        .ops
        .iter()
        .map(|o| (o.user, o.operation_id.to_string(), o.seq.0))
        .collect();
    assert_eq!(
        registry, from_ops,
        "document {doc}: registry differs from the log"
    );
    for ((d, seq), id) in acked.iter().filter(|((d, _), _)| *d == doc) {
        assert!(
            *seq <= end,
            "document {d}: acknowledged seq {seq} lost (log ends at {end})"
        );
        if *seq > horizon {
            let op = &audit.ops[(*seq - horizon - 1) as usize];
            assert_eq!(
                op.operation_id.as_str(),
                id,
                "document {d} seq {seq}: different op stored"
            );
        }
    }
    if let Some(s) = audit.snapshots.last() {
        assert!(s.seq.0 <= end, "document {doc}: snapshot beyond the log");
    }
}

/// The child half: does nothing unless started by the test above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by sigkill_at_random_points_leaves_a_consistent_store as a subprocess"]
async fn crash_child() {
    let Ok(target) = std::env::var(CHILD_TARGET) else {
        return;
    };
    let docs: Vec<DocumentId> = std::env::var("QUIRE_CRASH_CHILD_DOCS")
        .unwrap()
        .split(',')
        .map(|d| d.parse().unwrap())
        .collect();
    let user: UserId = std::env::var("QUIRE_CRASH_CHILD_USER")
        .unwrap()
        .parse()
        .unwrap();
    let round = std::env::var("QUIRE_CRASH_CHILD_ROUND").unwrap();
    let store = quire_storage::open(&target).await.unwrap();
    let deadline = Instant::now() + CHILD_LIFETIME;
    let mut tasks = Vec::new();
    for doc in docs {
        let (store, round) = (store.clone(), round.clone());
        tasks.push(tokio::spawn(async move {
            let mut last = logged_through(&*store, doc).await;
            while Instant::now() < deadline {
                let seq = last + 1;
                let op = LoggedOp {
                    doc,
                    seq: SeqId(seq),
                    version: DocVersion(seq),
                    user,
                    operation_id: OperationId::parse(format!("r{round}-s{seq}")).unwrap(),
                    op_json: format!("[{seq},\"k\"]"),
                    created_at_ms: seq as i64,
                };
                match store.append_ops(std::slice::from_ref(&op)).await {
                    Ok(()) => {}
                    // On PostgreSQL the killed child's last transaction
                    // may still commit after this child read the log: that
                    // op is stored (the audit checks it), this one was not
                    // acknowledged, so read the log's end again.
                    Err(StoreError::Continuity(_)) => {
                        last = logged_through(&*store, doc).await;
                        continue;
                    }
                    Err(e) => panic!("append: {e}"),
                }
                let line = format!("ACK {doc} {seq} {}\n", op.operation_id);
                std::io::stdout().lock().write_all(line.as_bytes()).unwrap();
                last = seq;
                if seq % 25 == 0 {
                    let snap = Snapshot {
                        doc,
                        version: DocVersion(seq),
                        seq: SeqId(seq),
                        content: "k".repeat(seq as usize),
                        created_at_ms: 0,
                    };
                    store.save_snapshot(&snap).await.unwrap();
                    let through = SeqId(seq - 10);
                    store
                        .prune(PruneRequest {
                            doc,
                            through,
                            registry_through: through,
                            drop_snapshots_before: SeqId(seq),
                        })
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// The sequence id of the last op the store holds for `doc`.
async fn logged_through(store: &dyn Store, doc: DocumentId) -> u64 {
    let state = store.load_document_state(doc).await.unwrap();
    let last = state
        .tail
        .last()
        .map(|o| o.seq.0)
        .or(state.snapshot.map(|s| s.seq.0))
        .unwrap_or(0);
    last.max(state.pruned_through.0)
}
