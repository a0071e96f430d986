//! # quire-client
//!
//! The Rust client SDK of Quire's realtime protocol (docs/protocol.md), used
//! by the tests, the benchmarks and the command line.
//!
//! A [`Client`] holds a local copy of one document, applies local edits at
//! once and sends them one op at a time (later edits are composed into one
//! pending op, never into the op already sent), transforms remote ops over
//! its unacknowledged edits, reconnects with exponential backoff and jitter
//! asking for a catch-up from the last state it applied, resends its
//! in-flight op with its original operation id and base version, and tracks
//! other users' cursors.
//!
//! The transport is injectable ([`Connector`]); [`faults::FaultyConnector`]
//! drops connections, delays and duplicates frames for tests.

pub mod backoff;
pub mod client;
pub mod doc_state;
pub mod faults;
mod rebase;
mod session;
pub mod transport;

pub use backoff::BackoffConfig;
pub use client::{Client, ClientConfig, ClientError, ClientEvent, Progress, Status};
pub use doc_state::{DocState, EditError, Rejection};
pub use faults::{FaultPlan, FaultyConnector};
pub use transport::{Connection, Connector, TransportError, WsConnector};
