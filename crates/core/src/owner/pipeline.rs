//! The authoritative pipeline: what happens to one submitted op, in this
//! order (issue 4 item 2): write permission; userId is the authenticated
//! user; dedup by operation id (as far back as the registry reaches);
//! baseVersion not in the future; baseVersion not below the rebase horizon;
//! shape and arithmetic; transform over the ops since baseVersion (side
//! left); ranges against the document; apply; version and seq + 1. Persisting, broadcasting and acknowledging follow in
//! the owner, once the op is durable.
//!
//! ## The dedup-vs-rebase horizon invariant
//!
//! The dedup (registry) horizon never passes the rebase (log) horizon; an op
//! is rebased only if its dedup status is known; a resend is recognised or
//! rejected, never applied twice; and an op rejected with `resync_required`
//! was never applied, so a client may safely re-create it (below the dedup
//! horizon the answer is `outcome_unknown` instead).
//!
//! Why the code makes this true. A resent op carries its original
//! `baseVersion` (docs/protocol.md §5 rule 5), and an op with base `b` was
//! applied, if at all, at some seq `s > b`. The registry holds an entry for
//! every op with seq > `registry_pruned_through` (written in the op's own
//! transaction, pruned only through that horizon), and
//! `registry_pruned_through <= pruned_through` (`SnapshotPolicy::saved`
//! caps it, the store refuses otherwise, loading checks it). So:
//!
//! * `b >= registry_pruned_through`: the original (if any) has `s > b`, so
//!   its entry exists: in the in-memory window when `b >= window.floor` (the
//!   window holds every op with seq > floor, durable or not), else in the
//!   store (`lookup_operation` scans the registry's seqs above `b`; ops below
//!   the window are always durable because the window only evicts durable
//!   ops). The lookup runs FIRST, so a resend of an applied op is answered
//!   with its original ack even when the log below it was pruned. Not found means never applied: it is
//!   rebased if `b >= pruned_through`, else rejected with `ResyncRequired`
//!   (the log needed to rebase it is gone), and re-creating it is safe.
//! * `b < registry_pruned_through`: the entry may be gone, so the status is
//!   unknowable; since `b < pruned_through` too, the op is rejected, never
//!   transformed, so never applied twice. It is rejected with
//!   `OutcomeUnknown`, not `ResyncRequired`, so that the client knows that
//!   re-creating it might repeat the edit (docs/protocol.md §5 rule 6).
//!
//! The owner raises both horizons in memory *before* it asks the store to
//! prune (see `snapshots`), so no op is ever checked against a registry that
//! is already smaller than the horizon says.
//!
//! ## Reused operation ids
//!
//! An operation id names one op of one user (docs/protocol.md §5 rule 5).
//! The store does not enforce uniqueness: a unique (user, id) index put one
//! random B-tree page per op into every commit, which halved throughput; the
//! registry is clustered by seq instead. An id found in the window is a
//! duplicate whatever its base. A client that reuses an id for a *new* op
//! after the first use left the window (and sends it with a newer base) has
//! it applied as a new op: nothing is lost or applied twice that the client
//! did not send twice, and `quire verify` reports the reuse.

use super::rebase::{Rebasing, Shape};
use super::state::{DocState, seq_at};
use crate::error::{BadOp, CoreError};
use crate::events::{CommittedOp, SessionId, entry_json};
use quire_engine::client_op::ClientOp;
use quire_engine::limits::Limits;
use quire_engine::op::TextOp;
use quire_engine::{DocumentId, UserId};
use quire_storage::{LoggedOp, RegisteredOp, Role, Store};
use std::sync::Arc;

/// What the pipeline did with an op.
pub(crate) enum Outcome {
    /// Applied in memory: to be persisted, then broadcast and acknowledged.
    Applied {
        committed: Arc<CommittedOp>,
        logged: LoggedOp,
    },
    /// Already applied under this id: answer with the original ack.
    Duplicate(RegisteredOp),
}

pub(crate) struct Pipeline<'a> {
    pub store: &'a dyn Store,
    pub doc: DocumentId,
    pub limits: &'a Limits,
}

impl Pipeline<'_> {
    /// Runs the pipeline for `op` from the authenticated `user` holding
    /// `role`. On error nothing changed.
    pub async fn accept(
        &self,
        state: &mut DocState,
        user: UserId,
        role: Option<Role>,
        op: &ClientOp,
        origin: Option<SessionId>,
        now_ms: i64,
    ) -> Result<Outcome, CoreError> {
        if !role.is_some_and(Role::can_write) {
            return Err(CoreError::Forbidden);
        }
        if op.user_id != user {
            return Err(BadOp::WrongUser.into());
        }
        let base = seq_at(op.base_version);
        if let Some(original) = self.lookup(state, user, op).await? {
            return Ok(Outcome::Duplicate(original));
        }
        if op.base_version > state.version {
            return Err(BadOp::FutureBaseVersion {
                base: op.base_version,
                current: state.version,
            }
            .into());
        }
        // See the module docs: not a known resend (or, below the dedup
        // horizon, its status is unknowable), and the log needed to rebase
        // it is gone.
        if base < state.registry_pruned_through {
            return Err(CoreError::OutcomeUnknown);
        }
        if base < state.pruned_through {
            return Err(CoreError::ResyncRequired);
        }
        let text_op = op
            .edit
            .to_text_op(self.limits)
            .map_err(CoreError::from_op_error)?;
        let rebased = self.rebase(state, text_op, base).await?;
        rebased
            .check_fits(state.text.len_chars(), self.limits)
            .map_err(CoreError::from_op_error)?;
        let seq = state
            .seq
            .next()
            .ok_or_else(|| CoreError::seq_overflow(state.seq))?;
        let version = state
            .version
            .next()
            .ok_or_else(|| CoreError::seq_overflow(state.seq))?;
        let op_json = serde_json::to_string(&rebased)
            .map_err(|e| CoreError::Internal(format!("cannot serialise op: {e}")))?;
        let entry = entry_json(seq, version, user, &op.operation_id, &op_json)?;
        state
            .text
            .apply(&rebased)
            .map_err(CoreError::from_op_error)?;
        state.seq = seq;
        state.version = version;
        let committed = Arc::new(CommittedOp {
            seq,
            version,
            user,
            operation_id: op.operation_id.clone(),
            op: rebased,
            origin,
            entry_json: entry,
        });
        state.window.push(Arc::clone(&committed));
        let logged = LoggedOp {
            doc: self.doc,
            seq,
            version,
            user,
            operation_id: op.operation_id.clone(),
            op_json,
            created_at_ms: now_ms,
        };
        Ok(Outcome::Applied { committed, logged })
    }

    /// The registry entry of this (user, operation id), if the op was applied.
    async fn lookup(
        &self,
        state: &DocState,
        user: UserId,
        op: &ClientOp,
    ) -> Result<Option<RegisteredOp>, CoreError> {
        if let Some(found) = state.window.lookup(user, &op.operation_id) {
            return Ok(Some(found));
        }
        let base = seq_at(op.base_version);
        // Only an op based below the window can have been applied below it;
        // the store still knows every op applied after the dedup horizon.
        if base < state.window.floor() && base >= state.registry_pruned_through {
            return self
                .store
                .lookup_operation(self.doc, user, &op.operation_id, base)
                .await
                .map_err(CoreError::from_store);
        }
        Ok(None)
    }

    /// `op` (made against the state after seq `base`) transformed over every
    /// op applied since, with side left (the incoming op's insert first),
    /// oldest first (see `rebase`).
    async fn rebase(
        &self,
        state: &DocState,
        op: TextOp,
        base: quire_engine::SeqId,
    ) -> Result<TextOp, CoreError> {
        if base == state.seq {
            return Ok(op);
        }
        let floor = state.window.floor();
        let mut op = Rebasing::new(op);
        if base < floor {
            // Beyond the window: the stored log (durable, since the window
            // only evicts durable ops) covers (base, floor].
            let missing = u32::try_from(floor.0 - base.0).map_err(|_| CoreError::ResyncRequired)?;
            let older = self
                .store
                .ops_after(self.doc, base, missing)
                .await
                .map_err(CoreError::from_store)?;
            let mut expected = base;
            for logged in &older {
                expected = expected
                    .next()
                    .ok_or_else(|| CoreError::seq_overflow(expected))?;
                if logged.seq != expected {
                    return Err(CoreError::ResyncRequired);
                }
                let other: TextOp = serde_json::from_str(&logged.op_json).map_err(|e| {
                    CoreError::Internal(format!("stored op {:?} is not an op: {e}", logged.seq))
                })?;
                op.over(&other, Shape::Other);
            }
            if expected != floor {
                return Err(CoreError::ResyncRequired);
            }
        }
        let recent = state
            .window
            .ops_after(base.max(floor))
            .ok_or_else(|| CoreError::Internal("window does not cover its floor".into()))?;
        for other in recent {
            op.over(&other.op.op, other.shape);
        }
        Ok(op.finish())
    }
}
