//! Decoding PostgreSQL rows into records, mirroring `sqlite::rows`: each
//! decoder reads its columns from a given index in the order of its
//! `*_COLUMNS` list. Decoding never panics: a bad column is `Corrupt`.

use crate::codec::{from_db_int, operation_id_from_db};
use crate::{DocumentRecord, LoggedOp, Snapshot, StoreError, StoreResult, UserRecord};
use quire_engine::{DocVersion, DocumentId, SeqId, UserId};
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> StoreResult<T> {
    row.try_get(idx)
        .map_err(|e| StoreError::Corrupt(format!("column {idx}: {e}")))
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.username, u.password_hash, u.created_at_ms";
pub(crate) fn user(row: &Row, at: usize) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: UserId(get(row, at)?),
        username: get(row, at + 1)?,
        password_hash: get(row, at + 2)?,
        created_at_ms: get(row, at + 3)?,
    })
}

/// `updated_at_ms` is the newer of the row's (creation, renaming, pruned ops)
/// and the newest op's: appending ops never rewrites the `documents` row.
pub(crate) const DOCUMENT_COLUMNS: &str = "d.id, d.title, d.owner, d.created_at_ms,
    GREATEST(d.updated_at_ms, COALESCE((SELECT o.created_at_ms FROM ops o
        WHERE o.document = d.id ORDER BY o.seq DESC LIMIT 1), 0))";
pub(crate) fn document(row: &Row, at: usize) -> StoreResult<DocumentRecord> {
    Ok(DocumentRecord {
        id: DocumentId(get(row, at)?),
        title: get(row, at + 1)?,
        owner: UserId(get(row, at + 2)?),
        created_at_ms: get(row, at + 3)?,
        updated_at_ms: get(row, at + 4)?,
    })
}

pub(crate) const OP_COLUMNS: &str = "seq, version, user_id, operation_id, op_json, created_at_ms";
pub(crate) fn logged_op(doc: DocumentId, row: &Row) -> StoreResult<LoggedOp> {
    Ok(LoggedOp {
        doc,
        seq: SeqId(from_db_int("seq", get(row, 0)?)?),
        version: DocVersion(from_db_int("version", get(row, 1)?)?),
        user: UserId(get(row, 2)?),
        operation_id: operation_id_from_db(get(row, 3)?)?,
        op_json: get(row, 4)?,
        created_at_ms: get(row, 5)?,
    })
}

pub(crate) const SNAPSHOT_COLUMNS: &str = "seq, version, content, created_at_ms";
pub(crate) fn snapshot(doc: DocumentId, row: &Row) -> StoreResult<Snapshot> {
    Ok(Snapshot {
        doc,
        seq: SeqId(from_db_int("seq", get(row, 0)?)?),
        version: DocVersion(from_db_int("version", get(row, 1)?)?),
        content: get(row, 2)?,
        created_at_ms: get(row, 3)?,
    })
}
