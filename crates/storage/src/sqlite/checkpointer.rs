//! WAL checkpoints off the commit path. The writer connection runs with
//! `wal_autocheckpoint = 0`, so no group commit ever pays for copying WAL
//! frames into the database file (which, with `synchronous=FULL`, also means
//! an fsync of the database file). This thread, on its own connection, runs a
//! PASSIVE checkpoint every `checkpoint_interval` instead: it never blocks the
//! writer or the readers. The WAL file is truncated back to
//! `journal_size_limit` after each reset, so its size stays bounded.
//! Crash safety does not depend on it: after a crash SQLite replays the WAL.

use crate::{StoreError, StoreResult};
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Stops the checkpointer (after one last checkpoint) when dropped.
pub(crate) struct CheckpointerHandle {
    _stop: mpsc::Sender<()>,
}

pub(crate) fn spawn(
    path: &Path,
    interval: Duration,
    busy_timeout: Duration,
) -> StoreResult<CheckpointerHandle> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(busy_timeout)?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("quire-sqlite-checkpoint".into())
        .spawn(move || {
            // Disconnected (the store was dropped) ends the loop; a timeout runs a checkpoint.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                checkpoint(&conn);
            }
            checkpoint(&conn);
        })
        .map_err(|e| {
            StoreError::Backend(format!("cannot start the SQLite checkpoint thread: {e}"))
        })?;
    Ok(CheckpointerHandle { _stop: stop })
}

fn checkpoint(conn: &Connection) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "SQLite WAL checkpoint failed; will retry");
    }
}
