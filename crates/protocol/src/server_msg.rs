//! Server → client frames (docs/protocol.md §4).

use quire_engine::op::TextOp;
use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, UserId};
use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;

/// Every frame a server may send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum ServerMessage {
    /// Authentication and read permission succeeded.
    Joined {
        document_id: DocumentId,
        user_id: UserId,
        username: String,
        role: Role,
        limits: WireLimits,
    },
    /// The full, durable text at `version`/`seq`.
    Snapshot {
        content: String,
        version: DocVersion,
        seq: SeqId,
    },
    /// Every op after the joiner's `since.seq`, up to `version`/`seq`.
    CatchUp {
        ops: Vec<OpEntry>,
        version: DocVersion,
        seq: SeqId,
    },
    /// Every op with seq ≤ `seq` has been delivered; the live stream follows.
    Live { seq: SeqId },
    /// Other connections' ops, ascending seq.
    Ops { ops: Vec<OpEntry> },
    /// This connection's op is durable (or was already applied: `duplicate`).
    Ack {
        operation_id: OperationId,
        version: DocVersion,
        seq: SeqId,
        duplicate: bool,
    },
    /// Other sessions' cursors (`users`) or the departure of one (`left`,
    /// the user, with `sessionId`): exactly one of `users` and `left`.
    Presence {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        users: Option<Vec<PresenceUser>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        left: Option<UserId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<u64>,
    },
    /// A typed error (§6).
    Error(ErrorFrame),
    /// Heartbeat answer.
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<String>,
    },
}

/// One applied op as broadcast: the op as transformed by the server and the
/// version it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpEntry {
    pub seq: SeqId,
    pub version: DocVersion,
    pub user_id: UserId,
    pub operation_id: OperationId,
    pub op: TextOp,
}

/// One other user's cursor or selection, in code points against `version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresenceUser {
    /// The connection this cursor belongs to (one user may have several).
    pub session_id: u64,
    pub user_id: UserId,
    pub username: String,
    /// A CSS colour (`#rrggbb`) stable for the user.
    pub color: String,
    pub anchor: usize,
    pub head: usize,
    pub version: DocVersion,
}

/// The body of an `error` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorFrame {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<OperationId>,
    pub retryable: bool,
    #[serde(default)]
    pub fatal: bool,
}

impl ErrorFrame {
    /// An error with the code's retryable flag, not fatal, about no op.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorFrame {
        ErrorFrame {
            code,
            message: message.into(),
            operation_id: None,
            retryable: code.is_retryable(),
            fatal: false,
        }
    }

    /// The same error, about the op `id`.
    pub fn with_operation(mut self, id: Option<OperationId>) -> ErrorFrame {
        self.operation_id = id;
        self
    }

    /// The same error, followed by the server closing the socket.
    pub fn fatal(mut self) -> ErrorFrame {
        self.fatal = true;
        self
    }
}

/// A user's access to a document, as announced in `joined`; the same type
/// storage persists.
pub use quire_engine::Role;

/// The limits a server announces in `joined` (§7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WireLimits {
    pub max_frame_bytes: usize,
    pub max_op_chars: usize,
    pub max_document_chars: usize,
}
