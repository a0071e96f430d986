//! `quire conformance FILE...`: runs `ot-text-unicode` case files through the
//! engine ([`quire_engine::conformance`]) and prints one JSON line per file.

use std::path::PathBuf;

use anyhow::{Context, bail};
use quire_engine::conformance::{self, Report};
use serde::Serialize;

#[derive(clap::Args)]
pub struct ConformanceArgs {
    /// Case files (JSON lines: apply, transform or compose cases).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct FileLine<'a> {
    file: &'a str,
    #[serde(flatten)]
    report: Report,
}

/// Prints `{"file", "cases", "passed", "failed", "first_failure"}` per file;
/// fails if any case failed or any file could not be read.
pub fn run(args: ConformanceArgs) -> anyhow::Result<()> {
    let mut failed = 0usize;
    for path in &args.files {
        let cases =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let report = conformance::run(&cases);
        failed += report.failed;
        println!(
            "{}",
            serde_json::to_string(&FileLine {
                file: &name,
                report
            })?
        );
    }
    if failed > 0 {
        bail!("{failed} conformance case(s) failed");
    }
    Ok(())
}
