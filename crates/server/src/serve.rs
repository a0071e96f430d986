//! Running the server: open storage, resolve the JWT secret, bind, announce
//! the address, serve until told to stop, then finish in-flight requests.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use tokio::net::TcpListener;

use quire_core::{CoreConfig, Hub};

use crate::auth::JwtSecret;
use crate::config::ServerConfig;
use crate::gateway::GatewayConfig;
use crate::state::AppState;

/// What `quire serve` was asked to do.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Holds the SQLite database (when no `database_url`) and the generated JWT secret.
    pub data_dir: PathBuf,
    /// `postgres://...`; SQLite in `data_dir` when absent.
    pub database_url: Option<String>,
    /// Bounds and tuning of the SQLite store (unused with `database_url`).
    pub sqlite: quire_storage::sqlite::SqliteOptions,
    /// Operator-given secret; generated and kept in `data_dir` when absent.
    pub jwt_secret: Option<JwtSecret>,
    /// The built web app; API only when absent.
    pub web_dir: Option<PathBuf>,
    pub config: ServerConfig,
    /// Bounds and timers of the realtime gateway.
    pub gateway: GatewayConfig,
    /// Bounds of the collaboration core, and whether it hands documents over
    /// to other instances (`CoreConfig::hand_off_after`).
    pub core: CoreConfig,
}

/// Serves until `shutdown` completes. `on_listening` is told the bound address
/// (useful with port 0) before the first request is accepted.
pub async fn run(
    options: ServeOptions,
    on_listening: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if let Some(dir) = &options.web_dir {
        anyhow::ensure!(
            dir.join("index.html").is_file(),
            "--web-dir {} has no index.html",
            dir.display()
        );
    }
    let secret = match options.jwt_secret {
        Some(secret) => secret,
        None => JwtSecret::load_or_create(&options.data_dir)?,
    };
    let target = match &options.database_url {
        Some(url) => url.clone(),
        None => options
            .data_dir
            .to_str()
            .context("the data directory path is not valid UTF-8")?
            .to_owned(),
    };
    let store = quire_storage::open_with(&target, options.sqlite)
        .await
        .context("opening storage")?;
    let hub = Hub::start(store.clone(), options.core)?;
    let state = AppState::new(store, options.config, &secret)?
        .with_hub(hub)
        .with_gateway_config(options.gateway);
    let hub = state.hub.clone();
    let app = crate::app::build_router(state, options.web_dir.as_deref());

    let listener = TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("binding {}", options.listen))?;
    on_listening(listener.local_addr()?);
    // Realtime frames are small and latency-bound: no Nagle delay.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;
    // Let open documents commit what they applied and tell their sessions.
    hub.shutdown().await;
    tracing::info!("server stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
