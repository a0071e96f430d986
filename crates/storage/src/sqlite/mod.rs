//! The embedded backend: one SQLite database file, `quire.db`, in a data
//! directory created on first start.
//!
//! - WAL mode, `synchronous=FULL` (a commit is on disk when it returns),
//!   foreign keys on (deleting a document cascades to everything of it).
//! - Every write goes through ONE writer thread with group commit
//!   ([`writer`]); reads use a small pool of read-only connections
//!   ([`readers`]) that WAL lets run while the writer commits.
//! - WAL checkpoints run on a background thread ([`checkpointer`]), never
//!   inside a group commit.
//! - Migrations ([`schema`]) run in `open` before anything else.

mod accounts;
mod checkpointer;
mod dir_lock;
mod errors;
mod oplog;
mod readers;
mod rows;
mod schema;
mod wal_file;
mod writer;

use crate::{
    DocumentAudit, DocumentCursor, DocumentRecord, DocumentState, LoggedOp, NewDocument, NewUser,
    PruneRequest, RegisteredOp, Role, Snapshot, Store, StoreError, StoreResult, UserRecord,
};
use async_trait::async_trait;
use quire_engine::{DocumentId, OperationId, SeqId, UserId};
use readers::ReadPool;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use writer::WriterHandle;

/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "quire.db";
pub use dir_lock::LOCK_FILE;

/// Tuning knobs of [`SqliteStore`]; every queue is bounded by one of these.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Write requests that may wait for the writer thread; further callers
    /// wait for room (back-pressure) instead of growing memory.
    pub write_queue_bound: usize,
    /// Most requests committed in one group (one transaction, one fsync).
    pub max_group_requests: usize,
    /// Read-only connections, i.e. reads that may run at once.
    pub read_connections: usize,
    /// How long a connection waits for a lock held by another process
    /// before failing with `Unavailable`.
    pub busy_timeout: Duration,
    /// How often the background thread checkpoints the WAL into the database
    /// file (commits never do it themselves).
    pub checkpoint_interval: Duration,
    /// WAL length (in frames, one per page written) at which the writer
    /// checkpoints between two groups so that the WAL starts over; this
    /// bounds the WAL file (see `writer`) to about twice this many pages.
    /// The file is written in zeros up to this many frames at open (128 MiB
    /// at the default, see `wal_file`). Each restart pauses the writer for one
    /// checkpoint of what the background thread has not copied yet (p50
    /// 1–8 ms), so fewer restarts mean fewer pauses: 9,900 documents at
    /// 1 op/s, p99 ack 21–29 ms with 8,192 frames, 15–19 ms with 32,768.
    pub wal_restart_frames: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            write_queue_bound: 8192,
            max_group_requests: 2048,
            read_connections: 4,
            busy_timeout: Duration::from_secs(5),
            checkpoint_interval: Duration::from_millis(200),
            wal_restart_frames: 32_768,
        }
    }
}

/// [`Store`] on an embedded SQLite database. Cheap to share behind an `Arc`.
pub struct SqliteStore {
    writer: WriterHandle,
    /// None when opened read-only.
    _checkpointer: Option<checkpointer::CheckpointerHandle>,
    readers: Arc<ReadPool>,
    path: PathBuf,
    /// None when opened read-only (see `dir_lock`).
    _lock: Option<dir_lock::DirLock>,
}

impl SqliteStore {
    /// Opens (creating if needed) `data_dir/quire.db`, applies migrations and
    /// starts the writer thread. Blocking; call it at start-up. Fails with
    /// `Unavailable` while another store (this process's or another's) has
    /// the directory open for writing.
    pub fn open(data_dir: &Path, options: SqliteOptions) -> StoreResult<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Backend(format!(
                "cannot create data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        let lock = dir_lock::DirLock::acquire(data_dir)?;
        let path = data_dir.join(DATABASE_FILE);
        let mut conn = Connection::open(&path)?;
        conn.busy_timeout(options.busy_timeout)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "SQLite refused WAL mode (got {mode})"
            )));
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -65536;
             PRAGMA wal_autocheckpoint = 0;",
        )?;
        // The WAL file is cut back to this after each restart; it must hold
        // a full WAL (`wal_restart_frames` pages plus the group that crossed
        // it), or every restart truncates it and the next groups pay for
        // growing it again (9,900 documents at 1 op/s, 32,768 frames under a
        // 64 MiB limit: p99 ack 375 ms, against 38 ms with 8,192 frames).
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let wal_bytes = i64::from(options.wal_restart_frames).saturating_mul(2 * page_size);
        conn.execute_batch(&format!(
            "PRAGMA journal_size_limit = {};",
            wal_bytes.max(64 << 20)
        ))?;
        tune_connection(&conn)?;
        schema::migrate(&mut conn)?;
        let wal_working_size =
            wal_file::bytes_for(options.wal_restart_frames, page_size.unsigned_abs());
        wal_file::preallocate(&conn, &path, wal_working_size)?;
        let (checkpointer, kick) =
            checkpointer::spawn(&path, options.checkpoint_interval, options.busy_timeout)?;
        let writer = WriterHandle::spawn(
            conn,
            options.write_queue_bound,
            options.max_group_requests,
            options.wal_restart_frames,
            kick,
        )?;
        let readers = Arc::new(ReadPool::new(
            path.clone(),
            options.read_connections,
            options.busy_timeout,
        ));
        Ok(Self {
            writer,
            _checkpointer: Some(checkpointer),
            readers,
            path,
            _lock: Some(lock),
        })
    }

    /// Opens an existing `data_dir/quire.db` for reading only, for offline
    /// checks (`quire verify`): nothing is created, migrated, preallocated or
    /// checkpointed, and every write fails. The schema must be this binary's.
    /// Works while a server has the database open.
    pub fn open_read_only(data_dir: &Path, options: SqliteOptions) -> StoreResult<Self> {
        let path = data_dir.join(DATABASE_FILE);
        if !path.is_file() {
            return Err(StoreError::Backend(format!(
                "no Quire database in {}",
                data_dir.display()
            )));
        }
        let readers = Arc::new(ReadPool::new(
            path.clone(),
            options.read_connections,
            options.busy_timeout,
        ));
        let conn = readers.open()?;
        schema::check_current(&conn)?;
        readers.give_back(conn);
        Ok(Self {
            writer: WriterHandle::read_only(),
            _checkpointer: None,
            readers,
            path,
            _lock: None,
        })
    }

    /// SQLite's query plans for the listing queries (`documents_for_user`,
    /// `search_users`), for benchmarks and diagnostics: `(query, plan)`.
    pub async fn listing_query_plans(&self) -> StoreResult<Vec<(String, String)>> {
        self.readers.read(accounts::listing_query_plans).await
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Settings every connection (writer and readers) gets.
pub(crate) fn tune_connection(conn: &Connection) -> StoreResult<()> {
    conn.set_prepared_statement_cache_capacity(64);
    // The bundled SQLite has STAT4, which re-prepares a cached statement
    // whenever a new value is bound to a parameter that could change its
    // plan: that was a quarter of the writer's time. Our plans are fixed
    // index range scans (see `listing_query_plans`), so keep them stable.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<UserRecord> {
        self.writer
            .write(move |c| accounts::create_user(c, new))
            .await
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        self.readers
            .read(move |c| accounts::user_by_id(c, id))
            .await
    }

    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let username = username.to_owned();
        self.readers
            .read(move |c| accounts::user_by_name(c, &username))
            .await
    }

    async fn search_users(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>> {
        let (prefix, after) = (prefix.to_owned(), after.map(str::to_owned));
        self.readers
            .read(move |c| accounts::search_users(c, &prefix, after.as_deref(), limit))
            .await
    }

    async fn create_document(&self, new: NewDocument) -> StoreResult<DocumentRecord> {
        self.writer
            .write(move |c| accounts::create_document(c, new))
            .await
    }

    async fn document(&self, id: DocumentId) -> StoreResult<Option<DocumentRecord>> {
        self.readers.read(move |c| accounts::document(c, id)).await
    }

    async fn documents_for_user(
        &self,
        user: UserId,
        after: Option<DocumentCursor>,
        limit: u32,
    ) -> StoreResult<Vec<(DocumentRecord, Role)>> {
        self.readers
            .read(move |c| accounts::documents_for_user(c, user, after, limit))
            .await
    }

    async fn rename_document(&self, id: DocumentId, title: &str, now_ms: i64) -> StoreResult<()> {
        let title = title.to_owned();
        self.writer
            .write(move |c| accounts::rename_document(c, id, &title, now_ms))
            .await
    }

    async fn delete_document(&self, id: DocumentId) -> StoreResult<()> {
        self.writer
            .write(move |c| accounts::delete_document(c, id))
            .await
    }

    async fn role(&self, doc: DocumentId, user: UserId) -> StoreResult<Option<Role>> {
        self.readers
            .read(move |c| accounts::role(c, doc, user))
            .await
    }

    async fn set_role(&self, doc: DocumentId, user: UserId, role: Role) -> StoreResult<()> {
        self.writer
            .write(move |c| accounts::set_role(c, doc, user, role))
            .await
    }

    async fn revoke(&self, doc: DocumentId, user: UserId) -> StoreResult<()> {
        self.writer
            .write(move |c| accounts::revoke(c, doc, user))
            .await
    }

    async fn collaborators(&self, doc: DocumentId) -> StoreResult<Vec<(UserRecord, Role)>> {
        self.readers
            .read(move |c| accounts::collaborators(c, doc))
            .await
    }

    async fn load_document_state(&self, doc: DocumentId) -> StoreResult<DocumentState> {
        self.readers
            .read(move |c| oplog::load_document_state(c, doc))
            .await
    }

    fn ordered_appends_in_flight(&self) -> usize {
        // Any number: one writer thread takes calls from one FIFO queue. The
        // caller bounds them (`CoreConfig::max_commits_in_flight`). Handing
        // every batch over at once lets the writer's next group take all
        // that arrived during the last fsync (1 doc × 10 clients: 4 ops per
        // transaction instead of 3, +22% ops/s and a lower ack p99 than
        // with two calls in flight).
        usize::MAX
    }

    async fn append_ops(&self, ops: &[LoggedOp]) -> StoreResult<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let ops = ops.to_vec();
        self.writer.write(move |c| oplog::append_ops(c, &ops)).await
    }

    async fn ops_after(
        &self,
        doc: DocumentId,
        after: SeqId,
        limit: u32,
    ) -> StoreResult<Vec<LoggedOp>> {
        self.readers
            .read(move |c| oplog::ops_after(c, doc, after, limit))
            .await
    }

    async fn lookup_operation(
        &self,
        doc: DocumentId,
        user: UserId,
        id: &OperationId,
        applied_after: SeqId,
    ) -> StoreResult<Option<RegisteredOp>> {
        let id = id.clone();
        self.readers
            .read(move |c| oplog::lookup_operation(c, doc, user, &id, applied_after))
            .await
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> StoreResult<()> {
        let snapshot = snapshot.clone();
        self.writer
            .write(move |c| oplog::save_snapshot(c, &snapshot))
            .await
    }

    async fn prune(&self, req: PruneRequest) -> StoreResult<()> {
        self.writer.write(move |c| oplog::prune(c, req)).await
    }

    async fn audit_document(&self, doc: DocumentId) -> StoreResult<DocumentAudit> {
        self.readers
            .read(move |c| oplog::audit_document(c, doc))
            .await
    }

    async fn all_document_ids(&self) -> StoreResult<Vec<DocumentId>> {
        self.readers.read(oplog::all_document_ids).await
    }
}
