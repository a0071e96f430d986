//! The signed-in user, and user search by username prefix (for sharing).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::UserView;
use crate::auth::AuthUser;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::pagination::PageRequest;
use crate::state::AppState;
use crate::validate;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(search_users))
}

/// The account the token belongs to.
#[utoipa::path(get, path = "/me", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = UserView),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    ))]
async fn me(user: AuthUser) -> Json<UserView> {
    Json(UserView {
        id: user.id.0,
        username: user.username,
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserSearchQuery {
    /// Case-insensitive username prefix (empty or absent: everyone).
    pub prefix: Option<String>,
    /// Page size, 1 to the server's maximum (default 50, maximum 200).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    /// Ordered by lower-cased username.
    pub users: Vec<UserView>,
    /// Present when another page follows.
    pub next_cursor: Option<String>,
}

/// Users whose username starts with `prefix`, for signed-in users only.
#[utoipa::path(get, path = "/users", tag = "accounts", params(UserSearchQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of users", body = UserPage),
        (status = 400, description = "Invalid prefix, limit or cursor", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    ))]
async fn search_users(
    _caller: AuthUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<UserSearchQuery>,
) -> ApiResult<Json<UserPage>> {
    let prefix = validate::search_prefix(q.prefix.as_deref().unwrap_or(""))?;
    let page = PageRequest::<String>::parse(q.limit, q.cursor.as_deref(), &state.config)?;
    let rows = state
        .store
        .search_users(&prefix, page.after.as_deref(), page.fetch_count())
        .await?;
    let (rows, next_cursor) = page.finish(rows, |u| u.username.to_lowercase());
    Ok(Json(UserPage {
        users: rows.iter().map(UserView::from).collect(),
        next_cursor,
    }))
}
