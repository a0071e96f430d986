//! # quire-storage
//!
//! Everything Quire must not lose, behind one [`Store`] trait with two real
//! backends: SQLite (embedded, the default: a data directory and nothing else)
//! and PostgreSQL (for several server instances). One test suite runs against both.
//!
//! What lives here (and nowhere else): accounts, document metadata, access
//! rules, the append-only op log, the operation-id registry, content snapshots.
//! What does *not* live here: business rules. The store never decides whether an
//! op is valid or who may do what; it stores and returns exactly what it is given.
//!
//! Ops are stored as the JSON text of their component list (`op_json`), the same
//! text the collaboration core broadcasts, so an op is serialised once.

mod append_plan;
mod codec;
pub mod postgres;
mod records;
pub mod sqlite;
pub mod testing;

pub use records::*;

use async_trait::async_trait;
use quire_engine::{DocumentId, OperationId, SeqId, UserId};
use std::path::Path;
use std::sync::Arc;

/// Why a storage call failed. `is_retryable` tells the caller whether trying the
/// same call again may succeed (a busy database, a dropped connection) or not.
/// `Clone` because one group-commit failure is reported to every request of the group.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint was hit (username taken, duplicate access rule...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row the call refers to does not exist.
    #[error("not found")]
    NotFound,
    /// The write was refused because the document's log does not continue where
    /// the caller said it would (another writer, or a bug): never retried blindly.
    #[error("log continuity violated: {0}")]
    Continuity(String),
    /// The backend is unreachable, busy or timed out; the call may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be decoded; something is corrupt.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The write was refused because another server instance owns the
    /// document now (see `claim_document`): this one must stop serving it.
    #[error("fenced: {0}")]
    Fenced(String),
    /// Any other backend failure.
    #[error("storage failure: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The persistence layer. Implemented by [`sqlite::SqliteStore`] and
/// [`postgres::PostgresStore`]; the rest of Quire only sees `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- accounts -------------------------------------------------------

    /// Creates a user. `Conflict` if the username is taken (case-insensitive).
    async fn create_user(&self, new: NewUser) -> StoreResult<UserRecord>;
    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>>;
    /// Case-insensitive exact lookup.
    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    /// Users whose lower-cased name starts with `prefix` (lower-cased by the
    /// caller), ordered by lower-cased name, strictly after `after` if given.
    async fn search_users(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>>;

    // ---- documents and access rules ------------------------------------

    /// Creates a document and the owner's access rule in one transaction.
    async fn create_document(&self, new: NewDocument) -> StoreResult<DocumentRecord>;
    async fn document(&self, id: DocumentId) -> StoreResult<Option<DocumentRecord>>;
    /// Documents `user` owns or that are shared with them, newest first
    /// (by `created_at_ms`, then id), strictly after `after` if given.
    async fn documents_for_user(
        &self,
        user: UserId,
        after: Option<DocumentCursor>,
        limit: u32,
    ) -> StoreResult<Vec<(DocumentRecord, Role)>>;
    async fn rename_document(&self, id: DocumentId, title: &str, now_ms: i64) -> StoreResult<()>;
    /// Removes the document with its access rules, op log, registry and snapshots.
    async fn delete_document(&self, id: DocumentId) -> StoreResult<()>;

    /// The role `user` holds on `doc`, if any (the owner holds `Role::Owner`).
    async fn role(&self, doc: DocumentId, user: UserId) -> StoreResult<Option<Role>>;
    /// Inserts or updates a `Read`/`Write` rule. `Conflict` for `Role::Owner`
    /// or when `user` is the owner (the owner's rule never changes);
    /// `NotFound` if the document or the user does not exist.
    async fn set_role(&self, doc: DocumentId, user: UserId, role: Role) -> StoreResult<()>;
    /// Removes a rule; `NotFound` if there was none, `Conflict` for the owner's.
    async fn revoke(&self, doc: DocumentId, user: UserId) -> StoreResult<()>;
    /// Everyone with a rule on `doc`, owner included, ordered by username.
    async fn collaborators(&self, doc: DocumentId) -> StoreResult<Vec<(UserRecord, Role)>>;

    // ---- collaboration state ---------------------------------------------

    /// The latest durable snapshot (if any) and every logged op after it, in
    /// sequence order: everything needed to rebuild the document. O(snapshot + tail).
    async fn load_document_state(&self, doc: DocumentId) -> StoreResult<DocumentState>;

    /// Appends ops to their documents' logs and registers their operation ids,
    /// all in ONE durable transaction (SQLite: synchronous=FULL; PostgreSQL:
    /// commit). Returns only once the data is durable. Ops of one document must
    /// have consecutive sequence ids continuing the stored log, else `Continuity`
    /// and nothing is written. "Stored log" means the highest seq the document
    /// ever had: the log's end, or if the log is empty the pruning horizon or the
    /// newest snapshot. Operation ids are registered at their op's seq and not
    /// checked for uniqueness here: the core's pipeline owns deduplication (see
    /// `lookup_operation`). An unknown document is `NotFound`. Each call is one request of the
    /// backend's group commit: concurrent calls share one transaction and one
    /// fsync, yet one failing call never affects the others. A document's
    /// `updated_at_ms` reads as at least its newest op's `created_at_ms`,
    /// also after that op is pruned.
    async fn append_ops(&self, ops: &[LoggedOp]) -> StoreResult<()>;

    /// How many `append_ops` calls of one caller may be in flight at once
    /// and still be executed in the order they were first polled (each
    /// polled before the next is created). 1, the default, means the caller
    /// must wait for each call before making the next; `usize::MAX` means
    /// any number (the caller bounds them). SQLite's single writer takes
    /// calls from a FIFO queue whose bounded sender is fair, so a caller may
    /// hand over every batch while earlier ones commit; PostgreSQL runs
    /// concurrent calls on different connections, in any order. A call that follows a failed one fails `Continuity` itself
    /// (its first seq no longer continues the log), so the log never forks.
    fn ordered_appends_in_flight(&self) -> usize {
        1
    }

    /// Makes this store's server instance the owner of `doc`, under `token`
    /// (the caller's, to tell its owners apart): `false` when another live
    /// instance owns it, and then the caller must not serve the document.
    /// Until released, appends of other instances to `doc` fail `Fenced`.
    /// SQLite: always `true` (one server per data directory, see
    /// `sqlite::LOCK_FILE`). PostgreSQL: see `postgres::claims`.
    async fn claim_document(&self, doc: DocumentId, token: u64) -> StoreResult<bool> {
        let _ = (doc, token);
        Ok(true)
    }

    /// Gives up the claim on `doc` if it still carries `token`.
    async fn release_document(&self, doc: DocumentId, token: u64) -> StoreResult<()> {
        let _ = (doc, token);
        Ok(())
    }

    /// Tells the other server instances on this database about `notice`
    /// (delivered at most once, to the instances listening then; none may be).
    /// SQLite: nothing to tell, one server per data directory. PostgreSQL:
    /// see `postgres::claims`.
    async fn notify_instances(&self, notice: DocumentNotice) -> StoreResult<()> {
        let _ = notice;
        Ok(())
    }

    /// The notices other instances send, for the hub to act on; `None` when
    /// there can be none (SQLite).
    fn instance_notices(&self) -> Option<tokio::sync::broadcast::Receiver<DocumentNotice>> {
        None
    }

    /// Logged ops of `doc` with `seq > after`, ascending, at most `limit`
    /// (empty for an unknown document).
    async fn ops_after(
        &self,
        doc: DocumentId,
        after: SeqId,
        limit: u32,
    ) -> StoreResult<Vec<LoggedOp>>;

    /// The registry entry of the op this user applied under this id at a
    /// seq above `applied_after`, if it is still registered (the oldest, if
    /// a client reused the id). A resend carries its original base version
    /// and its original was applied above it, so the caller passes the base:
    /// the registry is clustered by seq and this scans forward from there.
    async fn lookup_operation(
        &self,
        doc: DocumentId,
        user: UserId,
        id: &OperationId,
        applied_after: SeqId,
    ) -> StoreResult<Option<RegisteredOp>>;

    /// Stores a snapshot durably (replacing none: several may exist).
    /// Idempotent: the same snapshot again is `Ok`; a different one at the same
    /// seq is `Conflict`; `NotFound` for an unknown document.
    async fn save_snapshot(&self, snapshot: &Snapshot) -> StoreResult<()>;

    /// Deletes log entries with `seq <= req.through`, registry entries with
    /// `seq <= req.registry_through`, snapshots with
    /// `seq < req.drop_snapshots_before`, and records both horizons (each only
    /// ever rises). `Conflict` if `registry_through > through` (the dedup
    /// horizon must never pass the rebase horizon), and nothing changes. The
    /// caller guarantees a durable snapshot exists at or above `through`.
    async fn prune(&self, req: PruneRequest) -> StoreResult<()>;

    /// Every stored fact about one document, for `quire verify`: all snapshots
    /// (ascending seq), the whole retained log, the registry entries.
    async fn audit_document(&self, doc: DocumentId) -> StoreResult<DocumentAudit>;
    /// Every document id, for `quire verify`.
    async fn all_document_ids(&self) -> StoreResult<Vec<DocumentId>>;
}

/// Opens the store named by `target`: a `postgres://` (or `postgresql://`) URL
/// gives [`postgres::PostgresStore`] (a `?schema=NAME` parameter selects a schema),
/// anything else is a SQLite data directory, created on first use.
/// Migrations run before this returns.
pub async fn open(target: &str) -> StoreResult<Arc<dyn Store>> {
    open_with(target, sqlite::SqliteOptions::default()).await
}

/// Opens the store named by `target` for offline checks: a SQLite data
/// directory is opened read-only ([`sqlite::SqliteStore::open_read_only`]:
/// it must hold a database of this binary's schema; nothing is created or
/// changed). A PostgreSQL URL connects as [`open`] does.
pub async fn open_for_reading(target: &str) -> StoreResult<Arc<dyn Store>> {
    if postgres::is_postgres_url(target) {
        return open(target).await;
    }
    let store =
        sqlite::SqliteStore::open_read_only(Path::new(target), sqlite::SqliteOptions::default())?;
    Ok(Arc::new(store))
}

/// [`open`] with the given SQLite options (unused for PostgreSQL).
pub async fn open_with(
    target: &str,
    sqlite_options: sqlite::SqliteOptions,
) -> StoreResult<Arc<dyn Store>> {
    if postgres::is_postgres_url(target) {
        let store =
            postgres::PostgresStore::connect(target, postgres::PostgresOptions::default()).await?;
        Ok(Arc::new(store))
    } else {
        let store = sqlite::SqliteStore::open(Path::new(target), sqlite_options)?;
        Ok(Arc::new(store))
    }
}
