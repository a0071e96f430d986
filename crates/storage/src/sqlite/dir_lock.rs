//! One server per data directory.
//!
//! Every open document has exactly one owner, and that holds only within
//! one process: two `quire serve` on the same directory would each load a
//! document, apply ops to their own copy and append to the same log, so
//! their clients would see different texts (Etherpad's #3093 with two
//! instances on one database). So a store that writes takes an exclusive
//! lock on `quire.lock` in the directory for as long as it is open, and a
//! second one fails at once with the holder's process id. The lock is the
//! operating system's (`flock`): it goes away with the process, also after
//! SIGKILL, so a crash never leaves the directory locked. Read-only stores
//! (`quire verify`) do not take it.

use crate::{StoreError, StoreResult};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "quire.lock";

/// Held while the store is open; dropping it releases the directory.
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Locks `data_dir` (which exists) or says who holds it.
    pub(crate) fn acquire(data_dir: &Path) -> StoreResult<Self> {
        let path = data_dir.join(LOCK_FILE);
        let cannot =
            |e: std::io::Error| StoreError::Backend(format!("cannot lock {}: {e}", path.display()));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(cannot)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => String::new(),
                    pid => format!(" (process {pid})"),
                };
                return Err(StoreError::Unavailable(format!(
                    "the data directory {} is in use by another Quire server{holder}; \
                     one directory serves one server",
                    data_dir.display()
                )));
            }
            Err(TryLockError::Error(e)) => return Err(cannot(e)),
        }
        // Who holds it, for the message above; a stale number from a crashed
        // holder is harmless (the lock, not the file's content, decides).
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .map_err(cannot)?;
        Ok(Self { _file: file })
    }
}
