//! Throughput of `Store::append_ops` with many concurrent callers: every op is
//! acknowledged only after its group commit is durable.
//!
//! ```text
//! cargo run -p quire-storage --release --example append_bench -- \
//!     [--callers 100] [--docs 1000] [--batch 1] [--seconds 5] [--target DIR_OR_POSTGRES_URL]
//! ```
//! Without `--target` it uses a fresh SQLite directory under the system temp dir.
//! Each caller owns `docs / callers` documents and appends `batch`-op requests
//! to them in turn, awaiting each before sending the next.

use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, UserId};
use quire_storage::{LoggedOp, NewDocument, NewUser, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    callers: usize,
    docs: usize,
    batch: u64,
    seconds: u64,
    target: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        callers: 100,
        docs: 1000,
        batch: 1,
        seconds: 5,
        target: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let number = || {
            value
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{flag}: not a number: {value}"))
        };
        match flag.as_str() {
            "--callers" => args.callers = number() as usize,
            "--docs" => args.docs = number() as usize,
            "--batch" => args.batch = number(),
            "--seconds" => args.seconds = number(),
            "--target" => args.target = Some(value.clone()),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        args.callers > 0 && args.docs >= args.callers && args.batch > 0,
        "need docs >= callers > 0, batch > 0"
    );
    args
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let temp = tempfile::tempdir().unwrap();
    let target = args
        .target
        .clone()
        .unwrap_or_else(|| temp.path().to_str().unwrap().to_owned());
    let store = quire_storage::open(&target)
        .await
        .expect("cannot open the store");

    let user = UserId::new_random();
    store
        .create_user(NewUser {
            id: user,
            username: format!("bench-{user}"),
            password_hash: "x".into(),
            created_at_ms: 0,
        })
        .await
        .unwrap();
    let docs: Vec<DocumentId> = futures_util::future::join_all((0..args.docs).map(|i| {
        let store = store.clone();
        async move {
            let id = DocumentId::new_random();
            store
                .create_document(NewDocument {
                    id,
                    title: format!("doc {i}"),
                    owner: user,
                    created_at_ms: i as i64,
                })
                .await
                .unwrap();
            id
        }
    }))
    .await;

    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let per_caller = args.docs / args.callers;
    let mut tasks = Vec::new();
    for c in 0..args.callers {
        let mine: Vec<DocumentId> = docs[c * per_caller..(c + 1) * per_caller].to_vec();
        tasks.push(tokio::spawn(caller(
            store.clone(),
            user,
            mine,
            args.batch,
            deadline,
        )));
    }
    let mut total = 0u64;
    let mut latencies = Vec::new();
    for t in tasks {
        let (count, lat) = t.await.unwrap();
        total += count;
        latencies.extend(lat);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "append_ops: {} ops in {elapsed:.2} s = {:.0} acknowledged ops/s ({} callers, {}-op requests, {} documents, {}); request latency p50 {:?} p99 {:?}",
        total,
        total as f64 / elapsed,
        args.callers,
        args.batch,
        args.docs,
        if quire_storage::postgres::is_postgres_url(&target) {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        pct(0.5),
        pct(0.99),
    );
}

async fn caller(
    store: Arc<dyn Store>,
    user: UserId,
    docs: Vec<DocumentId>,
    batch: u64,
    deadline: Instant,
) -> (u64, Vec<Duration>) {
    let mut next = vec![1u64; docs.len()];
    let mut count = 0;
    let mut latencies = Vec::new();
    let mut i = 0;
    while Instant::now() < deadline {
        let doc = docs[i % docs.len()];
        let first = next[i % docs.len()];
        let request: Vec<LoggedOp> = (first..first + batch)
            .map(|seq| LoggedOp {
                doc,
                seq: SeqId(seq),
                version: DocVersion(seq),
                user,
                operation_id: OperationId::new_random(),
                op_json: format!("[{seq},\"a\"]"),
                created_at_ms: seq as i64,
            })
            .collect();
        let sent = Instant::now();
        store.append_ops(&request).await.expect("append failed");
        latencies.push(sent.elapsed());
        next[i % docs.len()] += batch;
        count += batch;
        i += 1;
    }
    (count, latencies)
}
