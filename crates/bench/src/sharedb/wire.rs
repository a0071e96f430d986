//! ShareDB's JSON wire protocol (ShareDB 7, protocol 1.2), as spoken by its own client
//! (`lib/client/connection.js`, `lib/client/doc.js`) and answered by `lib/agent.js`:
//!
//! - on connect the server sends `{"a":"init",...}`; the client sends
//!   `{"a":"hs","id":SRC,"protocol":1,"protocolMinor":2}` (a given `id` becomes the agent's
//!   `src`) and gets `{"a":"hs",...}` back;
//! - subscribe `{"a":"s","c":C,"d":D,"v":null}` → `{"a":"s","c","d","data":{"v","data","type"}}`;
//!   fetch is the same with `"a":"f"`;
//! - submit `{"a":"op","c","d","v":V,"src","seq","op":[...]}` where `v` is the version the op
//!   applies to; create uses `"create":{"type":URI,"data":...}` instead of `op`;
//! - ack: `{"src","seq","v","a":"op","c","d"}` without `op`, `v` being the version the op was
//!   applied at (the document is then at `v + 1`);
//! - remote ops: `{"a":"op","c","d","v","src","seq","op"}` with the same `v` convention; own ops
//!   are not echoed; an op may arrive twice (ShareDB's client drops `v` below its version);
//! - errors: the request echoed with `"error":{"code","message"}`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

pub use crate::load::insert_op::{InsertOp, ReceivedInsert};

/// The text-unicode type's URI, as registered by `ot-text-unicode`.
pub const TEXT_UNICODE_URI: &str = "http://sharejs.org/types/text-unicode";
pub const PROTOCOL_MAJOR: u32 = 1;
pub const PROTOCOL_MINOR: u32 = 2;

/// A client → server message.
#[derive(Serialize)]
#[serde(tag = "a")]
pub enum Request<'a> {
    #[serde(rename = "hs")]
    Handshake {
        id: &'a str,
        protocol: u32,
        #[serde(rename = "protocolMinor")]
        protocol_minor: u32,
    },
    #[serde(rename = "s")]
    Subscribe {
        c: &'a str,
        d: &'a str,
        v: Option<u64>,
    },
    #[serde(rename = "f")]
    Fetch {
        c: &'a str,
        d: &'a str,
        v: Option<u64>,
    },
    #[serde(rename = "op")]
    Create {
        c: &'a str,
        d: &'a str,
        v: Option<u64>,
        src: &'a str,
        seq: u64,
        create: Create<'a>,
    },
    #[serde(rename = "op")]
    Op {
        c: &'a str,
        d: &'a str,
        v: u64,
        src: &'a str,
        seq: u64,
        op: InsertOp<'a>,
    },
}

#[derive(Serialize)]
pub struct Create<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub data: &'a str,
}

impl Request<'_> {
    pub fn to_frame(&self) -> String {
        serde_json::to_string(self).expect("requests always serialise")
    }
}

/// A server → client message: only the fields the generator reads.
#[derive(Debug, Deserialize)]
pub struct Message<'a> {
    #[serde(borrow)]
    pub a: Cow<'a, str>,
    #[serde(borrow, default)]
    pub src: Option<Cow<'a, str>>,
    #[serde(default)]
    pub seq: Option<u64>,
    #[serde(default)]
    pub v: Option<u64>,
    #[serde(borrow, default)]
    pub op: Option<ReceivedInsert<'a>>,
    #[serde(default)]
    pub data: Option<Snapshot>,
    #[serde(default)]
    pub error: Option<WireError>,
}

/// A document snapshot (`s`/`f` replies).
#[derive(Debug, Deserialize)]
pub struct Snapshot {
    pub v: u64,
    #[serde(default)]
    pub data: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireError {
    #[serde(default)]
    pub code: serde_json::Value,
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_sharedb_client() {
        let op = Request::Op {
            c: "docs",
            d: "doc1",
            v: 7,
            src: "r-c1",
            seq: 3,
            op: InsertOp {
                position: 2,
                text: "a",
            },
        };
        assert_eq!(
            op.to_frame(),
            r#"{"a":"op","c":"docs","d":"doc1","v":7,"src":"r-c1","seq":3,"op":[2,"a"]}"#
        );
        let at_start = InsertOp {
            position: 0,
            text: "b",
        };
        assert_eq!(serde_json::to_string(&at_start).unwrap(), r#"["b"]"#);
        let hs = Request::Handshake {
            id: "x",
            protocol: 1,
            protocol_minor: 2,
        };
        assert_eq!(
            hs.to_frame(),
            r#"{"a":"hs","id":"x","protocol":1,"protocolMinor":2}"#
        );
    }

    #[test]
    fn decodes_acks_remote_ops_and_snapshots() {
        let ack: Message =
            serde_json::from_str(r#"{"src":"r-c1","seq":3,"v":7,"a":"op","c":"docs","d":"doc1"}"#)
                .unwrap();
        assert_eq!(
            (ack.a.as_ref(), ack.v, ack.seq, ack.op.is_none()),
            ("op", Some(7), Some(3), true)
        );
        let remote: Message = serde_json::from_str(
            r#"{"a":"op","c":"docs","d":"x","v":9,"src":"r-c2","seq":4,"op":[5,"é"]}"#,
        )
        .unwrap();
        assert_eq!(
            remote.op.unwrap(),
            ReceivedInsert {
                position: 5,
                text: "é"
            }
        );
        let front: Message = serde_json::from_str(r#"{"a":"op","v":1,"op":["q"]}"#).unwrap();
        assert_eq!(front.op.unwrap().position, 0);
        let snap: Message = serde_json::from_str(
            r#"{"a":"s","c":"docs","d":"x","data":{"v":3,"data":"ab","type":"http://sharejs.org/types/text-unicode"}}"#,
        )
        .unwrap();
        assert_eq!(snap.data.unwrap().data.as_deref(), Some("ab"));
    }

    #[test]
    fn rejects_ops_that_are_not_one_insert() {
        for op in [
            r#"[]"#,
            r#"[3]"#,
            r#"[3,{"d":1}]"#,
            r#"["a",2]"#,
            r#"[1,"a","b"]"#,
            r#"[""]"#,
        ] {
            let frame = format!(r#"{{"a":"op","v":1,"op":{op}}}"#);
            assert!(serde_json::from_str::<Message>(&frame).is_err(), "{op}");
        }
    }
}
