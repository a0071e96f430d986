//! Test helpers shared by every crate's tests (always compiled; tiny).
//!
//! - [`fresh_sqlite`]: a store in a new temporary directory (keep the guard),
//!   with [`test_sqlite_options`]; [`fresh_sqlite_with`] for other options.
//! - [`fresh_postgres`]: a store in a new, uniquely named PostgreSQL schema, so
//!   tests running at once never see each other's rows.
//! - [`postgres_url`]: reads `QUIRE_TEST_DATABASE_URL`; when it is unset, says
//!   once that the PostgreSQL half is skipped, unless `QUIRE_REQUIRE_POSTGRES=1`
//!   (CI), where a missing URL is a failure.
//!
//! Schemas created by [`fresh_postgres`] are named `quire_test_<uuid>` and are
//! left behind (a test may fail mid-way); `.ci/run` drops those of earlier
//! runs before it starts.

use crate::postgres::{PostgresOptions, PostgresStore};
use crate::sqlite::{SqliteOptions, SqliteStore};
use crate::{Store, StoreResult};
use std::io::Write;
use std::sync::{Arc, Once};
use tempfile::TempDir;

/// Environment variable naming the test PostgreSQL server.
pub const DATABASE_URL_VAR: &str = "QUIRE_TEST_DATABASE_URL";
/// Set to `1` to make a missing or unreachable PostgreSQL a test failure.
pub const REQUIRE_POSTGRES_VAR: &str = "QUIRE_REQUIRE_POSTGRES";

/// The defaults with a 4 MiB WAL (1,024 frames) instead of 128 MiB: every
/// store writes its WAL's working size in zeros when it opens, and test
/// suites open hundreds of stores. The WAL restart logic then runs more
/// often, which tests it more.
pub fn test_sqlite_options() -> SqliteOptions {
    SqliteOptions {
        wal_restart_frames: 1_024,
        ..SqliteOptions::default()
    }
}

/// A SQLite store with [`test_sqlite_options`] in a fresh temporary data
/// directory, deleted when the returned guard is dropped (keep it alive as
/// long as the store).
pub fn fresh_sqlite() -> (Arc<dyn Store>, TempDir) {
    fresh_sqlite_with(test_sqlite_options())
}

/// [`fresh_sqlite`] with the given options (benchmarks use the defaults).
pub fn fresh_sqlite_with(options: SqliteOptions) -> (Arc<dyn Store>, TempDir) {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let store = SqliteStore::open(dir.path(), options).expect("cannot open a fresh SQLite store");
    (Arc::new(store), dir)
}

/// Whether a missing or unreachable PostgreSQL must fail the tests.
pub fn postgres_required() -> bool {
    std::env::var(REQUIRE_POSTGRES_VAR).is_ok_and(|v| v == "1")
}

/// The test PostgreSQL URL, or `None` (after printing once that the
/// PostgreSQL half is skipped). Panics when it is unset but required.
pub fn postgres_url() -> Option<String> {
    static SKIP_NOTICE: Once = Once::new();
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !postgres_required(),
                "{REQUIRE_POSTGRES_VAR}=1 but {DATABASE_URL_VAR} is not set: the PostgreSQL half cannot run"
            );
            // Written to the real stderr, not through `eprintln!`, so the test
            // harness's output capture cannot hide it.
            SKIP_NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED PostgreSQL half: {DATABASE_URL_VAR} is not set"
                );
            });
            None
        }
    }
}

/// A PostgreSQL store in a new schema of its own. Pool kept small so many
/// tests can run at once under the server's connection limit.
pub async fn try_fresh_postgres(url: &str) -> StoreResult<Arc<dyn Store>> {
    let schema = format!("quire_test_{}", uuid::Uuid::new_v4().simple());
    let options = PostgresOptions {
        schema: Some(schema),
        pool_size: 4,
        ..PostgresOptions::default()
    };
    Ok(Arc::new(PostgresStore::connect(url, options).await?))
}

/// Like [`try_fresh_postgres`] but panics with a clear message if the server
/// cannot be reached (a test cannot do anything useful then).
pub async fn fresh_postgres(url: &str) -> Arc<dyn Store> {
    match try_fresh_postgres(url).await {
        Ok(store) => store,
        Err(e) => panic!("cannot open a fresh PostgreSQL store at {DATABASE_URL_VAR}: {e}"),
    }
}
