//! WAL checkpoints off the commit path. The writer connection runs with
//! `wal_autocheckpoint = 0`, so no group commit ever pays for copying WAL
//! frames into the database file (which, with `synchronous=FULL`, also means
//! an fsync of the database file). This thread, on its own connection, runs a
//! PASSIVE checkpoint every `checkpoint_interval`, or at once when the writer
//! asks for one ([`Kick`]): it never blocks the writer or the readers.
//! Crash safety does not depend on it: after a crash SQLite replays the WAL.
//!
//! Starting the WAL over needs a checkpoint that copies every frame with
//! nothing appended meanwhile, which only the writer can run (see `writer`).
//! To keep that pause short, the writer first kicks this thread and waits
//! until a run that started after the kick has finished: the bulk is then
//! copied here, and the writer's own checkpoint only copies what was
//! appended during that run. It still syncs the database file, which writes
//! every page the background runs copied since the last such sync: SQLite
//! syncs the database only after a checkpoint that copied the whole WAL,
//! which under load only the writer's achieves. That pause therefore grows
//! with the database (BENCHMARKS.md, seventh session; syncing here instead
//! was measured and made commits slower).

use crate::{StoreError, StoreResult};
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// Stops the checkpointer (after one last checkpoint) once it and every
/// [`Kick`] are dropped.
pub(crate) struct CheckpointerHandle {
    _stop: mpsc::Sender<()>,
}

/// The writer's end: asks for a checkpoint now, and tells when one that
/// started after the request has finished.
pub(crate) struct Kick {
    now: mpsc::Sender<()>,
    runs: Arc<Runs>,
}

/// Checkpoint runs started and finished so far (runs never overlap).
#[derive(Default)]
struct Runs {
    started: AtomicU64,
    finished: AtomicU64,
}

impl Kick {
    /// Asks for a run at once; returns a token for [`Kick::done_since`].
    pub fn request(&self) -> u64 {
        let token = self.runs.started.load(Ordering::Acquire);
        let _ = self.now.send(());
        token
    }

    /// Whether a run that started after the request with `token` finished.
    /// (A run in progress at the request may have started long before, so it
    /// does not count.)
    pub fn done_since(&self, token: u64) -> bool {
        self.runs.finished.load(Ordering::Acquire) > token
    }
}

pub(crate) fn spawn(
    path: &Path,
    interval: Duration,
    busy_timeout: Duration,
) -> StoreResult<(CheckpointerHandle, Kick)> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(busy_timeout)?;
    let (stop, wakeups) = mpsc::channel::<()>();
    let runs = Arc::new(Runs::default());
    let counted = Arc::clone(&runs);
    std::thread::Builder::new()
        .name("quire-sqlite-checkpoint".into())
        .spawn(move || {
            // A kick or a timeout runs a checkpoint; disconnected (the store
            // was dropped) ends the loop.
            while !matches!(
                wakeups.recv_timeout(interval),
                Err(mpsc::RecvTimeoutError::Disconnected)
            ) {
                // Kicks that queued up during the previous run are served by
                // this one.
                while wakeups.try_recv().is_ok() {}
                counted.started.fetch_add(1, Ordering::AcqRel);
                checkpoint(&conn, "background");
                counted.finished.fetch_add(1, Ordering::Release);
            }
            checkpoint(&conn, "background");
        })
        .map_err(|e| {
            StoreError::Backend(format!("cannot start the SQLite checkpoint thread: {e}"))
        })?;
    let kick = Kick {
        now: stop.clone(),
        runs,
    };
    Ok((CheckpointerHandle { _stop: stop }, kick))
}

/// One PASSIVE checkpoint on `conn`, timed and logged at debug (`by` says
/// whose: this thread's, or the writer's to restart the WAL). Failure only
/// means the WAL stays long for now; it is logged and retried next time.
pub(crate) fn checkpoint(conn: &Connection, by: &'static str) {
    let started = std::time::Instant::now();
    // The PRAGMA, not `sqlite3_wal_checkpoint_v2`: on this thread's
    // connection, which never reads, the C call finds no WAL opened and
    // does nothing (frames -1), while preparing the PRAGMA opens it.
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    }) {
        Ok((frames, copied)) => tracing::debug!(
            by,
            frames,
            copied,
            elapsed_us = started.elapsed().as_micros() as u64,
            "SQLite WAL checkpoint"
        ),
        Err(e) => tracing::warn!(by, error = %e, "SQLite WAL checkpoint failed; will retry"),
    }
}
