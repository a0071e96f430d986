//! The operation model: an op is a normalised list of components (skip n,
//! insert text, delete n) counted in Unicode code points, exactly like
//! ShareDB's `ot-text-unicode` type.
//!
//! A [`TextOp`] can only be built through [`TextOp::from_components`] (which
//! validates) or by the engine's own algorithms (which preserve the
//! invariants), so every `TextOp` in the system is normalised:
//! no zero-length component, no empty insert, no two adjacent components of
//! one kind, no trailing skip, and every length and total below
//! [`MAX_LENGTH`]. Components keep the order they were given in (an insert
//! before a delete is a different op from a delete before an insert under
//! transform), exactly as `ot-text-unicode`'s `normalize` does.

mod builder;
mod compose;
mod position;
mod take;
mod transform;
mod wire;

use compact_str::CompactString;
use smallvec::SmallVec;

use crate::error::OpError;
use crate::limits::Limits;

pub(crate) use builder::Builder;
pub use position::transform_position;
pub use transform::{transform_over, transform_pending, transform_x};

/// Largest length, position or total span an op may carry (2^48 code points).
///
/// Far above any document Quire accepts, and low enough that no sum the engine
/// forms from valid ops can overflow `usize`, so transform and compose need no
/// fallible arithmetic.
pub const MAX_LENGTH: usize = 1 << 48;

/// Text an insert carries. Short texts (most keystrokes) live inline, so a
/// typical op allocates nothing.
pub type InsertText = CompactString;

/// One step of an op, in Unicode code points of the document it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Component {
    /// Keep the next `n` characters.
    Skip(usize),
    /// Insert this text at the current position.
    Insert(InsertText),
    /// Delete the next `n` characters.
    Delete(usize),
}

impl Component {
    /// Length in code points (for an insert: of its text).
    pub fn len_chars(&self) -> usize {
        match self {
            Component::Skip(n) | Component::Delete(n) => *n,
            Component::Insert(s) => s.chars().count(),
        }
    }
}

/// A string is an insert, as on the wire.
impl From<&str> for Component {
    fn from(text: &str) -> Component {
        Component::Insert(text.into())
    }
}

/// Which op wins a tie when both insert at the same position.
///
/// `transform(op, other, Side::Left)` puts `op`'s insert first (to the left of
/// `other`'s); `Side::Right` puts it after. See the crate docs for the side the
/// server and clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Left,
    Right,
}

impl Side {
    /// The other side.
    pub fn flip(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }
}

/// A normalised text operation (see the module docs for the invariants).
/// Serialises as `ot-text-unicode` JSON: `[3, "abc", {"d": 2}]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TextOp {
    components: SmallVec<[Component; 3]>,
}

impl TextOp {
    /// The op that changes nothing (`[]`).
    pub fn noop() -> TextOp {
        TextOp::default()
    }

    /// True for the empty op. Normalisation makes every op that changes
    /// nothing empty.
    pub fn is_noop(&self) -> bool {
        self.components.is_empty()
    }

    /// Validates and normalises a component list: zero-length skips and
    /// deletes ([`OpError::ZeroLength`]) and empty inserts
    /// ([`OpError::EmptyInsert`]) are rejected, lengths and totals above
    /// [`MAX_LENGTH`] are [`OpError::Overflow`]; adjacent components of one
    /// kind are merged and a trailing skip is dropped, like
    /// `ot-text-unicode`'s `normalize`.
    pub fn from_components(
        components: impl IntoIterator<Item = Component>,
    ) -> Result<TextOp, OpError> {
        let mut builder = Builder::new();
        let mut input_len: usize = 0;
        let mut output_len: usize = 0;
        for component in components {
            let (reads, writes) = match &component {
                Component::Skip(0) | Component::Delete(0) => return Err(OpError::ZeroLength),
                Component::Insert(s) if s.is_empty() => return Err(OpError::EmptyInsert),
                Component::Skip(n) => (*n, *n),
                Component::Delete(n) => (*n, 0),
                Component::Insert(s) => (0, s.chars().count()),
            };
            input_len = checked_total(input_len, reads)?;
            output_len = checked_total(output_len, writes)?;
            builder.push(component);
        }
        Ok(builder.finish())
    }

    /// The op of one client edit: keep `position` characters, delete
    /// `delete`, insert `text` (each part omitted when empty). The caller has
    /// checked `position + delete <= MAX_LENGTH` and the text's size; the
    /// result is normalised by construction, with no second pass.
    pub(crate) fn single_range(position: usize, delete: usize, text: &str) -> TextOp {
        let mut components = SmallVec::new();
        if position > 0 && (delete > 0 || !text.is_empty()) {
            components.push(Component::Skip(position));
        }
        if delete > 0 {
            components.push(Component::Delete(delete));
        }
        if !text.is_empty() {
            components.push(Component::Insert(text.into()));
        }
        TextOp { components }
    }

    /// The op's components, normalised.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// The components, by value.
    pub fn into_components(self) -> Vec<Component> {
        self.components.into_vec()
    }

    /// How many characters of the document the op reads (skips + deletes):
    /// the op applies to any document at least this long.
    pub fn input_len(&self) -> usize {
        self.components
            .iter()
            .map(|c| match c {
                Component::Skip(n) | Component::Delete(n) => *n,
                Component::Insert(_) => 0,
            })
            .sum()
    }

    /// Code points inserted by the op.
    pub fn inserted_chars(&self) -> usize {
        self.components
            .iter()
            .map(|c| match c {
                Component::Insert(s) => s.chars().count(),
                _ => 0,
            })
            .sum()
    }

    /// Code points deleted by the op.
    pub fn deleted_chars(&self) -> usize {
        self.components
            .iter()
            .map(|c| match c {
                Component::Delete(n) => *n,
                _ => 0,
            })
            .sum()
    }

    /// Change of the document's length in code points (inserted − deleted).
    pub fn net_change(&self) -> isize {
        // Both totals are below MAX_LENGTH (2^48), so they fit isize.
        self.inserted_chars() as isize - self.deleted_chars() as isize
    }

    /// Checks that the op fits a document of `doc_len_chars` code points: every
    /// range lies inside it ([`OpError::OutOfRange`]) and the result stays
    /// within `limits.max_document_chars` ([`OpError::DocumentTooLarge`]).
    /// The per-op insert limit is checked when a client op is converted
    /// ([`crate::client_op::Edit::to_text_op`]); transforming never changes it.
    pub fn check_fits(&self, doc_len_chars: usize, limits: &Limits) -> Result<(), OpError> {
        let mut reads: usize = 0;
        let mut deleted: usize = 0;
        // UTF-8 bytes bound code points from above: count code points only
        // when the byte count alone could exceed the limit.
        let mut inserted_bytes: usize = 0;
        for c in &self.components {
            match c {
                Component::Skip(n) => reads += n,
                Component::Delete(n) => {
                    reads += n;
                    deleted += n;
                }
                Component::Insert(s) => inserted_bytes += s.len(),
            }
        }
        if reads > doc_len_chars {
            return Err(OpError::OutOfRange {
                end: reads,
                doc_len: doc_len_chars,
            });
        }
        // deleted <= reads <= doc_len_chars.
        let kept = doc_len_chars - deleted;
        if kept.saturating_add(inserted_bytes) <= limits.max_document_chars {
            return Ok(());
        }
        let result = kept
            .checked_add(self.inserted_chars())
            .ok_or(OpError::Overflow)?;
        if result > limits.max_document_chars {
            return Err(OpError::DocumentTooLarge {
                chars: result,
                max: limits.max_document_chars,
            });
        }
        Ok(())
    }

    /// Applies the op to a `&str` (a reference implementation for tests and
    /// small documents; documents use [`crate::text::Text::apply`]).
    pub fn apply_to_str(&self, doc: &str) -> Result<String, OpError> {
        let doc_len = doc.chars().count();
        let needed = self.input_len();
        if needed > doc_len {
            return Err(OpError::OutOfRange {
                end: needed,
                doc_len,
            });
        }
        let mut out = String::with_capacity(doc.len());
        let mut rest = doc;
        for c in &self.components {
            match c {
                Component::Skip(n) => {
                    let split = byte_offset(rest, *n);
                    out.push_str(&rest[..split]);
                    rest = &rest[split..];
                }
                Component::Delete(n) => rest = &rest[byte_offset(rest, *n)..],
                Component::Insert(s) => out.push_str(s),
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Adds one component's length to a running total, refusing totals above
/// [`MAX_LENGTH`].
fn checked_total(total: usize, add: usize) -> Result<usize, OpError> {
    if add > MAX_LENGTH {
        return Err(OpError::Overflow);
    }
    match total.checked_add(add) {
        Some(sum) if sum <= MAX_LENGTH => Ok(sum),
        _ => Err(OpError::Overflow),
    }
}

/// Byte offset of the `chars`-th code point of `s` (or `s.len()` past the end).
pub(crate) fn byte_offset(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(i, _)| i)
}
