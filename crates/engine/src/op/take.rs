//! A cursor that hands out an op's components piece by piece: the equivalent
//! of `ot-text-unicode`'s `makeTake`. Transform and compose walk one op with
//! it while iterating over the other.

use super::{Component, byte_offset};

/// A (possibly partial) component borrowed from an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Skip(usize),
    Insert(&'a str),
    Delete(usize),
}

/// Which kind of component must not be split when a length is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Whole {
    /// Inserts are handed out whole (transform).
    Inserts,
    /// Deletes are handed out whole (compose).
    Deletes,
}

pub(crate) struct Taker<'a> {
    components: &'a [Component],
    index: usize,
    /// Offset into the current component: code points for skips and deletes,
    /// bytes for inserts.
    offset: usize,
}

impl<'a> Taker<'a> {
    pub(crate) fn new(components: &'a [Component]) -> Taker<'a> {
        Taker {
            components,
            index: 0,
            offset: 0,
        }
    }

    /// The component the next piece comes from.
    pub(crate) fn peek(&self) -> Option<&'a Component> {
        self.components.get(self.index)
    }

    fn advance(&mut self) {
        self.index += 1;
        self.offset = 0;
    }

    /// Takes up to `n` code points (kind `whole` is never split). Past the end
    /// the op skips forever, so this returns `Skip(n)`.
    pub(crate) fn take(&mut self, n: usize, whole: Whole) -> Piece<'a> {
        let Some(component) = self.components.get(self.index) else {
            return Piece::Skip(n);
        };
        match component {
            Component::Skip(len) => {
                let rest = len - self.offset;
                if rest <= n {
                    self.advance();
                    Piece::Skip(rest)
                } else {
                    self.offset += n;
                    Piece::Skip(n)
                }
            }
            Component::Delete(len) => {
                let rest = len - self.offset;
                if whole == Whole::Deletes || rest <= n {
                    self.advance();
                    Piece::Delete(rest)
                } else {
                    self.offset += n;
                    Piece::Delete(n)
                }
            }
            Component::Insert(text) => {
                let rest = &text[self.offset..];
                if whole == Whole::Inserts {
                    self.advance();
                    return Piece::Insert(rest);
                }
                let split = byte_offset(rest, n);
                if split == rest.len() {
                    self.advance();
                    Piece::Insert(rest)
                } else {
                    self.offset += split;
                    Piece::Insert(&rest[..split])
                }
            }
        }
    }

    /// Takes the rest of the current component, or `None` at the end.
    pub(crate) fn take_rest(&mut self) -> Option<Piece<'a>> {
        let component = self.components.get(self.index)?;
        let piece = match component {
            Component::Skip(len) => Piece::Skip(len - self.offset),
            Component::Delete(len) => Piece::Delete(len - self.offset),
            Component::Insert(text) => Piece::Insert(&text[self.offset..]),
        };
        self.advance();
        Some(piece)
    }
}
