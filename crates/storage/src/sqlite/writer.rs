//! The single SQLite writer: one OS thread owns the only write connection and
//! executes every write, with GROUP COMMIT.
//!
//! It blocks for the first request, then takes every request already queued
//! (at most `max_group_requests`), and runs them all in ONE transaction, so
//! the group costs one fsync instead of one per request. Each request runs in
//! its own SAVEPOINT: a request that fails (a `Continuity` or `Conflict`
//! error, say) is rolled back alone and the others still commit. Nobody is
//! answered before the COMMIT returns, so an `Ok` always means durable.
//!
//! Requests are boxed closures; the queue between callers and the thread is a
//! bounded tokio channel (`write_queue_bound`), so callers wait when it is full.
//!
//! ## Keeping the WAL bounded
//!
//! The background checkpointer (`checkpointer`) copies WAL frames into the
//! database without blocking anyone, but SQLite only starts the WAL over
//! from its beginning when a write transaction begins *after* a checkpoint
//! copied every frame. Under sustained load the writer always appends before
//! the checkpointer catches up, so the WAL grew without limit (1.4 GB in 8 s
//! of 1,000-document load), every commit extended the file (the kernel
//! zero-fills each new page) and reads walked an ever larger WAL index. So
//! once the WAL holds `wal_restart_frames` frames, the writer kicks the
//! checkpointer and, once a run that started after the kick has finished,
//! runs a PASSIVE checkpoint itself between two groups, after answering the
//! last one: nothing is appended meanwhile, so it completes and the next
//! group restarts the WAL. Waiting for the checkpointer first means the
//! writer only copies and syncs what was appended during that run (9,900
//! documents at 1 op/s: the writer's checkpoint p50 9.4 ms → 5.2 ms, p90
//! 16 → 9.6 ms).

use super::checkpointer::{Kick, checkpoint};
use crate::{StoreError, StoreResult};
use rusqlite::Connection;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use tokio::sync::{mpsc, oneshot};

/// One queued write: runs inside its savepoint, then is answered once the
/// group's fate is known.
pub(crate) trait WriteJob: Send {
    /// Executes the write; `false` means it failed and its savepoint must be
    /// rolled back. The result is kept until [`WriteJob::answer`].
    fn run(&mut self, conn: &Connection) -> bool;
    /// Sends the result: the job's own error if it failed, else the commit's.
    fn answer(self: Box<Self>, commit: &StoreResult<()>);
}

struct Job<T, F> {
    work: Option<F>,
    result: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> WriteJob for Job<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> StoreResult<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result = catch_unwind(AssertUnwindSafe(|| work(conn))).unwrap_or_else(|_| {
            Err(StoreError::Backend(
                "a write panicked; it was rolled back".into(),
            ))
        });
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, commit: &StoreResult<()>) {
        let result = match (self.result, commit) {
            (Some(Err(own)), _) => Err(own),
            (Some(Ok(_)), Err(e)) => Err(e.clone()),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (None, Err(e)) => Err(e.clone()),
            (None, Ok(())) => Err(StoreError::Backend("write was never run".into())),
        };
        // The caller may have given up waiting; nothing to do then.
        let _ = self.reply.send(result);
    }
}

/// The callers' end of the writer.
#[derive(Clone)]
pub(crate) struct WriterHandle {
    /// None for a store opened read-only: every write is refused.
    queue: Option<mpsc::Sender<Box<dyn WriteJob>>>,
}

impl WriterHandle {
    /// Starts the writer thread on `conn`. It stops when every handle is dropped.
    pub(crate) fn spawn(
        mut conn: Connection,
        queue_bound: usize,
        max_group: usize,
        wal_restart_frames: u32,
        kick: Kick,
    ) -> StoreResult<Self> {
        let (queue, rx) = mpsc::channel(queue_bound.max(1));
        // The hook runs inside each COMMIT with the WAL's frame count.
        let wal_frames = Arc::new(AtomicI32::new(0));
        let seen = Arc::clone(&wal_frames);
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, frames| {
            seen.store(frames, Ordering::Relaxed);
            Ok(())
        }))?;
        let restart_at = i32::try_from(wal_restart_frames).unwrap_or(i32::MAX).max(1);
        std::thread::Builder::new()
            .name("quire-sqlite-writer".into())
            .spawn(move || {
                let restart = WalRestart {
                    kick,
                    requested: None,
                    wal_frames,
                    restart_at,
                };
                writer_loop(conn, rx, max_group.max(1), restart)
            })
            .map_err(|e| {
                StoreError::Backend(format!("cannot start the SQLite writer thread: {e}"))
            })?;
        Ok(Self { queue: Some(queue) })
    }

    /// A handle without a writer, for a store opened read-only.
    pub(crate) fn read_only() -> Self {
        Self { queue: None }
    }

    /// Runs `work` in the next group commit and returns its result once durable.
    pub(crate) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| StoreError::Backend("the store was opened read-only".into()))?;
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn WriteJob> = Box::new(Job {
            work: Some(work),
            result: None,
            reply,
        });
        queue
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        answer.await.map_err(|_| {
            StoreError::Unavailable("the SQLite writer stopped before answering".into())
        })?
    }
}

/// When to start the WAL over (see the module docs).
struct WalRestart {
    kick: Kick,
    /// The kick's token, once the WAL is long and the checkpointer was asked.
    requested: Option<u64>,
    wal_frames: Arc<AtomicI32>,
    restart_at: i32,
}

impl WalRestart {
    /// Called between groups: kicks the checkpointer once the WAL is long,
    /// restarts it once the checkpointer has copied the bulk.
    fn between_groups(&mut self, conn: &Connection) {
        if self.wal_frames.load(Ordering::Relaxed) < self.restart_at {
            return;
        }
        match self.requested {
            None => self.requested = Some(self.kick.request()),
            Some(token) if self.kick.done_since(token) => {
                checkpoint(conn, "writer, to restart the WAL");
                self.requested = None;
            }
            Some(_) => {}
        }
    }
}

fn writer_loop(
    conn: Connection,
    mut rx: mpsc::Receiver<Box<dyn WriteJob>>,
    max_group: usize,
    mut restart: WalRestart,
) {
    let mut group: Vec<Box<dyn WriteJob>> = Vec::with_capacity(max_group);
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < max_group {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let outcome = commit_group(&conn, &mut group);
        tracing::debug!(
            requests = group.len(),
            elapsed_us = started.elapsed().as_micros() as u64,
            "SQLite group commit"
        );
        if let Err(e) = &outcome {
            tracing::error!(error = %e, requests = group.len(), "SQLite group commit failed");
        }
        for job in group.drain(..) {
            job.answer(&outcome);
        }
        restart.between_groups(&conn);
    }
}

/// Runs the group in one transaction, one savepoint per job; commits once.
fn commit_group(conn: &Connection, group: &mut [Box<dyn WriteJob>]) -> StoreResult<()> {
    exec(conn, "BEGIN IMMEDIATE")?;
    let body = (|| {
        for job in group.iter_mut() {
            exec(conn, "SAVEPOINT job")?;
            if !job.run(conn) {
                exec(conn, "ROLLBACK TO job")?;
            }
            exec(conn, "RELEASE job")?;
        }
        exec(conn, "COMMIT")
    })();
    if body.is_err()
        && !conn.is_autocommit()
        && let Err(e) = exec(conn, "ROLLBACK")
    {
        tracing::error!(error = %e, "SQLite rollback after a failed group failed");
    }
    body
}

fn exec(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}
