//! Load benchmark (prints numbers; not part of the default suite):
//! N SDK clients on one document, each inserting one character at a random
//! position and waiting for its durable acknowledgement before the next
//! (closed loop), over real sockets to the real server on SQLite.
//!
//!     cargo test --release -p quire-server --test ws_load_bench -- --ignored --nocapture
//!
//! Prints one JSON line per run: clients, seconds, ops, ops_per_s, p50_ms,
//! p99_ms, converged. `QUIRE_BENCH_SECS` changes the duration (default 5).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quire_client::{Client, ClientConfig, WsConnector};
use quire_engine::client_op::Edit;
use quire_server::auth::JwtSecret;
use quire_server::serve::{ServeOptions, run};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// The production server (`quire serve`'s code path) on 127.0.0.1:0 over a
/// fresh SQLite data directory.
async fn serve(dir: &tempfile::TempDir) -> SocketAddr {
    let options = ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        database_url: None,
        sqlite: quire_storage::testing::test_sqlite_options(),
        jwt_secret: Some(JwtSecret::from_bytes(vec![7; 32]).unwrap()),
        web_dir: None,
        config: common::test_config(),
        gateway: quire_server::gateway::GatewayConfig::default(),
        core: quire_core::CoreConfig::default(),
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(run(
        options,
        move |addr| {
            let _ = tx.send(addr);
        },
        std::future::pending(),
    ));
    rx.await.expect("server started")
}

async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut req = http.post(url).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.unwrap()
}

async fn closed_loop(clients: usize) {
    let secs: u64 = std::env::var("QUIRE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let addr = serve(&dir).await;
    let http = reqwest::Client::new();
    let base = format!("http://{addr}/api");
    let signup = |name: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let body = post(
                &http,
                format!("{base}/auth/signup"),
                None,
                json!({"username": name, "password": "password123"}),
            )
            .await;
            (
                body["user"]["id"].as_str().unwrap().to_owned(),
                body["token"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (_, owner_token) = signup("owner".into()).await;
    let doc = post(
        &http,
        format!("{base}/documents"),
        Some(&owner_token),
        json!({"title": "load"}),
    )
    .await;
    let doc = doc["id"].as_str().unwrap().to_owned();
    let mut all = Vec::new();
    for i in 0..clients {
        let (id, token) = signup(format!("user{i}")).await;
        post(
            &http,
            format!("{base}/documents/{doc}/collaborators"),
            Some(&owner_token),
            json!({"userId": id, "role": "write"}),
        )
        .await;
        let connector = Arc::new(WsConnector::new(format!("ws://{addr}/api/ws"), 64 << 20));
        let c = Client::start(ClientConfig::new(token, doc.parse().unwrap()), connector);
        c.wait_live().await.unwrap();
        all.push(c);
    }
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let workers: Vec<_> = all
        .into_iter()
        .enumerate()
        .map(|(i, c)| tokio::spawn(one_client(c, i as u64, deadline)))
        .collect();
    let mut latencies = Vec::new();
    let mut clients_back = Vec::new();
    for worker in workers {
        let (c, l) = worker.await.unwrap();
        latencies.extend(l);
        clients_back.push(c);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64()
            * 1e3
    };
    let target = clients_back
        .iter()
        .map(|c| c.progress().borrow().version)
        .max()
        .unwrap();
    for c in &clients_back {
        c.progress()
            .wait_for(|p| p.version >= target)
            .await
            .unwrap();
    }
    let text = clients_back[0].text();
    let converged =
        clients_back.iter().all(|c| c.text() == text) && text.chars().count() == latencies.len();
    println!(
        "{{\"clients\": {clients}, \"seconds\": {elapsed:.2}, \"ops\": {}, \"ops_per_s\": {:.0}, \"p50_ms\": {:.2}, \"p99_ms\": {:.2}, \"converged\": {converged}}}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
    );
    assert!(converged);
}

/// Insert one character at a random position, wait for the durable ack, repeat.
async fn one_client(c: Client, seed: u64, deadline: Instant) -> (Client, Vec<Duration>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let t = Instant::now();
        let pick: f64 = rng.random();
        c.edit_with(|text| {
            let len = text.len_chars();
            Some(Edit::Insert {
                position: ((pick * (len + 1) as f64) as usize).min(len),
                text: "x".into(),
            })
        })
        .unwrap();
        c.wait_synced().await.unwrap();
        latencies.push(t.elapsed());
    }
    (c, latencies)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
async fn ten_clients_one_document() {
    closed_loop(10).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
async fn hundred_clients_one_document() {
    closed_loop(100).await;
}
