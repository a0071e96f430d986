//! The one mapping from core outcomes to protocol error frames (§6).

use quire_core::{CloseReason, CoreError};
use quire_protocol::{ErrorCode, ErrorFrame};

/// The error frame for a core error (not fatal; the caller decides).
pub(crate) fn core_error(error: &CoreError) -> ErrorFrame {
    let code = match error {
        CoreError::BadOp(_) => ErrorCode::BadOp,
        CoreError::TooLarge(_) => ErrorCode::TooLarge,
        CoreError::ResyncRequired => ErrorCode::ResyncRequired,
        CoreError::OutcomeUnknown => ErrorCode::OutcomeUnknown,
        CoreError::Forbidden => ErrorCode::Forbidden,
        CoreError::NotFound => ErrorCode::NotFound,
        CoreError::Overloaded => ErrorCode::Overloaded,
        CoreError::Unavailable(_) | CoreError::OpenElsewhere => ErrorCode::Unavailable,
        CoreError::Internal(_) => ErrorCode::Internal,
    };
    let message = match error {
        // Storage and internal details stay in the server log.
        CoreError::Unavailable(_) => "storage is unavailable; resend later".to_string(),
        CoreError::Internal(_) => "internal server error".to_string(),
        other => other.to_string(),
    };
    ErrorFrame::new(code, message)
}

/// The fatal error frame telling a client why the core closed its session.
pub(crate) fn closed(reason: &CloseReason) -> ErrorFrame {
    let (code, message) = match reason {
        CloseReason::Revoked => (
            ErrorCode::Forbidden,
            "your access to this document was revoked",
        ),
        CloseReason::ResyncRequired => (
            ErrorCode::ResyncRequired,
            "this connection fell too far behind; join again",
        ),
        CloseReason::DocumentDeleted => (ErrorCode::NotFound, "the document was deleted"),
        CloseReason::ShuttingDown => (ErrorCode::Unavailable, "the server is shutting down"),
        CloseReason::HandedOver => (
            ErrorCode::Unavailable,
            "the document moved to another server instance; join again",
        ),
        CloseReason::Unavailable => (
            ErrorCode::Unavailable,
            "storage is unavailable; join again later",
        ),
    };
    ErrorFrame::new(code, message).fatal()
}
