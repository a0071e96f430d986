//! # quire-engine
//!
//! The I/O-free heart of Quire: identifiers, the operation model, validation,
//! and the transform / compose / apply functions with the exact semantics of
//! ShareDB's `ot-text-unicode` type (4.x), applied to a rope.
//!
//! Nothing in this crate touches the network, the disk or a clock, so every
//! behaviour here is testable with plain unit and property tests.
//!
//! ## Layers
//!
//! - [`ids`]: `DocVersion` (a document *state*) and `SeqId` (a *log position*)
//!   are distinct newtypes; user, document and operation ids.
//! - [`client_op`]: what a client submits — `insert`, `delete`, `replace` or
//!   `compound`, positions and lengths in Unicode code points — and
//!   [`Edit::to_text_op`], which checks shape and arithmetic (empty insert,
//!   zero length, overflow, per-op size limit) without the document.
//! - [`op`]: the internal form, a normalised list of [`Component`]s
//!   (skip n, insert text, delete n). One op can touch several ranges, which is
//!   what transform needs: an insert that lands inside a range another op
//!   deletes survives. [`TextOp::transform`], [`TextOp::compose`] and
//!   [`TextOp::apply_to_str`] are line-by-line ports of `ot-text-unicode`;
//!   `quire conformance` checks them against that project's published cases.
//!   [`TextOp::check_fits`] checks an op against the document it will apply to
//!   (ranges inside, size limit).
//! - [`text`]: [`Text`], the rope the document lives in; [`Text::apply`] costs
//!   O(log n) per component, validates before mutating, and never copies the
//!   document.
//! - [`access`]: [`Role`], a user's access to a document, shared by storage
//!   and the wire protocol.
//! - [`limits`] and [`error`]: the configured size limits and the typed
//!   [`OpError`] every check returns. Nothing in this crate panics on client
//!   input.
//!
//! The server's path for one submitted op is: `Edit::to_text_op` →
//! [`transform_over`] the ops applied since `baseVersion` (side left) →
//! `check_fits` against the current length → `Text::apply`.
//!
//! ## Side (tie-break)
//!
//! When two concurrent ops insert at the same position, `side` decides whose
//! text comes first: `transform(op, other, Side::Left)` puts `op`'s insert
//! first.
//!
//! - **Server:** an incoming stale op is transformed over the ops applied
//!   after its `baseVersion` with side **[`Side::Left`]**: on a tie the
//!   later-arriving op's text ends up first (ShareDB does the same).
//! - **Clients:** to agree with the server, a client transforms its pending
//!   ops over a remote op with side left, and the remote op over its pending
//!   ops with side right: [`transform_x`] and [`transform_pending`].
//!
//! ## Replace
//!
//! A `replace {position, length, text}` becomes `[position, {"d": length},
//! text]`: the deletion first, then the insert, which therefore sits at the
//! *end* of the replaced range in the original document's coordinates. Against
//! a concurrent op `B` (tests in `tests/replace.rs`; on the server the
//! replace is the incoming, side-left op or the earlier one):
//!
//! - `B` inserts at the start of, or strictly inside, the replaced range:
//!   `B`'s text survives, before the replacement text, whatever the side.
//! - `B` inserts at the end of the range: a tie with the replacement text,
//!   settled by side; on the server the incoming op's text goes first.
//! - `B` deletes an overlapping range: the union is deleted once and the
//!   replacement text inserted once.
//! - `B` replaces the same or an overlapping range: the union is deleted and
//!   both texts survive; when they tie (same end), the incoming one goes
//!   first.
//!
//! ## No-ops
//!
//! An op can transform into the empty op (`[]`), e.g. a delete of text a
//! concurrent op already deleted. The engine treats it as an ordinary op:
//! [`TextOp::is_noop`] tells it apart, applying it changes nothing, and it
//! transforms and composes like any other. The rest of the system accepts it
//! like any other op too: it is registered for deduplication, logged,
//! versioned, sequenced, acknowledged and broadcast (docs/architecture.md,
//! "No-ops"), so versions stay contiguous and every acknowledgement has a log
//! entry.
//!
//! ## Normal form
//!
//! Every [`TextOp`] is normalised as `ot-text-unicode`'s `normalize` leaves
//! an op: no zero-length component, adjacent components of one kind merged,
//! no trailing skip. Component order is kept (an insert before a delete and
//! a delete before an insert transform differently), so results match the
//! type exactly for every normalised input, which is all it produces.

pub mod access;
pub mod client_op;
pub mod conformance;
pub mod error;
pub mod ids;
pub mod limits;
pub mod op;
pub mod text;

pub use access::Role;
pub use client_op::{ClientOp, Edit};
pub use error::OpError;
pub use ids::{DocVersion, DocumentId, OperationId, SeqId, UserId};
pub use limits::Limits;
pub use op::{
    Component, Side, TextOp, transform_over, transform_pending, transform_position, transform_x,
};
pub use text::Text;
