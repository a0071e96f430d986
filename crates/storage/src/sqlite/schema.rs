//! SQLite schema and migrations. Each migration runs once, in order, inside
//! an IMMEDIATE transaction that also records its version in
//! `schema_migrations`, so two processes opening the same directory at once
//! (or a crash mid-migration) can never apply one twice or half of one.
//!
//! Ids are 16-byte BLOBs; counters are INTEGER; tables keyed by a document
//! are WITHOUT ROWID so their rows are clustered by document.

use crate::{StoreError, StoreResult};
use rusqlite::{Connection, TransactionBehavior};

/// `(version, SQL)`, ascending. Never edit a released entry: add a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE users (
    id             BLOB PRIMARY KEY NOT NULL,
    username       TEXT NOT NULL,
    username_lower TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE documents (
    id             BLOB PRIMARY KEY NOT NULL,
    title          TEXT NOT NULL,
    owner          BLOB NOT NULL REFERENCES users (id),
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL,
    pruned_through INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- doc_created_at_ms copies documents.created_at_ms (immutable) so that a
-- user's listing is one index range scan in listing order.
CREATE TABLE access (
    document          BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    user_id           BLOB NOT NULL REFERENCES users (id),
    role              TEXT NOT NULL CHECK (role IN ('read', 'write', 'owner')),
    doc_created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (document, user_id)
) WITHOUT ROWID;
CREATE INDEX access_by_user ON access (user_id, doc_created_at_ms, document);

CREATE TABLE ops (
    document      BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    user_id       BLOB NOT NULL,
    operation_id  TEXT NOT NULL,
    op_json       TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (document, seq)
) WITHOUT ROWID;

CREATE TABLE op_registry (
    document     BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    user_id      BLOB NOT NULL,
    operation_id TEXT NOT NULL,
    version      INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    PRIMARY KEY (document, user_id, operation_id)
) WITHOUT ROWID;

-- Rowid table: snapshot rows are large (whole texts).
CREATE TABLE snapshots (
    document      BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    content       TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (document, seq)
);
"#,
    ),
    (
        2,
        r#"
-- The operation-id registry is kept longer than the log (dedup horizon <=
-- rebase horizon), so it gets its own horizon and is pruned by its own seq.
ALTER TABLE documents ADD COLUMN registry_pruned_through INTEGER NOT NULL DEFAULT 0;
UPDATE documents SET registry_pruned_through = pruned_through;
CREATE INDEX op_registry_by_seq ON op_registry (document, seq);
"#,
    ),
    (
        3,
        r#"
-- One row per op, clustered by (document, seq): the log entry and its
-- registry entry are the same row. A group commit appends to the end of each
-- document's range, so it dirties one page per document instead of one per
-- table per document plus one random page per op (a separate registry keyed
-- by (user, id) cost ~100 WAL pages per 100-op commit and halved throughput).
-- Pruning the log empties `op_json` (the row stays as the registry entry);
-- pruning the registry deletes the row. A resend is found by scanning the seqs
-- above its base version (see the core's pipeline).
CREATE TABLE ops_and_registry (
    document      BLOB NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    user_id       BLOB NOT NULL,
    operation_id  TEXT NOT NULL,
    op_json       TEXT,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (document, seq)
) WITHOUT ROWID;
INSERT INTO ops_and_registry
    SELECT document, seq, version, user_id, operation_id, op_json, created_at_ms FROM ops;
INSERT INTO ops_and_registry
    SELECT r.document, r.seq, r.version, r.user_id, r.operation_id, NULL, 0
    FROM op_registry r
    WHERE NOT EXISTS (SELECT 1 FROM ops o WHERE o.document = r.document AND o.seq = r.seq);
DROP TABLE op_registry;
DROP TABLE ops;
ALTER TABLE ops_and_registry RENAME TO ops;
"#,
    ),
];

/// Brings the database up to the newest schema this binary knows.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version       INTEGER PRIMARY KEY NOT NULL,
             applied_at_ms INTEGER NOT NULL
         )",
    )?;
    let current: i64 = tx.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    let newest = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > newest {
        return Err(StoreError::Backend(format!(
            "database schema version {current} is newer than this binary's ({newest})"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)",
            (version, crate::codec::unix_now_ms()),
        )?;
        tracing::info!(version, "applied SQLite migration");
    }
    tx.commit()?;
    Ok(())
}

/// Fails unless the database has exactly this binary's schema (for a
/// read-only open, which must not migrate).
pub(crate) fn check_current(conn: &Connection) -> StoreResult<()> {
    let newest = MIGRATIONS.last().map_or(0, |m| m.0);
    let current: i64 = conn
        .query_row(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(|e| StoreError::Backend(format!("not a Quire database: {e}")))?;
    if current != newest {
        return Err(StoreError::Backend(format!(
            "database schema version {current}, this binary's is {newest}: \
             run `quire serve` once on it to migrate"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Migration 3 folds the registry into the log: retained ops keep their
    /// op, registry-only entries (log pruned, registry not) become rows
    /// without one, and nothing else changes.
    #[test]
    fn migration_3_merges_the_registry_into_the_log() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY NOT NULL, applied_at_ms INTEGER NOT NULL);",
        )
        .unwrap();
        for (version, sql) in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
            conn.execute("INSERT INTO schema_migrations VALUES (?1, 0)", [version])
                .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO users VALUES (x'01', 'u', 'u', 'h', 0);
             INSERT INTO documents (id, title, owner, created_at_ms, updated_at_ms, pruned_through, registry_pruned_through)
                 VALUES (x'02', 't', x'01', 0, 0, 1, 0);
             INSERT INTO ops VALUES (x'02', 2, 2, x'01', 'op-2', '[\"b\"]', 20);
             INSERT INTO op_registry VALUES (x'02', x'01', 'op-1', 1, 1);
             INSERT INTO op_registry VALUES (x'02', x'01', 'op-2', 2, 2);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let rows: Vec<(i64, String, Option<String>, i64)> = conn
            .prepare("SELECT seq, operation_id, op_json, created_at_ms FROM ops ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (1, "op-1".into(), None, 0),
                (2, "op-2".into(), Some("[\"b\"]".into()), 20)
            ]
        );
        let registry_left: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'op_registry'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(registry_left, 0);
    }
}
