//! Typed errors for every way an operation can be invalid.
//!
//! Every check in the engine returns one of these instead of panicking, so a
//! malicious or buggy client can never crash or wedge the server: the op is
//! rejected and nothing changes. (A JSON component that is no component at
//! all — a negative or fractional number, an object other than `{"d": n}` —
//! is already refused when the message is deserialised.)

/// Why an operation was rejected. No variant is ever produced after a partial
/// mutation: a rejected op changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// An insert (or replace) carries no text.
    #[error("insert text is empty")]
    EmptyInsert,
    /// A delete, replace or skip has length 0.
    #[error("zero-length component (deletes, replaces and skips must have length >= 1)")]
    ZeroLength,
    /// The op reads characters the document does not have.
    #[error("the op reaches character {end} but the document has only {doc_len} characters")]
    OutOfRange { end: usize, doc_len: usize },
    /// A position or length, or their sum, does not fit the engine's arithmetic.
    #[error("position or length overflows")]
    Overflow,
    /// The op inserts more text than the configured per-op limit.
    #[error("the op inserts {chars} characters, more than the limit of {max}")]
    TooLarge { chars: usize, max: usize },
    /// Applying the op would make the document larger than the configured limit.
    #[error("the document would have {chars} characters, more than the limit of {max}")]
    DocumentTooLarge { chars: usize, max: usize },
}

impl OpError {
    /// True for errors about size limits (`too_large` on the wire); every other
    /// variant is a malformed or impossible op (`bad_op`).
    pub fn is_size_limit(&self) -> bool {
        matches!(
            self,
            OpError::TooLarge { .. } | OpError::DocumentTooLarge { .. }
        )
    }
}
