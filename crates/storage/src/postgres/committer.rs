//! PostgreSQL group commit for `append_ops`: one committer task takes the
//! first queued request, then every request already queued (at most
//! `max_group_requests`), and runs them in ONE transaction, each inside its
//! own SAVEPOINT so a failing request (`Continuity`, `Conflict`) is rolled
//! back alone. Nobody is answered before the COMMIT returns. The queue is a
//! bounded channel (`append_queue_bound`).

use super::oplog;
use crate::{LoggedOp, StoreError, StoreResult};
use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};

struct Pending {
    ops: Vec<LoggedOp>,
    reply: oneshot::Sender<StoreResult<()>>,
    result: Option<StoreResult<()>>,
}

/// The callers' end of the committer.
#[derive(Clone)]
pub(crate) struct CommitterHandle {
    queue: mpsc::Sender<Pending>,
}

impl CommitterHandle {
    /// Starts the committer task; it stops when every handle is dropped.
    /// Appends are fenced for `instance` (see `claims`).
    pub(crate) fn spawn(pool: Pool, instance: i64, queue_bound: usize, max_group: usize) -> Self {
        let (queue, rx) = mpsc::channel(queue_bound.max(1));
        tokio::spawn(committer_loop(pool, instance, rx, max_group.max(1)));
        Self { queue }
    }

    pub(crate) async fn append(&self, ops: Vec<LoggedOp>) -> StoreResult<()> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Pending {
                ops,
                reply,
                result: None,
            })
            .await
            .map_err(|_| StoreError::Unavailable("the PostgreSQL committer has stopped".into()))?;
        answer.await.map_err(|_| {
            StoreError::Unavailable("the PostgreSQL committer stopped before answering".into())
        })?
    }
}

async fn committer_loop(
    pool: Pool,
    instance: i64,
    mut rx: mpsc::Receiver<Pending>,
    max_group: usize,
) {
    let mut group: Vec<Pending> = Vec::with_capacity(max_group);
    while let Some(first) = rx.recv().await {
        group.push(first);
        while group.len() < max_group {
            match rx.try_recv() {
                Ok(p) => group.push(p),
                Err(_) => break,
            }
        }
        let outcome = commit_group(&pool, instance, &mut group).await;
        if let Err(e) = &outcome {
            tracing::error!(error = %e, requests = group.len(), "PostgreSQL group commit failed");
        }
        for p in group.drain(..) {
            let result = match (p.result, &outcome) {
                (Some(Err(own)), _) => Err(own),
                (_, Err(e)) => Err(e.clone()),
                (Some(Ok(())), Ok(())) => Ok(()),
                (None, Ok(())) => Err(StoreError::Backend("append was never run".into())),
            };
            let _ = p.reply.send(result);
        }
    }
}

async fn commit_group(pool: &Pool, instance: i64, group: &mut [Pending]) -> StoreResult<()> {
    let mut client = pool.get().await?;
    let mut tx = client.transaction().await?;
    for p in group.iter_mut() {
        let savepoint = tx.savepoint("request").await?;
        let result = oplog::append_ops(&savepoint, instance, &p.ops).await;
        if result.is_ok() {
            savepoint.commit().await?;
        } else {
            savepoint.rollback().await?;
        }
        p.result = Some(result);
    }
    tx.commit().await?;
    Ok(())
}
