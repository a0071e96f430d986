//! A client's membership in one document: what the gateway holds for a
//! connection. The [`Session`] carries the event stream; the cloneable
//! [`SessionHandle`] sends the client's messages to the document's owner.
//! The session leaves when the last handle is dropped (or when its event
//! receiver is dropped: the owner notices the closed channel).

use crate::error::CoreError;
use crate::events::{SessionEvent, SessionId};
use crate::owner::Command;
use quire_engine::client_op::ClientOp;
use quire_engine::{DocVersion, DocumentId, SeqId, UserId};
use quire_storage::Role;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What the gateway asks for when a client joins a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    pub doc: DocumentId,
    /// The authenticated user.
    pub user: UserId,
    pub username: String,
    /// The role the gateway read from the access rules (at least `Read`).
    pub role: Role,
    /// The seq of the state the client already holds: ask for a catch-up
    /// instead of a snapshot.
    pub since: Option<SeqId>,
    /// The client reached this instance by a URL naming the document, as a
    /// load balancer routing by document sends it (docs/protocol.md §2):
    /// if another instance has the document open, this one asks it for a
    /// hand-over (`CoreConfig::hand_off_after`). No other request asks.
    pub routed: bool,
}

/// A joined session: its events (in order, ending with `Closed` when the core
/// ends it) and the handle to act on the document.
#[derive(Debug)]
pub struct Session {
    pub id: SessionId,
    pub events: mpsc::Receiver<SessionEvent>,
    pub handle: SessionHandle,
}

/// Sends a session's messages to its document's owner. Cheap to clone; the
/// session leaves the document when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    inner: Arc<HandleInner>,
}

#[derive(Debug)]
struct HandleInner {
    id: SessionId,
    doc: DocumentId,
    user: UserId,
    mailbox: mpsc::Sender<Command>,
}

impl Drop for HandleInner {
    fn drop(&mut self) {
        // Best effort: if the mailbox is full, the owner still finds out from
        // the closed event channel.
        let _ = self.mailbox.try_send(Command::Leave { session: self.id });
    }
}

impl SessionHandle {
    pub(crate) fn new(
        id: SessionId,
        doc: DocumentId,
        user: UserId,
        mailbox: mpsc::Sender<Command>,
    ) -> SessionHandle {
        SessionHandle {
            inner: Arc::new(HandleInner {
                id,
                doc,
                user,
                mailbox,
            }),
        }
    }

    pub fn id(&self) -> SessionId {
        self.inner.id
    }

    pub fn doc(&self) -> DocumentId {
        self.inner.doc
    }

    pub fn user(&self) -> UserId {
        self.inner.user
    }

    /// Queues an op. The outcome arrives as an event: its entry in
    /// `Committed` (origin = this session), `Ack` (duplicate) or `Rejected`.
    /// Fails at once with `Overloaded` when the document's mailbox is full,
    /// `Unavailable` when the document was unloaded under the session.
    pub fn submit(&self, op: ClientOp) -> Result<(), CoreError> {
        self.try_send(Command::Submit {
            origin: crate::owner::Origin::Session(self.inner.id),
            op: Box::new(op),
        })
    }

    /// The client applied the snapshot with this seq: release the buffered ops.
    pub async fn snapshot_ack(&self, seq: SeqId) -> Result<(), CoreError> {
        self.inner
            .mailbox
            .send(Command::SnapshotAck {
                session: self.inner.id,
                seq,
            })
            .await
            .map_err(|_| gone())
    }

    /// The client's cursor/selection, in code points against `version`.
    /// Presence is best effort: dropped when the mailbox is full.
    pub fn presence(&self, anchor: u64, head: u64, version: DocVersion) {
        let _ = self.try_send(Command::Presence {
            session: self.inner.id,
            anchor,
            head,
            version,
        });
    }

    /// Leaves the document now, even if other clones of the handle exist.
    pub fn close(self) {
        let _ = self.try_send(Command::Leave {
            session: self.inner.id,
        });
    }

    fn try_send(&self, cmd: Command) -> Result<(), CoreError> {
        self.inner.mailbox.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => CoreError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => gone(),
        })
    }
}

fn gone() -> CoreError {
    CoreError::Unavailable("the document was unloaded; rejoin".into())
}
