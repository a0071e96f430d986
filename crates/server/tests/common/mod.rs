//! Shared harness of the HTTP tests: a real server on 127.0.0.1:0 (in-process,
//! real TCP, real HTTP via reqwest) over a fresh store, once per backend.
//! SQLite always; PostgreSQL too when `QUIRE_TEST_DATABASE_URL` is set.
#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
use std::sync::Arc;

use quire_server::auth::JwtSecret;
use quire_server::clock::ManualClock;
use quire_server::config::PasswordHashing;
use quire_server::{AppState, ServerConfig};
use quire_storage::Store;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The secret every test server signs with.
pub const TEST_SECRET: [u8; 32] = [42; 32];
/// The manual clock starts here (2023-11-14T22:13:20Z).
pub const START_MS: i64 = 1_700_000_000_000;

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

/// SQLite, plus PostgreSQL when configured (the storage helper says when it
/// is skipped).
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    if let Some(url) = quire_storage::testing::postgres_url() {
        all.push(Backend::Postgres(url));
    }
    all
}

pub fn test_config() -> ServerConfig {
    ServerConfig {
        password_hashing: PasswordHashing::insecure_fast_for_tests(),
        ..ServerConfig::default()
    }
}

pub async fn fresh_store(backend: &Backend) -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let (store, dir) = quire_storage::testing::fresh_sqlite();
            (store, Some(dir))
        }
        Backend::Postgres(url) => (quire_storage::testing::fresh_postgres(url).await, None),
    }
}

pub struct TestServer {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What one request answered.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("<no error code>")
    }
}

/// A signed-up user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub token: String,
}

impl TestServer {
    pub async fn start(backend: &Backend) -> Self {
        Self::start_with(backend, test_config(), None, |s| s).await
    }

    /// A server with `config`, optional web dir, and a hook to adjust the state.
    pub async fn start_with(
        backend: &Backend,
        config: ServerConfig,
        web_dir: Option<&Path>,
        adjust: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        let (store, dir) = fresh_store(backend).await;
        Self::start_on(store, dir, config, web_dir, adjust).await
    }

    /// A server on `store` (which may be shared with other servers: several
    /// instances on one PostgreSQL database); `dir` is kept until it stops.
    pub async fn start_on(
        store: Arc<dyn Store>,
        dir: Option<tempfile::TempDir>,
        config: ServerConfig,
        web_dir: Option<&Path>,
        adjust: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(START_MS));
        let secret = JwtSecret::from_bytes(TEST_SECRET.to_vec()).unwrap();
        let state = adjust(AppState::with_clock(store, config, &secret, clock.clone()).unwrap());
        let app = quire_server::build_router(state.clone(), web_dir);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            clock,
            state,
            stop: Some(stop),
            _dir: dir,
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::reply(req).await
    }

    /// Sends raw bytes with the given content type (for malformed bodies).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        Self::reply(req).await
    }

    /// Sends a request with an arbitrary `Authorization` header value.
    pub async fn with_authorization(
        &self,
        method: Method,
        path: &str,
        authorization: &str,
    ) -> Reply {
        let req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("authorization", authorization);
        Self::reply(req).await
    }

    async fn reply(req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request failed");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("not JSON (status {status}): {text}"))
        };
        Reply { status, body }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    pub async fn signup(&self, username: &str) -> User {
        let r = self
            .call(
                Method::POST,
                "/api/auth/signup",
                None,
                Some(json!({"username": username, "password": "password123"})),
            )
            .await;
        assert_eq!(r.status, 201, "signup {username}: {:?}", r.body);
        User {
            id: r.body["user"]["id"].as_str().unwrap().to_owned(),
            username: username.to_owned(),
            token: r.body["token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn create_doc(&self, owner: &User, title: &str) -> String {
        let r = self
            .call(
                Method::POST,
                "/api/documents",
                Some(&owner.token),
                Some(json!({"title": title})),
            )
            .await;
        assert_eq!(r.status, 201, "create {title}: {:?}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn share(&self, owner: &User, doc: &str, with: &User, role: &str) {
        let r = self
            .call(
                Method::POST,
                &format!("/api/documents/{doc}/collaborators"),
                Some(&owner.token),
                Some(json!({"userId": with.id, "role": role})),
            )
            .await;
        assert_eq!(r.status, 201, "share: {:?}", r.body);
    }
}
