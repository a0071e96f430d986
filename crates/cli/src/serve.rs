//! `quire serve`: parses flags and environment, starts the HTTP server, prints
//! `listening on http://ADDR` on stdout once bound (scripts and tests parse
//! it), and stops gracefully on Ctrl-C or SIGTERM. Logs go to stderr.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use quire_core::CoreConfig;
use quire_server::ServerConfig;
use quire_server::auth::JwtSecret;
use quire_server::gateway::GatewayConfig;
use quire_server::serve::{ServeOptions, run as run_server, shutdown_signal};
use quire_storage::sqlite::SqliteOptions;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "QUIRE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory: the SQLite database and the generated JWT secret.
    #[arg(long = "data", env = "QUIRE_DATA", default_value = "./quire-data")]
    data: PathBuf,
    /// PostgreSQL URL (postgres://...); SQLite in the data directory when absent.
    #[arg(long, env = "QUIRE_DATABASE_URL")]
    database_url: Option<String>,
    /// The built web app to serve (index.html fallback for app routes); API only when absent.
    #[arg(long, env = "QUIRE_WEB_DIR")]
    web_dir: Option<PathBuf>,
    /// SQLite WAL size in pages (4 KiB each): the WAL file is written to this size at start
    /// (32,768 pages = 128 MiB) and starts over when full. Fewer pages use less disk; more
    /// pages mean fewer pauses to start it over under heavy load.
    #[arg(long, env = "QUIRE_SQLITE_WAL_PAGES", default_value_t = SqliteOptions::default().wal_restart_frames,
          value_parser = clap::value_parser!(u32).range(64..))]
    sqlite_wal_pages: u32,
    /// Ops per second one connection may submit, sustained; more are refused `rate_limited`
    /// (the client resends them later).
    #[arg(long, env = "QUIRE_MAX_OPS_PER_SECOND", default_value_t = GatewayConfig::default().rate_limit_per_sec,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_ops_per_second: u32,
    /// Ops one connection may submit in a burst above that rate.
    #[arg(long, env = "QUIRE_MAX_OPS_BURST", default_value_t = GatewayConfig::default().rate_limit_burst,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_ops_burst: u32,
    /// Several instances on one PostgreSQL database behind a load balancer that routes by
    /// document (docs/architecture.md): hand a document open here over to another instance that
    /// asks for it (its clients were routed there) once it has been open this many seconds.
    /// Off by default: with any other routing, documents would move back and forth.
    #[arg(long, env = "QUIRE_HAND_OFF_AFTER_SECS")]
    hand_off_after_secs: Option<u64>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    // Only from the environment: a secret on the command line shows in `ps`.
    let jwt_secret = match std::env::var("QUIRE_JWT_SECRET") {
        Ok(s) if !s.is_empty() => Some(JwtSecret::from_bytes(s.into_bytes())?),
        _ => None,
    };
    let options = ServeOptions {
        listen: args.listen,
        data_dir: args.data,
        database_url: args.database_url.filter(|u| !u.is_empty()),
        jwt_secret,
        web_dir: args.web_dir,
        sqlite: SqliteOptions {
            wal_restart_frames: args.sqlite_wal_pages,
            ..SqliteOptions::default()
        },
        config: ServerConfig::default(),
        gateway: GatewayConfig {
            rate_limit_per_sec: args.max_ops_per_second,
            rate_limit_burst: args.max_ops_burst,
            ..GatewayConfig::default()
        },
        core: CoreConfig {
            hand_off_after: args.hand_off_after_secs.map(Duration::from_secs),
            ..CoreConfig::default()
        },
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run_server(
        options,
        |addr| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on http://{addr}");
            let _ = out.flush();
        },
        shutdown_signal(),
    ))
}
