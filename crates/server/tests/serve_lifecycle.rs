//! `serve::run`: storage and the JWT secret live in the data directory, so a
//! restarted server knows its users and still accepts their tokens; a server
//! with another secret does not. PostgreSQL keeps its secret in the data dir too.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use quire_server::ServerConfig;
use quire_server::auth::JwtSecret;
use quire_server::config::PasswordHashing;
use quire_server::serve::{ServeOptions, run};
use serde_json::{Value, json};
use tokio::sync::oneshot;

fn options(data: &Path, database_url: Option<String>, secret: Option<JwtSecret>) -> ServeOptions {
    ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.to_path_buf(),
        database_url,
        sqlite: quire_storage::testing::test_sqlite_options(),
        jwt_secret: secret,
        web_dir: None,
        config: ServerConfig {
            password_hashing: PasswordHashing::insecure_fast_for_tests(),
            ..ServerConfig::default()
        },
        gateway: quire_server::gateway::GatewayConfig::default(),
        core: quire_core::CoreConfig::default(),
    }
}

/// A running server and the means to stop it.
struct Running {
    base: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start(opts: ServeOptions) -> Running {
    let (addr_tx, addr_rx) = oneshot::channel::<SocketAddr>();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(run(
        opts,
        move |addr| {
            let _ = addr_tx.send(addr);
        },
        async {
            let _ = stopped.await;
        },
    ));
    let addr = addr_rx.await.expect("server did not start");
    Running {
        base: format!("http://{addr}"),
        stop,
        task,
    }
}

impl Running {
    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }
}

async fn post(base: &str, path: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn me(base: &str, token: &str) -> u16 {
    let res = reqwest::Client::new()
        .get(format!("{base}/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

async fn restart_keeps_users_and_tokens(data: &Path, database_url: Option<String>) {
    let first = start(options(data, database_url.clone(), None)).await;
    let (status, body) = post(
        &first.base,
        "/api/auth/signup",
        json!({"username": "keeper", "password": "password123"}),
    )
    .await;
    assert_eq!(status, 201);
    let token = body["token"].as_str().unwrap().to_owned();
    first.stop().await;

    let secret_file = data.join("jwt-secret");
    let mode = std::fs::metadata(&secret_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "secret file must be private");

    let second = start(options(data, database_url.clone(), None)).await;
    assert_eq!(
        me(&second.base, &token).await,
        200,
        "token survives a restart"
    );
    let (status, _) = post(
        &second.base,
        "/api/auth/login",
        json!({"username": "keeper", "password": "password123"}),
    )
    .await;
    assert_eq!(status, 200, "account survives a restart");
    second.stop().await;

    // An operator-given secret overrides the file: old tokens are then invalid.
    let other = JwtSecret::from_bytes(vec![7; 48]).unwrap();
    let third = start(options(data, database_url, Some(other))).await;
    assert_eq!(me(&third.base, &token).await, 401);
    third.stop().await;
}

#[tokio::test]
async fn sqlite_restart_keeps_users_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    restart_keeps_users_and_tokens(&dir.path().join("data"), None).await;
}

#[tokio::test]
async fn postgres_restart_keeps_users_and_tokens() {
    let Some(url) = quire_storage::testing::postgres_url() else {
        return;
    };
    let schema = format!("quire_test_{}", uuid::Uuid::new_v4().simple());
    let sep = if url.contains('?') { '&' } else { '?' };
    let dir = tempfile::tempdir().unwrap();
    restart_keeps_users_and_tokens(dir.path(), Some(format!("{url}{sep}schema={schema}"))).await;
}

#[tokio::test]
async fn a_web_dir_without_index_html_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), None, None);
    opts.web_dir = Some(dir.path().join("missing"));
    let err = run(opts, |_| {}, async {}).await.unwrap_err();
    assert!(err.to_string().contains("index.html"), "{err}");
}
