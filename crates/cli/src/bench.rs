//! `quire bench ...`: benchmarks that print JSON lines.
//!
//! `quire bench trace FILE...` replays editing traces through the engine's
//! validate-and-apply path ([`quire_bench::trace`]); `quire bench ceiling`
//! measures the machine's bound for durable fan-out ([`quire_bench::ceiling`]).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use quire_bench::ceiling::{self, CeilingConfig, Durability};
use quire_bench::trace::{self, Trace};
use quire_engine::Limits;

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Replay editing traces (shared/traces format, .json or .json.gz) and
    /// print `{"trace", "ops", "ms", "ops_per_s", "matches"}` per file
    /// (`ms`: median of 5 runs, JSON parsing excluded).
    Trace {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Load a running server (Quire or ShareDB) and print one JSON line.
    Load(crate::bench_load::LoadArgs),
    /// The most ops/s any server with durable acks and fan-out reaches here:
    /// a one-thread epoll loop and C closed-loop clients over loopback
    /// (32-byte ops, no protocol); prints one JSON line.
    Ceiling {
        #[arg(long, default_value_t = 10)]
        clients: usize,
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// `file` (append + fdatasync) or `sqlite` (WAL, synchronous=FULL).
        #[arg(long, default_value = "file")]
        durability: Durability,
        /// Nanoseconds of CPU each client spends per op it reads (its own
        /// ack included), standing for a real client's decoding and applying.
        #[arg(long, default_value_t = 0)]
        client_work_ns: u64,
        /// Where the log goes (it is removed afterwards); put it on the disk
        /// the server's data directory uses.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Trace { files } => run_traces(&files),
        BenchCommand::Load(args) => crate::bench_load::run(args),
        BenchCommand::Ceiling {
            clients,
            seconds,
            durability,
            client_work_ns,
            dir,
        } => println_json(&ceiling::run(&CeilingConfig {
            clients,
            seconds,
            durability,
            client_work_per_op: Duration::from_nanos(client_work_ns),
            dir,
        })?),
    }
}

/// Prints `report` as the one JSON line a benchmark answers with.
pub(crate) fn println_json(report: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(report)?);
    Ok(())
}

fn run_traces(files: &[PathBuf]) -> anyhow::Result<()> {
    let limits = Limits::default();
    let mut mismatched = 0usize;
    for path in files {
        let trace = Trace::load(path)?;
        let report = trace::bench(&trace_name(path), &trace, &limits)?;
        if !report.matches {
            mismatched += 1;
        }
        println_json(&report)?;
    }
    if mismatched > 0 {
        bail!("{mismatched} trace(s) did not reproduce their endContent");
    }
    Ok(())
}

/// `…/automerge-paper.json.gz` → `automerge-paper`.
fn trace_name(path: &std::path::Path) -> String {
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    file.trim_end_matches(".gz")
        .trim_end_matches(".json")
        .to_owned()
}
