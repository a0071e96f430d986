//! The [`Hub`]: the one entry point of the core. It maps each open document to
//! its owner task and routes every request there.
//!
//! Ownership without races: the map entry for a document is inserted (and its
//! owner spawned) under a synchronous lock that is never held across an
//! `.await`; the owner then loads the document itself. Whoever asks second
//! finds the entry and queues behind the load, so a document is never loaded
//! twice or created by a check-then-create. An owner that unloads removes its
//! own entry under the same lock and closes its mailbox; a request that raced
//! with that finds the mailbox closed and is routed to a fresh owner.

use crate::config::{ConfigError, CoreConfig};
use crate::error::CoreError;
use crate::events::{Ack, DocumentView, SessionId};
use crate::owner::{self, Command, Origin};
use crate::session::{JoinRequest, Session};
use quire_engine::client_op::ClientOp;
use quire_engine::{DocumentId, UserId};
use quire_storage::{DocumentNotice, Role, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use tokio::sync::{Notify, broadcast, mpsc, oneshot};

/// Handle to the collaboration core. Cheap to clone; all clones share the
/// same documents.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

pub(crate) struct HubInner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) config: CoreConfig,
    owners: Mutex<HashMap<DocumentId, OwnerEntry>>,
    next_generation: AtomicU64,
    next_session: AtomicU64,
    shutting_down: AtomicBool,
    /// Owners spawned whose supervisor has not finished (claim given up).
    running_owners: AtomicUsize,
    /// Notified whenever `running_owners` drops to zero.
    owners_stopped: Notify,
}

struct OwnerEntry {
    generation: u64,
    mailbox: mpsc::Sender<Command>,
}

/// How many times a request follows an owner that closed under it before
/// giving up (each retry spawns a fresh owner, so one retry normally suffices).
const ROUTE_ATTEMPTS: usize = 3;

impl Hub {
    /// Starts the core on `store`. Must be called inside a tokio runtime
    /// (owners are spawned lazily, on the first request for a document).
    /// Refuses a configuration whose bounds contradict each other.
    pub fn start(store: Arc<dyn Store>, config: CoreConfig) -> Result<Hub, ConfigError> {
        config.validate()?;
        let notices = store.instance_notices();
        let inner = Arc::new(HubInner {
            store,
            config,
            owners: Mutex::new(HashMap::new()),
            next_generation: AtomicU64::new(1),
            next_session: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
            running_owners: AtomicUsize::new(0),
            owners_stopped: Notify::new(),
        });
        if let Some(notices) = notices {
            tokio::spawn(forward_notices(Arc::downgrade(&inner), notices));
        }
        Ok(Hub { inner })
    }

    pub fn config(&self) -> &CoreConfig {
        &self.inner.config
    }

    /// Joins a document. The first events are `Snapshot` (then ops buffered
    /// until [`SessionHandle::snapshot_ack`](crate::SessionHandle::snapshot_ack),
    /// then `Live`) or, with `since` and the history still available,
    /// `CatchUp` then `Live`.
    pub async fn join(&self, req: JoinRequest) -> Result<Session, CoreError> {
        let doc = req.doc;
        let session = SessionId(self.inner.next_session.fetch_add(1, Ordering::Relaxed));
        let (reply, answer) = oneshot::channel();
        self.route(
            doc,
            Command::Join {
                req: Box::new(req),
                session,
                reply,
            },
        )?;
        answer.await.unwrap_or_else(|_| Err(owner_gone()))
    }

    /// Submits one op outside any session (REST, benchmarks, tests) and waits
    /// for its durable acknowledgement.
    pub async fn submit_detached(
        &self,
        doc: DocumentId,
        user: UserId,
        op: ClientOp,
    ) -> Result<Ack, CoreError> {
        let (reply, answer) = oneshot::channel();
        self.route(
            doc,
            Command::Submit {
                origin: Origin::Detached { user, reply },
                op: Box::new(op),
            },
        )?;
        answer.await.unwrap_or_else(|_| Err(owner_gone()))
    }

    /// The document's durable content, version and seq.
    pub async fn read(&self, doc: DocumentId) -> Result<DocumentView, CoreError> {
        let (reply, answer) = oneshot::channel();
        self.route(doc, Command::Read { reply })?;
        answer.await.unwrap_or_else(|_| Err(owner_gone()))
    }

    /// Tells an open document that `user`'s role changed (`None`: revoked).
    /// Call it after the access rule changed in storage. Takes effect on the
    /// user's next op; sessions of a revoked user are closed with `Revoked`.
    /// Does nothing when the document is not open here (it reads the rules
    /// when it loads); the other server instances on the database are told
    /// too (`Store::notify_instances`), and the one serving the document
    /// reads the new rule.
    pub async fn access_changed(&self, doc: DocumentId, user: UserId, role: Option<Role>) {
        self.notify_open(doc, Command::AccessChanged { user, role })
            .await;
        self.inner
            .tell_instances(DocumentNotice::AccessChanged {
                document: doc,
                user,
            })
            .await;
    }

    /// Tells an open document it was deleted: its sessions are closed with
    /// `DocumentDeleted` and it unloads. The other instances are told too.
    pub async fn document_deleted(&self, doc: DocumentId) {
        self.notify_open(doc, Command::Deleted).await;
        self.inner
            .tell_instances(DocumentNotice::Deleted { document: doc })
            .await;
    }

    /// Stops accepting requests, lets every open document commit what it has
    /// applied, closes every session with `ShuttingDown`, and returns when all
    /// owners have finished and given their claims up.
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        let mailboxes: Vec<_> = self
            .inner
            .lock_owners()
            .values()
            .map(|e| e.mailbox.clone())
            .collect();
        for mailbox in mailboxes {
            // A closed mailbox: that owner is stopping already.
            let _ = mailbox.send(Command::Shutdown).await;
        }
        loop {
            let stopped = self.inner.owners_stopped.notified();
            if self.inner.running_owners.load(Ordering::SeqCst) == 0 {
                return;
            }
            stopped.await;
        }
    }

    /// Number of documents currently loaded (for tests and metrics).
    pub fn open_documents(&self) -> usize {
        self.inner.lock_owners().len()
    }

    /// Sends `cmd` to the document's owner, spawning it if the document is
    /// not open. Never waits: a full mailbox is `Overloaded`.
    fn route(&self, doc: DocumentId, cmd: Command) -> Result<(), CoreError> {
        self.inner.route(&self.inner, doc, cmd)
    }

    /// Control messages wait for mailbox space (they must not be lost) but
    /// never open a document.
    async fn notify_open(&self, doc: DocumentId, cmd: Command) {
        let mailbox = self
            .inner
            .lock_owners()
            .get(&doc)
            .map(|e| e.mailbox.clone());
        if let Some(mailbox) = mailbox {
            // A closed mailbox means the owner unloaded: it will read the new
            // state from storage when it loads again.
            let _ = mailbox.send(cmd).await;
        }
    }
}

impl HubInner {
    fn lock_owners(&self) -> MutexGuard<'_, HashMap<DocumentId, OwnerEntry>> {
        // A panic while holding this lock cannot leave the map inconsistent
        // (every critical section is a single insert/remove/get).
        self.owners
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn route(
        &self,
        this: &Arc<HubInner>,
        doc: DocumentId,
        mut cmd: Command,
    ) -> Result<(), CoreError> {
        for _ in 0..ROUTE_ATTEMPTS {
            if self.shutting_down.load(Ordering::SeqCst) {
                return Err(CoreError::Unavailable("the server is shutting down".into()));
            }
            let (generation, mailbox) = {
                let mut owners = self.lock_owners();
                let entry = owners.entry(doc).or_insert_with(|| {
                    let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
                    let mailbox = owner::spawn(Arc::clone(this), doc, generation);
                    OwnerEntry {
                        generation,
                        mailbox,
                    }
                });
                (entry.generation, entry.mailbox.clone())
            };
            match mailbox.try_send(cmd) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(_)) => return Err(CoreError::Overloaded),
                Err(mpsc::error::TrySendError::Closed(returned)) => {
                    self.forget_owner(doc, generation);
                    cmd = returned;
                }
            }
        }
        Err(owner_gone())
    }

    /// Sends `notice` to the other instances on the database; a failure is
    /// only logged (delivery is at most once anyway, `Store::notify_instances`).
    pub(crate) async fn tell_instances(&self, notice: DocumentNotice) {
        if let Err(error) = self.store.notify_instances(notice).await {
            tracing::warn!(%error, ?notice, "telling the other instances failed");
        }
    }

    pub(crate) fn owner_started(&self) {
        self.running_owners.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn owner_stopped(&self) {
        if self.running_owners.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.owners_stopped.notify_waiters();
        }
    }

    /// Removes the document's entry if it still belongs to owner `generation`.
    pub(crate) fn forget_owner(&self, doc: DocumentId, generation: u64) {
        self.retire_owner(doc, generation, || ());
    }

    /// Removes the document's entry if it still belongs to owner `generation`
    /// and runs `close_mailbox` under the same lock: no request can find the
    /// entry and then a mailbox that will never be read.
    pub(crate) fn retire_owner(
        &self,
        doc: DocumentId,
        generation: u64,
        close_mailbox: impl FnOnce(),
    ) {
        let mut owners = self.lock_owners();
        if owners.get(&doc).is_some_and(|e| e.generation == generation) {
            owners.remove(&doc);
        }
        close_mailbox();
    }
}

/// Acts on the other instances' notices about documents open here; ends
/// with the hub or the store. Access changes and deletions are read back
/// from storage (a notice carries no state), one at a time, in order.
async fn forward_notices(hub: Weak<HubInner>, mut notices: broadcast::Receiver<DocumentNotice>) {
    loop {
        let notice = match notices.recv().await {
            Ok(notice) => notice,
            Err(broadcast::error::RecvError::Lagged(lost)) => {
                tracing::warn!(lost, "missed notices of other instances");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some(hub) = hub.upgrade() else { return };
        let doc = notice.document();
        let Some(mailbox) = hub.lock_owners().get(&doc).map(|e| e.mailbox.clone()) else {
            continue;
        };
        let command = match notice {
            // A full mailbox drops it: it is asked again at the next join.
            DocumentNotice::HandOffRequested { .. } if hub.config.hand_off_after.is_some() => {
                let _ = mailbox.try_send(Command::HandOff);
                continue;
            }
            DocumentNotice::HandOffRequested { .. } => continue,
            DocumentNotice::AccessChanged { user, .. } => match hub.store.role(doc, user).await {
                Ok(role) => Command::AccessChanged { user, role },
                Err(error) => {
                    tracing::warn!(%doc, %error, "cannot read a changed access rule");
                    continue;
                }
            },
            DocumentNotice::Deleted { .. } => match hub.store.document(doc).await {
                Ok(None) => Command::Deleted,
                Ok(Some(_)) => continue,
                Err(error) => {
                    tracing::warn!(%doc, %error, "cannot check a deletion");
                    continue;
                }
            },
        };
        // Control messages wait for mailbox space, like `Hub::notify_open`.
        let _ = mailbox.send(command).await;
    }
}

fn owner_gone() -> CoreError {
    CoreError::Unavailable("the document's owner stopped; retry".into())
}
