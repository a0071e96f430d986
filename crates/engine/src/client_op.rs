//! The operation a client submits (docs/protocol.md §1) and its conversion
//! into the component form the engine transforms and applies.
//!
//! Conversion checks the op's shape and arithmetic without the document
//! ([`Edit::to_text_op`]); whether it fits the document is checked against
//! the document it finally applies to, after any transform
//! ([`TextOp::check_fits`]).

use serde::{Deserialize, Serialize};

use crate::error::OpError;
use crate::ids::{DocVersion, OperationId, UserId};
use crate::limits::Limits;
use crate::op::{Component, MAX_LENGTH, TextOp};

/// One submitted operation: who, against which version, and the edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientOp {
    pub operation_id: OperationId,
    pub user_id: UserId,
    /// The version of the text the edit was made against.
    pub base_version: DocVersion,
    #[serde(flatten)]
    pub edit: Edit,
}

/// What a client op does, in code points of the document at its base version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Edit {
    /// Insert non-empty `text` before the character at `position`.
    Insert { position: usize, text: String },
    /// Delete `length >= 1` characters starting at `position`.
    Delete { position: usize, length: usize },
    /// Replace `length >= 1` characters at `position` with non-empty `text`.
    Replace {
        position: usize,
        length: usize,
        text: String,
    },
    /// A component-form op (what a locally transformed edit can become).
    Compound { components: Vec<Component> },
}

impl Edit {
    /// Converts into a normalised [`TextOp`], checking everything that does
    /// not need the document: empty inserts, zero lengths, overflowing
    /// numbers, and inserted text over `limits.max_op_chars`.
    ///
    /// A replace becomes `[position, {"d": length}, text]`: delete first, then
    /// insert (see the crate docs for how that orders against concurrent
    /// inserts).
    pub fn to_text_op(&self, limits: &Limits) -> Result<TextOp, OpError> {
        match self {
            Edit::Insert { position, text } => {
                check_insert(text, limits)?;
                check_span(*position, 0)?;
                Ok(TextOp::single_range(*position, 0, text))
            }
            Edit::Delete { position, length } => {
                check_length(*length)?;
                check_span(*position, *length)?;
                Ok(TextOp::single_range(*position, *length, ""))
            }
            Edit::Replace {
                position,
                length,
                text,
            } => {
                check_length(*length)?;
                check_insert(text, limits)?;
                check_span(*position, *length)?;
                Ok(TextOp::single_range(*position, *length, text))
            }
            Edit::Compound { components } => {
                let op = TextOp::from_components(components.iter().cloned())?;
                let chars = op.inserted_chars();
                if chars > limits.max_op_chars {
                    return Err(OpError::TooLarge {
                        chars,
                        max: limits.max_op_chars,
                    });
                }
                Ok(op)
            }
        }
    }
}

fn check_insert(text: &str, limits: &Limits) -> Result<(), OpError> {
    if text.is_empty() {
        return Err(OpError::EmptyInsert);
    }
    // A text has at most as many code points as bytes: count only when needed.
    if text.len() > limits.max_op_chars {
        let chars = text.chars().count();
        if chars > limits.max_op_chars {
            return Err(OpError::TooLarge {
                chars,
                max: limits.max_op_chars,
            });
        }
    }
    Ok(())
}
fn check_length(length: usize) -> Result<(), OpError> {
    if length == 0 {
        Err(OpError::ZeroLength)
    } else {
        Ok(())
    }
}

/// `position + length` must not overflow nor exceed [`MAX_LENGTH`].
fn check_span(position: usize, length: usize) -> Result<(), OpError> {
    match position.checked_add(length) {
        Some(end) if end <= MAX_LENGTH => Ok(()),
        _ => Err(OpError::Overflow),
    }
}
