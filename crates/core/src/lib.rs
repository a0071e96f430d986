//! # quire-core: the collaboration core
//!
//! One authority per document: every op of a document goes through that
//! document's *owner* (a tokio task), which validates, rebases and applies it
//! in a single order, persists it, and only then broadcasts and acknowledges
//! it. Nothing acknowledged is ever lost; nothing is applied twice.
//!
//! ## The one entry point: [`Hub`]
//!
//! ```text
//! let hub = Hub::start(store, CoreConfig::default())?; // refuses contradictory bounds
//! let session = hub.join(JoinRequest { doc, user, username, role, since: None, routed: false }).await?;
//! //   session.events: Snapshot → (snapshot_ack) → Committed… → Live → Committed / Ack / Rejected / Presence … Closed
//! session.handle.submit(client_op)?;                // outcome arrives as an event
//! let ack = hub.submit_detached(doc, user, op).await?; // REST / tools: waits for durability
//! let view = hub.read(doc).await?;                  // durable content, version, seq
//! hub.access_changed(doc, user, None).await;        // after changing access rules in storage
//! hub.document_deleted(doc).await;                  // after deleting it in storage
//! hub.shutdown().await;                             // drain and flush
//! ```
//!
//! The gateway turns a session's events into protocol frames
//! (docs/protocol.md): entries of `Committed` whose `origin` is the session
//! become its `ack`s, the others `ops` frames, using the pre-serialised
//! [`CommittedOp::entry_json`] so fan-out never re-serialises. Every event
//! describes durable state.
//!
//! ## Where things are
//! - [`hub`]: the document → owner map (no check-then-create races).
//! - `owner`: the owner task: pipeline, group commit, sessions and presence,
//!   snapshots and pruning, reload after a failed commit.
//! - [`verify`]: the offline consistency check behind `quire verify`.
//! - [`config`]: every bound, with defaults. [`error`]: protocol error codes.

pub mod config;
pub mod error;
pub mod events;
pub mod hub;
mod owner;
pub mod session;
pub mod verify;

pub use config::{ConfigError, CoreConfig};
pub use error::{BadOp, CoreError};
pub use events::{
    Ack, CloseReason, CommittedOp, DocumentView, PresenceEntry, PresenceEvent, SessionEvent,
    SessionId,
};
pub use hub::Hub;
pub use session::{JoinRequest, Session, SessionHandle};
