//! The [`Target`] for a running Quire server: accounts and documents through the REST API, then
//! the realtime protocol of docs/protocol.md over `/api/ws`.
//!
//! Accounts: a run signs up an owner (who creates every document and writes), a second writer
//! shared on each document with role `write` when there are two or more writers, and a reader
//! shared with role `read` when there are watchers. Writers alternate between the owner and
//! the second writer. A few accounts, not one per client, because an argon2id signup costs
//! tens of milliseconds and the 10,000-document run has 20,000 clients; the server fans out by
//! connection, so two connections of one account see each other's ops like two users would.

pub mod rest;
pub mod setup_file;
pub mod wire;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use quire_engine::{ClientOp, DocVersion, DocumentId, Edit, OperationId, UserId};
use quire_protocol::{ClientMessage, Join, PROTOCOL_VERSION, encode_frame};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::load::ws::{self, WsStream};
use crate::load::{
    Event, Insert, Joined, LoadConfig, LoadError, Origin, Role, Submit, Target, initial_text,
};
use rest::{Account, Rest};
use setup_file::SavedSetup;
use wire::Frame;

/// Bound on one exchange (join, filling a document, reading its final state).
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(120);
/// Documents set up through the REST API at the same time.
const SETUP_CONCURRENCY: usize = 16;
/// Largest insert used to fill a document before a run (well under `maxOpChars`).
const FILL_CHUNK_CHARS: usize = 64 * 1024;

/// A running Quire server.
#[derive(Clone)]
pub struct Quire {
    ws_url: String,
    run: String,
    /// `"{run}-c"`: an operation id is this prefix, the client index, `-`, the op number.
    op_prefix: String,
    rest: Rest,
    /// `--setup-file`: save the setup there, or reuse the one saved there.
    setup_file: Option<PathBuf>,
}

/// Accounts of one run, shared by every document.
struct Accounts {
    owner: Account,
    writer: Option<Account>,
    reader: Option<Account>,
}

/// One document and who may join it.
pub struct QuireDoc {
    id: DocumentId,
    accounts: Arc<Accounts>,
}

/// What a connection needs to encode its frames.
pub struct QuireConn {
    user_id: UserId,
}

impl Quire {
    /// `url`: the server's base URL, `http://127.0.0.1:8080`.
    pub fn new(url: &str) -> Result<Self, LoadError> {
        let run = ws::run_tag();
        Ok(Self {
            ws_url: ws::ws_url(url, "/api/ws")?,
            op_prefix: format!("{run}-c"),
            run,
            rest: Rest::new(url)?,
            setup_file: None,
        })
    }

    /// Saves the run's accounts and documents to `path`, or, if `path` exists, joins the
    /// documents saved there instead of creating new ones.
    pub fn with_setup_file(mut self, path: PathBuf) -> Self {
        self.setup_file = Some(path);
        self
    }

    /// The documents and accounts of a saved setup, signed in again.
    async fn reuse(
        &self,
        saved: SavedSetup,
        config: &LoadConfig,
    ) -> Result<Vec<QuireDoc>, LoadError> {
        if saved.docs.len() < config.docs {
            return Err(LoadError::Protocol(format!(
                "the setup file holds {} documents, --docs asks for {}",
                saved.docs.len(),
                config.docs
            )));
        }
        let accounts = Arc::new(Accounts {
            owner: saved.owner.login(&self.rest).await?,
            writer: Some(saved.writer.login(&self.rest).await?),
            reader: Some(saved.reader.login(&self.rest).await?),
        });
        saved.docs[..config.docs]
            .iter()
            .map(|id| {
                let id = id
                    .parse()
                    .map_err(|e| LoadError::Protocol(format!("document id {id:?}: {e}")))?;
                Ok(QuireDoc {
                    id,
                    accounts: Arc::clone(&accounts),
                })
            })
            .collect()
    }

    async fn signup(&self, role: &str) -> Result<Account, LoadError> {
        let password = format!("pw-{}-{}", self.run, ws::run_tag());
        self.rest
            .signup(&format!("qb{}{role}", self.run), &password)
            .await
    }

    /// Opens a connection and joins `doc` as `account`: `joined`, `snapshot`, `snapshotAck`,
    /// then the buffered ops until `live`. Returns the socket, the snapshot, the frames
    /// between snapshot and `live`, and the server's `maxOpChars`.
    async fn open(
        &self,
        doc: DocumentId,
        account: &Account,
    ) -> Result<(WsStream, String, u64, Vec<String>, usize), LoadError> {
        // The document in the URL too, as the SDKs do (routing by document).
        let mut ws = ws::connect(&format!("{}?document={doc}", self.ws_url)).await?;
        let join = ClientMessage::Join(Join {
            protocol: PROTOCOL_VERSION,
            token: account.token.clone(),
            document_id: doc,
            since: None,
            client_name: Some("quire-bench".into()),
        });
        ws::send_text(&mut ws, encode(&join)).await?;
        tokio::time::timeout(EXCHANGE_TIMEOUT, async {
            let mut max_op_chars = FILL_CHUNK_CHARS;
            let mut state = None;
            let mut early = Vec::new();
            loop {
                let text = ws::next_text(&mut ws).await?.ok_or_else(|| {
                    LoadError::Connect("Quire closed the connection while joining".into())
                })?;
                let frame: Frame = parse(&text)?;
                match frame.kind.as_ref() {
                    "joined" => {
                        if let Some(limits) = frame.limits {
                            max_op_chars = limits.max_op_chars;
                        }
                    }
                    "snapshot" => {
                        let (Some(content), Some(version), Some(seq)) =
                            (frame.content, frame.version, frame.seq)
                        else {
                            return Err(LoadError::Protocol(
                                "snapshot without content/version/seq".into(),
                            ));
                        };
                        ws::send_text(
                            &mut ws,
                            encode(&ClientMessage::SnapshotAck {
                                seq: quire_engine::SeqId(seq),
                            }),
                        )
                        .await?;
                        state = Some((content, version));
                    }
                    "live" => {
                        let (content, version) = state
                            .ok_or_else(|| LoadError::Protocol("live before snapshot".into()))?;
                        return Ok((ws, content, version, early, max_op_chars));
                    }
                    "error" => return Err(error_of(&frame)),
                    "ops" if state.is_some() => early.push(text),
                    _ => {}
                }
            }
        })
        .await
        .map_err(|_| LoadError::Timeout("joining a Quire document"))?
    }

    /// Inserts `text` at the end of a fresh document, in chunks, waiting for each ack.
    async fn fill(&self, doc: DocumentId, owner: &Account, text: &str) -> Result<(), LoadError> {
        let (mut ws, _, mut version, _, max_op_chars) = self.open(doc, owner).await?;
        let user_id = user_id(owner)?;
        let chars: Vec<char> = text.chars().collect();
        let mut position = 0usize;
        for (i, chunk) in chars
            .chunks(max_op_chars.clamp(1, FILL_CHUNK_CHARS))
            .enumerate()
        {
            let op = ClientOp {
                operation_id: operation_id(format!("{}-fill-{i}", self.run))?,
                user_id,
                base_version: DocVersion(version),
                edit: Edit::Insert {
                    position,
                    text: chunk.iter().collect(),
                },
            };
            ws::send_text(&mut ws, encode(&ClientMessage::Submit { op })).await?;
            version = tokio::time::timeout(EXCHANGE_TIMEOUT, async {
                loop {
                    let text = ws::next_text(&mut ws)
                        .await?
                        .ok_or_else(|| LoadError::Connect("closed while filling".into()))?;
                    let frame: Frame = parse(&text)?;
                    match frame.kind.as_ref() {
                        "ack" => {
                            return frame
                                .version
                                .ok_or_else(|| LoadError::Protocol("ack without version".into()));
                        }
                        "error" => return Err(error_of(&frame)),
                        _ => {}
                    }
                }
            })
            .await
            .map_err(|_| LoadError::Timeout("filling a document"))??;
            position += chunk.len();
        }
        ws::close_gracefully(&mut ws).await;
        Ok(())
    }

    fn origin(&self, operation_id: &str) -> Option<Origin> {
        let (client, n) = operation_id
            .strip_prefix(&self.op_prefix)?
            .split_once('-')?;
        Some(Origin {
            client: client.parse().ok()?,
            n: n.parse().ok()?,
        })
    }
}

fn encode(message: &ClientMessage) -> String {
    encode_frame(message).expect("client messages always serialise")
}

fn parse(text: &str) -> Result<Frame<'_>, LoadError> {
    serde_json::from_str(text).map_err(|e| LoadError::Protocol(format!("Quire frame: {e}")))
}

fn error_of(frame: &Frame<'_>) -> LoadError {
    LoadError::Protocol(format!(
        "Quire error {}: {}",
        frame.code.as_deref().unwrap_or("?"),
        frame.message.as_deref().unwrap_or("")
    ))
}

fn user_id(account: &Account) -> Result<UserId, LoadError> {
    account
        .user_id
        .parse()
        .map_err(|e| LoadError::Protocol(format!("user id {:?}: {e}", account.user_id)))
}

fn operation_id(id: String) -> Result<OperationId, LoadError> {
    OperationId::parse(id).map_err(|e| LoadError::Protocol(format!("operation id: {e}")))
}

impl Target for Quire {
    type Doc = QuireDoc;
    type Conn = QuireConn;

    fn name(&self) -> &'static str {
        "quire"
    }

    async fn prepare(&self, config: &LoadConfig) -> Result<Vec<QuireDoc>, LoadError> {
        if let Some(path) = self.setup_file.as_ref().filter(|path| path.exists()) {
            return self.reuse(SavedSetup::read(path)?, config).await;
        }
        // A saved setup has every account, so any later run shape can reuse it.
        let saving = self.setup_file.is_some();
        let accounts = Arc::new(Accounts {
            owner: self.signup("o").await?,
            writer: if config.clients >= 2 || saving {
                Some(self.signup("w").await?)
            } else {
                None
            },
            reader: if config.watchers >= 1 || saving {
                Some(self.signup("r").await?)
            } else {
                None
            },
        });
        let text = Arc::new(initial_text(config.initial_chars));
        let permits = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
        let mut setups = JoinSet::new();
        // The setup tasks need their own handle on this target (same run tag, same HTTP pool).
        let this = Arc::new(self.clone());
        for index in 0..config.docs {
            let (accounts, text, permits, this) = (
                Arc::clone(&accounts),
                Arc::clone(&text),
                Arc::clone(&permits),
                Arc::clone(&this),
            );
            setups.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let id = this
                    .rest
                    .create_document(&accounts.owner, &format!("bench {} #{index}", this.run))
                    .await?;
                if let Some(writer) = &accounts.writer {
                    this.rest
                        .share(&accounts.owner, &id, writer, "write")
                        .await?;
                }
                if let Some(reader) = &accounts.reader {
                    this.rest
                        .share(&accounts.owner, &id, reader, "read")
                        .await?;
                }
                let id: DocumentId = id
                    .parse()
                    .map_err(|e| LoadError::Protocol(format!("document id {id:?}: {e}")))?;
                if !text.is_empty() {
                    this.fill(id, &accounts.owner, &text).await?;
                }
                Ok::<_, LoadError>((index, id))
            });
        }
        let mut ids = vec![None; config.docs];
        while let Some(setup) = setups.join_next().await {
            let (index, id) =
                setup.map_err(|e| LoadError::Protocol(format!("setup task: {e}")))??;
            ids[index] = Some(id);
        }
        if let (
            Some(path),
            Accounts {
                owner,
                writer: Some(writer),
                reader: Some(reader),
            },
        ) = (&self.setup_file, &*accounts)
        {
            let saved = SavedSetup {
                owner: owner.into(),
                writer: writer.into(),
                reader: reader.into(),
                docs: ids.iter().flatten().map(ToString::to_string).collect(),
            };
            saved.write(path)?;
        }
        Ok(ids
            .into_iter()
            .flatten()
            .map(|id| QuireDoc {
                id,
                accounts: Arc::clone(&accounts),
            })
            .collect())
    }

    async fn join(
        &self,
        doc: &QuireDoc,
        client: u32,
        role: Role,
    ) -> Result<Joined<QuireConn>, LoadError> {
        let accounts = &doc.accounts;
        let account = match role {
            Role::Watcher => accounts.reader.as_ref().unwrap_or(&accounts.owner),
            Role::Writer if client % 2 == 1 => accounts.writer.as_ref().unwrap_or(&accounts.owner),
            Role::Writer => &accounts.owner,
        };
        let (ws, text, version, early, _) = self.open(doc.id, account).await?;
        Ok(Joined {
            ws,
            conn: QuireConn {
                user_id: user_id(account)?,
            },
            text,
            version,
            early,
        })
    }

    fn submit_frame(&self, conn: &QuireConn, op: &Submit) -> String {
        let id = format!("{}{}-{}", self.op_prefix, op.origin.client, op.origin.n);
        let op = ClientOp {
            operation_id: OperationId::parse(id).expect("ids are built from [a-z0-9-]"),
            user_id: conn.user_id,
            base_version: DocVersion(op.base_version),
            edit: Edit::Insert {
                position: op.position as usize,
                text: op.ch.to_string(),
            },
        };
        encode(&ClientMessage::Submit { op })
    }

    fn ping_frame(&self) -> Option<String> {
        Some(encode(&ClientMessage::Ping { nonce: None }))
    }

    fn decode<'f>(
        &self,
        _conn: &QuireConn,
        frame: &'f str,
        on: &mut dyn FnMut(Event<'f>),
    ) -> Result<(), LoadError> {
        let frame: Frame<'f> = parse(frame)?;
        match frame.kind.as_ref() {
            "ops" | "catchUp" => {
                for entry in frame.ops.iter().flatten() {
                    let text = entry.op.text;
                    on(Event::Remote {
                        version: entry.version,
                        origin: self.origin(&entry.operation_id),
                        insert: Insert {
                            position: entry.op.position,
                            text,
                        },
                    });
                }
            }
            "ack" => {
                let origin = frame
                    .operation_id
                    .as_deref()
                    .and_then(|id| self.origin(id))
                    .ok_or_else(|| LoadError::Protocol("ack for an unknown operation id".into()))?;
                let version = frame
                    .version
                    .ok_or_else(|| LoadError::Protocol("ack without version".into()))?;
                on(Event::Ack { origin, version });
            }
            "error" => return Err(error_of(&frame)),
            _ => on(Event::Ignored),
        }
        Ok(())
    }

    async fn server_state(&self, doc: &QuireDoc) -> Result<(String, u64), LoadError> {
        let (mut ws, text, version, early, _) = self.open(doc.id, &doc.accounts.owner).await?;
        ws::close_gracefully(&mut ws).await;
        // Ops between the snapshot and `live` that are newer than the snapshot mean the
        // document was still changing, which it must not be once every writer has drained.
        let mut newer = Vec::new();
        for frame in &early {
            for entry in parse(frame)?.ops.iter().flatten() {
                if entry.version > version {
                    newer.push(entry.version);
                }
            }
        }
        if !newer.is_empty() {
            return Err(LoadError::Protocol(format!(
                "document still changing while reading its final state: snapshot at version \
                 {version}, then {} newer ops up to version {}",
                newer.len(),
                newer.iter().max().copied().unwrap_or(version)
            )));
        }
        Ok((text, version))
    }
}
