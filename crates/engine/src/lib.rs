//! # quire-engine
//!
//! The I/O-free heart of Quire: identifiers, the operation model, validation,
//! and the transform / compose / apply functions with the exact semantics of
//! ShareDB's `ot-text-unicode` type, applied to a rope.
//!
//! Nothing in this crate touches the network, the disk or a clock, so every
//! behaviour here is testable with plain unit and property tests.

pub mod ids;

pub use ids::{DocVersion, DocumentId, OperationId, SeqId, UserId};
