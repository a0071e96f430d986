//! Documents: create (the creator owns it), list mine and shared with me,
//! get, rename (writers and owner), delete (owner only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use quire_engine::DocumentId;
use quire_storage::{DocumentCursor, NewDocument, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::views::DocumentView;
use crate::access::{require_role, visible_role};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorBody, not_found_as};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::pagination::PageRequest;
use crate::state::AppState;
use crate::validate;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_document, list_documents))
        .routes(routes!(get_document, rename_document, delete_document))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TitleBody {
    /// 1 to 200 characters, not blank, no control characters.
    pub title: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to the server's maximum (default 50, maximum 200).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentPage {
    /// Newest first.
    pub documents: Vec<DocumentView>,
    /// Present when another page follows.
    pub next_cursor: Option<String>,
}

/// Create a document owned by the caller.
#[utoipa::path(post, path = "/documents", tag = "documents", request_body = TitleBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = DocumentView),
        (status = 400, description = "Invalid title or body", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    ))]
async fn create_document(
    user: AuthUser,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TitleBody>,
) -> ApiResult<(StatusCode, Json<DocumentView>)> {
    let title = validate::title(&body.title, state.config.max_title_chars)?;
    let doc = state
        .store
        .create_document(NewDocument {
            id: DocumentId::new_random(),
            title: title.to_owned(),
            owner: user.id,
            created_at_ms: state.clock.now_ms(),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DocumentView::new(&doc, Role::Owner)),
    ))
}

/// Documents the caller owns or that are shared with them, with their role.
#[utoipa::path(get, path = "/documents", tag = "documents", params(ListQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of documents", body = DocumentPage),
        (status = 400, description = "Invalid limit or cursor", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
    ))]
async fn list_documents(
    user: AuthUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<DocumentPage>> {
    let page = PageRequest::<DocumentCursor>::parse(q.limit, q.cursor.as_deref(), &state.config)?;
    let rows = state
        .store
        .documents_for_user(user.id, page.after, page.fetch_count())
        .await?;
    let (rows, next_cursor) = page.finish(rows, |(d, _)| DocumentCursor {
        created_at_ms: d.created_at_ms,
        id: d.id,
    });
    Ok(Json(DocumentPage {
        documents: rows.iter().map(|(d, r)| DocumentView::new(d, *r)).collect(),
        next_cursor,
    }))
}

/// The view of a document the caller has some role on.
async fn view(state: &AppState, id: DocumentId, role: Role) -> ApiResult<DocumentView> {
    let doc = state
        .store
        .document(id)
        .await?
        .ok_or(ApiError::NotFound("no such document"))?;
    Ok(DocumentView::new(&doc, role))
}

/// Metadata of a document, with the caller's role.
#[utoipa::path(get, path = "/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id")),
    responses(
        (status = 200, description = "The document", body = DocumentView),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such document, or not shared with the caller", body = ErrorBody),
    ))]
async fn get_document(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<DocumentView>> {
    let id = DocumentId(id);
    let role = visible_role(&*state.store, id, user.id).await?;
    Ok(Json(view(&state, id, role).await?))
}

/// Rename a document (writers and the owner).
#[utoipa::path(patch, path = "/documents/{id}", tag = "documents", request_body = TitleBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id")),
    responses(
        (status = 200, description = "Renamed", body = DocumentView),
        (status = 400, description = "Invalid title or body", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Readers cannot rename", body = ErrorBody),
        (status = 404, description = "No such document, or not shared with the caller", body = ErrorBody),
    ))]
async fn rename_document(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<TitleBody>,
) -> ApiResult<Json<DocumentView>> {
    let id = DocumentId(id);
    let role = require_role(
        &*state.store,
        id,
        user.id,
        Role::Write,
        "readers cannot rename a document",
    )
    .await?;
    let title = validate::title(&body.title, state.config.max_title_chars)?;
    state
        .store
        .rename_document(id, title, state.clock.now_ms())
        .await
        .map_err(not_found_as("no such document"))?;
    Ok(Json(view(&state, id, role).await?))
}

/// Delete a document with its content, history and access rules (owner only).
#[utoipa::path(delete, path = "/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Only the owner can delete", body = ErrorBody),
        (status = 404, description = "No such document, or not shared with the caller", body = ErrorBody),
    ))]
async fn delete_document(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let id = DocumentId(id);
    require_role(
        &*state.store,
        id,
        user.id,
        Role::Owner,
        "only the owner can delete a document",
    )
    .await?;
    state
        .store
        .delete_document(id)
        .await
        .map_err(not_found_as("no such document"))?;
    state.access.document_deleted(id).await;
    tracing::info!(document = %id, "document deleted");
    Ok(StatusCode::NO_CONTENT)
}
