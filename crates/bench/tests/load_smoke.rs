//! The load generator against an in-process Quire server (the `quire serve` code path on a
//! fresh SQLite directory): closed loop with watchers, and open loop, both converge and every
//! op reaches every other client of its document. Small and short: it checks the generator and
//! the Quire driver, it measures nothing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use quire_bench::load::{self, LoadConfig};
use quire_bench::quire_target::Quire;
use quire_server::ServerConfig;
use quire_server::auth::JwtSecret;
use quire_server::config::PasswordHashing;
use quire_server::gateway::GatewayConfig;
use quire_server::serve::{ServeOptions, run};

async fn serve(dir: &tempfile::TempDir, gateway: GatewayConfig) -> SocketAddr {
    let options = ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        database_url: None,
        sqlite: quire_storage::testing::test_sqlite_options(),
        jwt_secret: Some(JwtSecret::from_bytes(vec![7; 32]).unwrap()),
        web_dir: None,
        config: ServerConfig {
            password_hashing: PasswordHashing::insecure_fast_for_tests(),
            ..ServerConfig::default()
        },
        gateway,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generator_converges_on_quire() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{}", serve(&dir, GatewayConfig::default()).await);

    let closed = LoadConfig {
        docs: 2,
        clients: 3,
        watchers: 1,
        duration: Duration::from_millis(800),
        initial_chars: 100,
        ..LoadConfig::default()
    };
    let report = load::run(Arc::new(Quire::new(&url).unwrap()), &closed)
        .await
        .unwrap();
    assert!(report.converged, "{report:?}");
    assert_eq!((report.errors, report.target), (0, "quire"));
    assert!(report.ops >= 20, "{report:?}");
    // Each op reaches the 2 other writers and the watcher of its document, exactly once.
    assert_eq!(report.broadcasts, report.ops * 3, "{report:?}");
    assert!(report.ack_p50_ms.is_some() && report.join_max_ms.is_some());

    let open = LoadConfig {
        docs: 1,
        clients: 2,
        rate: Some(25.0),
        duration: Duration::from_secs(1),
        ..LoadConfig::default()
    };
    let report = load::run(Arc::new(Quire::new(&url).unwrap()), &open)
        .await
        .unwrap();
    assert!(report.converged, "{report:?}");
    // 2 writers × 25 ops/s for at least 1 s (and at most until the drain ended, since the
    // stop can come late on a busy machine).
    let most = 2.0 * (25.0 * report.seconds + 1.0);
    assert!(report.ops >= 48 && report.ops as f64 <= most, "{report:?}");
    assert_eq!(report.broadcasts, report.ops);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_setup_is_joined_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://{}", serve(&dir, GatewayConfig::default()).await);
    let setup = dir.path().join("setup.json");
    let config = LoadConfig {
        docs: 1,
        clients: 2,
        duration: Duration::from_millis(300),
        ..LoadConfig::default()
    };
    let first = Quire::new(&url).unwrap().with_setup_file(setup.clone());
    let first = load::run(Arc::new(first), &config).await.unwrap();
    assert!(first.converged && setup.exists(), "{first:?}");

    // The second run signs in again and joins the saved document; asking for more documents
    // than were saved is refused.
    let second = Quire::new(&url).unwrap().with_setup_file(setup.clone());
    let config = LoadConfig {
        clients: 1,
        ..config
    };
    let second = load::run(Arc::new(second), &config).await.unwrap();
    assert!(second.converged, "{second:?}");
    let too_many = LoadConfig { docs: 2, ..config };
    let error = load::run(
        Arc::new(Quire::new(&url).unwrap().with_setup_file(setup)),
        &too_many,
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("holds 1 documents"), "{error}");
}

/// A server's refusal ends the run with the server's own error code, and the run does not
/// claim convergence: here the gateway allows 20 ops/s per connection, which one closed-loop
/// client exceeds at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_op_is_reported_with_the_servers_error_code() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = GatewayConfig {
        rate_limit_per_sec: 20,
        rate_limit_burst: 20,
        ..GatewayConfig::default()
    };
    let url = format!("http://{}", serve(&dir, gateway).await);
    let config = LoadConfig {
        docs: 1,
        clients: 1,
        duration: Duration::from_secs(1),
        ..LoadConfig::default()
    };
    let report = load::run(Arc::new(Quire::new(&url).unwrap()), &config)
        .await
        .unwrap();
    assert!(!report.converged && report.errors >= 1, "{report:?}");
    let error = report.first_error.as_deref().unwrap_or_default();
    assert!(error.contains("rate_limited"), "{report:?}");
}
