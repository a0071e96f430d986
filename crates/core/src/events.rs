//! What the core tells the outside world: the events a session receives, the
//! committed-op record shared by every receiver, acknowledgements and reads.
//!
//! Everything here describes *durable* state: an event leaves the core only
//! after the ops (or the state) it mentions are committed.

use crate::error::CoreError;
use quire_engine::op::TextOp;
use quire_engine::{DocVersion, OperationId, SeqId, UserId};
use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::Arc;

/// Identifies one joined session within a [`Hub`](crate::Hub).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

/// One op as the document's owner applied and committed it. Built once per op
/// and shared (behind `Arc`) by every session that receives it.
#[derive(Debug, Clone)]
pub struct CommittedOp {
    pub seq: SeqId,
    /// The version this op produced.
    pub version: DocVersion,
    pub user: UserId,
    pub operation_id: OperationId,
    /// The op as applied (after transformation).
    pub op: TextOp,
    /// The session that submitted it, if it came through a session: the
    /// gateway sends that session an `ack` instead of an `ops` entry.
    pub origin: Option<SessionId>,
    /// The broadcast entry of docs/protocol.md §4, serialised once:
    /// `{"seq":..,"version":..,"userId":..,"operationId":..,"op":[...]}`.
    pub entry_json: Arc<str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntryJson<'a> {
    seq: SeqId,
    version: DocVersion,
    user_id: UserId,
    operation_id: &'a OperationId,
    op: &'a RawValue,
}

/// Serialises the broadcast entry around an already serialised op.
pub(crate) fn entry_json(
    seq: SeqId,
    version: DocVersion,
    user: UserId,
    operation_id: &OperationId,
    op_json: &str,
) -> Result<Arc<str>, CoreError> {
    let op: &RawValue = serde_json::from_str(op_json)
        .map_err(|e| CoreError::Internal(format!("op JSON is not JSON: {e}")))?;
    let entry = EntryJson {
        seq,
        version,
        user_id: user,
        operation_id,
        op,
    };
    serde_json::to_string(&entry)
        .map(Arc::from)
        .map_err(|e| CoreError::Internal(format!("cannot serialise op entry: {e}")))
}

/// The answer to an accepted (or recognised duplicate) op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub operation_id: OperationId,
    pub version: DocVersion,
    pub seq: SeqId,
    /// `true`: the op had already been applied under this id; nothing changed
    /// and `version`/`seq` are the original ones.
    pub duplicate: bool,
}

/// The durable state of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentView {
    pub content: String,
    pub version: DocVersion,
    pub seq: SeqId,
}

/// One user's cursor or selection, in code points against `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceEntry {
    pub session: SessionId,
    pub user: UserId,
    pub username: Arc<str>,
    pub anchor: u64,
    pub head: u64,
    pub version: DocVersion,
}

/// A presence change sent to the other sessions of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresenceEvent {
    /// Current cursors of other sessions (all of them right after going live,
    /// then one entry per change).
    Users(Vec<PresenceEntry>),
    /// That session left (its user may still have other sessions).
    Left { session: SessionId, user: UserId },
}

/// Why the core closed a session. After `Closed` the session receives nothing more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The user's access to the document was revoked (`forbidden`, fatal).
    Revoked,
    /// The session fell too far behind (outbound queue or join buffer full);
    /// rejoin (`resync_required`, fatal).
    ResyncRequired,
    /// The document was deleted (`not_found`, fatal).
    DocumentDeleted,
    /// The server is shutting down.
    ShuttingDown,
    /// Storage failed and the document had to be unloaded; rejoin later.
    Unavailable,
    /// Another server instance asked for the document and got it; rejoin
    /// (the load balancer sends the client there).
    HandedOver,
}

/// Everything a session receives, in order.
#[derive(Debug, Clone)]
pub enum SessionEvent {
    /// The durable text at `version`/`seq`; ops after it are buffered until
    /// [`SessionHandle::snapshot_ack`](crate::SessionHandle::snapshot_ack).
    Snapshot {
        content: Arc<str>,
        version: DocVersion,
        seq: SeqId,
    },
    /// Answer to a join with `since`: exactly the ops with seq > since, up to
    /// `version`/`seq`. `Live` follows.
    CatchUp {
        ops: Arc<[Arc<CommittedOp>]>,
        version: DocVersion,
        seq: SeqId,
    },
    /// Every op with seq ≤ `seq` has been delivered; the live stream follows.
    Live {
        seq: SeqId,
    },
    /// Newly committed ops, ascending seq, contiguous with what came before.
    /// Entries whose `origin` is this session are its acknowledgements.
    Committed(Arc<[Arc<CommittedOp>]>),
    /// Acknowledgement outside the committed stream: a recognised duplicate.
    Ack(Ack),
    /// An op this session submitted was not applied.
    Rejected {
        operation_id: OperationId,
        error: CoreError,
    },
    Presence(PresenceEvent),
    Closed(CloseReason),
}
