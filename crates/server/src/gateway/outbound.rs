//! Session events into frames. Committed ops from other sessions are spliced
//! into one `ops` frame per wakeup from the entries the core serialised once;
//! this session's own ops become `ack`s, in their place in the seq order.

use std::sync::Arc;

use quire_core::{CommittedOp, PresenceEntry, PresenceEvent, SessionEvent, SessionId};
use quire_engine::UserId;
use quire_protocol::{
    ErrorFrame, PresenceUser, ServerMessage, encode_catch_up_frame, encode_frame, encode_ops_frame,
    encode_snapshot_frame,
};

use super::errors;

/// What turning an event into frames decided.
pub(crate) enum Next {
    Continue,
    /// The core closed the session: send this fatal error and close.
    Close(ErrorFrame),
}

/// Builds the frames of one wakeup, in order.
pub(crate) struct FrameBatch {
    session: SessionId,
    max_ops_per_frame: usize,
    entries: Vec<Arc<str>>,
    pub frames: Vec<String>,
    /// Submits of this session answered in this batch (acks and rejections).
    pub answered: usize,
}

impl FrameBatch {
    pub fn new(session: SessionId, max_ops_per_frame: usize) -> FrameBatch {
        FrameBatch {
            session,
            max_ops_per_frame: max_ops_per_frame.max(1),
            entries: Vec::new(),
            frames: Vec::new(),
            answered: 0,
        }
    }

    pub fn add(&mut self, event: SessionEvent) -> Next {
        match event {
            SessionEvent::Snapshot {
                content,
                version,
                seq,
            } => self.message_result(encode_snapshot_frame(&content, version, seq)),
            SessionEvent::CatchUp { ops, version, seq } => {
                self.flush_ops();
                let entries: Vec<&str> = ops.iter().map(|op| &*op.entry_json).collect();
                self.frames
                    .push(encode_catch_up_frame(&entries, version, seq));
            }
            SessionEvent::Live { seq } => self.message(&ServerMessage::Live { seq }),
            SessionEvent::Committed(ops) => {
                for op in ops.iter() {
                    self.committed(op);
                }
            }
            SessionEvent::Ack(ack) => {
                self.answered += 1;
                self.message(&ServerMessage::Ack {
                    operation_id: ack.operation_id,
                    version: ack.version,
                    seq: ack.seq,
                    duplicate: ack.duplicate,
                });
            }
            SessionEvent::Rejected {
                operation_id,
                error,
            } => {
                self.answered += 1;
                let frame = errors::core_error(&error).with_operation(Some(operation_id));
                self.message(&ServerMessage::Error(frame));
            }
            SessionEvent::Presence(presence) => self.message(&presence_message(presence)),
            SessionEvent::Closed(reason) => {
                self.flush_ops();
                return Next::Close(errors::closed(&reason));
            }
        }
        Next::Continue
    }

    fn committed(&mut self, op: &Arc<CommittedOp>) {
        if op.origin == Some(self.session) {
            self.answered += 1;
            self.message(&ServerMessage::Ack {
                operation_id: op.operation_id.clone(),
                version: op.version,
                seq: op.seq,
                duplicate: false,
            });
        } else {
            self.entries.push(op.entry_json.clone());
            if self.entries.len() >= self.max_ops_per_frame {
                self.flush_ops();
            }
        }
    }

    /// Ends the batch: pending entries become one `ops` frame.
    pub fn flush_ops(&mut self) {
        if !self.entries.is_empty() {
            self.frames.push(encode_ops_frame(&self.entries));
            self.entries.clear();
        }
    }

    fn message(&mut self, message: &ServerMessage) {
        self.message_result(encode_frame(message));
    }

    fn message_result(&mut self, frame: Result<String, serde_json::Error>) {
        self.flush_ops();
        match frame {
            Ok(frame) => self.frames.push(frame),
            // Our own types always serialise; if one ever does not, the
            // client sees a gap and reconnects rather than a crash.
            Err(error) => tracing::error!(%error, "cannot serialise a frame"),
        }
    }
}

fn presence_message(event: PresenceEvent) -> ServerMessage {
    match event {
        PresenceEvent::Users(entries) => ServerMessage::Presence {
            users: Some(entries.iter().map(presence_user).collect()),
            left: None,
            session_id: None,
        },
        PresenceEvent::Left { session, user } => ServerMessage::Presence {
            users: None,
            left: Some(user),
            session_id: Some(session.0),
        },
    }
}

fn presence_user(entry: &PresenceEntry) -> PresenceUser {
    PresenceUser {
        session_id: entry.session.0,
        user_id: entry.user,
        username: entry.username.to_string(),
        color: color_of(entry.user).to_string(),
        anchor: usize::try_from(entry.anchor).unwrap_or(usize::MAX),
        head: usize::try_from(entry.head).unwrap_or(usize::MAX),
        version: entry.version,
    }
}

/// A colour stable for a user (and the same on every server instance).
fn color_of(user: UserId) -> &'static str {
    const PALETTE: [&str; 12] = [
        "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#469990",
        "#9a6324", "#800000", "#808000", "#000075",
    ];
    let hash = user.0.as_bytes().iter().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(*b))
    });
    PALETTE[hash % PALETTE.len()]
}
