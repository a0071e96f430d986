//! The document's committer: one task per open document that hands the
//! owner's batches to the store, one `append_ops` call at a time and in the
//! order they were sent, so the log stays contiguous.
//!
//! Why a task of its own: the owner sends a batch as soon as it has one,
//! without waiting for the calls still in flight (at most
//! `max_commits_in_flight`). The moment a call is durable the committer makes
//! the next one, merging every batch queued meanwhile, instead of waiting for
//! the owner to be woken, answer, and start it: the store's writer goes
//! straight on to the next transaction, so a document with few, fast clients
//! is no longer bounded by a round trip through the owner per fsync.

use quire_storage::{LoggedOp, Store, StoreError};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub(crate) type CommitResult = Result<(), StoreError>;

pub(crate) struct Committer {
    batches: mpsc::Sender<Vec<LoggedOp>>,
    results: mpsc::Receiver<CommitResult>,
    task: JoinHandle<()>,
}

impl Committer {
    /// `capacity` is the most batches in flight; one call carries at most
    /// about `max_ops` ops (whole batches are merged until it is reached).
    pub fn spawn(store: Arc<dyn Store>, capacity: usize, max_ops: usize) -> Committer {
        let (batches, queued) = mpsc::channel(capacity.max(1));
        let (answers, results) = mpsc::channel(capacity.max(1));
        let task = tokio::spawn(run(store, queued, answers, max_ops.max(1)));
        Committer {
            batches,
            results,
            task,
        }
    }

    /// Queues a batch without waiting. The owner never has more than
    /// `capacity` batches unanswered, so the queue has room; if the task is
    /// gone, [`Committer::next_result`] reports the failure in its place.
    pub fn send(&self, batch: Vec<LoggedOp>) {
        if let Err(e) = self.batches.try_send(batch) {
            tracing::error!(error = %e, "the document's committer refused a batch");
        }
    }

    /// The result of the oldest batch sent and not yet answered.
    pub async fn next_result(&mut self) -> CommitResult {
        self.results.recv().await.unwrap_or_else(|| {
            Err(StoreError::Backend(
                "the document's committer stopped".into(),
            ))
        })
    }

    /// Stops the task; a call already made may still complete.
    pub fn abort(&self) {
        self.task.abort();
    }
}

async fn run(
    store: Arc<dyn Store>,
    mut queued: mpsc::Receiver<Vec<LoggedOp>>,
    answers: mpsc::Sender<CommitResult>,
    max_ops: usize,
) {
    while let Some(mut ops) = queued.recv().await {
        let mut batches = 1;
        while ops.len() < max_ops {
            match queued.try_recv() {
                Ok(more) => {
                    ops.extend(more);
                    batches += 1;
                }
                Err(_) => break,
            }
        }
        let result = store.append_ops(&ops).await;
        for _ in 0..batches {
            if answers.send(result.clone()).await.is_err() {
                return;
            }
        }
    }
}
