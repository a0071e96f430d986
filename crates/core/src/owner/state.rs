//! The in-memory state of one open document: text, version, seq, the window
//! of recent ops with their dedup entries, and the horizons. Rebuilt from the
//! latest snapshot plus the log tail, so loading costs O(snapshot + tail).

use super::rebase::Shape;
use crate::error::CoreError;
use crate::events::{CommittedOp, entry_json};
use quire_engine::op::TextOp;
use quire_engine::text::Text;
use quire_engine::{DocVersion, OperationId, SeqId, UserId};
use quire_storage::{DocumentState, LoggedOp, RegisteredOp};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Versions and seqs advance together (every accepted op increments both,
/// starting from 0), so the state at version `v` is the state after seq `v`.
/// This is the one place that relies on it.
pub(crate) fn seq_at(version: DocVersion) -> SeqId {
    SeqId(version.0)
}

pub(crate) struct DocState {
    pub text: Text,
    pub version: DocVersion,
    pub seq: SeqId,
    pub window: Window,
    /// Every op with seq ≤ this was pruned from the stored log: the rebase
    /// horizon (see `pipeline`).
    pub pruned_through: SeqId,
    /// Every registry entry with seq ≤ this was pruned: the dedup horizon.
    /// Never above `pruned_through` (see `pipeline`).
    pub registry_pruned_through: SeqId,
}

/// One op of the window, with its shape inline for rebasing (see `rebase`).
pub(crate) struct WindowOp {
    pub op: Arc<CommittedOp>,
    pub shape: Shape,
}

/// The most recent ops, applied in memory (durable or still committing), and
/// the registry entries of exactly those ops. The registry is looked up,
/// filled and emptied once per op, so it uses a fast non-cryptographic hash
/// (SipHash was 6% of the owner's time); it is seeded randomly per process,
/// so a client cannot pick colliding operation ids ahead of time.
pub(crate) struct Window {
    ops: VecDeque<WindowOp>,
    registry: HashMap<(UserId, OperationId), RegisteredOp, foldhash::fast::RandomState>,
    /// Every op with seq > `floor` is in `ops`.
    floor: SeqId,
    capacity: usize,
}

impl Window {
    fn new(floor: SeqId, capacity: usize) -> Window {
        Window {
            ops: VecDeque::new(),
            registry: HashMap::default(),
            floor,
            capacity,
        }
    }

    pub fn floor(&self) -> SeqId {
        self.floor
    }

    pub fn lookup(&self, user: UserId, id: &OperationId) -> Option<RegisteredOp> {
        // The key is (user, id): another user's op never matches.
        self.registry.get(&(user, id.clone())).copied()
    }

    pub fn push(&mut self, op: Arc<CommittedOp>) {
        self.registry.insert(
            (op.user, op.operation_id.clone()),
            RegisteredOp {
                version: op.version,
                seq: op.seq,
            },
        );
        let shape = Shape::of(&op.op);
        self.ops.push_back(WindowOp { op, shape });
    }

    /// The ops with seq > `after`, if the window still holds all of them.
    pub fn ops_after(&self, after: SeqId) -> Option<impl ExactSizeIterator<Item = &WindowOp>> {
        let skip = after.0.checked_sub(self.floor.0)?;
        let skip = usize::try_from(skip).ok()?.min(self.ops.len());
        Some(self.ops.range(skip..))
    }

    /// Drops the oldest ops beyond the capacity, but only durable ones: the
    /// ops older than the window are read back from the store, so they must
    /// be in it.
    pub fn evict(&mut self, durable: SeqId) {
        while self.ops.len() > self.capacity {
            match self.ops.front() {
                Some(WindowOp { op: front, .. }) if front.seq <= durable => {
                    self.registry
                        .remove(&(front.user, front.operation_id.clone()));
                    self.floor = front.seq;
                    self.ops.pop_front();
                }
                _ => break,
            }
        }
    }
}

impl DocState {
    /// Rebuilds the state: the snapshot's text, then every tail op replayed.
    /// The tail must continue the snapshot without a gap.
    pub fn load(stored: DocumentState, window_capacity: usize) -> Result<DocState, CoreError> {
        let (mut text, mut seq, mut version) = match &stored.snapshot {
            Some(s) => (Text::from_str(&s.content), s.seq, s.version),
            None => (Text::new(), SeqId(0), DocVersion(0)),
        };
        if stored.pruned_through > seq {
            return Err(corrupt(format!(
                "log pruned through {:?} but the latest snapshot is at {seq:?}",
                stored.pruned_through
            )));
        }
        if stored.registry_pruned_through > stored.pruned_through {
            return Err(corrupt(format!(
                "registry pruned through {:?}, past the log's horizon {:?}",
                stored.registry_pruned_through, stored.pruned_through
            )));
        }
        let keep_from = stored.tail.len().saturating_sub(window_capacity);
        let mut window = Window::new(seq, window_capacity);
        for (i, logged) in stored.tail.iter().enumerate() {
            let next = seq.next().ok_or_else(|| CoreError::seq_overflow(seq))?;
            if logged.seq != next || logged.version != DocVersion(next.0) {
                return Err(corrupt(format!(
                    "log gap: expected seq {next:?}, found seq {:?} version {:?}",
                    logged.seq, logged.version
                )));
            }
            let committed = committed_from_log(logged)?;
            text.apply(&committed.op)
                .map_err(|e| corrupt(format!("stored op {:?} does not apply: {e}", logged.seq)))?;
            seq = next;
            version = logged.version;
            if i < keep_from {
                window.floor = seq;
            } else {
                window.push(Arc::new(committed));
            }
        }
        Ok(DocState {
            text,
            version,
            seq,
            window,
            pruned_through: stored.pruned_through,
            registry_pruned_through: stored.registry_pruned_through,
        })
    }
}

/// A stored log entry as the committed-op record the core broadcasts.
pub(crate) fn committed_from_log(logged: &LoggedOp) -> Result<CommittedOp, CoreError> {
    let op: TextOp = serde_json::from_str(&logged.op_json)
        .map_err(|e| corrupt(format!("stored op {:?} is not an op: {e}", logged.seq)))?;
    Ok(CommittedOp {
        seq: logged.seq,
        version: logged.version,
        user: logged.user,
        operation_id: logged.operation_id.clone(),
        entry_json: entry_json(
            logged.seq,
            logged.version,
            logged.user,
            &logged.operation_id,
            &logged.op_json,
        )?,
        op,
        origin: None,
    })
}

fn corrupt(msg: String) -> CoreError {
    CoreError::Internal(format!("corrupt document state: {msg}"))
}
