//! REST API latency on a large SQLite store: server time of
//! `GET /api/documents` and `GET /api/users?prefix=` (issue 3's target:
//! p99 < 2 ms with 10,000 users and 100,000 documents).
//!
//! Run: `cargo run --release -p quire-bench --example api_bench [-- USERS DOCS SAMPLES]`
//!
//! Data is bulk-inserted through the `Store` (concurrently, so the SQLite
//! writer's group commit batches it): every user owns DOCS/USERS documents and
//! every document is shared with two other users (one reader, one writer), so a
//! user's listing mixes owned and shared documents. Requests go through the real
//! router in-process (`tower::ServiceExt::oneshot`): the time measured is the
//! server's own work — routing, token verification and user lookup, the handler
//! with its storage queries, JSON serialisation — without socket overhead.
//! Prints one JSON line per measured endpoint.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures_util::StreamExt;
use quire_engine::{DocumentId, UserId};
use quire_server::auth::JwtSecret;
use quire_server::{AppState, ServerConfig};
use quire_storage::sqlite::{SqliteOptions, SqliteStore};
use quire_storage::{NewDocument, NewUser, Role, Store};
use tower::ServiceExt;

/// Concurrent store calls during the bulk load (the writer groups them).
const LOAD_CONCURRENCY: usize = 1024;
const SYLLABLES: [&str; 16] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ba", "de", "fi", "go", "ha", "ju", "pe", "zu",
];

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn username(i: usize) -> String {
    let s = |k: usize| SYLLABLES[(i / k) % SYLLABLES.len()];
    format!("{}{}{}{i}", s(1), s(16), s(256))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let users = arg(1, 10_000);
    let docs = arg(2, 100_000);
    let samples = arg(3, 5_000);
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path(), SqliteOptions::default())?);

    let started = Instant::now();
    let user_ids = load_users(&store, users).await?;
    let load_users_s = started.elapsed().as_secs_f64();
    load_documents(&store, &user_ids, docs).await?;
    eprintln!(
        "loaded {users} users in {load_users_s:.1}s, {docs} documents (+{} shares) in {:.1}s",
        docs * 2,
        started.elapsed().as_secs_f64() - load_users_s
    );

    // The storage calls alone, to show where the server time goes.
    let mut rng = fastrand::Rng::with_seed(9);
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let user = user_ids[rng.usize(..user_ids.len())];
        let t0 = Instant::now();
        store.documents_for_user(user, None, 51).await?;
        times.push(t0.elapsed());
    }
    report("store.documents_for_user(limit 51)", users, docs, &times);
    times.clear();
    for _ in 0..samples {
        let user = user_ids[rng.usize(..user_ids.len())];
        let t0 = Instant::now();
        store.user_by_id(user).await?;
        times.push(t0.elapsed());
    }
    report("store.user_by_id", users, docs, &times);

    let secret = JwtSecret::random()?;
    let state = AppState::new(store, ServerConfig::default(), &secret)?;
    let tokens: Vec<String> = user_ids
        .iter()
        .map(|id| state.tokens.issue(*id).map(|t| t.token))
        .collect::<Result<_, _>>()?;
    let app = quire_server::build_router(state, None);

    let mut rng = fastrand::Rng::with_seed(7);
    let list = measure(&app, samples, || {
        let t = &tokens[rng.usize(..tokens.len())];
        ("/api/documents?limit=50".to_owned(), t.clone())
    })
    .await?;
    report("GET /api/documents?limit=50", users, docs, &list);

    let mut rng = fastrand::Rng::with_seed(8);
    let search = measure(&app, samples, || {
        // One- to three-syllable prefixes: from ~625 matches down to ~2.
        let name = username(rng.usize(..users));
        let len = 2 * rng.usize(1..=3);
        let t = &tokens[rng.usize(..tokens.len())];
        (
            format!("/api/users?prefix={}&limit=20", &name[..len]),
            t.clone(),
        )
    })
    .await?;
    report("GET /api/users?prefix=&limit=20", users, docs, &search);
    // Tail latencies on a shared machine mostly measure its other load.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        eprintln!("load average (1, 5, 15 min) at the end: {}", load.trim());
    }
    Ok(())
}

async fn load_users(store: &Arc<dyn Store>, n: usize) -> anyhow::Result<Vec<UserId>> {
    // Listing never verifies passwords: a fixed PHC string keeps the load fast.
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    let ids: Vec<UserId> = (0..n).map(|_| UserId::new_random()).collect();
    let mut stream =
        futures_util::stream::iter(ids.clone().into_iter().enumerate().map(|(i, id)| {
            let store = store.clone();
            let new = NewUser {
                id,
                username: username(i),
                password_hash: hash.to_owned(),
                created_at_ms: i as i64,
            };
            async move { store.create_user(new).await }
        }))
        .buffer_unordered(LOAD_CONCURRENCY);
    while let Some(r) = stream.next().await {
        r?;
    }
    Ok(ids)
}

async fn load_documents(store: &Arc<dyn Store>, users: &[UserId], n: usize) -> anyhow::Result<()> {
    let u = users.len();
    let mut stream = futures_util::stream::iter((0..n).map(|i| {
        let store = store.clone();
        let owner = users[i % u];
        let reader = users[(i * 7 + 1) % u];
        let writer = users[(i * 13 + 2) % u];
        async move {
            let id = DocumentId::new_random();
            store
                .create_document(NewDocument {
                    id,
                    title: format!("Document {i}"),
                    owner,
                    created_at_ms: 1_700_000_000_000 + i as i64,
                })
                .await?;
            if reader != owner {
                store.set_role(id, reader, Role::Read).await?;
            }
            if writer != owner && writer != reader {
                store.set_role(id, writer, Role::Write).await?;
            }
            anyhow::Ok(())
        }
    }))
    .buffer_unordered(LOAD_CONCURRENCY);
    while let Some(r) = stream.next().await {
        r?;
    }
    Ok(())
}

/// Runs `samples` requests (after a tenth as many warm-up requests), one at a
/// time, and returns each one's server time.
async fn measure(
    app: &Router,
    samples: usize,
    mut next: impl FnMut() -> (String, String),
) -> anyhow::Result<Vec<Duration>> {
    let warmup = samples / 10;
    let mut times = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        let (uri, token) = next();
        let req = Request::get(&uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())?;
        let t0 = Instant::now();
        let res = app.clone().oneshot(req).await?;
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
        let elapsed = t0.elapsed();
        anyhow::ensure!(status == StatusCode::OK, "{uri}: {status} {body:?}");
        if i >= warmup {
            times.push(elapsed);
        }
    }
    Ok(times)
}

fn report(endpoint: &str, users: usize, docs: usize, times: &[Duration]) {
    let mut us: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e6).collect();
    us.sort_by(f64::total_cmp);
    let pct = |p: f64| us[((us.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{{\"bench\":\"api\",\"measured\":\"{endpoint}\",\"users\":{users},\"documents\":{docs},\"samples\":{},\"p50_us\":{:.0},\"p90_us\":{:.0},\"p99_us\":{:.0},\"max_us\":{:.0}}}",
        us.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        us[us.len() - 1]
    );
}
