//! SQL for the collaboration state (SQLite): the append-only op log, the
//! operation-id registry, snapshots and pruning.
//!
//! `append_ops` runs inside one writer savepoint: every check happens before
//! or as part of the inserts, and any failure rolls the whole request back.
//! Per op it costs one cached single-row insert into `ops`, which is both the
//! log and the operation-id registry (migration 3): a row whose `op_json` is
//! NULL is a registry entry whose op was pruned from the log. Rows are
//! clustered by (document, seq), so a request appends to the end of each
//! document's range. Per document per request: one continuity lookup. The
//! `documents` row is not touched: a document's `updated_at_ms` is read as the
//! newer of its row and its newest op (see `rows::DOCUMENT_COLUMNS`), which
//! saves a second dirty page per document per commit.

use super::rows::{self, OP_COLUMNS, SNAPSHOT_COLUMNS};
use crate::append_plan::{check_continues, plan_append};
use crate::codec::{from_db_int, operation_id_from_db, to_db_int};
use crate::{
    DocumentAudit, DocumentState, LoggedOp, PruneRequest, RegisteredOp, Snapshot, StoreError,
    StoreResult,
};
use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

/// Highest sequence id the document has ever had: the end of its log, or when
/// the log is empty its pruning horizon or newest snapshot. `NotFound` if the
/// document does not exist.
fn stored_last_seq(conn: &Connection, doc: DocumentId) -> StoreResult<u64> {
    let last: Option<i64> = conn
        .prepare_cached(
            "SELECT max(d.pruned_through,
                        coalesce((SELECT max(seq) FROM ops WHERE document = ?1), 0),
                        coalesce((SELECT max(seq) FROM snapshots WHERE document = ?1), 0))
             FROM documents d WHERE d.id = ?1",
        )?
        .query_row([doc.0], |r| r.get(0))
        .optional()?;
    from_db_int("stored seq", last.ok_or(StoreError::NotFound)?)
}

/// The newest logged seq of the document, if it has any row: one index seek.
fn newest_row_seq(conn: &Connection, doc: DocumentId) -> StoreResult<Option<u64>> {
    let last: Option<i64> = conn
        .prepare_cached("SELECT max(seq) FROM ops WHERE document = ?1")?
        .query_row([doc.0], |r| r.get(0))?;
    last.map(|s| from_db_int("stored seq", s)).transpose()
}

pub(crate) fn append_ops(conn: &Connection, ops: &[LoggedOp]) -> StoreResult<()> {
    let runs = plan_append(ops)?;
    for run in &runs {
        // The common case in one seek: the request continues the newest row
        // (rows outlive the log down to the registry horizon, and nothing
        // else can be newer than the newest op). Otherwise the full rule.
        if newest_row_seq(conn, run.doc)?.and_then(|s| s.checked_add(1)) != Some(run.first.0) {
            check_continues(run, stored_last_seq(conn, run.doc)?)?;
        }
    }
    let mut insert_op = conn.prepare_cached(
        "INSERT INTO ops (document, seq, version, user_id, operation_id, op_json, created_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for op in ops {
        let seq = to_db_int("seq", op.seq.0)?;
        let version = to_db_int("version", op.version.0)?;
        insert_op
            .execute(params![
                op.doc.0,
                seq,
                version,
                op.user.0,
                op.operation_id.as_str(),
                op.op_json,
                op.created_at_ms
            ])
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Continuity(format!(
                    "document {}: seq {} is already logged",
                    op.doc, op.seq.0
                )),
                other => other,
            })?;
    }
    Ok(())
}

/// The document's (log, registry) pruning horizons.
fn horizons(conn: &Connection, doc: DocumentId) -> StoreResult<(SeqId, SeqId)> {
    let value: Option<(i64, i64)> = conn
        .prepare_cached(
            "SELECT pruned_through, registry_pruned_through FROM documents WHERE id = ?1",
        )?
        .query_row([doc.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (log, registry) = value.ok_or(StoreError::NotFound)?;
    Ok((
        SeqId(from_db_int("pruned_through", log)?),
        SeqId(from_db_int("registry_pruned_through", registry)?),
    ))
}

fn latest_snapshot(conn: &Connection, doc: DocumentId) -> StoreResult<Option<Snapshot>> {
    let sql = format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE document = ?1 ORDER BY seq DESC LIMIT 1"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([doc.0])?;
    rows.next()?.map(|r| rows::snapshot(doc, r)).transpose()
}

/// Ops with `seq > after`, ascending; `limit` of `None` means all of them.
fn ops_from(
    conn: &Connection,
    doc: DocumentId,
    after: SeqId,
    limit: Option<u32>,
) -> StoreResult<Vec<LoggedOp>> {
    let sql = format!(
        "SELECT {OP_COLUMNS} FROM ops
         WHERE document = ?1 AND seq > ?2 AND op_json IS NOT NULL ORDER BY seq LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let limit = limit.map_or(-1, i64::from); // SQLite: a negative LIMIT means none.
    let after = to_db_int("seq", after.0)?;
    let rows = stmt.query(params![doc.0, after, limit])?;
    rows::collect(rows, |r| rows::logged_op(doc, r))
}

/// Runs `read` in one read transaction so its queries see one consistent state.
fn consistent<T>(
    conn: &Connection,
    read: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    let tx = conn.unchecked_transaction()?;
    let value = read(&tx)?;
    tx.finish()?;
    Ok(value)
}

pub(crate) fn load_document_state(
    conn: &Connection,
    doc: DocumentId,
) -> StoreResult<DocumentState> {
    consistent(conn, |conn| {
        let (pruned_through, registry_pruned_through) = horizons(conn, doc)?;
        let snapshot = latest_snapshot(conn, doc)?;
        let from = snapshot.as_ref().map_or(SeqId(0), |s| s.seq);
        let tail = ops_from(conn, doc, from, None)?;
        Ok(DocumentState {
            snapshot,
            tail,
            pruned_through,
            registry_pruned_through,
        })
    })
}

pub(crate) fn ops_after(
    conn: &Connection,
    doc: DocumentId,
    after: SeqId,
    limit: u32,
) -> StoreResult<Vec<LoggedOp>> {
    ops_from(conn, doc, after, Some(limit))
}

pub(crate) fn lookup_operation(
    conn: &Connection,
    doc: DocumentId,
    user: UserId,
    id: &OperationId,
    applied_after: SeqId,
) -> StoreResult<Option<RegisteredOp>> {
    let after = to_db_int("seq", applied_after.0)?;
    let found: Option<(i64, i64)> = conn
        .prepare_cached(
            "SELECT version, seq FROM ops
             WHERE document = ?1 AND seq > ?2 AND user_id = ?3 AND operation_id = ?4
             ORDER BY seq LIMIT 1",
        )?
        .query_row(params![doc.0, after, user.0, id.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    found
        .map(|(version, seq)| {
            Ok(RegisteredOp {
                version: DocVersion(from_db_int("version", version)?),
                seq: SeqId(from_db_int("seq", seq)?),
            })
        })
        .transpose()
}

/// Idempotent: saving the same snapshot again succeeds; a different one at the
/// same seq is a `Conflict`.
pub(crate) fn save_snapshot(conn: &Connection, s: &Snapshot) -> StoreResult<()> {
    let seq = to_db_int("seq", s.seq.0)?;
    let version = to_db_int("version", s.version.0)?;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO snapshots (document, seq, version, content, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (document, seq) DO NOTHING",
        )?
        .execute(params![s.doc.0, seq, version, s.content, s.created_at_ms])?;
    if inserted > 0 {
        return Ok(());
    }
    let same: bool = conn
        .prepare_cached(
            "SELECT version = ?3 AND content = ?4 FROM snapshots WHERE document = ?1 AND seq = ?2",
        )?
        .query_row(params![s.doc.0, seq, version, s.content], |r| r.get(0))?;
    if same {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "document {}: a different snapshot exists at seq {}",
            s.doc, s.seq.0
        )))
    }
}

pub(crate) fn prune(conn: &Connection, req: PruneRequest) -> StoreResult<()> {
    req.check()?;
    let through = to_db_int("seq", req.through.0)?;
    let registry_through = to_db_int("seq", req.registry_through.0)?;
    let drop_before = to_db_int("seq", req.drop_snapshots_before.0)?;
    let (old_through, _) = horizons(conn, req.doc)?;
    conn.prepare_cached(
        "UPDATE documents SET pruned_through = max(pruned_through, ?2),
             registry_pruned_through = max(registry_pruned_through, ?3),
             updated_at_ms = max(updated_at_ms, coalesce(
                 (SELECT max(created_at_ms) FROM ops WHERE document = ?1 AND seq <= ?3), 0))
         WHERE id = ?1",
    )?
    .execute(params![req.doc.0, through, registry_through])?;
    // The registry outlives the log: below the log's horizon a row keeps its
    // ids and seq but loses its op; below the registry's, it goes (its time
    // was folded into `updated_at_ms` above).
    conn.prepare_cached("DELETE FROM ops WHERE document = ?1 AND seq <= ?2")?
        .execute(params![req.doc.0, registry_through])?;
    conn.prepare_cached(
        "UPDATE ops SET op_json = NULL WHERE document = ?1 AND seq > ?2 AND seq <= ?3",
    )?
    .execute(params![
        req.doc.0,
        to_db_int("seq", old_through.0.max(req.registry_through.0))?,
        through
    ])?;
    conn.prepare_cached("DELETE FROM snapshots WHERE document = ?1 AND seq < ?2")?
        .execute(params![req.doc.0, drop_before])?;
    Ok(())
}

pub(crate) fn audit_document(conn: &Connection, doc: DocumentId) -> StoreResult<DocumentAudit> {
    consistent(conn, |conn| {
        let (pruned_through, registry_pruned_through) = horizons(conn, doc)?;
        let sql =
            format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE document = ?1 ORDER BY seq");
        let mut stmt = conn.prepare_cached(&sql)?;
        let snapshots = rows::collect(stmt.query([doc.0])?, |r| rows::snapshot(doc, r))?;
        let ops = ops_from(conn, doc, SeqId(0), None)?;
        let mut stmt = conn.prepare_cached(
            "SELECT user_id, operation_id, version, seq FROM ops WHERE document = ?1 ORDER BY seq",
        )?;
        let registry = rows::collect(stmt.query([doc.0])?, |r| {
            Ok((
                UserId(r.get(0)?),
                operation_id_from_db(r.get(1)?)?,
                RegisteredOp {
                    version: DocVersion(from_db_int("version", r.get(2)?)?),
                    seq: SeqId(from_db_int("seq", r.get(3)?)?),
                },
            ))
        })?;
        Ok(DocumentAudit {
            snapshots,
            ops,
            registry,
            pruned_through,
            registry_pruned_through,
        })
    })
}

pub(crate) fn all_document_ids(conn: &Connection) -> StoreResult<Vec<DocumentId>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM documents ORDER BY id")?;
    rows::collect(stmt.query([])?, |r| Ok(DocumentId(r.get(0)?)))
}
