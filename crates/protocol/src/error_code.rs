//! The error codes of docs/protocol.md §6.

use serde::{Deserialize, Serialize};

/// Why the server refused something. Serialised in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Malformed,
    TooLarge,
    BadOp,
    ResyncRequired,
    OutcomeUnknown,
    Unauthorized,
    Forbidden,
    NotFound,
    RateLimited,
    Overloaded,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// Whether resending the same thing later may succeed (§6 `retryable`).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::RateLimited | ErrorCode::Overloaded | ErrorCode::Unavailable
        )
    }

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::BadOp => "bad_op",
            ErrorCode::ResyncRequired => "resync_required",
            ErrorCode::OutcomeUnknown => "outcome_unknown",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}
