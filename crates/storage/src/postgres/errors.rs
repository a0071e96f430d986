//! How PostgreSQL and pool failures become [`StoreError`]s. A unique
//! violation becomes `Conflict` carrying the constraint's name, so callers
//! that know which constraints a statement can hit can refine it
//! ([`constraint_of`]).

use crate::StoreError;
use tokio_postgres::error::SqlState;

pub(crate) fn map_err(e: tokio_postgres::Error) -> StoreError {
    let Some(db) = e.as_db_error() else {
        // No server answer: the connection broke or could not be made.
        return StoreError::Unavailable(e.to_string());
    };
    let code = db.code();
    if *code == SqlState::UNIQUE_VIOLATION {
        StoreError::Conflict(format!(
            "{} [{}]{}",
            db.message(),
            db.constraint().unwrap_or("?"),
            db.detail().map(|d| format!(": {d}")).unwrap_or_default()
        ))
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        StoreError::NotFound
    } else if [
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::TOO_MANY_CONNECTIONS,
        SqlState::ADMIN_SHUTDOWN,
        SqlState::CRASH_SHUTDOWN,
        SqlState::CANNOT_CONNECT_NOW,
        SqlState::QUERY_CANCELED,
        SqlState::LOCK_NOT_AVAILABLE,
    ]
    .contains(code)
    {
        StoreError::Unavailable(db.to_string())
    } else if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED {
        StoreError::Corrupt(db.to_string())
    } else {
        StoreError::Backend(db.to_string())
    }
}

/// The constraint a failed statement violated, if the server named one.
pub(crate) fn constraint_of(e: &tokio_postgres::Error) -> Option<&str> {
    e.as_db_error().and_then(|db| db.constraint())
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        map_err(e)
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => map_err(e),
            other => StoreError::Unavailable(format!("PostgreSQL pool: {other}")),
        }
    }
}
