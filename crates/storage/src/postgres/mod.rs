//! The PostgreSQL backend, for several server instances sharing one database.
//!
//! - A deadpool connection pool; statements are prepared once per connection.
//! - `append_ops` goes through one committer task with group commit
//!   ([`committer`]); other writes run in their own short transactions.
//! - Migrations ([`schema`]) run in `connect`, serialised by an advisory lock.
//! - Each store is one server instance that owns the documents it claims
//!   ([`claims`]); appends to a document another live instance owns fail.
//! - Optional schema isolation: `PostgresOptions::schema` or a `?schema=NAME`
//!   URL parameter creates the schema and puts it first on the `search_path`
//!   of every pooled connection (tests give each test its own schema).

mod accounts;
mod claims;
mod committer;
mod errors;
mod oplog;
mod rows;
mod schema;
mod sql;

use crate::{
    DocumentAudit, DocumentCursor, DocumentNotice, DocumentRecord, DocumentState, LoggedOp,
    NewDocument, NewUser, PruneRequest, RegisteredOp, Role, Snapshot, Store, StoreError,
    StoreResult, UserRecord,
};
use async_trait::async_trait;
use committer::CommitterHandle;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use quire_engine::{DocumentId, OperationId, SeqId, UserId};
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::IsolationLevel;
use tokio_postgres::NoTls;

/// Tuning knobs of [`PostgresStore`]; every queue is bounded by one of these.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Schema to create and use instead of `public` (a plain lower-case
    /// identifier). Overrides a `?schema=` URL parameter.
    pub schema: Option<String>,
    /// Most pooled connections.
    pub pool_size: usize,
    /// Append requests that may wait for the committer (back-pressure beyond).
    pub append_queue_bound: usize,
    /// Most append requests committed in one transaction.
    pub max_group_requests: usize,
    /// How long to wait for a pooled connection (or to open one) before `Unavailable`.
    pub connect_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            schema: None,
            pool_size: 16,
            append_queue_bound: 8192,
            max_group_requests: 1024,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Whether `target` names a PostgreSQL database rather than a SQLite directory.
pub fn is_postgres_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// Splits a `schema=NAME` parameter off a connection URL (the driver rejects
/// unknown parameters). Returns the URL without it and the schema.
fn split_schema_param(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut schema = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("schema=") {
            Some(name) => {
                schema = Some(name.to_owned());
                false
            }
            None => !pair.is_empty(),
        })
        .collect();
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, schema)
}

/// A schema name is spliced into SQL and connection options, so only plain
/// lower-case identifiers are accepted.
fn validate_schema(name: &str) -> StoreResult<()> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    if first_ok
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "invalid schema name {name:?}: use 1-63 of a-z, 0-9, _ (not starting with a digit)"
        )))
    }
}

/// The schema's name in hand-over requests.
fn schema_name(schema: Option<&str>) -> &str {
    schema.unwrap_or("public")
}

/// [`Store`] on PostgreSQL.
pub struct PostgresStore {
    pool: Pool,
    committer: CommitterHandle,
    schema: Option<String>,
    /// This server instance's key (see [`claims`]).
    instance: i64,
    /// Holds the instance's liveness lock.
    liveness: tokio::task::AbortHandle,
    /// Notices of other instances (see [`claims`]).
    notices: tokio::sync::broadcast::Sender<DocumentNotice>,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Closes the lock's connection: other instances may take over.
        self.liveness.abort();
    }
}

impl PostgresStore {
    /// Connects, creates the schema if one is configured, runs migrations and
    /// starts the committer task (on the current tokio runtime).
    pub async fn connect(url: &str, options: PostgresOptions) -> StoreResult<Self> {
        let (url, url_schema) = split_schema_param(url);
        let schema = options.schema.clone().or(url_schema);
        if let Some(s) = &schema {
            validate_schema(s)?;
        }
        let mut config = tokio_postgres::Config::from_str(&url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        config.connect_timeout(options.connect_timeout);
        if let Some(s) = &schema {
            config.options(format!("-c search_path={s}"));
        }
        let instance = claims::new_instance_key();
        let (notices, _) = tokio::sync::broadcast::channel(claims::NOTICE_QUEUE);
        let inbox = claims::NoticeInbox {
            schema: schema_name(schema.as_deref()).to_owned(),
            instance,
            notices: notices.clone(),
        };
        let liveness = claims::hold_liveness(config.clone(), instance, inbox).await?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(2))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.connect_timeout))
            .create_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot build the PostgreSQL pool: {e}")))?;
        schema::migrate(&pool, schema.as_deref()).await?;
        let committer = CommitterHandle::spawn(
            pool.clone(),
            instance,
            options.append_queue_bound,
            options.max_group_requests,
        );
        Ok(Self {
            pool,
            committer,
            schema,
            instance,
            liveness,
            notices,
        })
    }

    /// The schema this store uses, if not `public`.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Runs `write` in its own transaction.
    async fn in_transaction<T>(
        &self,
        write: impl AsyncFnOnce(&deadpool_postgres::Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let value = write(&tx).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// Runs `read` in one REPEATABLE READ read-only transaction, so its
    /// queries see one consistent state.
    async fn consistent<T>(
        &self,
        read: impl AsyncFnOnce(&deadpool_postgres::Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut client = self.pool.get().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let value = read(&tx).await?;
        tx.commit().await?;
        Ok(value)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<UserRecord> {
        accounts::create_user(&self.pool.get().await?, new).await
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        accounts::user_by_id(&self.pool.get().await?, id).await
    }

    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        accounts::user_by_name(&self.pool.get().await?, username).await
    }

    async fn search_users(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>> {
        accounts::search_users(&self.pool.get().await?, prefix, after, limit).await
    }

    async fn create_document(&self, new: NewDocument) -> StoreResult<DocumentRecord> {
        self.in_transaction(async |tx| accounts::create_document(tx, new).await)
            .await
    }

    async fn document(&self, id: DocumentId) -> StoreResult<Option<DocumentRecord>> {
        accounts::document(&self.pool.get().await?, id).await
    }

    async fn documents_for_user(
        &self,
        user: UserId,
        after: Option<DocumentCursor>,
        limit: u32,
    ) -> StoreResult<Vec<(DocumentRecord, Role)>> {
        accounts::documents_for_user(&self.pool.get().await?, user, after, limit).await
    }

    async fn rename_document(&self, id: DocumentId, title: &str, now_ms: i64) -> StoreResult<()> {
        accounts::rename_document(&self.pool.get().await?, id, title, now_ms).await
    }

    async fn delete_document(&self, id: DocumentId) -> StoreResult<()> {
        accounts::delete_document(&self.pool.get().await?, id).await
    }

    async fn role(&self, doc: DocumentId, user: UserId) -> StoreResult<Option<Role>> {
        accounts::role(&self.pool.get().await?, doc, user).await
    }

    async fn set_role(&self, doc: DocumentId, user: UserId, role: Role) -> StoreResult<()> {
        accounts::set_role(&self.pool.get().await?, doc, user, role).await
    }

    async fn revoke(&self, doc: DocumentId, user: UserId) -> StoreResult<()> {
        accounts::revoke(&self.pool.get().await?, doc, user).await
    }

    async fn collaborators(&self, doc: DocumentId) -> StoreResult<Vec<(UserRecord, Role)>> {
        accounts::collaborators(&self.pool.get().await?, doc).await
    }

    async fn load_document_state(&self, doc: DocumentId) -> StoreResult<DocumentState> {
        self.consistent(async |tx| oplog::load_document_state(tx, doc).await)
            .await
    }

    async fn claim_document(&self, doc: DocumentId, token: u64) -> StoreResult<bool> {
        claims::claim(&self.pool.get().await?, doc, self.instance, token).await
    }

    async fn release_document(&self, doc: DocumentId, token: u64) -> StoreResult<()> {
        claims::release(&self.pool.get().await?, doc, self.instance, token).await
    }

    async fn notify_instances(&self, notice: DocumentNotice) -> StoreResult<()> {
        let schema = schema_name(self.schema.as_deref());
        claims::notify(&self.pool.get().await?, schema, self.instance, notice).await
    }

    fn instance_notices(&self) -> Option<tokio::sync::broadcast::Receiver<DocumentNotice>> {
        Some(self.notices.subscribe())
    }

    async fn append_ops(&self, ops: &[LoggedOp]) -> StoreResult<()> {
        if ops.is_empty() {
            return Ok(());
        }
        self.committer.append(ops.to_vec()).await
    }

    async fn ops_after(
        &self,
        doc: DocumentId,
        after: SeqId,
        limit: u32,
    ) -> StoreResult<Vec<LoggedOp>> {
        oplog::ops_after(&self.pool.get().await?, doc, after, limit).await
    }

    async fn lookup_operation(
        &self,
        doc: DocumentId,
        user: UserId,
        id: &OperationId,
        applied_after: SeqId,
    ) -> StoreResult<Option<RegisteredOp>> {
        oplog::lookup_operation(&self.pool.get().await?, doc, user, id, applied_after).await
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> StoreResult<()> {
        oplog::save_snapshot(&self.pool.get().await?, snapshot).await
    }

    async fn prune(&self, req: PruneRequest) -> StoreResult<()> {
        self.in_transaction(async |tx| oplog::prune(tx, req).await)
            .await
    }

    async fn audit_document(&self, doc: DocumentId) -> StoreResult<DocumentAudit> {
        self.consistent(async |tx| oplog::audit_document(tx, doc).await)
            .await
    }

    async fn all_document_ids(&self) -> StoreResult<Vec<DocumentId>> {
        oplog::all_document_ids(&self.pool.get().await?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_parameter_is_split_off_the_url() {
        assert_eq!(
            split_schema_param("postgres://h/db"),
            ("postgres://h/db".into(), None)
        );
        assert_eq!(
            split_schema_param("postgres://h/db?schema=t1"),
            ("postgres://h/db".into(), Some("t1".into()))
        );
        assert_eq!(
            split_schema_param("postgres://h/db?sslmode=disable&schema=t1&application_name=q"),
            (
                "postgres://h/db?sslmode=disable&application_name=q".into(),
                Some("t1".into())
            )
        );
    }

    #[test]
    fn only_plain_schema_names_are_accepted() {
        assert!(validate_schema("quire_test_1").is_ok());
        for bad in [
            "",
            "1abc",
            "Abc",
            "a-b",
            "a\"; DROP SCHEMA public; --",
            &"a".repeat(64),
        ] {
            assert!(validate_schema(bad).is_err(), "{bad:?}");
        }
    }
}
