//! Latency of the two listing queries on SQLite at the size the product
//! targets: 10,000 users and 100,000 documents, each document shared with one
//! other user (so 200,000 access rules). Prints the query plans, then p50 /
//! p99 / max of `documents_for_user` (first page and a cursor page) and of
//! `search_users` (2-letter prefixes), measured around the `Store` call.
//!
//! ```text
//! cargo run -p quire-storage --release --example listing_bench -- [--users 10000] [--docs 100000] [--queries 2000]
//! ```

use futures_util::StreamExt;
use quire_engine::{DocumentId, UserId};
use quire_storage::sqlite::{SqliteOptions, SqliteStore};
use quire_storage::{DocumentCursor, NewDocument, NewUser, Role, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LOAD_CONCURRENCY: usize = 512;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: not a number")))
        .unwrap_or(default)
}

/// A cheap deterministic pseudo-random sequence (xorshift), for reproducible data.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "{name:<34} n={:<6} p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
        samples.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() {
    let (n_users, n_docs, n_queries) = (
        arg("--users", 10_000),
        arg("--docs", 100_000),
        arg("--queries", 2_000),
    );
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path(), SqliteOptions::default()).unwrap();
    for (query, plan) in sqlite.listing_query_plans().await.unwrap() {
        println!("plan {query}: {plan}");
    }
    let store: Arc<dyn Store> = Arc::new(sqlite);

    let loading = Instant::now();
    let users: Vec<UserId> = (0..n_users).map(|_| UserId::new_random()).collect();
    futures_util::stream::iter(users.iter().enumerate())
        .for_each_concurrent(LOAD_CONCURRENCY, |(i, &id)| {
            let store = store.clone();
            async move {
                let username = format!(
                    "{}{:05}",
                    ["al", "bo", "ca", "da", "ed", "fi", "gu", "ha"][i % 8],
                    i
                );
                store
                    .create_user(NewUser {
                        id,
                        username,
                        password_hash: "x".into(),
                        created_at_ms: 0,
                    })
                    .await
                    .unwrap();
            }
        })
        .await;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let docs: Vec<(usize, usize, i64)> = (0..n_docs)
        .map(|i| {
            (
                rng.below(n_users),
                rng.below(n_users),
                i as i64 * 1000 + rng.below(1000) as i64,
            )
        })
        .collect();
    futures_util::stream::iter(docs)
        .for_each_concurrent(LOAD_CONCURRENCY, |(owner, reader, created_at_ms)| {
            let store = store.clone();
            let (owner, reader) = (users[owner], users[reader]);
            async move {
                let id = DocumentId::new_random();
                store
                    .create_document(NewDocument {
                        id,
                        title: "t".into(),
                        owner,
                        created_at_ms,
                    })
                    .await
                    .unwrap();
                if owner != reader {
                    store.set_role(id, reader, Role::Read).await.unwrap();
                }
            }
        })
        .await;
    println!(
        "loaded {n_users} users and {n_docs} documents in {:.1} s",
        loading.elapsed().as_secs_f64()
    );

    let (mut first_page, mut next_page, mut search) = (Vec::new(), Vec::new(), Vec::new());
    let mut rng = Rng(42);
    for _ in 0..n_queries {
        let user = users[rng.below(n_users)];
        let t = Instant::now();
        let page = store.documents_for_user(user, None, 50).await.unwrap();
        first_page.push(t.elapsed());
        if let Some((last, _)) = page.get(page.len().saturating_sub(1).min(4)) {
            let cursor = DocumentCursor {
                created_at_ms: last.created_at_ms,
                id: last.id,
            };
            let t = Instant::now();
            store
                .documents_for_user(user, Some(cursor), 50)
                .await
                .unwrap();
            next_page.push(t.elapsed());
        }
        let prefix = ["al", "bo", "ca", "da", "ed", "fi", "gu", "ha"][rng.below(8)];
        let t = Instant::now();
        let found = store.search_users(prefix, None, 20).await.unwrap();
        search.push(t.elapsed());
        assert_eq!(found.len(), 20.min(n_users / 8));
    }
    report("documents_for_user (first 50)", first_page);
    report("documents_for_user (after cursor)", next_page);
    report("search_users (2-letter prefix, 20)", search);
}
