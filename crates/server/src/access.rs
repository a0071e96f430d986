//! Who may do what with a document, and the single place that hears about
//! access changes.
//!
//! Rules: a caller without any role on a document gets 404 (a stranger cannot
//! learn that it exists); a caller with a role below the one required gets 403.
//!
//! [`AccessNotifier`] is called after every access change and document
//! deletion has been committed to storage, so the realtime layer can drop
//! revoked sessions at once instead of when they next reconnect.

use async_trait::async_trait;
use quire_engine::{DocumentId, UserId};
use quire_storage::{Role, Store};

use crate::error::{ApiError, ApiResult};

/// Hears about committed access changes. The REST layer calls it; the realtime
/// gateway implements it (with the collaboration hub). Implementations must
/// not fail the request: they run after the change is already durable.
#[async_trait]
pub trait AccessNotifier: Send + Sync + 'static {
    /// `user`'s role on `doc` is now `role` (`None`: revoked).
    async fn access_changed(&self, doc: DocumentId, user: UserId, role: Option<Role>);
    /// `doc` and all of its access rules were deleted.
    async fn document_deleted(&self, doc: DocumentId);
}

/// The caller's role on `doc`; 404 without any (strangers cannot tell a
/// document they may not see from one that does not exist).
pub async fn visible_role(store: &dyn Store, doc: DocumentId, user: UserId) -> ApiResult<Role> {
    store
        .role(doc, user)
        .await?
        .ok_or(ApiError::NotFound("no such document"))
}

/// The caller's role on `doc` if it is at least `needed`: 404 without any
/// role, 403 (saying `forbidden`) with too low a role.
pub async fn require_role(
    store: &dyn Store,
    doc: DocumentId,
    user: UserId,
    needed: Role,
    forbidden: &'static str,
) -> ApiResult<Role> {
    let role = visible_role(store, doc, user).await?;
    if role < needed {
        return Err(ApiError::Forbidden(forbidden));
    }
    Ok(role)
}
