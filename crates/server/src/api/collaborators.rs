//! Sharing: anyone with access sees who else has it; only the owner invites,
//! changes roles and revokes. Every committed change is reported to the
//! [`AccessNotifier`](crate::access::AccessNotifier).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use quire_engine::{DocumentId, UserId};
use quire_storage::{Role, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::views::{Collaborator, GrantRole};
use crate::access::{require_role, visible_role};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorBody, Invalid, not_found_as};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::validate;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_collaborators, invite))
        .routes(routes!(change_role, revoke))
}

const OWNER_ONLY: &str = "only the owner can change who has access";

#[derive(Serialize, ToSchema)]
pub struct CollaboratorList {
    /// Everyone with access, the owner included, ordered by username.
    pub collaborators: Vec<Collaborator>,
}

/// Whom to invite: exactly one of `userId` and `username`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InviteBody {
    pub user_id: Option<Uuid>,
    pub username: Option<String>,
    pub role: GrantRole,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    pub role: GrantRole,
}

/// Who has access to a document (any role may ask).
#[utoipa::path(get, path = "/documents/{id}/collaborators", tag = "sharing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id")),
    responses(
        (status = 200, description = "Everyone with access", body = CollaboratorList),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 404, description = "No such document, or not shared with the caller", body = ErrorBody),
    ))]
async fn list_collaborators(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<CollaboratorList>> {
    let id = DocumentId(id);
    visible_role(&*state.store, id, user.id).await?;
    let rows = state.store.collaborators(id).await?;
    Ok(Json(CollaboratorList {
        collaborators: rows.iter().map(|(u, r)| Collaborator::new(u, *r)).collect(),
    }))
}

async fn resolve_invitee(state: &AppState, body: &InviteBody) -> ApiResult<UserRecord> {
    let found = match (&body.user_id, &body.username) {
        (Some(id), None) => state.store.user_by_id(UserId(*id)).await?,
        (None, Some(name)) => state.store.user_by_name(validate::username(name)?).await?,
        _ => return Err(Invalid::InviteTarget.into()),
    };
    found.ok_or(ApiError::NotFound("no such user"))
}

/// Give a user `read` or `write` access (owner only). Inviting someone who
/// already has access changes their role (200).
#[utoipa::path(post, path = "/documents/{id}/collaborators", tag = "sharing", request_body = InviteBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id")),
    responses(
        (status = 201, description = "Access granted", body = Collaborator),
        (status = 200, description = "Existing collaborator's role changed", body = Collaborator),
        (status = 400, description = "Invalid body, or the target is the owner", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Caller is not the owner", body = ErrorBody),
        (status = 404, description = "No such document or user", body = ErrorBody),
    ))]
async fn invite(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<InviteBody>,
) -> ApiResult<(StatusCode, Json<Collaborator>)> {
    let id = DocumentId(id);
    require_role(&*state.store, id, user.id, Role::Owner, OWNER_ONLY).await?;
    let invitee = resolve_invitee(&state, &body).await?;
    let status = match state.store.role(id, invitee.id).await? {
        Some(Role::Owner) => return Err(Invalid::OwnerRole.into()),
        Some(_) => StatusCode::OK,
        None => StatusCode::CREATED,
    };
    let role = Role::from(body.role);
    grant(&state, id, invitee.id, role).await?;
    Ok((status, Json(Collaborator::new(&invitee, role))))
}

/// The ids of a role change or revocation, after checking that `caller` owns
/// the document (403) and that `target` is a non-owner collaborator (404
/// without a role, 400 for the owner).
async fn owner_and_collaborator(
    state: &AppState,
    caller: &AuthUser,
    doc: Uuid,
    target: Uuid,
) -> ApiResult<(DocumentId, UserId)> {
    let (doc, target) = (DocumentId(doc), UserId(target));
    require_role(&*state.store, doc, caller.id, Role::Owner, OWNER_ONLY).await?;
    match state.store.role(doc, target).await? {
        None => Err(ApiError::NotFound("no such collaborator")),
        Some(Role::Owner) => Err(Invalid::OwnerRole.into()),
        Some(_) => Ok((doc, target)),
    }
}

async fn grant(state: &AppState, doc: DocumentId, target: UserId, role: Role) -> ApiResult<()> {
    state
        .store
        .set_role(doc, target, role)
        .await
        .map_err(not_found_as("no such document"))?;
    state.access.access_changed(doc, target, Some(role)).await;
    tracing::info!(document = %doc, user = %target, role = role.as_str(), "access granted");
    Ok(())
}

/// Change a collaborator's role (owner only).
#[utoipa::path(patch, path = "/documents/{id}/collaborators/{userId}", tag = "sharing", request_body = RoleBody, security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id"), ("userId" = Uuid, Path, description = "Collaborator's user id")),
    responses(
        (status = 200, description = "Role changed", body = Collaborator),
        (status = 400, description = "Invalid body, or the target is the owner", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Caller is not the owner", body = ErrorBody),
        (status = 404, description = "No such document or collaborator", body = ErrorBody),
    ))]
async fn change_role(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath((id, target)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<RoleBody>,
) -> ApiResult<Json<Collaborator>> {
    let (id, target) = owner_and_collaborator(&state, &user, id, target).await?;
    let target_user = state
        .store
        .user_by_id(target)
        .await?
        .ok_or(ApiError::NotFound("no such collaborator"))?;
    let role = Role::from(body.role);
    grant(&state, id, target, role).await?;
    Ok(Json(Collaborator::new(&target_user, role)))
}

/// Revoke a collaborator's access (owner only). Their open sessions are closed.
#[utoipa::path(delete, path = "/documents/{id}/collaborators/{userId}", tag = "sharing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Document id"), ("userId" = Uuid, Path, description = "Collaborator's user id")),
    responses(
        (status = 204, description = "Access revoked"),
        (status = 400, description = "The target is the owner", body = ErrorBody),
        (status = 401, description = "Missing, invalid or expired token", body = ErrorBody),
        (status = 403, description = "Caller is not the owner", body = ErrorBody),
        (status = 404, description = "No such document or collaborator", body = ErrorBody),
    ))]
async fn revoke(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath((id, target)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let (id, target) = owner_and_collaborator(&state, &user, id, target).await?;
    state
        .store
        .revoke(id, target)
        .await
        .map_err(not_found_as("no such collaborator"))?;
    state.access.access_changed(id, target, None).await;
    tracing::info!(document = %id, user = %target, "access revoked");
    Ok(StatusCode::NO_CONTENT)
}
