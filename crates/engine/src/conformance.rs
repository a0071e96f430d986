//! Runs `ot-text-unicode` conformance cases (the format of
//! `shared/ot-conformance/README.md`) through the engine.
//!
//! One case per line, JSON; the kind is told apart by its fields:
//! `{"str", "op", "result"}` is apply, `{"op", "otherOp", "side", "result"}`
//! is transform, `{"op1", "op2", "result"}` is compose. Expected ops are
//! compared after reading them into normalised [`TextOp`]s (so an invertible
//! `{"d": "text"}` equals `{"d": n}`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::op::{Side, TextOp};

/// Applying `op` to `str` gives `result`.
#[derive(Debug, Clone, Deserialize)]
pub struct ApplyCase {
    pub str: String,
    pub op: TextOp,
    pub result: String,
}

/// `op` transformed over `other_op` with `side` gives `result`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransformCase {
    pub op: TextOp,
    pub other_op: TextOp,
    pub side: Side,
    pub result: TextOp,
}

/// `op1` composed with `op2` gives `result`.
#[derive(Debug, Clone, Deserialize)]
pub struct ComposeCase {
    pub op1: TextOp,
    pub op2: TextOp,
    pub result: TextOp,
}

/// One conformance case.
#[derive(Debug, Clone)]
pub enum Case {
    Apply(ApplyCase),
    Transform(TransformCase),
    Compose(ComposeCase),
}

/// What the engine produced for a case.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    Text(String),
    Op(TextOp),
}

impl Case {
    /// Reads one case, telling the kind apart by its fields.
    pub fn from_json(value: Value) -> Result<Case, String> {
        let has = |field: &str| value.get(field).is_some();
        let case = if has("str") {
            serde_json::from_value(value).map(Case::Apply)
        } else if has("otherOp") {
            serde_json::from_value(value).map(Case::Transform)
        } else if has("op1") {
            serde_json::from_value(value).map(Case::Compose)
        } else {
            return Err(
                "neither an apply (str), transform (otherOp) nor compose (op1) case".into(),
            );
        };
        case.map_err(|e| e.to_string())
    }

    /// Runs the case: `Ok(())` when the engine agrees, otherwise what it produced.
    pub fn check(&self) -> Result<(), Outcome> {
        let (got, expected) = match self {
            Case::Apply(c) => {
                let got =
                    c.op.apply_to_str(&c.str)
                        .unwrap_or_else(|e| format!("error: {e}"));
                (Outcome::Text(got), Outcome::Text(c.result.clone()))
            }
            Case::Transform(c) => (
                Outcome::Op(c.op.transform(&c.other_op, c.side)),
                Outcome::Op(c.result.clone()),
            ),
            Case::Compose(c) => (
                Outcome::Op(c.op1.compose(&c.op2)),
                Outcome::Op(c.result.clone()),
            ),
        };
        if got == expected { Ok(()) } else { Err(got) }
    }
}

/// Summary of one case file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    /// The first failing case: its line number (1-based), the case as written,
    /// and what the engine produced (`got`) or why the line could not be read
    /// (`error`).
    pub first_failure: Option<Value>,
}

/// Runs every non-empty line of `jsonl` as a case. A line that is not a valid
/// case counts as a failure.
pub fn run(jsonl: &str) -> Report {
    let mut report = Report {
        cases: 0,
        passed: 0,
        failed: 0,
        first_failure: None,
    };
    for (index, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        report.cases += 1;
        let case = serde_json::from_str::<Value>(line)
            .map_err(|e| e.to_string())
            .and_then(Case::from_json);
        let failure = match case {
            Ok(case) => case.check().err().map(|got| json!({ "got": got })),
            Err(e) => Some(json!({ "error": format!("unreadable case: {e}") })),
        };
        let Some(mut details) = failure else {
            report.passed += 1;
            continue;
        };
        report.failed += 1;
        if report.first_failure.is_none() {
            details["line"] = (index + 1).into();
            details["case"] =
                serde_json::from_str(line).unwrap_or_else(|_| Value::String(line.to_owned()));
            report.first_failure = Some(details);
        }
    }
    report
}
