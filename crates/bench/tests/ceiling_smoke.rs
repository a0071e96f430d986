//! `quire bench ceiling` for a fraction of a second with each durability: the loop acks,
//! fans every op out to the other clients, groups what arrives during an fsync, and leaves
//! no file behind. It checks the tool; it measures nothing.

use quire_bench::ceiling::{self, CeilingConfig, Durability};
use std::time::Duration;

fn short_run(durability: Durability, clients: usize) -> ceiling::CeilingReport {
    let dir = tempfile::tempdir().unwrap();
    let report = ceiling::run(&CeilingConfig {
        clients,
        seconds: 0.3,
        durability,
        client_work_per_op: Duration::from_micros(1),
        dir: dir.path().to_owned(),
    })
    .unwrap();
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{durability:?} left {left:?}");
    report
}

#[test]
fn every_durability_acks_and_fans_out() {
    for durability in [Durability::File, Durability::Sqlite] {
        let report = short_run(durability, 4);
        assert!(report.ops > 0, "{report:?}");
        assert!(report.fanned_out, "{report:?}");
        assert!(report.ops_per_commit >= 1.0, "{report:?}");
        assert!(report.ack_p50_ms > 0.0 && report.ack_p50_ms <= report.ack_p99_ms);
    }
}

#[test]
fn a_lone_client_commits_one_op_at_a_time() {
    let report = short_run(Durability::File, 1);
    assert!(report.ops > 0, "{report:?}");
    assert_eq!(report.ops_per_commit, 1.0, "{report:?}");
}

#[test]
fn a_client_count_out_of_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let refused = ceiling::run(&CeilingConfig {
        clients: 0,
        seconds: 0.1,
        durability: Durability::File,
        client_work_per_op: Duration::ZERO,
        dir: dir.path().to_owned(),
    });
    assert!(refused.is_err());
}
