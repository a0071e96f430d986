//! The two smaller shared editing traces replay through validate-and-apply
//! and reproduce their final text exactly.

use std::path::PathBuf;

use quire_bench::trace::{self, Trace};
use quire_engine::Limits;

fn shared_trace(name: &str) -> Trace {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/traces")
        .join(name);
    Trace::load(&path).unwrap()
}

#[test]
fn sveltecomponent_replays_to_its_end_content() {
    let trace = shared_trace("sveltecomponent.json.gz");
    assert_eq!(trace.edits.len(), 19_749);
    let text = trace.replay(&Limits::default()).unwrap();
    assert_eq!(text.to_string(), trace.end_content);
}

#[test]
fn rustcode_replays_to_its_end_content() {
    let trace = shared_trace("rustcode.json.gz");
    let report = trace::bench("rustcode", &trace, &Limits::default()).unwrap();
    assert!(report.matches);
    assert_eq!(report.ops, 40_173);
    assert!(report.ms > 0.0 && report.ops_per_s > 0);
}

#[test]
fn a_trace_that_does_not_match_is_reported() {
    let json = r#"{"startContent":"ab","endContent":"abc!","txns":[{"time":"t","patches":[[2,0,"c"],[0,1,""],[0,0,"a"]]}]}"#;
    let trace = Trace::from_json(json).unwrap();
    assert_eq!(trace.edits.len(), 3);
    let text = trace.replay(&Limits::default()).unwrap();
    assert_eq!(text.to_string(), "abc");
    let report = trace::bench("tiny", &trace, &Limits::default()).unwrap();
    assert!(!report.matches);
}

#[test]
fn an_invalid_edit_is_a_typed_error() {
    let json = r#"{"startContent":"ab","endContent":"","txns":[{"patches":[[1,5,""]]}]}"#;
    let error = Trace::from_json(json)
        .unwrap()
        .replay(&Limits::default())
        .unwrap_err();
    assert_eq!(error.index, 0);
    assert!(matches!(
        error.error,
        quire_engine::OpError::OutOfRange { end: 6, doc_len: 2 }
    ));
}
