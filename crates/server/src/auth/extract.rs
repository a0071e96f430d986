//! `AuthUser`: the signed-in caller of a handler. Put it first among a
//! handler's arguments so an anonymous request is refused (401) before its
//! path or body is looked at.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use quire_engine::UserId;

use crate::error::{ApiError, AuthError};
use crate::state::AppState;

/// A caller whose token verified and whose account exists.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub username: String,
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(parts: &Parts) -> Result<&str, AuthError> {
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(AuthError::MissingToken)?
        .to_str()
        .map_err(|_| AuthError::InvalidToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::InvalidToken);
    }
    Ok(token.trim())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user_id = state.tokens.verify(bearer_token(parts)?)?;
        // A valid signature for an account that no longer exists (e.g. a
        // database reset under a kept secret) is not a valid sign-in.
        let user = state
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        Ok(AuthUser {
            id: user.id,
            username: user.username,
        })
    }
}
