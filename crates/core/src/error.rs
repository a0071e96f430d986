//! Why the core refused something. Each variant maps to exactly one error code
//! of docs/protocol.md §6 ([`CoreError::code`]), so the gateway and the REST
//! layer translate without guessing. An error about an op always means the op
//! was not applied.

use quire_engine::error::OpError;
use quire_engine::{DocVersion, SeqId};
use quire_storage::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// `bad_op`: the op is invalid (shape, ranges, arithmetic, wrong user,
    /// future base version).
    #[error("bad op: {0}")]
    BadOp(#[from] BadOp),
    /// `too_large`: the op's text or the resulting document exceeds a limit.
    #[error("too large: {0}")]
    TooLarge(OpError),
    /// `resync_required`: the op's base version is below the rebase horizon,
    /// or the session fell too far behind.
    #[error("resync required: base version is older than the server's history")]
    ResyncRequired,
    /// `outcome_unknown`: the op's base version is older than the
    /// operation-id horizon, so the server cannot tell whether an op with
    /// this id was applied; it applied nothing now (see `owner::pipeline`).
    #[error(
        "outcome unknown: base version is older than the operation ids the server remembers; \
         this op may or may not have been applied before, and was not applied now"
    )]
    OutcomeUnknown,
    /// `forbidden`: no write (submit) or read (join) access.
    #[error("forbidden")]
    Forbidden,
    /// `not_found`: no such document.
    #[error("document not found")]
    NotFound,
    /// `overloaded`: the document's queue is full; resend later with the same id.
    #[error("document is overloaded; retry later")]
    Overloaded,
    /// `unavailable`: storage failed; the op was not applied; resend with the
    /// same operation id.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// `unavailable`: another server instance sharing the database has the
    /// document open (`Store::claim_document`); join again later, possibly
    /// through another instance.
    #[error("the document is open on another server instance; join again later")]
    OpenElsewhere,
    /// `internal`: a bug or corrupt stored data.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The reasons an op is `bad_op`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadOp {
    #[error(transparent)]
    Invalid(OpError),
    #[error("userId does not match the authenticated user")]
    WrongUser,
    #[error("baseVersion {base:?} is newer than the document (version {current:?})")]
    FutureBaseVersion {
        base: DocVersion,
        current: DocVersion,
    },
}

impl CoreError {
    /// The protocol error code (docs/protocol.md §6).
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::BadOp(_) => "bad_op",
            CoreError::TooLarge(_) => "too_large",
            CoreError::ResyncRequired => "resync_required",
            CoreError::OutcomeUnknown => "outcome_unknown",
            CoreError::Forbidden => "forbidden",
            CoreError::NotFound => "not_found",
            CoreError::Overloaded => "overloaded",
            CoreError::Unavailable(_) | CoreError::OpenElsewhere => "unavailable",
            CoreError::Internal(_) => "internal",
        }
    }

    /// Whether resending the same op (same operation id) later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            CoreError::Overloaded | CoreError::Unavailable(_) | CoreError::OpenElsewhere
        )
    }

    /// Classifies an engine error: size limits are `too_large`, the rest `bad_op`.
    pub fn from_op_error(e: OpError) -> CoreError {
        if e.is_size_limit() {
            CoreError::TooLarge(e)
        } else {
            CoreError::BadOp(BadOp::Invalid(e))
        }
    }

    pub(crate) fn from_store(e: StoreError) -> CoreError {
        match e {
            StoreError::NotFound => CoreError::NotFound,
            StoreError::Corrupt(m) => CoreError::Internal(format!("corrupt stored data: {m}")),
            StoreError::Continuity(m) => CoreError::Internal(format!("log continuity: {m}")),
            other => CoreError::Unavailable(other.to_string()),
        }
    }

    pub(crate) fn seq_overflow(seq: SeqId) -> CoreError {
        CoreError::Internal(format!("sequence id overflow after {seq:?}"))
    }
}
