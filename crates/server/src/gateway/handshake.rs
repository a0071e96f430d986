//! The first frame: `join`. Verifies the token with the REST layer's
//! [`TokenService`](crate::auth::TokenService) (never logging it), checks
//! read access, and joins the document's owner in the core. Every failure is
//! a fatal typed error.

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use quire_core::{JoinRequest, Session};
use quire_engine::{DocumentId, UserId};
use quire_protocol::{
    ClientMessage, ErrorCode, ErrorFrame, PROTOCOL_VERSION, ServerMessage, WireLimits,
};

use super::errors;
use crate::error::AuthError;
use crate::state::AppState;

/// A successful join.
pub(crate) struct Joined {
    pub session: Session,
    pub user: UserId,
    /// The `joined` frame to send first.
    pub joined: ServerMessage,
}

fn fatal(code: ErrorCode, message: &str) -> ErrorFrame {
    ErrorFrame::new(code, message).fatal()
}

/// Reads the first frame and joins. The caller bounds the time it may take.
/// `routed_to` is the document the URL named: the `join` must name it too,
/// or the load balancer may have sent the client to the wrong instance.
pub(crate) async fn join(
    stream: &mut SplitStream<WebSocket>,
    state: &AppState,
    routed_to: Option<DocumentId>,
) -> Result<Joined, ErrorFrame> {
    let text = loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => break text,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                return Err(fatal(
                    ErrorCode::Malformed,
                    "binary frames are not accepted",
                ));
            }
            _ => {
                return Err(fatal(
                    ErrorCode::Unauthorized,
                    "the connection closed before `join`",
                ));
            }
        }
    };
    let join = match quire_protocol::decode_client_frame(&text, state.gateway.max_frame_bytes) {
        Ok(ClientMessage::Join(join)) => join,
        Ok(_) => {
            return Err(fatal(
                ErrorCode::Unauthorized,
                "the first frame must be `join`",
            ));
        }
        Err(error) => return Err(error.to_error_frame().fatal()),
    };
    if routed_to.is_some_and(|doc| doc != join.document_id) {
        return Err(fatal(
            ErrorCode::Malformed,
            "`join` names another document than the URL's `document`",
        ));
    }
    if join.protocol != PROTOCOL_VERSION {
        return Err(fatal(
            ErrorCode::Malformed,
            "unsupported protocol version (this server speaks 1)",
        ));
    }
    let user = state.tokens.verify(&join.token).map_err(|e| match e {
        AuthError::Expired => fatal(ErrorCode::Unauthorized, "the token has expired"),
        _ => fatal(
            ErrorCode::Unauthorized,
            "the token is missing, malformed or forged",
        ),
    })?;
    let unavailable = |_| {
        fatal(
            ErrorCode::Unavailable,
            "storage is unavailable; join again later",
        )
    };
    let Some(account) = state.store.user_by_id(user).await.map_err(unavailable)? else {
        return Err(fatal(
            ErrorCode::Unauthorized,
            "the token's user no longer exists",
        ));
    };
    let doc = join.document_id;
    let Some(role) = state.store.role(doc, user).await.map_err(unavailable)? else {
        return Err(fatal(ErrorCode::NotFound, "no such document"));
    };
    let session = state
        .hub
        .join(JoinRequest {
            doc,
            user,
            username: account.username.clone(),
            role,
            since: join.since.map(|since| since.seq),
            routed: routed_to.is_some(),
        })
        .await
        .map_err(|e| errors::core_error(&e).fatal())?;
    tracing::info!(%doc, %user, session = session.id.0, since = ?join.since, "joined");
    let limits = state.hub.config().limits;
    Ok(Joined {
        session,
        user,
        joined: ServerMessage::Joined {
            document_id: doc,
            user_id: user,
            username: account.username,
            role,
            limits: WireLimits {
                max_frame_bytes: state.gateway.max_frame_bytes,
                max_op_chars: limits.max_op_chars,
                max_document_chars: limits.max_document_chars,
            },
        },
    })
}
