//! `quire conformance` on the three shared ot-text-unicode case files: one
//! JSON line per file, every case passes, exit status 0; and a failing case
//! makes it exit non-zero.

use std::path::PathBuf;
use std::process::Command;

fn shared(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/ot-conformance")
        .join(file)
}

#[test]
fn every_shared_case_passes() {
    let output = Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("conformance")
        .args(["apply.json", "transform.json", "compose.json"].map(shared))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (line, file) in lines
        .iter()
        .zip(["apply.json", "transform.json", "compose.json"])
    {
        assert_eq!(line["file"], file);
        let cases = line["cases"].as_u64().unwrap();
        assert!(cases > 1000, "{line}");
        assert_eq!(line["passed"].as_u64(), Some(cases), "{line}");
        assert_eq!(line["failed"], 0, "{line}");
        assert!(line["first_failure"].is_null(), "{line}");
    }
}

#[test]
fn a_failing_case_exits_non_zero() {
    let dir = std::env::temp_dir().join(format!("quire-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wrong.json");
    std::fs::write(
        &file,
        "{\"op1\":[\"a\"],\"op2\":[\"b\"],\"result\":[\"ba\"]}\n{\"op1\":[\"a\"],\"op2\":[\"b\"],\"result\":[\"ab\"]}\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("conformance")
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!output.status.success());
    let line: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(line["file"], "wrong.json");
    assert_eq!(
        (
            line["cases"].as_u64(),
            line["passed"].as_u64(),
            line["failed"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(line["first_failure"]["line"], 2);
    assert_eq!(line["first_failure"]["got"], serde_json::json!(["ba"]));
}
