//! The document's committer: one task per open document that hands the
//! owner's batches to the store in the order they were sent, so the log
//! stays contiguous, and answers them in that order.
//!
//! Why a task of its own: the owner sends a batch as soon as it has one,
//! without waiting for the calls still in flight (at most
//! `max_commits_in_flight`). The committer makes the next `append_ops` call
//! (merging every batch queued meanwhile) as soon as the store allows
//! (`Store::ordered_appends_in_flight`): on SQLite at once, while earlier
//! calls still commit, so the writer thread finds every batch in its queue
//! the moment it answers and commits them as one group, instead of waiting
//! for this task and then the owner to be woken. A document with few, fast
//! clients is thus bounded by the fsyncs, not by round trips between tasks
//! (1 doc × 10 clients: the writer was idle 30% of the time with one call
//! at a time).

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use quire_storage::{LoggedOp, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

pub(crate) type CommitResult = Result<(), StoreError>;

pub(crate) struct Committer {
    batches: mpsc::Sender<Vec<LoggedOp>>,
    results: mpsc::Receiver<CommitResult>,
}

/// Held, a clone each, by every task making store calls for an owner (its
/// committer, its snapshot and prune tasks) until its last call has ended:
/// the owner's supervisor waits for every clone to be dropped before it
/// gives the document's claim up (`owner::supervise`), so nothing of an
/// owner reaches the store once another owner may have loaded the document.
pub(crate) type StoreCallsGuard = Arc<oneshot::Sender<std::convert::Infallible>>;

impl Committer {
    /// `capacity` is the most batches in flight; one call carries at most
    /// about `max_ops` ops (whole batches are merged until it is reached).
    /// The task ends once the owner dropped this and every call it made has
    /// ended, answered or not; then it drops `guard`.
    pub fn spawn(
        store: Arc<dyn Store>,
        capacity: usize,
        max_ops: usize,
        guard: StoreCallsGuard,
    ) -> Committer {
        let (batches, queued) = mpsc::channel(capacity.max(1));
        let (answers, results) = mpsc::channel(capacity.max(1));
        tokio::spawn(async move {
            run(store, queued, answers, max_ops.max(1)).await;
            drop(guard);
        });
        Committer { batches, results }
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
}

async fn run(
    store: Arc<dyn Store>,
    mut queued: mpsc::Receiver<Vec<LoggedOp>>,
    answers: mpsc::Sender<CommitResult>,
    max_ops: usize,
) {
    let depth = store.ordered_appends_in_flight().max(1);
    // Each call with the number of owner batches it carries. A call pushed
    // here is first polled (and so queued in the store) by the next
    // `in_flight.next()`, in push order, before any later call exists.
    let mut in_flight = FuturesOrdered::new();
    let mut open = true;
    while open || !in_flight.is_empty() {
        tokio::select! {
            biased;
            Some((result, batches)) = in_flight.next(), if !in_flight.is_empty() => {
                let result: CommitResult = result;
                for _ in 0..batches {
                    if answers.send(result.clone()).await.is_err() {
                        // The owner is gone: start nothing new, but let the
                        // calls already made run to their end (a dropped
                        // call may still be executed by the store).
                        open = false;
                        queued.close();
                        break;
                    }
                }
            }
            batch = queued.recv(), if open && in_flight.len() < depth => {
                let Some(mut ops) = batch else {
                    open = false;
                    continue;
                };
                let mut batches = 1usize;
                while ops.len() < max_ops {
                    match queued.try_recv() {
                        Ok(more) => {
                            ops.extend(more);
                            batches += 1;
                        }
                        Err(_) => break,
                    }
                }
                let store = Arc::clone(&store);
                in_flight.push_back(async move { (store.append_ops(&ops).await, batches) });
            }
        }
    }
}
