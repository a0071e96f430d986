//! Decoding with typed errors, and frame encoding.
//!
//! Every incoming frame is size-checked before it is parsed, then parsed
//! strictly into a message type. A frame that fails gets a [`FrameError`] that
//! maps onto one wire error code; when the frame was a `submit` whose op could
//! be read far enough to find its `operationId`, the error names it, so the
//! client knows which of its ops was refused.
//!
//! The `ops` and `catchUp` encoders splice broadcast entries that the core has
//! already serialised, so the gateway never serialises an op once per
//! recipient.

use quire_engine::{DocVersion, OperationId, SeqId};
use serde::Serialize;

use crate::client_msg::{ClientMessage, MAX_CLIENT_NAME_BYTES, MAX_NONCE_BYTES};
use crate::error_code::ErrorCode;
use crate::server_msg::{ErrorFrame, ServerMessage};

/// Why an incoming frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The frame is longer than the configured `maxFrameBytes`.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    /// The frame is binary; the protocol uses text frames only.
    #[error("binary frames are not accepted; send JSON text frames")]
    Binary,
    /// Not JSON, unknown type, unknown or missing field, wrong field type.
    #[error("malformed frame: {reason}")]
    Malformed { reason: String },
    /// A `submit` whose op could not be decoded (bad operationId, bad shape).
    #[error("invalid op: {reason}")]
    BadOp {
        reason: String,
        operation_id: Option<OperationId>,
    },
}

impl FrameError {
    /// The wire error code for this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            FrameError::TooLarge { .. } => ErrorCode::TooLarge,
            FrameError::Binary | FrameError::Malformed { .. } => ErrorCode::Malformed,
            FrameError::BadOp { .. } => ErrorCode::BadOp,
        }
    }

    /// The `error` frame to answer with. An oversized frame is fatal (the
    /// stream cannot be trusted to be in step any more); the rest are not.
    pub fn to_error_frame(&self) -> ErrorFrame {
        let frame = ErrorFrame::new(self.code(), self.to_string());
        match self {
            FrameError::TooLarge { .. } => frame.fatal(),
            FrameError::BadOp { operation_id, .. } => frame.with_operation(operation_id.clone()),
            FrameError::Binary | FrameError::Malformed { .. } => frame,
        }
    }
}

/// Decodes one client frame, refusing frames over `max_frame_bytes`.
pub fn decode_client_frame(
    text: &str,
    max_frame_bytes: usize,
) -> Result<ClientMessage, FrameError> {
    check_size(text, max_frame_bytes)?;
    let message: ClientMessage = serde_json::from_str(text).map_err(|e| classify(text, &e))?;
    check_bounds(&message)?;
    Ok(message)
}

/// Decodes one server frame (used by clients), refusing frames over
/// `max_frame_bytes`.
pub fn decode_server_frame(
    text: &str,
    max_frame_bytes: usize,
) -> Result<ServerMessage, FrameError> {
    check_size(text, max_frame_bytes)?;
    let message: ServerMessage = serde_json::from_str(text).map_err(|e| FrameError::Malformed {
        reason: e.to_string(),
    })?;
    if let ServerMessage::Presence {
        users,
        left,
        session_id,
    } = &message
        && (users.is_some() == left.is_some() || left.is_some() != session_id.is_some())
    {
        return Err(FrameError::Malformed {
            reason: "presence needs `users`, or `left` with `sessionId`".into(),
        });
    }
    Ok(message)
}

/// Just the `type` of a frame (other fields skipped without allocating).
#[allow(dead_code)] // built by serde only
#[derive(serde::Deserialize)]
struct FrameTag<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

/// An `ops` frame, decoded without the enum's intermediate buffering.
#[allow(dead_code)] // built by serde only
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OpsFrame {
    #[serde(rename = "type")]
    _kind: serde::de::IgnoredAny,
    ops: Vec<crate::server_msg::OpEntry>,
}

/// Serialises any message as one JSON text frame.
pub fn encode_frame<M: Serialize>(message: &M) -> Result<String, serde_json::Error> {
    serde_json::to_string(message)
}

/// Builds `{"type":"snapshot","content":...,"version":v,"seq":s}` without
/// copying the content into an owned message first.
pub fn encode_snapshot_frame(
    content: &str,
    version: DocVersion,
    seq: SeqId,
) -> Result<String, serde_json::Error> {
    #[derive(Serialize)]
    struct SnapshotFrame<'a> {
        r#type: &'static str,
        content: &'a str,
        version: DocVersion,
        seq: SeqId,
    }
    serde_json::to_string(&SnapshotFrame {
        r#type: "snapshot",
        content,
        version,
        seq,
    })
}

/// Builds `{"type":"ops","ops":[...]}` from already serialised entries.
pub fn encode_ops_frame<S: AsRef<str>>(entries: &[S]) -> String {
    let mut out = String::with_capacity(entries_len(entries) + 24);
    out.push_str(r#"{"type":"ops","ops":["#);
    push_entries(&mut out, entries);
    out.push_str("]}");
    out
}

/// Builds `{"type":"catchUp","ops":[...],"version":v,"seq":s}` from already
/// serialised entries.
pub fn encode_catch_up_frame<S: AsRef<str>>(
    entries: &[S],
    version: DocVersion,
    seq: SeqId,
) -> String {
    let mut out = String::with_capacity(entries_len(entries) + 64);
    out.push_str(r#"{"type":"catchUp","ops":["#);
    push_entries(&mut out, entries);
    out.push_str(r#"],"version":"#);
    out.push_str(&version.0.to_string());
    out.push_str(r#","seq":"#);
    out.push_str(&seq.0.to_string());
    out.push('}');
    out
}

fn entries_len<S: AsRef<str>>(entries: &[S]) -> usize {
    entries.iter().map(|e| e.as_ref().len() + 1).sum()
}

fn push_entries<S: AsRef<str>>(out: &mut String, entries: &[S]) {
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(entry.as_ref());
    }
}

fn check_size(text: &str, max: usize) -> Result<(), FrameError> {
    if text.len() > max {
        return Err(FrameError::TooLarge {
            len: text.len(),
            max,
        });
    }
    Ok(())
}

fn check_bounds(message: &ClientMessage) -> Result<(), FrameError> {
    let too_long = |what: &str, max: usize| FrameError::Malformed {
        reason: format!("{what} is longer than {max} bytes"),
    };
    match message {
        ClientMessage::Join(join)
            if join
                .client_name
                .as_ref()
                .is_some_and(|n| n.len() > MAX_CLIENT_NAME_BYTES) =>
        {
            return Err(too_long("clientName", MAX_CLIENT_NAME_BYTES));
        }
        ClientMessage::Ping { nonce: Some(nonce) } if nonce.len() > MAX_NONCE_BYTES => {
            return Err(too_long("nonce", MAX_NONCE_BYTES));
        }
        _ => {}
    }
    Ok(())
}

/// Turns a parse failure into a typed error. Only on this (rare) path is the
/// frame looked at a second time, loosely, to see whether it was a `submit`
/// and which operation id it carried.
fn classify(text: &str, error: &serde_json::Error) -> FrameError {
    let reason = error.to_string();
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return FrameError::Malformed { reason };
    };
    if value.get("type").and_then(|t| t.as_str()) != Some("submit") || value.get("op").is_none() {
        return FrameError::Malformed { reason };
    }
    let operation_id = value
        .pointer("/op/operationId")
        .and_then(|id| id.as_str())
        .and_then(|id| OperationId::parse(id).ok());
    FrameError::BadOp {
        reason,
        operation_id,
    }
}

impl From<&FrameError> for ServerMessage {
    fn from(error: &FrameError) -> ServerMessage {
        ServerMessage::Error(error.to_error_frame())
    }
}
