//! Editing-trace replay (`quire bench trace`): real keystroke histories
//! (format of `shared/traces/README.md`) replayed through the engine's
//! validate-and-apply path, exactly the work the server does per op once
//! transform is done: [`Edit::to_text_op`] → [`TextOp::check_fits`] →
//! [`Text::apply`].
//!
//! Reading and parsing the gzipped JSON happens once, before timing; each
//! timed run replays every edit into a fresh [`Text`].
//!
//! [`TextOp::check_fits`]: quire_engine::TextOp::check_fits

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use quire_engine::{Edit, Limits, OpError, Text};
use serde::{Deserialize, Serialize};

/// Timed runs per trace; the report gives their median.
pub const RUNS: usize = 5;

/// A trace, parsed and converted into client edits.
#[derive(Debug, Clone)]
pub struct Trace {
    pub start_content: String,
    pub end_content: String,
    /// One edit per non-empty patch, in order.
    pub edits: Vec<Edit>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TraceFile {
    start_content: String,
    end_content: String,
    txns: Vec<Txn>,
}

#[derive(Deserialize)]
struct Txn {
    patches: Vec<(usize, usize, String)>,
}

/// A splice patch `[pos, delLen, insText]` as a client edit (`None` for a
/// patch that changes nothing).
fn patch_to_edit((position, length, text): (usize, usize, String)) -> Option<Edit> {
    match (length, text.is_empty()) {
        (0, true) => None,
        (0, false) => Some(Edit::Insert { position, text }),
        (_, true) => Some(Edit::Delete { position, length }),
        (_, false) => Some(Edit::Replace {
            position,
            length,
            text,
        }),
    }
}

impl Trace {
    /// Parses a trace from its JSON text.
    pub fn from_json(json: &str) -> anyhow::Result<Trace> {
        let file: TraceFile = serde_json::from_str(json).context("not a sequential trace")?;
        let edits = file
            .txns
            .into_iter()
            .flat_map(|txn| txn.patches)
            .filter_map(patch_to_edit)
            .collect();
        Ok(Trace {
            start_content: file.start_content,
            end_content: file.end_content,
            edits,
        })
    }

    /// Reads a gzipped (`.gz`) or plain JSON trace file.
    pub fn load(path: &Path) -> anyhow::Result<Trace> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let json = if path.extension().is_some_and(|ext| ext == "gz") {
            let mut json = String::new();
            flate2::read::GzDecoder::new(bytes.as_slice())
                .read_to_string(&mut json)
                .with_context(|| format!("decompressing {}", path.display()))?;
            json
        } else {
            String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))?
        };
        Trace::from_json(&json).with_context(|| format!("parsing {}", path.display()))
    }

    /// Replays every edit into a fresh text through validate-and-apply.
    pub fn replay(&self, limits: &Limits) -> Result<Text, ReplayError> {
        let mut text = Text::from_str(&self.start_content);
        for (index, edit) in self.edits.iter().enumerate() {
            let op = edit
                .to_text_op(limits)
                .and_then(|op| op.check_fits(text.len_chars(), limits).map(|()| op))
                .and_then(|op| text.apply(&op));
            op.map_err(|error| ReplayError { index, error })?;
        }
        Ok(text)
    }
}

/// An edit of the trace the engine rejected.
#[derive(Debug, thiserror::Error)]
#[error("edit {index} rejected: {error}")]
pub struct ReplayError {
    pub index: usize,
    pub error: OpError,
}

/// One line of `quire bench trace` output.
#[derive(Debug, Clone, Serialize)]
pub struct TraceReport {
    pub trace: String,
    pub ops: usize,
    /// Median wall time of [`RUNS`] replays, in milliseconds.
    pub ms: f64,
    pub ops_per_s: u64,
    /// The replayed text equals the trace's `endContent`.
    pub matches: bool,
}

/// Replays `trace` [`RUNS`] times and reports the median.
pub fn bench(name: &str, trace: &Trace, limits: &Limits) -> Result<TraceReport, ReplayError> {
    let mut times = Vec::with_capacity(RUNS);
    let mut matches = true;
    for _ in 0..RUNS {
        let started = Instant::now();
        let text = trace.replay(limits)?;
        times.push(started.elapsed());
        matches &= text == trace.end_content.as_str();
    }
    times.sort();
    let median = times[RUNS / 2];
    Ok(TraceReport {
        trace: name.to_owned(),
        ops: trace.edits.len(),
        ms: (median.as_secs_f64() * 1e6).round() / 1e3,
        ops_per_s: ops_per_second(trace.edits.len(), median),
        matches,
    })
}

fn ops_per_second(ops: usize, elapsed: Duration) -> u64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        (ops as f64 / secs).round() as u64
    } else {
        0
    }
}
