//! A [`Target`] for a ShareDB server (`../shared/peers/sharedb/server.js`), speaking ShareDB's
//! own JSON wire protocol ([`wire`]) so that the same generator drives ShareDB and Quire.
//! Documents use the `text-unicode` type, Quire's semantics.

pub mod wire;

use std::time::Duration;

use crate::load::ws::{self, WsStream};
use crate::load::{
    Event, Insert, Joined, LoadConfig, LoadError, Origin, Role, Submit, Target, initial_text,
};
use wire::{Create, InsertOp, Message, PROTOCOL_MAJOR, PROTOCOL_MINOR, Request, TEXT_UNICODE_URI};

/// Collection every benchmark document lives in.
const COLLECTION: &str = "docs";
/// Bound on one request/reply exchange during setup, join and the final read.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(60);

/// A running ShareDB server.
pub struct ShareDb {
    url: String,
    run: String,
    /// `"{run}-c"`: a client's `src` is this prefix followed by its index.
    src_prefix: String,
}

/// One ShareDB document.
pub struct ShareDbDoc {
    id: String,
}

/// What a connection needs to encode its frames.
pub struct ShareDbConn {
    src: String,
    doc: String,
}

impl ShareDb {
    /// `url`: the server's address, `http://127.0.0.1:8090` or `ws://127.0.0.1:8090`.
    pub fn new(url: &str) -> Result<Self, LoadError> {
        let run = ws::run_tag();
        Ok(Self {
            url: ws::ws_url(url, "/")?,
            src_prefix: format!("{run}-c"),
            run,
        })
    }

    /// Connects and handshakes as `src`.
    async fn open(&self, src: &str) -> Result<WsStream, LoadError> {
        let mut ws = ws::connect(&self.url).await?;
        let hs = Request::Handshake {
            id: src,
            protocol: PROTOCOL_MAJOR,
            protocol_minor: PROTOCOL_MINOR,
        };
        ws::send_text(&mut ws, hs.to_frame()).await?;
        Ok(ws)
    }

    fn origin(&self, src: Option<&str>, seq: Option<u64>) -> Option<Origin> {
        let client = src?.strip_prefix(&self.src_prefix)?.parse().ok()?;
        Some(Origin { client, n: seq? })
    }
}

/// Reads frames until `done` returns a value, passing the others to `other`.
async fn read_until<R>(
    ws: &mut WsStream,
    what: &'static str,
    mut done: impl FnMut(&Message<'_>) -> Result<Option<R>, LoadError>,
    mut other: impl FnMut(&str),
) -> Result<R, LoadError> {
    tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        loop {
            let frame = ws::next_text(ws)
                .await?
                .ok_or(LoadError::Connect("ShareDB closed the connection".into()))?;
            let message: Message = serde_json::from_str(&frame)
                .map_err(|e| LoadError::Protocol(format!("ShareDB frame: {e}")))?;
            if let Some(error) = &message.error {
                return Err(LoadError::Protocol(format!(
                    "ShareDB {}: {} {}",
                    message.a, error.code, error.message
                )));
            }
            if let Some(result) = done(&message)? {
                return Ok(result);
            }
            other(&frame);
        }
    })
    .await
    .map_err(|_| LoadError::Timeout(what))?
}

impl Target for ShareDb {
    type Doc = ShareDbDoc;
    type Conn = ShareDbConn;

    fn name(&self) -> &'static str {
        "sharedb"
    }

    async fn prepare(&self, config: &LoadConfig) -> Result<Vec<ShareDbDoc>, LoadError> {
        let src = format!("{}-setup", self.run);
        let mut ws = self.open(&src).await?;
        let text = initial_text(config.initial_chars);
        let docs: Vec<ShareDbDoc> = (0..config.docs)
            .map(|i| ShareDbDoc {
                id: format!("{}-d{i}", self.run),
            })
            .collect();
        for (i, doc) in docs.iter().enumerate() {
            let create = Request::Create {
                c: COLLECTION,
                d: &doc.id,
                v: None,
                src: &src,
                seq: i as u64 + 1,
                create: Create {
                    kind: TEXT_UNICODE_URI,
                    data: &text,
                },
            };
            ws::send_text(&mut ws, create.to_frame()).await?;
        }
        let mut acked = 0usize;
        read_until(
            &mut ws,
            "creating ShareDB documents",
            |m| {
                if m.a == "op" && m.src.as_deref() == Some(src.as_str()) {
                    acked += 1;
                }
                Ok((acked == docs.len()).then_some(()))
            },
            |_| {},
        )
        .await?;
        Ok(docs)
    }

    async fn join(
        &self,
        doc: &ShareDbDoc,
        client: u32,
        _role: Role,
    ) -> Result<Joined<ShareDbConn>, LoadError> {
        let src = format!("{}{client}", self.src_prefix);
        let mut ws = self.open(&src).await?;
        let subscribe = Request::Subscribe {
            c: COLLECTION,
            d: &doc.id,
            v: None,
        };
        ws::send_text(&mut ws, subscribe.to_frame()).await?;
        let mut early = Vec::new();
        let (text, version) = read_until(
            &mut ws,
            "subscribing to a ShareDB document",
            |m| (m.a == "s").then(|| snapshot_of(m)).transpose(),
            |frame| early.push(frame.to_owned()),
        )
        .await?;
        early.retain(|frame| frame.contains(r#""a":"op""#));
        Ok(Joined {
            ws,
            conn: ShareDbConn {
                src,
                doc: doc.id.clone(),
            },
            text,
            version,
            early,
        })
    }

    fn submit_frame(&self, conn: &ShareDbConn, op: &Submit) -> String {
        let mut buf = [0u8; 4];
        Request::Op {
            c: COLLECTION,
            d: &conn.doc,
            v: op.base_version,
            src: &conn.src,
            seq: op.origin.n,
            op: InsertOp {
                position: op.position,
                text: op.ch.encode_utf8(&mut buf),
            },
        }
        .to_frame()
    }

    fn ping_frame(&self) -> Option<String> {
        None
    }

    fn decode<'f>(
        &self,
        conn: &ShareDbConn,
        frame: &'f str,
        on: &mut dyn FnMut(Event<'f>),
    ) -> Result<(), LoadError> {
        let message: Message<'f> = serde_json::from_str(frame)
            .map_err(|e| LoadError::Protocol(format!("ShareDB frame: {e}")))?;
        if message.error.is_some() {
            on(Event::Rejected);
            return Ok(());
        }
        if message.a != "op" {
            on(Event::Ignored);
            return Ok(());
        }
        let version = message
            .v
            .and_then(|v| v.checked_add(1))
            .ok_or_else(|| LoadError::Protocol("ShareDB op without a version".into()))?;
        match (&message.op, message.src.as_deref()) {
            (Some(op), src) => {
                let text = op.text;
                on(Event::Remote {
                    version,
                    origin: self.origin(src, message.seq),
                    insert: Insert {
                        position: op.position,
                        text,
                    },
                });
            }
            (None, Some(src)) if src == conn.src => {
                let origin = self
                    .origin(Some(src), message.seq)
                    .ok_or_else(|| LoadError::Protocol("ShareDB ack without seq".into()))?;
                on(Event::Ack { origin, version });
            }
            (None, _) => on(Event::Ignored),
        }
        Ok(())
    }

    async fn server_state(&self, doc: &ShareDbDoc) -> Result<(String, u64), LoadError> {
        let mut ws = self.open(&format!("{}-final", self.run)).await?;
        let fetch = Request::Fetch {
            c: COLLECTION,
            d: &doc.id,
            v: None,
        };
        ws::send_text(&mut ws, fetch.to_frame()).await?;
        let state = read_until(
            &mut ws,
            "fetching a ShareDB document",
            |m| (m.a == "f").then(|| snapshot_of(m)).transpose(),
            |_| {},
        )
        .await;
        ws::close_gracefully(&mut ws).await;
        state
    }
}

fn snapshot_of(message: &Message<'_>) -> Result<(String, u64), LoadError> {
    let snapshot = message
        .data
        .as_ref()
        .ok_or_else(|| LoadError::Protocol(format!("ShareDB {} reply without data", message.a)))?;
    Ok((snapshot.data.clone().unwrap_or_default(), snapshot.v))
}
