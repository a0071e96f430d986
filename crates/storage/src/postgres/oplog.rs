//! SQL for the collaboration state (PostgreSQL): op log, operation-id
//! registry, snapshots, pruning. Same semantics as `sqlite::oplog`.
//!
//! `append_ops` runs inside the committer's per-request savepoint and costs a
//! fixed number of round trips per request whatever its size: one
//! continuity query for all its documents, then one multi-row `unnest` insert
//! for the log and its registry entries. The `documents` rows are not touched
//! (see `rows::DOCUMENT_COLUMNS` for how `updated_at_ms` is read).
//!
//! Two instances appending to one document: both may pass the continuity
//! check, but the second insert of the same `(document, seq)` hits `ops_pkey`
//! and is reported as `Continuity`, so the log never forks.

use super::claims::LIVE_OTHER_HOLDER;
use super::errors::{constraint_of, map_err};
use super::rows::{self, OP_COLUMNS, SNAPSHOT_COLUMNS};
use super::sql::{execute, query, query_opt};
use crate::append_plan::{check_continues, plan_append};
use crate::codec::{from_db_int, operation_id_from_db, to_db_int};
use crate::{
    DocumentAudit, DocumentState, LoggedOp, PruneRequest, RegisteredOp, Snapshot, StoreError,
    StoreResult,
};
use deadpool_postgres::GenericClient;
use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, UserId};
use std::collections::HashMap;
use std::sync::LazyLock;
use uuid::Uuid;

pub(crate) async fn append_ops<C: GenericClient>(
    c: &C,
    instance: i64,
    ops: &[LoggedOp],
) -> StoreResult<()> {
    let runs = plan_append(ops)?;
    let docs: Vec<Uuid> = runs.iter().map(|r| r.doc.0).collect();
    // Each document's stored end, and whether another live instance owns
    // it (see `claims`): then nothing is written.
    static STORED_END: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT d.id, GREATEST(d.pruned_through,
                                   COALESCE((SELECT max(seq) FROM ops o WHERE o.document = d.id), 0),
                                   COALESCE((SELECT max(seq) FROM snapshots s WHERE s.document = d.id), 0)),
                    EXISTS (SELECT 1 FROM document_claims c
                            WHERE c.document = d.id AND {LIVE_OTHER_HOLDER})
             FROM documents d WHERE d.id = ANY($1)"
        )
    });
    // The claim rows stay as they are until this transaction ends: a
    // takeover or release waits for it, so whoever holds the claim next
    // loads a log that already has these ops (see `claims`).
    execute(
        c,
        "SELECT 1 FROM document_claims WHERE document = ANY($1) FOR SHARE",
        &[&docs],
    )
    .await?;
    let stored = query(c, &STORED_END, &[&docs, &instance]).await?;
    let mut last: HashMap<Uuid, u64> = HashMap::with_capacity(stored.len());
    for row in &stored {
        if rows::get::<bool>(row, 2)? {
            let doc: Uuid = rows::get(row, 0)?;
            return Err(StoreError::Fenced(format!(
                "document {doc} is owned by another server instance"
            )));
        }
        last.insert(
            rows::get(row, 0)?,
            from_db_int("stored seq", rows::get(row, 1)?)?,
        );
    }
    for run in &runs {
        check_continues(run, *last.get(&run.doc.0).ok_or(StoreError::NotFound)?)?;
    }

    let n = ops.len();
    let (mut doc, mut seq, mut version, mut user) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut op_id, mut json, mut at) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for op in ops {
        doc.push(op.doc.0);
        seq.push(to_db_int("seq", op.seq.0)?);
        version.push(to_db_int("version", op.version.0)?);
        user.push(op.user.0);
        op_id.push(op.operation_id.as_str());
        json.push(op.op_json.as_str());
        at.push(op.created_at_ms);
    }
    execute(
        c,
        "INSERT INTO ops (document, seq, version, user_id, operation_id, op_json, created_at_ms)
         SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::bigint[])",
        &[&doc, &seq, &version, &user, &op_id, &json, &at],
    )
    .await
    .map_err(|e| match constraint_of(&e) {
        Some("ops_pkey") => StoreError::Continuity(format!("a sequence id is already logged: {}", map_err(e))),
        _ => map_err(e),
    })?;
    Ok(())
}

/// The document's (log, registry) pruning horizons.
async fn horizons<C: GenericClient>(c: &C, doc: DocumentId) -> StoreResult<(SeqId, SeqId)> {
    let row = query_opt(
        c,
        "SELECT pruned_through, registry_pruned_through FROM documents WHERE id = $1",
        &[&doc.0],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok((
        SeqId(from_db_int("pruned_through", rows::get(&row, 0)?)?),
        SeqId(from_db_int("registry_pruned_through", rows::get(&row, 1)?)?),
    ))
}

/// Ops with `seq > after`, ascending; `limit` of `None` means all of them.
async fn ops_from<C: GenericClient>(
    c: &C,
    doc: DocumentId,
    after: SeqId,
    limit: Option<u32>,
) -> StoreResult<Vec<LoggedOp>> {
    let sql = format!(
        "SELECT {OP_COLUMNS} FROM ops
         WHERE document = $1 AND seq > $2 AND op_json IS NOT NULL ORDER BY seq LIMIT $3"
    );
    let after = to_db_int("seq", after.0)?;
    let limit = limit.map(i64::from); // LIMIT NULL means no limit.
    let rows = query(c, &sql, &[&doc.0, &after, &limit]).await?;
    rows.iter().map(|r| rows::logged_op(doc, r)).collect()
}

/// Call inside a REPEATABLE READ transaction so all three reads agree.
pub(crate) async fn load_document_state<C: GenericClient>(
    c: &C,
    doc: DocumentId,
) -> StoreResult<DocumentState> {
    let (pruned_through, registry_pruned_through) = horizons(c, doc).await?;
    let sql = format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE document = $1 ORDER BY seq DESC LIMIT 1"
    );
    let snapshot = query_opt(c, &sql, &[&doc.0])
        .await?
        .map(|r| rows::snapshot(doc, &r))
        .transpose()?;
    let from = snapshot.as_ref().map_or(SeqId(0), |s| s.seq);
    let tail = ops_from(c, doc, from, None).await?;
    Ok(DocumentState {
        snapshot,
        tail,
        pruned_through,
        registry_pruned_through,
    })
}

pub(crate) async fn ops_after<C: GenericClient>(
    c: &C,
    doc: DocumentId,
    after: SeqId,
    limit: u32,
) -> StoreResult<Vec<LoggedOp>> {
    ops_from(c, doc, after, Some(limit)).await
}

pub(crate) async fn lookup_operation<C: GenericClient>(
    c: &C,
    doc: DocumentId,
    user: UserId,
    id: &OperationId,
    applied_after: SeqId,
) -> StoreResult<Option<RegisteredOp>> {
    let after = to_db_int("seq", applied_after.0)?;
    let row = query_opt(
        c,
        "SELECT version, seq FROM ops
         WHERE document = $1 AND seq > $2 AND user_id = $3 AND operation_id = $4
         ORDER BY seq LIMIT 1",
        &[&doc.0, &after, &user.0, &id.as_str()],
    )
    .await?;
    row.map(|r| {
        Ok(RegisteredOp {
            version: DocVersion(from_db_int("version", rows::get(&r, 0)?)?),
            seq: SeqId(from_db_int("seq", rows::get(&r, 1)?)?),
        })
    })
    .transpose()
}

/// Idempotent: saving the same snapshot again succeeds; a different one at the
/// same seq is a `Conflict`.
pub(crate) async fn save_snapshot<C: GenericClient>(c: &C, s: &Snapshot) -> StoreResult<()> {
    let seq = to_db_int("seq", s.seq.0)?;
    let version = to_db_int("version", s.version.0)?;
    let inserted = execute(
        c,
        "INSERT INTO snapshots (document, seq, version, content, created_at_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (document, seq) DO NOTHING",
        &[&s.doc.0, &seq, &version, &s.content, &s.created_at_ms],
    )
    .await?;
    if inserted > 0 {
        return Ok(());
    }
    let row = query_opt(
        c,
        "SELECT version = $3 AND content = $4 FROM snapshots WHERE document = $1 AND seq = $2",
        &[&s.doc.0, &seq, &version, &s.content],
    )
    .await?;
    match row.map(|r| rows::get::<bool>(&r, 0)).transpose()? {
        Some(true) => Ok(()),
        _ => Err(StoreError::Conflict(format!(
            "document {}: a different snapshot exists at seq {}",
            s.doc, s.seq.0
        ))),
    }
}

/// Call inside a transaction.
pub(crate) async fn prune<C: GenericClient>(c: &C, req: PruneRequest) -> StoreResult<()> {
    req.check()?;
    let through = to_db_int("seq", req.through.0)?;
    let registry_through = to_db_int("seq", req.registry_through.0)?;
    let drop_before = to_db_int("seq", req.drop_snapshots_before.0)?;
    let (old_through, _) = horizons(c, req.doc).await?;
    execute(
        c,
        "UPDATE documents SET pruned_through = GREATEST(pruned_through, $2),
             registry_pruned_through = GREATEST(registry_pruned_through, $3),
             updated_at_ms = GREATEST(updated_at_ms, COALESCE(
                 (SELECT max(created_at_ms) FROM ops WHERE document = $1 AND seq <= $3), 0))
         WHERE id = $1",
        &[&req.doc.0, &through, &registry_through],
    )
    .await?;
    // The registry outlives the log: below the log's horizon a row keeps its
    // ids and seq but loses its op; below the registry's, it goes (its time
    // was folded into `updated_at_ms` above).
    execute(
        c,
        "DELETE FROM ops WHERE document = $1 AND seq <= $2",
        &[&req.doc.0, &registry_through],
    )
    .await?;
    let emptied_from = to_db_int("seq", old_through.0.max(req.registry_through.0))?;
    execute(
        c,
        "UPDATE ops SET op_json = NULL WHERE document = $1 AND seq > $2 AND seq <= $3",
        &[&req.doc.0, &emptied_from, &through],
    )
    .await?;
    execute(
        c,
        "DELETE FROM snapshots WHERE document = $1 AND seq < $2",
        &[&req.doc.0, &drop_before],
    )
    .await?;
    Ok(())
}

/// Call inside a REPEATABLE READ transaction.
pub(crate) async fn audit_document<C: GenericClient>(
    c: &C,
    doc: DocumentId,
) -> StoreResult<DocumentAudit> {
    let (pruned_through, registry_pruned_through) = horizons(c, doc).await?;
    let sql = format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE document = $1 ORDER BY seq");
    let snapshots = query(c, &sql, &[&doc.0])
        .await?
        .iter()
        .map(|r| rows::snapshot(doc, r))
        .collect::<StoreResult<_>>()?;
    let ops = ops_from(c, doc, SeqId(0), None).await?;
    let registry = query(
        c,
        "SELECT user_id, operation_id, version, seq FROM ops WHERE document = $1 ORDER BY seq",
        &[&doc.0],
    )
    .await?
    .iter()
    .map(|r| {
        Ok((
            UserId(rows::get(r, 0)?),
            operation_id_from_db(rows::get(r, 1)?)?,
            RegisteredOp {
                version: DocVersion(from_db_int("version", rows::get(r, 2)?)?),
                seq: SeqId(from_db_int("seq", rows::get(r, 3)?)?),
            },
        ))
    })
    .collect::<StoreResult<_>>()?;
    Ok(DocumentAudit {
        snapshots,
        ops,
        registry,
        pruned_through,
        registry_pruned_through,
    })
}

pub(crate) async fn all_document_ids<C: GenericClient>(c: &C) -> StoreResult<Vec<DocumentId>> {
    query(c, "SELECT id FROM documents ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| Ok(DocumentId(rows::get(r, 0)?)))
        .collect()
}
