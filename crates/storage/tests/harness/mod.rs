//! Runs each storage test against SQLite (a temporary directory) and, when
//! `QUIRE_TEST_DATABASE_URL` is set, against PostgreSQL (a schema of its own).
//! `QUIRE_REQUIRE_POSTGRES=1` turns a missing or unreachable PostgreSQL into
//! a failure instead of a skip.

#![allow(dead_code)] // each test binary uses a different part of the harness

use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, UserId};
use quire_storage::sqlite::SqliteStore;
use quire_storage::testing::{DATABASE_URL_VAR, test_sqlite_options};
use quire_storage::{LoggedOp, NewDocument, NewUser, Store, StoreResult};
use std::sync::Arc;
use tempfile::TempDir;

/// One backend under test, and how to open it again (to check durability).
pub struct Db {
    pub store: Arc<dyn Store>,
    place: Place,
}

enum Place {
    Sqlite(TempDir),
    Postgres(String),
}

impl Db {
    pub fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(dir.path(), test_sqlite_options()).unwrap());
        Db {
            store,
            place: Place::Sqlite(dir),
        }
    }

    /// `None` (after saying so once, outside the test output capture) when the
    /// PostgreSQL half is not configured.
    pub async fn postgres() -> Option<Db> {
        let url = quire_storage::testing::postgres_url()?;
        let schema = format!("quire_test_{}", uuid::Uuid::new_v4().simple());
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}schema={schema}");
        let store = quire_storage::open(&url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {DATABASE_URL_VAR} is unreachable: {e}"));
        Some(Db {
            store,
            place: Place::Postgres(url),
        })
    }

    /// What `quire_storage::open` takes to reach this data (a directory or a URL).
    pub fn target(&self) -> String {
        self.place.target()
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.place, Place::Postgres(_))
    }

    /// Closes the store and keeps its data, to open it again (to check
    /// durability): a SQLite directory is open in one store at a time.
    pub fn close(self) -> Closed {
        Closed { place: self.place }
    }
}

/// The data of a closed [`Db`].
pub struct Closed {
    place: Place,
}

impl Closed {
    /// A new store on the data: any number at once on PostgreSQL, one at a
    /// time on SQLite (the others are refused as `Unavailable`).
    pub async fn try_open(&self) -> StoreResult<Arc<dyn Store>> {
        match &self.place {
            Place::Sqlite(dir) => Ok(Arc::new(SqliteStore::open(
                dir.path(),
                test_sqlite_options(),
            )?)),
            Place::Postgres(url) => quire_storage::open(url).await,
        }
    }

    pub async fn open(&self) -> Arc<dyn Store> {
        self.try_open().await.unwrap()
    }

    pub fn target(&self) -> String {
        self.place.target()
    }
}

impl Place {
    fn target(&self) -> String {
        match self {
            Place::Sqlite(dir) => dir.path().to_str().unwrap().to_owned(),
            Place::Postgres(url) => url.clone(),
        }
    }
}

/// Declares `sqlite::NAME` and `postgres::NAME` tests for each `async fn NAME(db: Db)`.
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Db::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::harness::Db::postgres().await {
                        super::$name(db).await;
                    }
                }
            )*
        }
    };
}

pub async fn user(store: &Arc<dyn Store>, name: &str) -> UserId {
    let id = UserId::new_random();
    store
        .create_user(NewUser {
            id,
            username: name.to_owned(),
            password_hash: format!("$argon2id$fake${name}"),
            created_at_ms: 1_000,
        })
        .await
        .unwrap();
    id
}

pub async fn document(
    store: &Arc<dyn Store>,
    owner: UserId,
    title: &str,
    created_at_ms: i64,
) -> DocumentId {
    let id = DocumentId::new_random();
    store
        .create_document(NewDocument {
            id,
            title: title.to_owned(),
            owner,
            created_at_ms,
        })
        .await
        .unwrap();
    id
}

/// Op number `seq` of `doc` by `user`, with a distinctive body.
pub fn op(doc: DocumentId, user: UserId, seq: u64) -> LoggedOp {
    LoggedOp {
        doc,
        seq: SeqId(seq),
        version: DocVersion(seq),
        user,
        operation_id: OperationId::parse(format!("op-{seq}-{}", uuid::Uuid::new_v4().simple()))
            .unwrap(),
        op_json: format!("[{seq},\"x\"]"),
        created_at_ms: 10_000 + seq as i64,
    }
}

/// Ops `from..=to` of `doc`.
pub fn ops(doc: DocumentId, user: UserId, from: u64, to: u64) -> Vec<LoggedOp> {
    (from..=to).map(|s| op(doc, user, s)).collect()
}
