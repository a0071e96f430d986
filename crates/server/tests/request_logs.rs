//! Every request is logged (method, path, status, latency) and no log line
//! ever contains a password, a token or a query string.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Backend, TestServer};
use reqwest::Method;
use serde_json::json;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn requests_are_logged_without_secrets() {
    let captured = Captured::default();
    let sink = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .init();

    let srv = TestServer::start(&Backend::Sqlite).await;
    let password = "very-secret-password-42";
    let r = srv
        .call(
            Method::POST,
            "/api/auth/signup",
            None,
            Some(json!({"username": "logged", "password": password})),
        )
        .await;
    assert_eq!(r.status, 201);
    let token = r.body["token"].as_str().unwrap().to_owned();
    let r = srv
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "logged", "password": password})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        srv.get("/api/users?prefix=secretprefix", &token)
            .await
            .status,
        200
    );
    let bad = srv
        .with_authorization(Method::GET, "/api/me", &format!("Bearer {token}x"))
        .await;
    assert_eq!(bad.status, 401);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("path=/api/auth/signup"), "{logs}");
    assert!(logs.contains("path=/api/users"), "{logs}");
    assert!(logs.contains("status=401"), "{logs}");
    for secret in [password, token.as_str(), "secretprefix"] {
        assert!(!logs.contains(secret), "logs leak {secret:.12}...:\n{logs}");
    }
    // Not even part of the token's signature.
    let signature = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature));
}
