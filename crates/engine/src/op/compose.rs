//! Compose: one op equivalent to applying two in sequence, with the semantics
//! of `ot-text-unicode`'s `compose` (a line-by-line port).

use super::builder::Builder;
use super::take::{Piece, Taker, Whole};
use super::{Component, TextOp};

impl TextOp {
    /// The op equivalent to `self` followed by `next` (`next` was made against
    /// the result of `self`).
    pub fn compose(&self, next: &TextOp) -> TextOp {
        let mut out = Builder::new();
        let mut first = Taker::new(&self.components);
        for component in &next.components {
            match component {
                Component::Skip(len) => {
                    let mut length = *len;
                    while length > 0 {
                        let piece = first.take(length, Whole::Deletes);
                        out.push_piece(piece);
                        match piece {
                            Piece::Skip(n) => length -= n,
                            Piece::Insert(text) => length -= text.chars().count(),
                            Piece::Delete(_) => {}
                        }
                    }
                }
                Component::Insert(text) => out.insert(text),
                Component::Delete(len) => {
                    let mut deleted = 0;
                    while deleted < *len {
                        match first.take(len - deleted, Whole::Deletes) {
                            Piece::Skip(n) => {
                                out.delete(n);
                                deleted += n;
                            }
                            // Deleting text `self` inserted: both vanish.
                            Piece::Insert(text) => deleted += text.chars().count(),
                            Piece::Delete(n) => out.delete(n),
                        }
                    }
                }
            }
        }
        while let Some(piece) = first.take_rest() {
            out.push_piece(piece);
        }
        out.finish()
    }
}
