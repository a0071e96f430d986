//! The document text: a rope, so an op costs O(log n) per component and the
//! document is never copied.
//!
//! Backed by `jumprope`, a skip-list rope indexed by code points and the
//! fastest rope measured on the shared editing traces (ropey was 2-3x slower
//! there). On top of it, [`Text`] keeps one *pending run*: people type and
//! backspace one character at a time at adjacent positions, so consecutive
//! single-range edits that extend the previous one (typing on, backspacing
//! over what was just typed, deleting forwards or backwards) are merged in a
//! small buffer and enter the rope as one edit when a non-adjacent edit
//! arrives. Readers see the run without flushing it (`&self` stays
//! read-only), and the run is bounded by [`MAX_PENDING_BYTES`].

use std::fmt;
use std::iter;

use jumprope::JumpRope;

use crate::error::OpError;
use crate::op::{Component, TextOp};

/// Largest pending typing run, in bytes, before it is written to the rope.
pub const MAX_PENDING_BYTES: usize = 4096;

/// An edit already applied to the [`Text`] but not yet written to its rope.
/// Positions are in the text's current coordinates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Pending {
    #[default]
    None,
    /// `Text::run` (`chars` code points) is inserted at `pos`.
    Insert { pos: usize, chars: usize },
    /// The rope's characters `pos..pos + len` are deleted.
    Delete { pos: usize, len: usize },
}

/// A document's text, indexed by Unicode code points.
#[derive(Clone, Default)]
pub struct Text {
    rope: JumpRope,
    pending: Pending,
    /// The pending insert's text (empty unless `pending` is an insert).
    run: String,
}

impl Text {
    /// An empty text.
    pub fn new() -> Text {
        Text::default()
    }

    /// A text holding `s`.
    #[allow(clippy::should_implement_trait)] // infallible; `From<&str>` exists too
    pub fn from_str(s: &str) -> Text {
        Text {
            rope: JumpRope::from(s),
            ..Text::default()
        }
    }

    /// Length in code points. O(1).
    pub fn len_chars(&self) -> usize {
        let rope = self.rope.len_chars();
        match self.pending {
            Pending::None => rope,
            Pending::Insert { chars, .. } => rope + chars,
            Pending::Delete { len, .. } => rope - len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len_chars() == 0
    }

    /// The text's chunks, in order (for writing it out without one big copy).
    pub fn chunks(&self) -> impl Iterator<Item = &str> + '_ {
        let rope_len = self.rope.len_chars();
        // The rope before the run, the run's text, the rope after it.
        let (before, after) = match self.pending {
            Pending::None => (rope_len, rope_len),
            Pending::Insert { pos, .. } => (pos, pos),
            Pending::Delete { pos, len } => (pos, pos + len),
        };
        self.rope
            .slice_substrings(0..before)
            .chain(iter::once(self.run.as_str()).filter(|run| !run.is_empty()))
            .chain(self.rope.slice_substrings(after..rope_len))
    }

    /// The text's code points, in order.
    pub fn chars(&self) -> impl Iterator<Item = char> + '_ {
        self.chunks().flat_map(str::chars)
    }

    /// Applies `op`. The op is validated first (it must not read past the end
    /// of the text: [`OpError::OutOfRange`]); on error nothing changed.
    /// Size limits are the caller's concern ([`TextOp::check_fits`]).
    pub fn apply(&mut self, op: &TextOp) -> Result<(), OpError> {
        let doc_len = self.len_chars();
        let needed = op.input_len();
        if needed > doc_len {
            return Err(OpError::OutOfRange {
                end: needed,
                doc_len,
            });
        }
        match op.components() {
            [Component::Insert(text)] => self.insert(0, text),
            [Component::Skip(pos), Component::Insert(text)] => self.insert(*pos, text),
            [Component::Delete(len)] => self.delete(0, *len),
            [Component::Skip(pos), Component::Delete(len)] => self.delete(*pos, *len),
            components => {
                self.flush();
                self.apply_to_rope(components);
            }
        }
        Ok(())
    }

    /// Inserts at `pos` (validated), extending the pending run if adjacent.
    fn insert(&mut self, pos: usize, text: &str) {
        if let Pending::Insert { pos: at, chars } = &mut self.pending
            && pos == *at + *chars
            && self.run.len() + text.len() <= MAX_PENDING_BYTES
        {
            self.run.push_str(text);
            *chars += text.chars().count();
            return;
        }
        self.flush();
        if text.len() > MAX_PENDING_BYTES {
            self.rope.insert(pos, text);
        } else {
            self.run.push_str(text);
            self.pending = Pending::Insert {
                pos,
                chars: text.chars().count(),
            };
        }
    }

    /// Deletes `pos..pos + len` (validated, `len >= 1`), merging with the
    /// pending run if adjacent.
    fn delete(&mut self, pos: usize, len: usize) {
        match &mut self.pending {
            // Backspacing over the end of what was just typed.
            Pending::Insert { pos: at, chars } if pos >= *at && pos + len == *at + *chars => {
                let keep = *chars - len;
                // Scan back from the end: O(len), not O(run).
                let cut = self
                    .run
                    .char_indices()
                    .rev()
                    .nth(len - 1)
                    .map_or(0, |(i, _)| i);
                self.run.truncate(cut);
                *chars = keep;
                if keep == 0 {
                    self.pending = Pending::None;
                }
            }
            // Deleting forwards from the same place.
            Pending::Delete {
                pos: at,
                len: deleted,
            } if pos == *at => *deleted += len,
            // Backspacing: the range ends where the pending deletion starts.
            Pending::Delete {
                pos: at,
                len: deleted,
            } if pos + len == *at => {
                *at = pos;
                *deleted += len;
            }
            _ => {
                self.flush();
                self.pending = Pending::Delete { pos, len };
            }
        }
    }

    /// Writes the pending run into the rope.
    fn flush(&mut self) {
        match std::mem::take(&mut self.pending) {
            Pending::None => {}
            Pending::Insert { pos, .. } => {
                self.rope.insert(pos, &self.run);
                self.run.clear();
            }
            Pending::Delete { pos, len } => self.rope.remove(pos..pos + len),
        }
    }

    /// Applies validated components straight to the rope (no pending run).
    fn apply_to_rope(&mut self, components: &[Component]) {
        let mut pos = 0;
        for (index, component) in components.iter().enumerate() {
            match component {
                Component::Skip(n) => pos += n,
                Component::Delete(n) => self.rope.remove(pos..pos + n),
                Component::Insert(text) => {
                    self.rope.insert(pos, text);
                    // Counting the inserted code points is only needed if
                    // something follows.
                    if index + 1 < components.len() {
                        pos += text.chars().count();
                    }
                }
            }
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::from_str(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::from_str(&s)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.len_chars() == other.len_chars() && self.chars().eq(other.chars())
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        let mut rest = other;
        for chunk in self.chunks() {
            match rest.strip_prefix(chunk) {
                Some(tail) => rest = tail,
                None => return false,
            }
        }
        rest.is_empty()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

/// Writes the whole text; `to_string()` comes from this.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chunks().try_for_each(|chunk| f.write_str(chunk))
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Text")
            .field("len_chars", &self.len_chars())
            .finish_non_exhaustive()
    }
}
