//! Assembles the HTTP application: the REST API under `/api`, its OpenAPI
//! document, JSON answers for unknown API paths and wrong methods, the body
//! limit, per-request logs, and (optionally) the built web app with SPA
//! fallback to `index.html` for every non-API path.

use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::response::Response;
use axum::routing::any;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;
use tracing::Span;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::api;
use crate::api::openapi::{ApiDoc, OpenApiJson};
use crate::error::ApiError;
use crate::state::AppState;

/// The whole application. `web_dir`, if given, must hold the built web app.
pub fn build_router(state: AppState, web_dir: Option<&Path>) -> Router {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api", api::router())
        .split_for_parts();
    // Serialising a generated OpenAPI document cannot fail.
    let doc_json = OpenApiJson(Bytes::from(doc.to_json().unwrap_or_default()));

    let router = router
        .route("/api/ws", axum::routing::get(crate::gateway::upgrade))
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .method_not_allowed_fallback(method_not_allowed);
    let router = match web_dir {
        Some(dir) => router
            .fallback_service(ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")))),
        None => router.fallback(api_not_found),
    };
    router
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(axum::Extension(doc_json))
        .layer(
            TraceLayer::new_for_http()
                // Method and path only: query strings and headers may carry secrets.
                .make_span_with(|req: &Request| {
                    tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _span: &Span| {
                    tracing::info!(status = res.status().as_u16(), micros = latency.as_micros() as u64, "response");
                }),
        )
        .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION, COOKIE]))
        .with_state(state)
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("no such API endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
