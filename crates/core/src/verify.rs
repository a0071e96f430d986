//! Offline verification of stored collaboration state (`quire verify`).
//!
//! For every document, from [`Store::audit_document`]: the retained log
//! starts right after the pruning horizon and its seqs and versions are
//! contiguous; every (user, operation id) appears once and has a matching
//! registry entry (and the registry holds nothing else above the log's
//! horizon). The registry outlives the log, so entries between the two
//! horizons have no op to compare with; they must still name distinct seqs,
//! none at or below the registry's own horizon, which never passes the log's;
//! every snapshot the retained log covers equals the replay of the log up to
//! it; the current content (latest snapshot + tail) is a clean replay.
//! Each finding names the document, the seq and what is wrong.

use quire_engine::op::TextOp;
use quire_engine::text::Text;
use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, UserId};
use quire_storage::{DocumentAudit, LoggedOp, RegisteredOp, Store, StoreError};
use std::collections::HashMap;

/// One inconsistency in a document's stored state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Corruption {
    #[error("log gap: expected seq {expected}, found seq {found}")]
    SeqGap { expected: u64, found: u64 },
    #[error("op at seq {seq} has version {version}, expected {expected}")]
    VersionMismatch {
        seq: u64,
        version: u64,
        expected: u64,
    },
    /// A server fault, or a client that reused an operation id for a new op
    /// after the first use left the owner's window (see the core pipeline).
    #[error("operation {operation_id} of user {user} applied twice (seqs {first} and {second})")]
    AppliedTwice {
        user: UserId,
        operation_id: OperationId,
        first: u64,
        second: u64,
    },
    #[error("op at seq {seq} has no registry entry")]
    NotRegistered { seq: u64 },
    #[error(
        "registry entry at seq {seq} names {registered_user}/{registered} (version {registered_version}), \
         the log has {logged_user}/{logged}"
    )]
    RegistryMismatch {
        seq: u64,
        registered_user: UserId,
        registered: OperationId,
        registered_version: u64,
        logged_user: UserId,
        logged: OperationId,
    },
    #[error("registry entry for {operation_id} (seq {seq}) has no op in the log")]
    DanglingRegistryEntry { operation_id: OperationId, seq: u64 },
    #[error("registry entry for {operation_id} (seq {seq}) lies at or below the registry horizon")]
    RegistryEntryBelowHorizon { operation_id: OperationId, seq: u64 },
    #[error("registry entries for {first} and {second} both claim seq {seq}")]
    RegistrySeqTwice {
        first: OperationId,
        second: OperationId,
        seq: u64,
    },
    #[error("registry pruned through seq {registry}, past the log's horizon {log}")]
    RegistryHorizonPastLog { registry: u64, log: u64 },
    #[error("stored op at seq {seq} is not a valid op: {reason}")]
    BadOp { seq: u64, reason: String },
    #[error("op at seq {seq} does not apply: {reason}")]
    DoesNotApply { seq: u64, reason: String },
    #[error("snapshot at seq {seq} differs from the replay of the log up to it")]
    SnapshotMismatch { seq: u64 },
    #[error("snapshot at seq {seq} has version {version}, expected {expected}")]
    SnapshotVersionMismatch {
        seq: u64,
        version: u64,
        expected: u64,
    },
    #[error("snapshot at seq {seq} lies beyond the end of the log (seq {log_end})")]
    SnapshotBeyondLog { seq: u64, log_end: u64 },
    #[error("log pruned through seq {pruned} but no snapshot at or above it")]
    PrunedWithoutSnapshot { pruned: u64 },
}

/// What was checked for one document, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentReport {
    pub doc: DocumentId,
    pub pruned_through: SeqId,
    pub registry_pruned_through: SeqId,
    /// Retained log entries checked for contiguity and uniqueness.
    pub ops: usize,
    pub registry_entries: usize,
    /// Snapshots compared with a replay of the log.
    pub snapshots_replayed: usize,
    /// Snapshots older than the retained log (nothing to compare them with).
    pub snapshots_before_log: usize,
    /// State after the latest snapshot + tail (if it could be rebuilt).
    pub version: DocVersion,
    pub content_chars: usize,
    pub corruptions: Vec<Corruption>,
}

/// The whole store's verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub documents: Vec<DocumentReport>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.documents.iter().all(|d| d.corruptions.is_empty())
    }

    pub fn corruptions(&self) -> impl Iterator<Item = (DocumentId, &Corruption)> {
        self.documents
            .iter()
            .flat_map(|d| d.corruptions.iter().map(move |c| (d.doc, c)))
    }
}

/// Verifies every document of the store.
pub async fn verify_store(store: &dyn Store) -> Result<VerifyReport, StoreError> {
    let mut documents = Vec::new();
    for doc in store.all_document_ids().await? {
        let audit = store.audit_document(doc).await?;
        documents.push(verify_document(doc, &audit));
    }
    Ok(VerifyReport { documents })
}

/// Verifies one document's stored facts.
pub fn verify_document(doc: DocumentId, audit: &DocumentAudit) -> DocumentReport {
    let mut found = Vec::new();
    let ops = parse_log(&audit.ops, audit.pruned_through, &mut found);
    check_registry(audit, &mut found);
    let (snapshots_replayed, snapshots_before_log) = check_snapshots(audit, &ops, &mut found);
    let current = current_state(audit, &ops, &mut found);
    DocumentReport {
        doc,
        pruned_through: audit.pruned_through,
        registry_pruned_through: audit.registry_pruned_through,
        ops: audit.ops.len(),
        registry_entries: audit.registry.len(),
        snapshots_replayed,
        snapshots_before_log,
        version: current.as_ref().map_or(DocVersion(0), |(v, _)| *v),
        content_chars: current.as_ref().map_or(0, |(_, t)| t.len_chars()),
        corruptions: found,
    }
}

/// Checks seq/version contiguity and uniqueness of ids; returns the parsed ops.
fn parse_log(log: &[LoggedOp], pruned: SeqId, found: &mut Vec<Corruption>) -> Vec<(SeqId, TextOp)> {
    let mut parsed = Vec::with_capacity(log.len());
    let mut expected = pruned.0.saturating_add(1);
    let mut first_seen: HashMap<(UserId, &OperationId), u64> = HashMap::new();
    for op in log {
        if op.seq.0 != expected {
            found.push(Corruption::SeqGap {
                expected,
                found: op.seq.0,
            });
        }
        // Quire's versions and seqs advance together.
        if op.version.0 != op.seq.0 {
            found.push(Corruption::VersionMismatch {
                seq: op.seq.0,
                version: op.version.0,
                expected: op.seq.0,
            });
        }
        expected = op.seq.0.saturating_add(1);
        if let Some(first) = first_seen.insert((op.user, &op.operation_id), op.seq.0) {
            found.push(Corruption::AppliedTwice {
                user: op.user,
                operation_id: op.operation_id.clone(),
                first,
                second: op.seq.0,
            });
        }
        match serde_json::from_str::<TextOp>(&op.op_json) {
            Ok(text_op) => parsed.push((op.seq, text_op)),
            Err(e) => found.push(Corruption::BadOp {
                seq: op.seq.0,
                reason: e.to_string(),
            }),
        }
    }
    parsed
}

/// Every retained op has its registry entry (at its seq, naming its user, id
/// and version); above the log's horizon the registry has nothing else; below
/// it, entries lie above the registry's own horizon and name distinct seqs.
fn check_registry(audit: &DocumentAudit, found: &mut Vec<Corruption>) {
    if audit.registry_pruned_through > audit.pruned_through {
        found.push(Corruption::RegistryHorizonPastLog {
            registry: audit.registry_pruned_through.0,
            log: audit.pruned_through.0,
        });
    }
    let mut by_seq: HashMap<SeqId, (UserId, &OperationId, RegisteredOp)> =
        HashMap::with_capacity(audit.registry.len());
    for (user, id, r) in &audit.registry {
        if r.seq <= audit.registry_pruned_through {
            found.push(Corruption::RegistryEntryBelowHorizon {
                operation_id: id.clone(),
                seq: r.seq.0,
            });
        }
        if let Some((_, first, _)) = by_seq.insert(r.seq, (*user, id, *r)) {
            found.push(Corruption::RegistrySeqTwice {
                first: first.clone(),
                second: id.clone(),
                seq: r.seq.0,
            });
        }
    }
    for op in &audit.ops {
        match by_seq.remove(&op.seq) {
            None => found.push(Corruption::NotRegistered { seq: op.seq.0 }),
            Some((user, id, r))
                if user != op.user || *id != op.operation_id || r.version != op.version =>
            {
                found.push(Corruption::RegistryMismatch {
                    seq: op.seq.0,
                    registered_user: user,
                    registered: id.clone(),
                    registered_version: r.version.0,
                    logged_user: op.user,
                    logged: op.operation_id.clone(),
                })
            }
            Some(_) => {}
        }
    }
    // What is left has no op: fine below the log's horizon (the registry
    // outlives the log), dangling above it.
    let mut dangling: Vec<(SeqId, &OperationId)> = by_seq
        .into_iter()
        .filter(|(seq, _)| *seq > audit.pruned_through)
        .map(|(seq, (_, id, _))| (seq, id))
        .collect();
    dangling.sort();
    found.extend(
        dangling
            .into_iter()
            .map(|(seq, id)| Corruption::DanglingRegistryEntry {
                operation_id: id.clone(),
                seq: seq.0,
            }),
    );
}

/// Replays the retained log from its starting state (the empty text when
/// nothing was pruned, else the snapshot at the horizon) and compares every
/// snapshot it reaches. Returns (compared, older than the log).
fn check_snapshots(
    audit: &DocumentAudit,
    ops: &[(SeqId, TextOp)],
    found: &mut Vec<Corruption>,
) -> (usize, usize) {
    let log_end = ops.last().map_or(audit.pruned_through, |(s, _)| *s);
    let start = if audit.pruned_through == SeqId(0) {
        Some(Text::new())
    } else {
        audit
            .snapshots
            .iter()
            .find(|s| s.seq == audit.pruned_through)
            .map(|s| Text::from_str(&s.content))
    };
    let before_log = audit
        .snapshots
        .iter()
        .filter(|s| s.seq < audit.pruned_through)
        .count();
    for s in audit.snapshots.iter().filter(|s| s.seq > log_end) {
        found.push(Corruption::SnapshotBeyondLog {
            seq: s.seq.0,
            log_end: log_end.0,
        });
    }
    if audit.pruned_through > SeqId(0)
        && audit.snapshots.iter().all(|s| s.seq < audit.pruned_through)
    {
        found.push(Corruption::PrunedWithoutSnapshot {
            pruned: audit.pruned_through.0,
        });
    }
    let Some(mut text) = start else {
        return (0, before_log);
    };
    let mut compared = 0;
    let mut snapshots = audit
        .snapshots
        .iter()
        .filter(|s| s.seq >= audit.pruned_through)
        .peekable();
    let mut at = audit.pruned_through;
    let mut ops = ops.iter();
    loop {
        while let Some(s) = snapshots.next_if(|s| s.seq <= at) {
            if s.seq == at {
                compared += 1;
                if s.version.0 != s.seq.0 {
                    found.push(Corruption::SnapshotVersionMismatch {
                        seq: s.seq.0,
                        version: s.version.0,
                        expected: s.seq.0,
                    });
                }
                if text != s.content.as_str() {
                    found.push(Corruption::SnapshotMismatch { seq: s.seq.0 });
                }
            }
        }
        let Some((seq, op)) = ops.next() else { break };
        if let Err(e) = text.apply(op) {
            found.push(Corruption::DoesNotApply {
                seq: seq.0,
                reason: e.to_string(),
            });
            break;
        }
        at = *seq;
    }
    (compared, before_log)
}

/// The state recovery would rebuild: latest snapshot, then the ops after it.
fn current_state(
    audit: &DocumentAudit,
    ops: &[(SeqId, TextOp)],
    found: &mut Vec<Corruption>,
) -> Option<(DocVersion, Text)> {
    let (mut text, mut version, from) = match audit.snapshots.iter().max_by_key(|s| s.seq) {
        Some(s) => (Text::from_str(&s.content), s.version, s.seq),
        None if audit.pruned_through == SeqId(0) => (Text::new(), DocVersion(0), SeqId(0)),
        None => return None,
    };
    for (seq, op) in ops.iter().filter(|(seq, _)| *seq > from) {
        if let Err(e) = text.apply(op) {
            let c = Corruption::DoesNotApply {
                seq: seq.0,
                reason: e.to_string(),
            };
            if !found.contains(&c) {
                found.push(c);
            }
            return None;
        }
        version = DocVersion(seq.0);
    }
    Some((version, text))
}
