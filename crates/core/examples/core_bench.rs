//! In-process, durable benchmarks of the collaboration core on SQLite
//! (issue 4 targets). Prints one JSON line per benchmark.
//!
//! ```text
//! cargo run --release -p quire-core --example core_bench [-- one_doc|many_docs|load]
//! ```
//!
//! - `one_doc`: 100 concurrent submitters on one document, with 1 and with
//!   16 unacknowledged ops each (each op based on the newest version the
//!   submitter saw acknowledged, so it is rebased over what overtook it).
//!   Target: ≥ 100,000 acknowledged ops/s.
//! - `many_docs`: 1,000 documents with 2 submitters each, same two settings.
//!   Target: ≥ 200,000 ops/s.
//! - `load`: builds a ~1 MB document with 1,000,000 ops of history through
//!   the core (snapshots and pruning as configured by default), then loads it
//!   into a fresh owner. Target: < 50 ms.

use quire_core::{CoreConfig, Hub};
use quire_engine::client_op::{ClientOp, Edit};
use quire_engine::{DocVersion, DocumentId, OperationId, UserId};
use quire_storage::sqlite::SqliteOptions;
use quire_storage::testing::fresh_sqlite_with;
use quire_storage::{NewDocument, NewUser, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

async fn setup_user(store: &dyn Store) -> UserId {
    let id = UserId::new_random();
    store
        .create_user(NewUser {
            id,
            username: format!("bench-{id}"),
            password_hash: "x".into(),
            created_at_ms: 0,
        })
        .await
        .unwrap();
    id
}

async fn setup_doc(store: &dyn Store, owner: UserId) -> DocumentId {
    let id = DocumentId::new_random();
    store
        .create_document(NewDocument {
            id,
            title: "bench".into(),
            owner,
            created_at_ms: 0,
        })
        .await
        .unwrap();
    id
}

/// One submitter: `ops` ops in total, at most `in_flight` unacknowledged at
/// once (docs/protocol.md §7 allows 64 per connection; the reference clients
/// use 1). Each op is based on the newest version this submitter has seen in
/// an ack, so it is rebased over whatever overtook it.
async fn submitter(
    hub: Hub,
    doc: DocumentId,
    user: UserId,
    tag: usize,
    ops: usize,
    in_flight: usize,
) {
    let seen = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let lanes: Vec<_> = (0..in_flight)
        .map(|_| {
            let (hub, seen, next) = (hub.clone(), Arc::clone(&seen), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= ops {
                        break;
                    }
                    let op = ClientOp {
                        operation_id: OperationId::parse(format!("{tag}-{i}")).unwrap(),
                        user_id: user,
                        base_version: DocVersion(seen.load(Ordering::Relaxed)),
                        edit: Edit::Insert {
                            position: 0,
                            text: "x".into(),
                        },
                    };
                    loop {
                        match hub.submit_detached(doc, user, op.clone()).await {
                            Ok(ack) => {
                                seen.fetch_max(ack.version.0, Ordering::Relaxed);
                                break;
                            }
                            Err(e) if e.is_retryable() => tokio::task::yield_now().await,
                            Err(e) => panic!("submit failed: {e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for lane in lanes {
        lane.await.unwrap();
    }
}

/// Runs `per_doc` submitters of `ops_each` ops on each of `docs` documents.
async fn throughput(name: &str, docs: usize, per_doc: usize, ops_each: usize, in_flight: usize) {
    let (store, _dir) = fresh_sqlite_with(SqliteOptions::default());
    let user = setup_user(&*store).await;
    let mut ids = Vec::with_capacity(docs);
    for _ in 0..docs {
        ids.push(setup_doc(&*store, user).await);
    }
    let hub = Hub::start(Arc::clone(&store), CoreConfig::default()).expect("valid configuration");
    let started = Instant::now();
    let cpu = cpu_seconds();
    let mut tasks = Vec::with_capacity(docs * per_doc);
    for (d, doc) in ids.iter().enumerate() {
        for s in 0..per_doc {
            let hub = hub.clone();
            tasks.push(tokio::spawn(submitter(
                hub,
                *doc,
                user,
                d * per_doc + s,
                ops_each,
                in_flight,
            )));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let total = docs * per_doc * ops_each;
    println!(
        "{{\"bench\":\"{name}\",\"documents\":{docs},\"submitters\":{},\"in_flight_per_submitter\":{in_flight},\"acked_ops\":{total},\"seconds\":{secs:.3},\"ops_per_s\":{:.0},\"cpu_us_per_op\":{:.1}}}",
        docs * per_doc,
        total as f64 / secs,
        cpu * 1e6 / total as f64
    );
    hub.shutdown().await;
}

/// User + system CPU time of this process so far (Linux), in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(") ").next().unwrap_or("").split(' ').collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

async fn load() {
    const OPS: usize = 1_000_000;
    const SUBMITTERS: usize = 100;
    let (store, _dir) = fresh_sqlite_with(SqliteOptions::default());
    let user = setup_user(&*store).await;
    let doc = setup_doc(&*store, user).await;
    let hub = Hub::start(Arc::clone(&store), CoreConfig::default()).expect("valid configuration");
    let built = Instant::now();
    let tasks: Vec<_> = (0..SUBMITTERS)
        .map(|s| tokio::spawn(submitter(hub.clone(), doc, user, s, OPS / SUBMITTERS, 16)))
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let build_secs = built.elapsed().as_secs_f64();
    hub.shutdown().await;
    let state = store.load_document_state(doc).await.unwrap();
    let tail = state.tail.len();

    // Median of 5 loads into a fresh owner (a fresh hub each time).
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..5 {
        let hub =
            Hub::start(Arc::clone(&store), CoreConfig::default()).expect("valid configuration");
        let t = Instant::now();
        let view = hub.read(doc).await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        bytes = view.content.len();
        assert_eq!(view.version, DocVersion(OPS as u64));
        hub.shutdown().await;
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"bench\":\"load\",\"history_ops\":{OPS},\"document_bytes\":{bytes},\"tail_ops\":{tail},\"build_seconds\":{build_secs:.1},\"load_ms_median\":{:.2},\"load_ms_max\":{:.2}}}",
        times[2], times[4]
    );
}

fn main() {
    let which = std::env::args().nth(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        if which.as_deref().is_none_or(|w| w == "one_doc") {
            throughput("one_doc", 1, 100, 1_000, 1).await;
            throughput("one_doc", 1, 100, 3_000, 16).await;
        }
        if which.as_deref().is_none_or(|w| w == "many_docs") {
            throughput("many_docs", 1_000, 2, 100, 1).await;
            throughput("many_docs", 1_000, 2, 300, 16).await;
        }
        if which.as_deref().is_none_or(|w| w == "load") {
            load().await;
        }
    });
}
