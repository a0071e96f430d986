//! Plain data records passed in and out of the [`Store`](crate::Store).

use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, UserId};
use serde::{Deserialize, Serialize};

/// Defined in the engine so that storage and the wire protocol share it.
pub use quire_engine::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub id: UserId,
    /// As the user typed it; uniqueness is case-insensitive.
    pub username: String,
    /// A PHC string (argon2id); never logged.
    pub password_hash: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub id: DocumentId,
    pub title: String,
    pub owner: UserId,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRecord {
    pub id: DocumentId,
    pub title: String,
    pub owner: UserId,
    pub created_at_ms: i64,
    /// Last rename, or newest appended op's `created_at_ms`, whichever is later.
    pub updated_at_ms: i64,
}

/// Keyset pagination position for [`Store::documents_for_user`](crate::Store::documents_for_user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentCursor {
    pub created_at_ms: i64,
    pub id: DocumentId,
}

/// One entry of a document's append-only op log. Also implies the registry
/// entry `(doc, user, operation_id) -> (version, seq)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedOp {
    pub doc: DocumentId,
    pub seq: SeqId,
    /// The document version this op produced.
    pub version: DocVersion,
    pub user: UserId,
    pub operation_id: OperationId,
    /// The op as applied (after transformation), as the JSON text of its
    /// ot-text-unicode component list, e.g. `[3,"abc",{"d":2}]`.
    pub op_json: String,
    pub created_at_ms: i64,
}

/// What the registry remembers of an applied operation id: enough to send the
/// original acknowledgement again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredOp {
    pub version: DocVersion,
    pub seq: SeqId,
}

/// The whole text of a document at one point of its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub doc: DocumentId,
    pub version: DocVersion,
    pub seq: SeqId,
    pub content: String,
    pub created_at_ms: i64,
}

/// What [`Store::load_document_state`](crate::Store::load_document_state) returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentState {
    /// Latest durable snapshot; `None` for a document that never had one
    /// (its log then starts at seq 1 from the empty text).
    pub snapshot: Option<Snapshot>,
    /// Logged ops after the snapshot (or after seq 0), ascending.
    pub tail: Vec<LoggedOp>,
    /// Every op with `seq <= pruned_through` has been pruned from the log:
    /// the rebase horizon.
    pub pruned_through: SeqId,
    /// Every registry entry with `seq <= registry_pruned_through` has been
    /// pruned: the dedup horizon. Never above `pruned_through` (the registry
    /// outlives the log so that a resend of a pruned op is still recognised).
    pub registry_pruned_through: SeqId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneRequest {
    pub doc: DocumentId,
    /// Log entries with `seq <= through` are deleted.
    pub through: SeqId,
    /// Registry entries with `seq <= registry_through` are deleted; must not
    /// exceed `through`.
    pub registry_through: SeqId,
    pub drop_snapshots_before: SeqId,
}

impl PruneRequest {
    /// Refuses a request whose dedup horizon would pass its rebase horizon.
    pub(crate) fn check(&self) -> crate::StoreResult<()> {
        if self.registry_through > self.through {
            return Err(crate::StoreError::Conflict(format!(
                "document {}: registry_through {} above through {}",
                self.doc, self.registry_through.0, self.through.0
            )));
        }
        Ok(())
    }
}

/// Everything stored about one document, for offline verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentAudit {
    pub snapshots: Vec<Snapshot>,
    pub ops: Vec<LoggedOp>,
    pub registry: Vec<(UserId, OperationId, RegisteredOp)>,
    pub pruned_through: SeqId,
    pub registry_pruned_through: SeqId,
}

/// What one server instance tells the others sharing its database about a
/// document (PostgreSQL: a `NOTIFY`, see `postgres::claims`). Only the
/// instance that has the document open acts on it; the notice carries no
/// state, so the receiver reads what changed from storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DocumentNotice {
    /// The sender was refused the document and asks its holder to hand it
    /// over (the holder may decline, `CoreConfig::hand_off_after`).
    HandOffRequested { document: DocumentId },
    /// A user's access rule on the document changed in storage.
    AccessChanged { document: DocumentId, user: UserId },
    /// The document was deleted from storage.
    Deleted { document: DocumentId },
}

impl DocumentNotice {
    pub fn document(&self) -> DocumentId {
        match *self {
            DocumentNotice::HandOffRequested { document }
            | DocumentNotice::AccessChanged { document, .. }
            | DocumentNotice::Deleted { document } => document,
        }
    }
}
