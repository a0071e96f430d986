//! The REST API, one module per resource. Every route is declared with
//! `#[utoipa::path]` and registered through `routes!`, so the OpenAPI document
//! is generated from the same declarations that route requests.

pub mod auth;
pub mod collaborators;
pub mod documents;
pub mod openapi;
pub mod users;
pub mod views;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every REST route, relative to `/api`. New resources (e.g. the realtime
/// gateway's `/ws`) are merged here.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(users::router())
        .merge(documents::router())
        .merge(collaborators::router())
        .merge(openapi::router())
}
