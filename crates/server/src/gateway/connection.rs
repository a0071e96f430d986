//! One WebSocket connection from `join` to close: the reader loop.
//!
//! The loop waits on three things: a client frame (decoded strictly, turned
//! into a [`SessionHandle`] call), session events from the core (turned into
//! frames by [`FrameBatch`], draining every event already queued so that one
//! wakeup sends one `ops` frame), and the idle timer.

use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use quire_core::{SessionEvent, SessionHandle};
use quire_engine::DocumentId;
use quire_protocol::{
    ClientMessage, ErrorCode, ErrorFrame, FrameError, ServerMessage, decode_client_frame,
    encode_frame,
};
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep, sleep};

use super::errors;
use super::handshake;
use super::outbound::{FrameBatch, Next};
use super::rate_limit::TokenBucket;
use super::writer::Writer;
use crate::state::AppState;

/// Serves one upgraded socket until it closes.
/// `routed_to` is the document the URL named, if any.
pub(crate) async fn serve(socket: WebSocket, state: AppState, routed_to: Option<DocumentId>) {
    let (sink, mut stream) = socket.split();
    let writer = Writer::spawn(sink, state.gateway.outbound_queue_frames);
    let joined = tokio::time::timeout(
        state.gateway.join_timeout,
        handshake::join(&mut stream, &state, routed_to),
    )
    .await;
    let joined = match joined {
        Ok(Ok(joined)) => joined,
        Ok(Err(error)) => return writer.finish(error_text(error)).await,
        Err(_) => {
            let error =
                ErrorFrame::new(ErrorCode::Unauthorized, "no `join` within the join timeout")
                    .fatal();
            return writer.finish(error_text(error)).await;
        }
    };
    let Ok(joined_frame) = encode_frame(&joined.joined) else {
        return writer.finish(None).await;
    };
    if writer.push(joined_frame).is_err() {
        return writer.finish(None).await;
    }
    let mut connection = Connection {
        handle: joined.session.handle,
        bucket: TokenBucket::new(
            state.gateway.rate_limit_per_sec,
            state.gateway.rate_limit_burst,
        ),
        unanswered: 0,
        writer: &writer,
        state: &state,
    };
    let last = connection.run(&mut stream, joined.session.events).await;
    tracing::info!(user = %joined.user, session = joined.session.id.0, reason = ?last.as_ref().map(|e| e.code), "connection closed");
    writer.finish(last.and_then(error_text)).await;
}

fn error_text(error: ErrorFrame) -> Option<String> {
    encode_frame(&ServerMessage::Error(error)).ok()
}

struct Connection<'a> {
    handle: SessionHandle,
    bucket: TokenBucket,
    /// Submits forwarded to the core and not answered yet.
    unanswered: usize,
    writer: &'a Writer,
    state: &'a AppState,
}

/// Why the loop ends: `Some(error)` to send before closing.
type End = Option<ErrorFrame>;

impl Connection<'_> {
    async fn run(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
        mut events: mpsc::Receiver<SessionEvent>,
    ) -> End {
        let idle = self.state.gateway.idle_timeout;
        let idle_timer = sleep(idle);
        tokio::pin!(idle_timer);
        // Waiting events go first: a poll of the socket that finds no frame
        // still costs a read attempt (the WebSocket layer zero-fills its read
        // buffer first), and a document's delivery round wakes every
        // connection at once. After a full batch the socket goes first once,
        // so a flood of events cannot starve the client's own frames.
        let mut socket_first = false;
        loop {
            let step = if socket_first {
                socket_first = false;
                tokio::select! {
                    biased;
                    message = stream.next() => self.on_message(message, idle_timer.as_mut(), idle).await,
                    event = events.recv() => self.on_events(event, &mut events, &mut socket_first),
                    _ = &mut idle_timer => Err(idle_timeout()),
                }
            } else {
                tokio::select! {
                    biased;
                    event = events.recv() => self.on_events(event, &mut events, &mut socket_first),
                    message = stream.next() => self.on_message(message, idle_timer.as_mut(), idle).await,
                    _ = &mut idle_timer => Err(idle_timeout()),
                }
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    fn push(&self, frame: String) -> Result<(), End> {
        self.writer.push(frame).map_err(|_| {
            Some(
                ErrorFrame::new(
                    ErrorCode::ResyncRequired,
                    "the client fell too far behind; join again",
                )
                .fatal(),
            )
        })
    }

    fn push_message(&self, message: &ServerMessage) -> Result<(), End> {
        match encode_frame(message) {
            Ok(frame) => self.push(frame),
            Err(_) => Err(Some(
                ErrorFrame::new(ErrorCode::Internal, "cannot encode a frame").fatal(),
            )),
        }
    }

    fn push_error(&self, error: ErrorFrame) -> Result<(), End> {
        if error.fatal {
            return Err(Some(error));
        }
        self.push_message(&ServerMessage::Error(error))
    }

    /// Turns `first` and every event already queued behind it (up to
    /// `max_events_per_wakeup`) into frames; sets `more` when it stopped at
    /// that bound.
    fn on_events(
        &mut self,
        first: Option<SessionEvent>,
        events: &mut mpsc::Receiver<SessionEvent>,
        more: &mut bool,
    ) -> Result<(), End> {
        let Some(first) = first else {
            return Err(Some(errors::closed(&quire_core::CloseReason::Unavailable)));
        };
        let mut batch = FrameBatch::new(self.handle.id(), self.state.gateway.max_ops_per_frame);
        let mut next = batch.add(first);
        let mut taken = 1;
        while matches!(next, Next::Continue) {
            if taken >= self.state.gateway.max_events_per_wakeup {
                *more = true;
                break;
            }
            match events.try_recv() {
                Ok(event) => next = batch.add(event),
                Err(_) => break,
            }
            taken += 1;
        }
        batch.flush_ops();
        self.unanswered = self.unanswered.saturating_sub(batch.answered);
        for frame in batch.frames {
            self.push(frame)?;
        }
        match next {
            Next::Continue => Ok(()),
            Next::Close(error) => Err(Some(error)),
        }
    }

    /// Handles one client frame; any frame (even a ping) restarts the idle timer.
    async fn on_message(
        &mut self,
        message: Option<Result<Message, axum::Error>>,
        idle_timer: Pin<&mut Sleep>,
        idle: Duration,
    ) -> Result<(), End> {
        idle_timer.reset(Instant::now() + idle);
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                return self.push_error(FrameError::Binary.to_error_frame());
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => return Ok(()),
            Some(Ok(Message::Close(_))) | None => return Err(None),
            Some(Err(error)) => return Err(read_error(error, self.state.gateway.max_frame_bytes)),
        };
        let message = match decode_client_frame(&text, self.state.gateway.max_frame_bytes) {
            Ok(message) => message,
            Err(error) => return self.push_error(error.to_error_frame()),
        };
        match message {
            ClientMessage::Join(_) => self.push_error(ErrorFrame::new(
                ErrorCode::Malformed,
                "already joined: one connection edits one document",
            )),
            ClientMessage::SnapshotAck { seq } => match self.handle.snapshot_ack(seq).await {
                Ok(()) => Ok(()),
                Err(error) => self.push_error(errors::core_error(&error)),
            },
            ClientMessage::Submit { op } => {
                let id = op.operation_id.clone();
                if self.unanswered >= self.state.gateway.max_unacked_submits {
                    return self.push_error(
                        ErrorFrame::new(ErrorCode::RateLimited, "too many unacknowledged submits")
                            .with_operation(Some(id)),
                    );
                }
                if !self.bucket.take(Instant::now()) {
                    return self.push_error(
                        ErrorFrame::new(ErrorCode::RateLimited, "too many ops per second")
                            .with_operation(Some(id)),
                    );
                }
                match self.handle.submit(op) {
                    Ok(()) => {
                        self.unanswered += 1;
                        Ok(())
                    }
                    Err(error) => {
                        self.push_error(errors::core_error(&error).with_operation(Some(id)))
                    }
                }
            }
            ClientMessage::Presence {
                anchor,
                head,
                version,
            } => {
                let to_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
                self.handle.presence(to_u64(anchor), to_u64(head), version);
                Ok(())
            }
            ClientMessage::Ping { nonce } => self.push_message(&ServerMessage::Pong { nonce }),
        }
    }
}

fn idle_timeout() -> End {
    Some(
        ErrorFrame::new(
            ErrorCode::Unavailable,
            "idle timeout: no frame for too long",
        )
        .fatal(),
    )
}

/// A socket read failed: an oversized frame gets its typed error; anything
/// else just ends the connection.
fn read_error(error: axum::Error, max_frame_bytes: usize) -> End {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let inner = error.into_inner();
    match inner.downcast_ref::<WsError>() {
        Some(WsError::Capacity(_)) => Some(
            ErrorFrame::new(
                ErrorCode::TooLarge,
                format!("frame exceeds the limit of {max_frame_bytes} bytes"),
            )
            .fatal(),
        ),
        _ => None,
    }
}
