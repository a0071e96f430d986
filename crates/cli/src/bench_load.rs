//! `quire bench load`: drive a running server (Quire, or ShareDB for comparison) with the load
//! generator of [`quire_bench::load`] and print its one-line JSON report.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use quire_bench::load::{self, LoadConfig, LoadReport, Target};
use quire_bench::quire_target::Quire;
use quire_bench::sharedb::ShareDb;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TargetKind {
    /// A Quire server (`quire serve`): REST setup, then /api/ws.
    Quire,
    /// A ShareDB server (`../shared/peers/sharedb/server.js`), over ShareDB's wire protocol.
    Sharedb,
}

/// Load a running server: D documents × C writers (+ W watchers), S seconds.
#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Which protocol the server speaks.
    #[arg(long, value_enum, default_value = "quire")]
    target: TargetKind,
    /// Documents edited at once.
    #[arg(long, default_value_t = 1)]
    docs: usize,
    /// Writing clients per document.
    #[arg(long, default_value_t = 10)]
    clients: usize,
    /// Seconds of submitting.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Open loop: ops/s per writer. Without it, closed loop (send, wait for the ack, repeat).
    #[arg(long)]
    rate: Option<f64>,
    /// Read-only clients per document.
    #[arg(long, default_value_t = 0)]
    watchers: usize,
    /// Code points each document holds before the clients join.
    #[arg(long, default_value_t = 0)]
    initial_chars: usize,
    /// Generator threads (1: a single-threaded runtime, leaving the other cores to the server).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Connections opened at the same time while joining.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// Seconds allowed after the run for the last acks and for convergence.
    #[arg(long, default_value_t = 20.0)]
    settle_seconds: f64,
    /// Quire only: save this run's accounts and documents to FILE, or, if FILE exists, join
    /// the documents saved there instead of creating new ones (e.g. after a restart).
    #[arg(long, value_name = "FILE")]
    setup_file: Option<std::path::PathBuf>,
    /// Seed of the random positions.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn seconds(value: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("{flag} must be a non-negative number of seconds"))
}

pub fn run(args: LoadArgs) -> anyhow::Result<()> {
    let config = LoadConfig {
        docs: args.docs,
        clients: args.clients,
        watchers: args.watchers,
        duration: seconds(args.seconds, "--seconds")?,
        rate: args.rate,
        initial_chars: args.initial_chars,
        connect_concurrency: args.connect_concurrency,
        settle_timeout: seconds(args.settle_seconds, "--settle-seconds")?,
        seed: args.seed,
    };
    config.validate()?;
    if args.setup_file.is_some() && matches!(args.target, TargetKind::Sharedb) {
        bail!("--setup-file is for --target quire");
    }
    if args.threads == 0 {
        bail!("--threads must be at least 1");
    }
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    let report = runtime.block_on(async {
        match args.target {
            TargetKind::Quire => {
                let mut quire = Quire::new(&args.url)?;
                if let Some(path) = args.setup_file {
                    quire = quire.with_setup_file(path);
                }
                drive(quire, &config).await
            }
            TargetKind::Sharedb => drive(ShareDb::new(&args.url)?, &config).await,
        }
    })?;
    crate::bench::println_json(&report)?;
    if !report.converged {
        bail!("the run did not converge ({} errors)", report.errors);
    }
    Ok(())
}

async fn drive<T: Target>(target: T, config: &LoadConfig) -> anyhow::Result<LoadReport> {
    Ok(load::run(Arc::new(target), config).await?)
}
