//! The one error type of the HTTP API and its one mapping to a response.
//!
//! Every handler returns `Result<_, ApiError>`; every rejection of axum's own
//! extractors is converted into an `ApiError` too (see [`crate::extract`]), so
//! every error a client sees has the shape `{"error": {"code", "message"}}`.
//! Internal failures are logged with their cause and answered with a generic
//! message: storage details never leave the server.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quire_storage::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Why a request was refused. Variants map one-to-one onto HTTP statuses.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is well-formed HTTP but its content is not acceptable.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// 401: no usable credentials.
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    /// 403: signed in, allowed to see the resource, not allowed to do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404: no such thing, or one the caller may not see.
    #[error("{0}")]
    NotFound(&'static str),
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the username is already taken.
    #[error("username is already taken")]
    UsernameTaken,
    /// 413: the body exceeds `ServerConfig::max_body_bytes`.
    #[error("request body is too large")]
    PayloadTooLarge,
    /// 415: a JSON body without `Content-Type: application/json`.
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// 503: a bounded resource is exhausted or storage is unreachable; retry later.
    #[error("{0}")]
    Busy(&'static str),
    /// 500: a bug or corrupt data. The cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A 400 answer: which rule the request broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("username must be {min} to {max} characters long")]
    UsernameLength { min: usize, max: usize },
    #[error("username may only contain ASCII letters, digits, '_', '.' and '-'")]
    UsernameCharacters,
    #[error("password must be {min} to {max} characters long")]
    PasswordLength { min: usize, max: usize },
    #[error("title must not be empty")]
    TitleEmpty,
    #[error("title must be at most {max} characters long")]
    TitleTooLong { max: usize },
    #[error("title must not contain control characters")]
    TitleControlCharacters,
    #[error("prefix must be at most {max} characters of a username")]
    Prefix { max: usize },
    #[error("limit must be between 1 and {max}")]
    Limit { max: u32 },
    #[error("cursor is not one this server issued")]
    Cursor,
    #[error("give exactly one of userId and username")]
    InviteTarget,
    #[error("the owner's role cannot be granted or changed")]
    OwnerRole,
    #[error("invalid JSON body: {0}")]
    Json(String),
    #[error("invalid query string: {0}")]
    Query(String),
}

impl Invalid {
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::UsernameLength { .. } | Invalid::UsernameCharacters => "invalid_username",
            Invalid::PasswordLength { .. } => "invalid_password",
            Invalid::TitleEmpty
            | Invalid::TitleTooLong { .. }
            | Invalid::TitleControlCharacters => "invalid_title",
            Invalid::Prefix { .. } => "invalid_prefix",
            Invalid::Limit { .. } => "invalid_limit",
            Invalid::Cursor => "invalid_cursor",
            Invalid::InviteTarget => "invalid_invite",
            Invalid::OwnerRole => "owner_role",
            Invalid::Json(_) => "invalid_json",
            Invalid::Query(_) => "invalid_query",
        }
    }
}

/// A 401 answer: why the credentials were not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    MissingToken,
    /// Not a JWT, bad signature (forged or another server's secret), wrong
    /// algorithm, missing claims, or a user that no longer exists.
    #[error("invalid token")]
    InvalidToken,
    #[error("token has expired")]
    Expired,
    #[error("wrong username or password")]
    InvalidCredentials,
}

impl AuthError {
    pub fn code(self) -> &'static str {
        match self {
            AuthError::MissingToken => "unauthorized",
            AuthError::InvalidToken => "invalid_token",
            AuthError::Expired => "token_expired",
            AuthError::InvalidCredentials => "invalid_credentials",
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_username`, `not_found`.
    pub code: &'static str,
    /// Human-readable explanation; never contains internal details.
    pub message: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UsernameTaken => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(i) => i.code(),
            ApiError::Unauthenticated(a) => a.code(),
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::UsernameTaken => "username_taken",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Busy(_) => "busy",
            ApiError::Internal(_) => "internal",
        }
    }

    fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => "internal server error".to_owned(),
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_retryable() {
            tracing::warn!(error = %e, "storage unavailable");
            ApiError::Busy("storage is temporarily unavailable")
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        } else {
            tracing::debug!(
                code = self.code(),
                status = status.as_u16(),
                "request refused"
            );
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.public_message(),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// For store calls whose `NotFound` means "the thing the client named is gone"
/// (e.g. deleted by a concurrent request): a 404 with `what`, not a 500.
pub fn not_found_as(what: &'static str) -> impl FnOnce(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::NotFound(what),
        other => other.into(),
    }
}
