//! The seam between the generic load generator and one server's wire protocol.
//!
//! The generator owns everything that must cost the same on every server (scheduling, the
//! replica text, transforms, timing, statistics); a [`Target`] only sets documents up, opens a
//! joined connection, encodes a submit and decodes incoming frames into [`Event`]s. So a
//! comparison between two servers measures the servers, not two different clients.

use std::future::Future;

use thiserror::Error;

use super::config::LoadConfig;
use super::ws::WsStream;

/// Identifies one op of the run: the generator-wide client index and that client's op number
/// (1, 2, ...). Targets carry it in their own op identity (Quire's `operationId`, ShareDB's
/// `src`/`seq`) so that a receiver can tell who submitted an op and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub client: u32,
    pub n: u64,
}

/// The one kind of edit the generator makes: insert one character.
#[derive(Debug, Clone, Copy)]
pub struct Submit {
    pub origin: Origin,
    /// The version the position refers to (ShareDB `v`, Quire `baseVersion`).
    pub base_version: u64,
    /// Code point offset.
    pub position: u64,
    pub ch: char,
}

/// An insert received from the server (the generator's workload only ever inserts, so every
/// op on the wire is a single insert, possibly moved by the server's transform).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insert<'f> {
    pub position: u64,
    pub text: &'f str,
}

/// What one incoming frame means to a client. Versions are normalised to "the version the
/// document has after this op" whatever the server's convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'f> {
    /// The client's in-flight op was applied and is now `version`.
    Ack { origin: Origin, version: u64 },
    /// Someone else's op, producing `version`.
    Remote {
        version: u64,
        origin: Option<Origin>,
        insert: Insert<'f>,
    },
    /// The server refused an op or reported a failure.
    Rejected,
    /// Heartbeats, presence and the like.
    Ignored,
}

/// A connection that has joined its document and holds its state.
pub struct Joined<C> {
    pub ws: WsStream,
    /// Target-specific data needed to encode this connection's frames.
    pub conn: C,
    pub text: String,
    pub version: u64,
    /// Frames that arrived during the join after the state was taken (ops to apply on top).
    pub early: Vec<String>,
}

/// Whether a connection writes or only watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Writer,
    Watcher,
}

/// Failures of a load run. Each names what went wrong; none leaves a server half set up in a
/// way a later run would trip over (every run uses fresh documents).
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("invalid configuration: {0}")]
    Config(#[from] super::config::ConfigError),
    #[error("bad server URL {0:?}: {1}")]
    BadUrl(String, String),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("HTTP {what} failed: {detail}")]
    Http { what: &'static str, detail: String },
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("timed out while {0}")]
    Timeout(&'static str),
}

/// A server the generator can drive. Implementations are shared by every client task.
pub trait Target: Send + Sync + 'static {
    /// Everything a client needs to join one document (ids, credentials).
    type Doc: Send + Sync + 'static;
    /// Per-connection data for encoding frames.
    type Conn: Send + 'static;

    /// `"quire"` or `"sharedb"`, printed in the report.
    fn name(&self) -> &'static str;

    /// Creates `config.docs` fresh documents holding `config.initial_chars` code points, with
    /// whatever accounts and permissions the clients need.
    fn prepare(
        &self,
        config: &LoadConfig,
    ) -> impl Future<Output = Result<Vec<Self::Doc>, LoadError>> + Send;

    /// Opens a connection for client `client` and joins `doc`.
    fn join(
        &self,
        doc: &Self::Doc,
        client: u32,
        role: Role,
    ) -> impl Future<Output = Result<Joined<Self::Conn>, LoadError>> + Send;

    /// The frame submitting `op`.
    fn submit_frame(&self, conn: &Self::Conn, op: &Submit) -> String;

    /// A heartbeat frame, if the server wants one from otherwise silent clients.
    fn ping_frame(&self) -> Option<String>;

    /// Decodes one incoming text frame, calling `on` for each event it holds, in order. A frame
    /// holding only `Remote` events must decode the same on every connection: the generator
    /// decodes such a frame once per thread and replays it to the other clients that receive
    /// the same bytes (see `shared_frames`).
    fn decode<'f>(
        &self,
        conn: &Self::Conn,
        frame: &'f str,
        on: &mut dyn FnMut(Event<'f>),
    ) -> Result<(), LoadError>;

    /// The server's current text and version of `doc`, read over a fresh connection.
    fn server_state(
        &self,
        doc: &Self::Doc,
    ) -> impl Future<Output = Result<(String, u64), LoadError>> + Send;
}

/// The text a document starts with: `n` code points of a fixed printable pattern.
pub fn initial_text(n: usize) -> String {
    const PATTERN: &str = "The quick brown fox jumps over the lazy dog.\n";
    PATTERN.chars().cycle().take(n).collect()
}
