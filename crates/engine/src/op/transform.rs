//! Transform: rewrite an op so it applies after a concurrent op, with the
//! semantics of `ot-text-unicode`'s `transform` (a line-by-line port).
//!
//! Inserts are never split or lost: an insert of `op` that lands inside a
//! range `other` deletes survives at the start of that range. Deletes of text
//! that `other` already deleted disappear. Two inserts at one position are
//! ordered by `side`.

use super::builder::Builder;
use super::take::{Piece, Taker, Whole};
use super::{Component, Side, TextOp};

impl TextOp {
    /// `self` rewritten to apply after `other` (both made against the same
    /// document). `side` orders two inserts at the same position:
    /// [`Side::Left`] puts `self`'s insert first.
    pub fn transform(&self, other: &TextOp, side: Side) -> TextOp {
        let mut out = Builder::new();
        let mut mine = Taker::new(&self.components);
        for theirs in &other.components {
            match theirs {
                Component::Skip(len) => {
                    let mut length = *len;
                    while length > 0 {
                        let piece = mine.take(length, Whole::Inserts);
                        out.push_piece(piece);
                        match piece {
                            Piece::Skip(n) | Piece::Delete(n) => length -= n,
                            Piece::Insert(_) => {}
                        }
                    }
                }
                Component::Insert(text) => {
                    if side == Side::Left
                        && let Some(Component::Insert(_)) = mine.peek()
                        && let Some(piece) = mine.take_rest()
                    {
                        out.push_piece(piece);
                    }
                    out.skip(text.chars().count());
                }
                Component::Delete(len) => {
                    let mut length = *len;
                    while length > 0 {
                        match mine.take(length, Whole::Inserts) {
                            // Text `other` deletes: our skip of it and our
                            // delete of it both vanish.
                            Piece::Skip(n) | Piece::Delete(n) => length -= n,
                            // Our insert inside their deleted range survives.
                            Piece::Insert(text) => out.insert(text),
                        }
                    }
                }
            }
        }
        while let Some(piece) = mine.take_rest() {
            out.push_piece(piece);
        }
        out.finish()
    }
}

/// `op` transformed over a sequence of ops applied one after the other
/// (each made against the result of the previous), with `op` on `side`
/// against every one of them. Equal to transforming step by step.
pub fn transform_over<'a>(
    op: &TextOp,
    ops: impl IntoIterator<Item = &'a TextOp>,
    side: Side,
) -> TextOp {
    let mut result = op.clone();
    for other in ops {
        result = result.transform(other, side);
    }
    result
}

/// The client-side pair transform of a local op and a concurrent remote
/// (server) op made against the same document: returns
/// `(client over server, server over client)`. The client's op takes side
/// [`Side::Left`] and the server's [`Side::Right`], mirroring the server,
/// which gives the later-arriving (client) op side left; so applying
/// `server'` after `client` gives the same text as applying `client'` after
/// `server`.
pub fn transform_x(client: &TextOp, server: &TextOp) -> (TextOp, TextOp) {
    (
        client.transform(server, Side::Left),
        server.transform(client, Side::Right),
    )
}

/// A client receiving a remote op while it holds pending local ops (applied
/// locally, in order, not yet applied by the server): rewrites `pending` so it
/// applies after `remote`, and returns `remote` rewritten to apply after all
/// of `pending` (what the client applies to its local text).
pub fn transform_pending(pending: &mut [TextOp], remote: &TextOp) -> TextOp {
    let mut remote = remote.clone();
    for local in pending.iter_mut() {
        let (local_after, remote_after) = transform_x(local, &remote);
        *local = local_after;
        remote = remote_after;
    }
    remote
}
