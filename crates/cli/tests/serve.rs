//! `quire serve` as a real process: flags and environment, the
//! `listening on http://ADDR` line, a working API, graceful exit on SIGTERM.

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::spawn_serve;

/// Sends SIGTERM and expects a clean exit within a few seconds.
fn terminate(mut child: Child) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success(), "quire serve exited with {exit}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "quire serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn signup_and_me(addr: &str) {
    let http = reqwest::Client::new();
    let res = http
        .post(format!("http://{addr}/api/auth/signup"))
        .json(&serde_json::json!({"username": "cli_user", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    let me = http
        .get(format!("http://{addr}/api/me"))
        .bearer_auth(body["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

fn secret_file(data: &Path) -> bool {
    data.join("jwt-secret").exists()
}

#[tokio::test]
async fn serve_with_flags_generates_a_secret_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (child, addr) = spawn_serve(|c| {
        c.args(["--listen", "127.0.0.1:0", "--data"]).arg(&data);
    });
    assert!(!addr.ends_with(":0"), "the real port is printed: {addr}");
    signup_and_me(&addr).await;
    assert!(secret_file(&data));
    terminate(child);
}

#[tokio::test]
async fn serve_from_environment_with_a_given_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = spawn_serve(|c| {
        c.env("QUIRE_LISTEN", "127.0.0.1:0")
            .env("QUIRE_DATA", dir.path())
            .env("QUIRE_JWT_SECRET", "an operator-chosen secret of 32+ bytes");
    });
    signup_and_me(&addr).await;
    assert!(
        !secret_file(dir.path()),
        "a given secret is not replaced by a generated one"
    );
    assert!(
        dir.path()
            .join(quire_storage::sqlite::DATABASE_FILE)
            .exists(),
        "SQLite lives in QUIRE_DATA"
    );
    terminate(child);
}

#[tokio::test]
async fn the_sqlite_wal_is_sized_by_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = spawn_serve(|c| {
        c.args([
            "--listen",
            "127.0.0.1:0",
            "--sqlite-wal-pages",
            "256",
            "--data",
        ])
        .arg(dir.path());
    });
    signup_and_me(&addr).await;
    let wal = dir
        .path()
        .join(format!("{}-wal", quire_storage::sqlite::DATABASE_FILE));
    // A 32-byte header, then 256 frames of a 24-byte header and a 4 KiB page.
    assert_eq!(
        std::fs::metadata(&wal).unwrap().len(),
        32 + 256 * (24 + 4096)
    );
    terminate(child);

    // Below the floor: refused before anything starts.
    let out = Command::new(env!("CARGO_BIN_EXE_quire"))
        .args(["serve", "--sqlite-wal-pages", "8", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--sqlite-wal-pages"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
