//! The ShareDB driver against the real ShareDB peer server.
//!
//! Ignored by default: it needs Node.js and the peer installed by `bench/setup-sharedb.sh`
//! (into `target/peers/sharedb`). Run with
//! `cargo test -p quire-bench --test sharedb_peer -- --ignored`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use quire_bench::load::{self, LoadConfig};
use quire_bench::sharedb::ShareDb;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sharedb() -> (Server, u16) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/peers/sharedb");
    assert!(
        dir.join("node_modules").exists(),
        "run bench/setup-sharedb.sh first"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("node")
        .args(["server.js", &port.to_string(), "memory"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("node runs");
    let server = Server(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (server, port);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("ShareDB did not start");
}

async fn run(port: u16, config: LoadConfig) -> load::LoadReport {
    let target = ShareDb::new(&format!("http://127.0.0.1:{port}")).unwrap();
    load::run(Arc::new(target), &config).await.unwrap()
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the ShareDB peer (bench/setup-sharedb.sh) and Node.js"]
async fn closed_and_open_loop_runs_converge_on_sharedb() {
    let (_server, port) = start_sharedb();
    let closed = run(
        port,
        LoadConfig {
            docs: 2,
            clients: 5,
            duration: Duration::from_secs(2),
            ..LoadConfig::default()
        },
    )
    .await;
    assert!(closed.converged, "{closed:?}");
    assert!(closed.ops > 100, "{closed:?}");
    assert_eq!(closed.errors, 0);
    // Each op reaches the 4 other writers of its document.
    assert!(closed.broadcasts >= closed.ops * 4 - 40, "{closed:?}");

    let open = run(
        port,
        LoadConfig {
            docs: 1,
            clients: 4,
            watchers: 3,
            rate: Some(20.0),
            initial_chars: 1000,
            duration: Duration::from_secs(2),
            ..LoadConfig::default()
        },
    )
    .await;
    assert!(open.converged, "{open:?}");
    // 4 writers × 20 ops/s for at least 2 s (at most until the drain ended).
    let most = 4.0 * (20.0 * open.seconds + 1.0);
    assert!(open.ops >= 156 && open.ops as f64 <= most, "{open:?}");
    assert!(open.broadcasts >= open.ops * 6 - 60, "{open:?}");
}
