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
