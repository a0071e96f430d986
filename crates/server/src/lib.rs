//! # quire-server
//!
//! Quire's HTTP server: the REST API for accounts, documents and sharing
//! (JWT-authenticated, JSON everywhere, OpenAPI generated from the code), the
//! static web app, and (in `gateway`) the realtime WebSocket endpoint.
//!
//! Layout: [`config`] names every bound; [`state::AppState`] is what handlers
//! share; [`app::build_router`] assembles routes and middleware; [`api`] has one
//! module per resource; [`error::ApiError`] is the one error type and its one
//! mapping to HTTP; [`serve`] binds, prints the address and shuts down gracefully.
//! Auth decides who may touch a document, never how the document changes.

pub mod access;
pub mod api;
pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod error;
pub mod extract;
pub mod gateway;
pub mod pagination;
pub mod serve;
pub mod state;
pub mod validate;

pub use app::build_router;
pub use config::ServerConfig;
pub use state::AppState;
