//! A `Store` wrapper that can hold commits (`append_ops`) at a gate, fail
//! them, or commit and then report a failure, to test durability-before-ack;
//! panic in a document's load or in a catch-up read, to test an owner that
//! panics; and hold snapshot saves while counting claim releases, to test
//! that a claim outlives its owner's store calls.

use async_trait::async_trait;
use quire_engine::{DocumentId, OperationId, SeqId, UserId};
use quire_storage::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::Semaphore;

pub struct GatedStore {
    inner: Arc<dyn Store>,
    gate_closed: AtomicBool,
    gate: Semaphore,
    /// Commits that fail without writing anything.
    pub fail_next: AtomicUsize,
    /// Commits that are written but reported as failed (an ambiguous failure).
    pub commit_then_fail_next: AtomicUsize,
    /// Commits that fail because another writer logged other ops at the
    /// same seqs first (written here under other operation ids).
    pub foreign_write_then_fail_next: AtomicUsize,
    /// Document loads (`load_document_state`) that panic, as a bug in the
    /// owner would: they run in the owner's task, after its claim.
    pub panic_next_load: AtomicUsize,
    /// Log reads (`ops_after`) that panic: the owner makes them in its task
    /// when a joining client is further behind than its window.
    pub panic_next_ops_after: AtomicUsize,
    /// Commits that reached the store (held or not).
    pub appends_started: AtomicUsize,
    /// Ops in those commits.
    pub ops_started: AtomicUsize,
    snapshots_held: AtomicBool,
    snapshot_gate: Semaphore,
    /// Snapshot saves that reached the store (held or not).
    pub snapshots_started: AtomicUsize,
    /// Claim releases that reached the store.
    pub releases: AtomicUsize,
}

impl GatedStore {
    pub fn new(inner: Arc<dyn Store>) -> Arc<GatedStore> {
        Arc::new(GatedStore {
            inner,
            gate_closed: AtomicBool::new(false),
            gate: Semaphore::new(0),
            fail_next: AtomicUsize::new(0),
            commit_then_fail_next: AtomicUsize::new(0),
            foreign_write_then_fail_next: AtomicUsize::new(0),
            panic_next_load: AtomicUsize::new(0),
            panic_next_ops_after: AtomicUsize::new(0),
            appends_started: AtomicUsize::new(0),
            ops_started: AtomicUsize::new(0),
            snapshots_held: AtomicBool::new(false),
            snapshot_gate: Semaphore::new(0),
            snapshots_started: AtomicUsize::new(0),
            releases: AtomicUsize::new(0),
        })
    }

    /// From now on, every snapshot save waits until [`GatedStore::release_snapshots`].
    pub fn hold_snapshots(&self) {
        self.snapshots_held.store(true, Ordering::SeqCst);
    }

    pub fn release_snapshots(&self) {
        self.snapshots_held.store(false, Ordering::SeqCst);
        self.snapshot_gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    /// From now on, every commit waits at the gate.
    pub fn close_gate(&self) {
        self.gate_closed.store(true, Ordering::SeqCst);
    }

    /// Lets the held commits (and all later ones) through.
    pub fn open_gate(&self) {
        self.gate_closed.store(false, Ordering::SeqCst);
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    fn take(counter: &AtomicUsize) -> bool {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// A hub on `backend`'s store behind a [`GatedStore`], and a document of a
/// fresh owner; the gates are set on the store before the first request.
pub async fn gated_hub(
    backend: &super::Backend,
    config: quire_core::CoreConfig,
) -> (Arc<GatedStore>, quire_core::Hub, DocumentId, UserId) {
    let gated = GatedStore::new(Arc::clone(&backend.store));
    let store: Arc<dyn Store> = gated.clone();
    let (doc, owner) = super::owned_document(&*store).await;
    (gated, super::hub(&store, config), doc, owner)
}

/// Waits until `counter` (one of a [`GatedStore`]'s) reaches `n`; fails the
/// test after 5 s.
pub async fn wait_for(counter: &AtomicUsize, n: usize, what: &str) {
    for _ in 0..500 {
        if counter.load(Ordering::SeqCst) >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{what} never reached the store");
}

#[async_trait]
impl Store for GatedStore {
    /// The inner store's: held calls wait at the gate in arrival order (the
    /// semaphore is fair), so a failed or held call is followed by the
    /// calls pipelined behind it, as in production.
    fn ordered_appends_in_flight(&self) -> usize {
        self.inner.ordered_appends_in_flight()
    }

    async fn append_ops(&self, ops: &[LoggedOp]) -> StoreResult<()> {
        self.appends_started.fetch_add(1, Ordering::SeqCst);
        self.ops_started.fetch_add(ops.len(), Ordering::SeqCst);
        if self.gate_closed.load(Ordering::SeqCst) {
            let _permit = self.gate.acquire().await.expect("gate semaphore closed");
        }
        if Self::take(&self.fail_next) {
            return Err(StoreError::Unavailable("injected commit failure".into()));
        }
        if Self::take(&self.commit_then_fail_next) {
            self.inner.append_ops(ops).await?;
            return Err(StoreError::Unavailable(
                "injected failure after commit".into(),
            ));
        }
        if Self::take(&self.foreign_write_then_fail_next) {
            let foreign: Vec<LoggedOp> = ops
                .iter()
                .map(|op| LoggedOp {
                    operation_id: OperationId::parse(format!("foreign-{}", op.seq.0))
                        .expect("a valid id"),
                    ..op.clone()
                })
                .collect();
            self.inner.append_ops(&foreign).await?;
            return self.inner.append_ops(ops).await;
        }
        self.inner.append_ops(ops).await
    }

    async fn create_user(&self, new: NewUser) -> StoreResult<UserRecord> {
        self.inner.create_user(new).await
    }
    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>> {
        self.inner.user_by_id(id).await
    }
    async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        self.inner.user_by_name(username).await
    }
    async fn search_users(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>> {
        self.inner.search_users(prefix, after, limit).await
    }
    async fn create_document(&self, new: NewDocument) -> StoreResult<DocumentRecord> {
        self.inner.create_document(new).await
    }
    async fn document(&self, id: DocumentId) -> StoreResult<Option<DocumentRecord>> {
        self.inner.document(id).await
    }
    async fn documents_for_user(
        &self,
        user: UserId,
        after: Option<DocumentCursor>,
        limit: u32,
    ) -> StoreResult<Vec<(DocumentRecord, Role)>> {
        self.inner.documents_for_user(user, after, limit).await
    }
    async fn rename_document(&self, id: DocumentId, title: &str, now_ms: i64) -> StoreResult<()> {
        self.inner.rename_document(id, title, now_ms).await
    }
    async fn delete_document(&self, id: DocumentId) -> StoreResult<()> {
        self.inner.delete_document(id).await
    }
    async fn role(&self, doc: DocumentId, user: UserId) -> StoreResult<Option<Role>> {
        self.inner.role(doc, user).await
    }
    async fn set_role(&self, doc: DocumentId, user: UserId, role: Role) -> StoreResult<()> {
        self.inner.set_role(doc, user, role).await
    }
    async fn revoke(&self, doc: DocumentId, user: UserId) -> StoreResult<()> {
        self.inner.revoke(doc, user).await
    }
    async fn collaborators(&self, doc: DocumentId) -> StoreResult<Vec<(UserRecord, Role)>> {
        self.inner.collaborators(doc).await
    }
    async fn claim_document(&self, doc: DocumentId, token: u64) -> StoreResult<bool> {
        self.inner.claim_document(doc, token).await
    }
    async fn release_document(&self, doc: DocumentId, token: u64) -> StoreResult<()> {
        self.releases.fetch_add(1, Ordering::SeqCst);
        self.inner.release_document(doc, token).await
    }
    async fn load_document_state(&self, doc: DocumentId) -> StoreResult<DocumentState> {
        if Self::take(&self.panic_next_load) {
            panic!("injected panic in the load of {doc}");
        }
        self.inner.load_document_state(doc).await
    }
    async fn ops_after(
        &self,
        doc: DocumentId,
        after: SeqId,
        limit: u32,
    ) -> StoreResult<Vec<LoggedOp>> {
        if Self::take(&self.panic_next_ops_after) {
            panic!("injected panic in a log read of {doc}");
        }
        self.inner.ops_after(doc, after, limit).await
    }
    async fn lookup_operation(
        &self,
        doc: DocumentId,
        user: UserId,
        id: &OperationId,
        applied_after: SeqId,
    ) -> StoreResult<Option<RegisteredOp>> {
        self.inner
            .lookup_operation(doc, user, id, applied_after)
            .await
    }
    async fn save_snapshot(&self, snapshot: &Snapshot) -> StoreResult<()> {
        self.snapshots_started.fetch_add(1, Ordering::SeqCst);
        if self.snapshots_held.load(Ordering::SeqCst) {
            let _permit = self
                .snapshot_gate
                .acquire()
                .await
                .expect("gate semaphore closed");
        }
        self.inner.save_snapshot(snapshot).await
    }
    async fn prune(&self, req: PruneRequest) -> StoreResult<()> {
        self.inner.prune(req).await
    }
    async fn audit_document(&self, doc: DocumentId) -> StoreResult<DocumentAudit> {
        self.inner.audit_document(doc).await
    }
    async fn all_document_ids(&self) -> StoreResult<Vec<DocumentId>> {
        self.inner.all_document_ids().await
    }
}
