//! `quire bench ...`: benchmarks that print JSON lines.
//!
//! `quire bench trace FILE...` replays editing traces through the engine's
//! validate-and-apply path ([`quire_bench::trace`]).

use std::path::PathBuf;

use anyhow::bail;
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
}

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Trace { files } => run_traces(&files),
        BenchCommand::Load(args) => crate::bench_load::run(args),
    }
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
        println!("{}", serde_json::to_string(&report)?);
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
