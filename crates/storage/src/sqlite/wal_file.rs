//! Keeps the WAL file at its working size from the start.
//!
//! Why: with `synchronous=FULL` every group commit ends with an fdatasync of
//! the WAL. While the WAL file is still growing, each commit also extends it,
//! so that fdatasync must journal the new size and block allocation too: one
//! document with 10 clients ran at 9,244 ops/s while its WAL grew towards
//! `wal_restart_frames` and at ~15,000 ops/s once it had (the writer restarts
//! the WAL from its beginning, overwriting blocks that already exist). SQLite
//! deletes the WAL on a clean close, so every start would pay for growing it
//! again. [`preallocate`] writes zeros up to the working size once at open.
//!
//! Why zeros are safe: SQLite reads a WAL only up to the last frame whose
//! salts and cumulative checksum match its header, both in normal operation
//! and in recovery after a crash, so zeroed bytes past the valid frames are
//! never taken for frames. The zeros are written under a write transaction
//! (no other connection or process can append frames meanwhile), only past
//! the file's current end, and synced before anything else is written.

use crate::StoreResult;
use rusqlite::Connection;
use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

/// A WAL file starts with a 32-byte header; each frame is a 24-byte header
/// and one page.
const WAL_HEADER_BYTES: u64 = 32;
const FRAME_HEADER_BYTES: u64 = 24;

/// The WAL file size that holds `frames` frames of `page_size` bytes.
pub(crate) fn bytes_for(frames: u32, page_size: u64) -> u64 {
    WAL_HEADER_BYTES + u64::from(frames) * (FRAME_HEADER_BYTES + page_size)
}

/// Extends the WAL file of `database` with zeros up to `bytes` (never
/// shrinks it). `conn` is the writer connection, idle, in WAL mode.
pub(crate) fn preallocate(conn: &Connection, database: &Path, bytes: u64) -> StoreResult<()> {
    // The write lock keeps every other connection from appending frames
    // while the zeros go in; opening it also creates the WAL file.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let zeroed = zero_fill(&wal_path(database), bytes);
    conn.execute_batch("ROLLBACK")?;
    zeroed.map_err(|e| {
        crate::StoreError::Backend(format!("cannot preallocate the SQLite WAL file: {e}"))
    })
}

fn wal_path(database: &Path) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

fn zero_fill(wal: &Path, bytes: u64) -> std::io::Result<()> {
    let mut file = OpenOptions::new().write(true).open(wal)?;
    let mut len = file.metadata()?.len();
    if len >= bytes {
        return Ok(());
    }
    let chunk = vec![0u8; 1 << 20];
    file.seek(SeekFrom::Start(len))?;
    while len < bytes {
        // At most one chunk: fits in usize.
        let n = (bytes - len).min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n])?;
        len += n as u64;
    }
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wal_grows_to_the_requested_size_and_keeps_working() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let conn = Connection::open(&db).unwrap();
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .unwrap();
        conn.execute_batch("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('before');")
            .unwrap();
        let size = bytes_for(64, 4096);
        preallocate(&conn, &db, size).unwrap();
        assert_eq!(std::fs::metadata(wal_path(&db)).unwrap().len(), size);
        // A second call (a file already that large) changes nothing.
        preallocate(&conn, &db, size / 2).unwrap();
        assert_eq!(std::fs::metadata(wal_path(&db)).unwrap().len(), size);

        conn.execute_batch("INSERT INTO t VALUES ('after')")
            .unwrap();
        // A crash image: the database and its WAL as they are on disk now,
        // without the shared-memory index, so opening it must recover the
        // WAL from the file: the valid frames are found, the zeros ignored.
        let crashed = dir.path().join("crashed.db");
        std::fs::copy(&db, &crashed).unwrap();
        std::fs::copy(wal_path(&db), wal_path(&crashed)).unwrap();
        let other = Connection::open(&crashed).unwrap();
        let rows: Vec<String> = other
            .prepare("SELECT x FROM t ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, ["before", "after"]);
    }
}
