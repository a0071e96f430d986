//! Client → server frames (docs/protocol.md §3).
//!
//! Parsing is strict: an unknown `type`, an unknown field, a missing field or
//! a field of the wrong type is a `malformed` frame. The token in `join` is
//! never printed by `Debug`, so logging a message cannot leak a credential.

use std::fmt;

use quire_engine::client_op::ClientOp;
use quire_engine::{DocVersion, DocumentId, SeqId};
use serde::{Deserialize, Serialize};

/// Longest accepted `clientName`, in bytes.
pub const MAX_CLIENT_NAME_BYTES: usize = 128;
/// Longest accepted `ping`/`pong` nonce, in bytes.
pub const MAX_NONCE_BYTES: usize = 64;

/// Every frame a client may send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum ClientMessage {
    /// Authenticate and open one document; must be the first frame.
    Join(Join),
    /// The client applied the snapshot whose seq is `seq`.
    SnapshotAck { seq: SeqId },
    /// Submit one operation.
    Submit { op: ClientOp },
    /// My cursor (`anchor == head`) or selection, against `version`.
    Presence {
        anchor: usize,
        head: usize,
        version: DocVersion,
    },
    /// Heartbeat; answered by `pong` with the same nonce.
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<String>,
    },
}

/// The `join` frame.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Join {
    /// Must equal [`crate::PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The JWT from `POST /api/auth/login`. Never logged.
    pub token: String,
    pub document_id: DocumentId,
    /// A state the client already holds, to catch up from instead of a snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Since>,
    /// Free-form client description (at most [`MAX_CLIENT_NAME_BYTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
}

impl fmt::Debug for Join {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("protocol", &self.protocol)
            .field("token", &"<redacted>")
            .field("document_id", &self.document_id)
            .field("since", &self.since)
            .field("client_name", &self.client_name)
            .finish()
    }
}

/// A state a reconnecting client holds: the version and seq of the last
/// state it applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Since {
    pub version: DocVersion,
    pub seq: SeqId,
}
