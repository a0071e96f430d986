//! PostgreSQL schema and migrations. Start-up runs them in one transaction
//! holding a transaction-scoped advisory lock keyed by the schema name, so
//! several instances starting at once serialise: the first applies what is
//! missing, the others then find nothing to do. The optional schema itself is
//! created under the same lock.

use crate::{StoreError, StoreResult};
use deadpool_postgres::Pool;

/// First key of the advisory lock (the second is the schema name's hash).
const MIGRATION_LOCK_KEY: i32 = 0x5155_4952; // "QUIR"

/// `(version, SQL)`, ascending. Never edit a released entry: add a new one.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE users (
    id             uuid PRIMARY KEY,
    username       text NOT NULL,
    -- "C" collation: byte order, so prefix ranges match code-point order.
    username_lower text COLLATE "C" NOT NULL CONSTRAINT users_username_lower_key UNIQUE,
    password_hash  text NOT NULL,
    created_at_ms  bigint NOT NULL
);

CREATE TABLE documents (
    id             uuid PRIMARY KEY,
    title          text NOT NULL,
    owner          uuid NOT NULL REFERENCES users (id),
    created_at_ms  bigint NOT NULL,
    updated_at_ms  bigint NOT NULL,
    pruned_through bigint NOT NULL DEFAULT 0
);

-- doc_created_at_ms copies documents.created_at_ms (immutable) so that a
-- user's listing is one index range scan in listing order.
CREATE TABLE access (
    document          uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    user_id           uuid NOT NULL REFERENCES users (id),
    role              text NOT NULL CHECK (role IN ('read', 'write', 'owner')),
    doc_created_at_ms bigint NOT NULL,
    PRIMARY KEY (document, user_id)
);
CREATE INDEX access_by_user ON access (user_id, doc_created_at_ms, document);

CREATE TABLE ops (
    document      uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq           bigint NOT NULL,
    version       bigint NOT NULL,
    user_id       uuid NOT NULL,
    operation_id  text NOT NULL,
    op_json       text NOT NULL,
    created_at_ms bigint NOT NULL,
    CONSTRAINT ops_pkey PRIMARY KEY (document, seq)
);

CREATE TABLE op_registry (
    document     uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL,
    operation_id text NOT NULL,
    version      bigint NOT NULL,
    seq          bigint NOT NULL,
    CONSTRAINT op_registry_pkey PRIMARY KEY (document, user_id, operation_id)
);

CREATE TABLE snapshots (
    document      uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq           bigint NOT NULL,
    version       bigint NOT NULL,
    content       text NOT NULL,
    created_at_ms bigint NOT NULL,
    PRIMARY KEY (document, seq)
);
"#,
    ),
    (
        2,
        r#"
-- The operation-id registry is kept longer than the log (dedup horizon <=
-- rebase horizon), so it gets its own horizon and is pruned by its own seq.
ALTER TABLE documents ADD COLUMN registry_pruned_through bigint NOT NULL DEFAULT 0;
UPDATE documents SET registry_pruned_through = pruned_through;
CREATE INDEX op_registry_by_seq ON op_registry (document, seq);
"#,
    ),
    (
        3,
        r#"
-- One row per op: the log entry and its registry entry are the same row
-- (see the SQLite migration 3 for why). Pruning the log empties `op_json`;
-- pruning the registry deletes the row. A resend is found by scanning the
-- seqs above its base version.
ALTER TABLE ops ALTER COLUMN op_json DROP NOT NULL;
INSERT INTO ops (document, seq, version, user_id, operation_id, op_json, created_at_ms)
    SELECT r.document, r.seq, r.version, r.user_id, r.operation_id, NULL, 0
    FROM op_registry r
    WHERE NOT EXISTS (SELECT 1 FROM ops o WHERE o.document = r.document AND o.seq = r.seq);
DROP TABLE op_registry;
"#,
    ),
    (
        4,
        r#"
-- Document ownership across server instances (see `postgres::claims`):
-- `instance` is the claiming instance's liveness lock key; it is alive
-- while some session holds that advisory lock.
CREATE TABLE document_claims (
    document uuid PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    instance bigint NOT NULL,
    token    bigint NOT NULL
);
"#,
    ),
];

/// Creates `schema` if given (already validated as a plain identifier) and
/// applies missing migrations in it (or in `public`).
pub(crate) async fn migrate(pool: &Pool, schema: Option<&str>) -> StoreResult<()> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&MIGRATION_LOCK_KEY, &schema.unwrap_or("public")],
    )
    .await?;
    if let Some(schema) = schema {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version       bigint PRIMARY KEY,
             applied_at_ms bigint NOT NULL
         )",
    )
    .await?;
    let current: i64 = tx
        .query_one(
            "SELECT coalesce(max(version), 0)::bigint FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    let newest = MIGRATIONS.last().map_or(0, |m| m.0);
    if current > newest {
        return Err(StoreError::Backend(format!(
            "database schema version {current} is newer than this binary's ({newest})"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)",
            &[version, &crate::codec::unix_now_ms()],
        )
        .await?;
        tracing::info!(
            version,
            schema = schema.unwrap_or("public"),
            "applied PostgreSQL migration"
        );
    }
    tx.commit().await?;
    Ok(())
}
