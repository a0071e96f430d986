//! Decoding SQLite rows into records. Each decoder reads its columns starting
//! at a given index, in the order of the matching `*_COLUMNS` list, so
//! queries and decoders cannot drift apart.

use crate::codec::{from_db_int, operation_id_from_db};
use crate::{DocumentRecord, LoggedOp, Snapshot, StoreResult, UserRecord};
use quire_engine::{DocVersion, DocumentId, SeqId, UserId};
use rusqlite::Row;

pub(crate) const USER_COLUMNS: &str = "u.id, u.username, u.password_hash, u.created_at_ms";
pub(crate) fn user(row: &Row, at: usize) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: UserId(row.get(at)?),
        username: row.get(at + 1)?,
        password_hash: row.get(at + 2)?,
        created_at_ms: row.get(at + 3)?,
    })
}

/// `updated_at_ms` is the newer of the row's (creation, renaming, pruned ops)
/// and the newest op's: appending ops never rewrites the `documents` row.
pub(crate) const DOCUMENT_COLUMNS: &str = "d.id, d.title, d.owner, d.created_at_ms,
    max(d.updated_at_ms, coalesce((SELECT o.created_at_ms FROM ops o
        WHERE o.document = d.id ORDER BY o.seq DESC LIMIT 1), 0))";
pub(crate) fn document(row: &Row, at: usize) -> StoreResult<DocumentRecord> {
    Ok(DocumentRecord {
        id: DocumentId(row.get(at)?),
        title: row.get(at + 1)?,
        owner: UserId(row.get(at + 2)?),
        created_at_ms: row.get(at + 3)?,
        updated_at_ms: row.get(at + 4)?,
    })
}

pub(crate) const OP_COLUMNS: &str = "seq, version, user_id, operation_id, op_json, created_at_ms";
pub(crate) fn logged_op(doc: DocumentId, row: &Row) -> StoreResult<LoggedOp> {
    Ok(LoggedOp {
        doc,
        seq: SeqId(from_db_int("seq", row.get(0)?)?),
        version: DocVersion(from_db_int("version", row.get(1)?)?),
        user: UserId(row.get(2)?),
        operation_id: operation_id_from_db(row.get(3)?)?,
        op_json: row.get(4)?,
        created_at_ms: row.get(5)?,
    })
}

pub(crate) const SNAPSHOT_COLUMNS: &str = "seq, version, content, created_at_ms";
pub(crate) fn snapshot(doc: DocumentId, row: &Row) -> StoreResult<Snapshot> {
    Ok(Snapshot {
        doc,
        seq: SeqId(from_db_int("seq", row.get(0)?)?),
        version: DocVersion(from_db_int("version", row.get(1)?)?),
        content: row.get(2)?,
        created_at_ms: row.get(3)?,
    })
}

/// Collects every row of a query through a fallible decoder.
pub(crate) fn collect<T>(
    mut rows: rusqlite::Rows<'_>,
    mut decode: impl FnMut(&Row) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(row)?);
    }
    Ok(out)
}
