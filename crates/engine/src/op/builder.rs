//! Builds normalised ops, one component at a time: the equivalent of
//! `ot-text-unicode`'s `makeAppend` + `trim`. Zero-length pieces vanish,
//! adjacent pieces of one kind merge, a trailing skip is dropped.

use smallvec::SmallVec;

use super::take::Piece;
use super::{Component, TextOp};

#[derive(Default)]
pub(crate) struct Builder {
    components: SmallVec<[Component; 3]>,
}

impl Builder {
    pub(crate) fn new() -> Builder {
        Builder::default()
    }

    pub(crate) fn skip(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        match self.components.last_mut() {
            Some(Component::Skip(last)) => *last += n,
            _ => self.components.push(Component::Skip(n)),
        }
    }

    pub(crate) fn delete(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        match self.components.last_mut() {
            Some(Component::Delete(last)) => *last += n,
            _ => self.components.push(Component::Delete(n)),
        }
    }

    pub(crate) fn insert(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.components.last_mut() {
            Some(Component::Insert(last)) => last.push_str(text),
            _ => self.components.push(Component::Insert(text.into())),
        }
    }

    /// Appends an owned component (no copy of an insert's text unless it merges).
    pub(crate) fn push(&mut self, component: Component) {
        match component {
            Component::Skip(n) => self.skip(n),
            Component::Delete(n) => self.delete(n),
            Component::Insert(text) => match self.components.last_mut() {
                Some(Component::Insert(last)) => last.push_str(&text),
                _ if text.is_empty() => {}
                _ => self.components.push(Component::Insert(text)),
            },
        }
    }

    pub(crate) fn push_piece(&mut self, piece: Piece<'_>) {
        match piece {
            Piece::Skip(n) => self.skip(n),
            Piece::Delete(n) => self.delete(n),
            Piece::Insert(text) => self.insert(text),
        }
    }

    pub(crate) fn finish(mut self) -> TextOp {
        if let Some(Component::Skip(_)) = self.components.last() {
            self.components.pop();
        }
        TextOp {
            components: self.components,
        }
    }
}
