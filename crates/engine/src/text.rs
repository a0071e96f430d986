//! The document text: a rope, so an op costs O(log n) per component and the
//! document is never copied.
//!
//! Backed by `jumprope` (a skip-list rope indexed by code points), the fastest
//! of the ropes measured on the editing traces (see the engine's README section
//! in the crate docs). Clone is a deep copy; callers that need a snapshot
//! while the document keeps changing take [`Text::to_string`] or clone once.

use std::fmt;

use jumprope::JumpRope;

use crate::error::OpError;
use crate::op::{Component, TextOp};

/// A document's text, indexed by Unicode code points.
#[derive(Clone, Default)]
pub struct Text {
    rope: JumpRope,
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
        }
    }

    /// Length in code points. O(1).
    pub fn len_chars(&self) -> usize {
        self.rope.len_chars()
    }

    /// Length of the UTF-8 encoding in bytes. O(1).
    pub fn len_bytes(&self) -> usize {
        self.rope.len_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.rope.is_empty()
    }

    /// The text's chunks, in order (for writing it out without one big copy).
    pub fn chunks(&self) -> impl Iterator<Item = &str> + '_ {
        self.rope.substrings()
    }

    /// Applies `op`. The op is validated first (it must not read past the end
    /// of the text: [`OpError::OutOfRange`]); on error nothing changed.
    /// Size limits are the caller's concern ([`TextOp::check_fits`]).
    pub fn apply(&mut self, op: &TextOp) -> Result<(), OpError> {
        let doc_len = self.rope.len_chars();
        let needed = op.input_len();
        if needed > doc_len {
            return Err(OpError::OutOfRange {
                end: needed,
                doc_len,
            });
        }
        let mut pos = 0;
        let components = op.components();
        for (index, component) in components.iter().enumerate() {
            match component {
                Component::Skip(n) => pos += n,
                Component::Delete(n) => self.rope.remove(pos..pos + n),
                Component::Insert(text) => {
                    self.rope.insert(pos, text);
                    // Counting the inserted code points is only needed if
                    // something follows (the last component usually inserts).
                    if index + 1 < components.len() {
                        pos += text.chars().count();
                    }
                }
            }
        }
        Ok(())
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
        self.rope == other.rope
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.rope == *other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.rope == **other
    }
}

/// Writes the whole text; `to_string()` comes from this.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.rope.substrings() {
            f.write_str(chunk)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Text")
            .field("len_chars", &self.len_chars())
            .finish_non_exhaustive()
    }
}
