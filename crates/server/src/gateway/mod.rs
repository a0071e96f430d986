//! The realtime gateway: `GET /api/ws`, the WebSocket endpoint of
//! docs/protocol.md.
//!
//! A traffic controller, not a brain: it authenticates the `join` frame with
//! the REST layer's token service, checks read access, joins the document's
//! owner in the collaboration core ([`quire_core::Hub`]) and then only
//! translates: client frames into [`quire_core::SessionHandle`] calls, and
//! [`quire_core::SessionEvent`]s into frames. It never mutates a document;
//! write permission, dedup, transform and ordering are the core's.
//!
//! Per connection: a reader loop (this task), a writer task behind a bounded
//! queue ([`writer`]), a token bucket ([`rate_limit`]) and a count of
//! unanswered submits. A client that lets the queue fill is told
//! `resync_required` and dropped; nothing it sends can crash the server.

mod config;
mod connection;
mod errors;
mod handshake;
mod notifier;
mod outbound;
mod rate_limit;
mod writer;

pub use config::GatewayConfig;
pub use notifier::HubAccessNotifier;

use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use quire_engine::DocumentId;
use serde::Deserialize;

use crate::extract::ApiQuery;
use crate::state::AppState;

/// The query of `/api/ws`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The document the connection will join, named in the URL so that a
    /// load balancer in front of several instances can send every client of
    /// a document to the same instance (docs/architecture.md, "Several
    /// instances"). The `join` frame must then name the same document.
    /// Only the id as the API writes it (lowercase, hyphenated) is taken:
    /// a balancer hashes the text, so every spelling must be the same one.
    #[serde(default, deserialize_with = "canonical_document")]
    pub document: Option<DocumentId>,
}

fn canonical_document<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DocumentId>, D::Error> {
    let text = String::deserialize(deserializer)?;
    let doc: DocumentId = text.parse().map_err(serde::de::Error::custom)?;
    if doc.to_string() != text {
        return Err(serde::de::Error::custom(format!(
            "write the document id as {doc} (lowercase, hyphenated)"
        )));
    }
    Ok(Some(doc))
}

/// The `/api/ws` handler: upgrades and serves one connection. A malformed
/// query is refused before the upgrade (400 `invalid_query`).
pub async fn upgrade(
    ws: WebSocketUpgrade,
    ApiQuery(route): ApiQuery<Route>,
    State(state): State<AppState>,
) -> Response {
    let limit = state.gateway.socket_message_limit();
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(state.gateway.socket_read_buffer_bytes)
        .on_upgrade(move |socket| connection::serve(socket, state, route.document))
}
