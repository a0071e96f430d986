//! When to snapshot and how far to prune, off the hot path.
//!
//! The owner counts ops and op bytes since the last snapshot. When a
//! threshold is reached it captures the text at its current (in-memory) seq,
//! holds the capture until that seq is durable (a snapshot must never
//! describe a state the log could lose), then saves it in a spawned task.
//! Once the snapshot is durable the horizons are raised in memory, then the
//! log below `snapshot.seq - retention_ops` and the registry below
//! `snapshot.seq - registry_retention_ops` (never above the log's) are pruned,
//! again in a spawned task. Order matters for the dedup invariant (see
//! `pipeline`).

use crate::config::CoreConfig;
use quire_engine::{DocumentId, SeqId};
use quire_storage::{PruneRequest, Snapshot};
use std::collections::VecDeque;

pub(crate) struct SnapshotPolicy {
    every_ops: u64,
    every_bytes: u64,
    retention: u64,
    registry_retention: u64,
    ops_since: u64,
    bytes_since: u64,
    /// A capture waiting for its seq to become durable.
    captured: Option<Snapshot>,
    /// Seqs of the durable snapshots this owner knows, ascending (the one it
    /// loaded from, then those it saved), trimmed as they are pruned.
    known: VecDeque<SeqId>,
}

impl SnapshotPolicy {
    pub fn new(config: &CoreConfig, loaded_from: Option<SeqId>, ops_since: u64) -> SnapshotPolicy {
        SnapshotPolicy {
            every_ops: config.snapshot_every_ops.max(1),
            every_bytes: config.snapshot_every_bytes.max(1),
            retention: config.retention_ops,
            registry_retention: config.registry_retention_ops,
            ops_since,
            bytes_since: 0,
            captured: None,
            known: loaded_from.into_iter().collect(),
        }
    }

    /// Counts one applied op; true when a snapshot is due.
    pub fn count(&mut self, op_bytes: usize) -> bool {
        self.ops_since = self.ops_since.saturating_add(1);
        self.bytes_since = self.bytes_since.saturating_add(op_bytes as u64);
        self.captured.is_none()
            && (self.ops_since >= self.every_ops || self.bytes_since >= self.every_bytes)
    }

    pub fn capture(&mut self, snapshot: Snapshot) {
        self.ops_since = 0;
        self.bytes_since = 0;
        self.captured = Some(snapshot);
    }

    /// The capture, once its seq is durable (and no save is running).
    pub fn take_ready(&mut self, durable: SeqId, saving: bool) -> Option<Snapshot> {
        if saving || self.captured.as_ref().is_none_or(|s| s.seq > durable) {
            return None;
        }
        self.captured.take()
    }

    /// Drops a capture that described state a failed commit lost.
    pub fn forget_beyond(&mut self, durable: SeqId) {
        if self.captured.as_ref().is_some_and(|s| s.seq > durable) {
            self.captured = None;
        }
    }

    /// A save failed: try again at the next op.
    pub fn save_failed(&mut self) {
        self.ops_since = self.every_ops;
    }

    /// A snapshot at `seq` is durable: what to prune, if anything. The new
    /// log horizon trails the snapshot by `retention_ops`, the registry
    /// horizon by `registry_retention_ops`; pruning waits until a
    /// known snapshot lies at or below it, and that snapshot is kept, so the
    /// retained log always starts at a snapshot and stays verifiable.
    pub fn saved(
        &mut self,
        doc: DocumentId,
        seq: SeqId,
        pruned_through: SeqId,
    ) -> Option<PruneRequest> {
        self.known.push_back(seq);
        let horizon = SeqId(seq.0.saturating_sub(self.retention));
        let keep = self.known.iter().rev().find(|s| **s <= horizon).copied()?;
        if keep <= pruned_through {
            return None;
        }
        while self.known.front().is_some_and(|s| *s < keep) {
            self.known.pop_front();
        }
        // The dedup horizon trails further, and never passes the log's.
        let registry_through = SeqId(seq.0.saturating_sub(self.registry_retention)).min(keep);
        Some(PruneRequest {
            doc,
            through: keep,
            registry_through,
            drop_snapshots_before: keep,
        })
    }
}
