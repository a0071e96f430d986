//! Sign up and log in: both answer with the user and a bearer token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use quire_engine::UserId;
use quire_storage::{NewUser, StoreError, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::UserView;
use crate::error::{ApiError, ApiResult, AuthError, ErrorBody, Invalid};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::validate;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// 3 to 32 characters of `[A-Za-z0-9_.-]`; unique regardless of case.
    pub username: String,
    /// 8 to 256 characters.
    pub password: String,
}

impl Credentials {
    /// Both endpoints reject a malformed username or password up front, before
    /// any store lookup or password hashing.
    fn check_shape(&self) -> Result<(), Invalid> {
        validate::username(&self.username)?;
        validate::password(&self.password)?;
        Ok(())
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    pub user: UserView,
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops being valid (ms since the Unix epoch).
    pub expires_at: i64,
}

fn respond(state: &AppState, user: &UserRecord) -> ApiResult<Json<AuthResponse>> {
    let issued = state.tokens.issue(user.id)?;
    Ok(Json(AuthResponse {
        user: user.into(),
        token: issued.token,
        expires_at: issued.expires_at_ms,
    }))
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/auth/signup", tag = "accounts", request_body = Credentials,
    responses(
        (status = 201, description = "Account created", body = AuthResponse),
        (status = 400, description = "Invalid username, password or body", body = ErrorBody),
        (status = 409, description = "Username taken", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 503, description = "Too many sign-ins in progress", body = ErrorBody),
    ))]
async fn signup(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<(StatusCode, Json<AuthResponse>)> {
    body.check_shape()?;
    // Cheap pre-check so a taken name does not cost a hash; the store's unique
    // constraint is what actually decides a race.
    if state.store.user_by_name(&body.username).await?.is_some() {
        return Err(ApiError::UsernameTaken);
    }
    let password_hash = state.passwords.hash(body.password).await?;
    let user = state
        .store
        .create_user(NewUser {
            id: UserId::new_random(),
            username: body.username,
            password_hash,
            created_at_ms: state.clock.now_ms(),
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::UsernameTaken,
            other => other.into(),
        })?;
    tracing::info!(user = %user.id, "account created");
    Ok((StatusCode::CREATED, respond(&state, &user)?))
}

/// Sign in with username and password.
#[utoipa::path(post, path = "/auth/login", tag = "accounts", request_body = Credentials,
    responses(
        (status = 200, description = "Signed in", body = AuthResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 503, description = "Too many sign-ins in progress", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Credentials>,
) -> ApiResult<Json<AuthResponse>> {
    body.check_shape()?;
    let user = state.store.user_by_name(&body.username).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    if !state.passwords.verify(body.password, stored).await? {
        return Err(AuthError::InvalidCredentials.into());
    }
    let user = user.ok_or(AuthError::InvalidCredentials)?;
    respond(&state, &user)
}
