//! The shared `ot-text-unicode` cases pass through the engine, and a wrong
//! expectation is reported as a failure (so the runner can fail).

use quire_engine::conformance;
use std::path::PathBuf;

fn shared(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/ot-conformance")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_all_pass(file: &str) {
    let report = conformance::run(&shared(file));
    assert!(report.cases > 1000, "{file}: only {} cases", report.cases);
    assert_eq!(report.failed, 0, "{file}: {:?}", report.first_failure);
    assert_eq!(report.passed, report.cases);
}

#[test]
fn shared_apply_cases_pass() {
    assert_all_pass("apply.json");
}

#[test]
fn shared_transform_cases_pass() {
    assert_all_pass("transform.json");
}

#[test]
fn shared_compose_cases_pass() {
    assert_all_pass("compose.json");
}

#[test]
fn a_wrong_expectation_fails_with_details() {
    let cases = concat!(
        r#"{"op":["a"],"otherOp":["b"],"side":"left","result":["a"]}"#,
        "\n",
        r#"{"op":["a"],"otherOp":["b"],"side":"left","result":[1,"a"]}"#,
        "\n",
        r#"{"str":"xy","op":[1,{"d":1}],"result":"x"}"#,
        "\n",
        r#"{"nonsense":1}"#,
        "\n"
    );
    let report = conformance::run(cases);
    assert_eq!((report.cases, report.passed, report.failed), (4, 2, 2));
    let first = report.first_failure.expect("a failure");
    assert_eq!(first["line"], 2);
    assert_eq!(first["got"], serde_json::json!(["a"]));
}
