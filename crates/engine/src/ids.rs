//! Identifier newtypes shared by every layer.
//!
//! `DocVersion` and `SeqId` are deliberately distinct types: the version describes
//! *document state* (how many ops have been applied), the sequence id describes
//! *position in the document's op log* (used for joins, replay and recovery).
//! They happen to advance together in Quire (every accepted op, no-ops included,
//! increments both), but code that needs one must never be handed the other, so
//! the compiler refuses to mix them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The state of a document: the number of ops applied since creation.
/// An empty, freshly created document is at version 0.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct DocVersion(pub u64);

/// Position of an op in one document's append-only log. Strictly increasing,
/// starting at 1 for the first op; 0 means "before the first op".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SeqId(pub u64);

impl DocVersion {
    /// The version after one more op, or `None` on overflow.
    pub fn next(self) -> Option<DocVersion> {
        self.0.checked_add(1).map(DocVersion)
    }
}

impl SeqId {
    /// The sequence id after this one, or `None` on overflow.
    pub fn next(self) -> Option<SeqId> {
        self.0.checked_add(1).map(SeqId)
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new_random() -> Self {
                Self(uuid::Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A user account.
    UserId
);
uuid_id!(
    /// A document.
    DocumentId
);

/// Client-chosen, globally unique id of one operation (the SDKs use UUIDs).
/// Deduplication is keyed by `(document, user, operation id)`, so one user can
/// never make another user's op look like a duplicate.
///
/// Shared, not owned: one id is held by the pipeline, the window's registry,
/// the log record and every broadcast, so a clone is a reference count.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct OperationId(Arc<str>);

/// Longest accepted operation id, in bytes.
pub const MAX_OPERATION_ID_LEN: usize = 128;

/// Why a string is not a valid [`OperationId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationIdError {
    #[error("operation id is empty")]
    Empty,
    #[error("operation id is longer than {MAX_OPERATION_ID_LEN} bytes")]
    TooLong,
    #[error("operation id may only contain ASCII letters, digits, '-', '_', ':' and '.'")]
    BadCharacter,
}

impl OperationId {
    /// Validates and wraps a client-supplied id.
    pub fn parse(s: impl Into<String>) -> Result<Self, OperationIdError> {
        let s = s.into();
        if s.is_empty() {
            return Err(OperationIdError::Empty);
        }
        if s.len() > MAX_OPERATION_ID_LEN {
            return Err(OperationIdError::TooLong);
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
        {
            return Err(OperationIdError::BadCharacter);
        }
        Ok(Self(s.into()))
    }

    /// A fresh random (UUID v4) id.
    pub fn new_random() -> Self {
        Self(uuid::Uuid::new_v4().to_string().into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for OperationId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OperationId::parse(s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
