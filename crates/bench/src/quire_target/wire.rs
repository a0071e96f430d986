//! Quire's realtime frames (docs/protocol.md) as the generator reads them.
//!
//! Frames the generator sends are built from `quire-protocol`'s own types, so they are exactly
//! what the server expects. Frames it receives are read with a lean borrowed view holding only
//! the fields it uses, the same way [`crate::sharedb::wire`] reads ShareDB's, so the per-frame
//! client cost is comparable on both servers; a test checks the view against frames encoded by
//! `quire-protocol`.

use std::borrow::Cow;

use serde::Deserialize;

use crate::load::insert_op::ReceivedInsert;

/// The fields of any server frame that the generator uses.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// `ops` and `catchUp`.
    #[serde(borrow, default)]
    pub ops: Option<Vec<Entry<'a>>>,
    /// `ack`, `snapshot`, `catchUp`.
    #[serde(default)]
    pub version: Option<u64>,
    /// `snapshot`, `live`, `ack`.
    #[serde(default)]
    pub seq: Option<u64>,
    /// `ack`, `error`.
    #[serde(borrow, default)]
    pub operation_id: Option<Cow<'a, str>>,
    /// `snapshot`.
    #[serde(default)]
    pub content: Option<String>,
    /// `error`.
    #[serde(borrow, default)]
    pub code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub message: Option<Cow<'a, str>>,
    /// `joined`.
    #[serde(default)]
    pub limits: Option<Limits>,
}

/// One broadcast op.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry<'a> {
    pub version: u64,
    #[serde(borrow)]
    pub operation_id: Cow<'a, str>,
    #[serde(borrow)]
    pub op: ReceivedInsert<'a>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub max_op_chars: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use quire_engine::op::{Component, TextOp};
    use quire_engine::{DocVersion, OperationId, SeqId, UserId};
    use quire_protocol::{OpEntry, ServerMessage, encode_frame};

    #[test]
    fn reads_frames_encoded_by_quire_protocol() {
        let entry = OpEntry {
            seq: SeqId(8),
            version: DocVersion(8),
            user_id: UserId::new_random(),
            operation_id: OperationId::parse("r-c3-9").unwrap(),
            op: TextOp::from_components(vec![Component::Skip(4), Component::Insert("x".into())])
                .unwrap(),
        };
        let ops = encode_frame(&ServerMessage::Ops { ops: vec![entry] }).unwrap();
        let frame: Frame = serde_json::from_str(&ops).unwrap();
        assert_eq!(frame.kind, "ops");
        let entries = frame.ops.unwrap();
        assert_eq!(
            (entries[0].version, entries[0].operation_id.as_ref()),
            (8, "r-c3-9")
        );
        assert_eq!(
            entries[0].op,
            ReceivedInsert {
                position: 4,
                text: "x"
            }
        );

        let ack = encode_frame(&ServerMessage::Ack {
            operation_id: OperationId::parse("r-c3-10").unwrap(),
            version: DocVersion(9),
            seq: SeqId(9),
            duplicate: false,
        })
        .unwrap();
        let frame: Frame = serde_json::from_str(&ack).unwrap();
        assert_eq!(
            (
                frame.kind.as_ref(),
                frame.version,
                frame.operation_id.as_deref()
            ),
            ("ack", Some(9), Some("r-c3-10"))
        );
    }
}
