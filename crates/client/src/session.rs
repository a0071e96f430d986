//! The background task: connect, join, follow the stream, send local edits
//! one at a time, reconnect with backoff. The rules it follows are those of
//! docs/protocol.md §5; the state they act on is [`DocState`].

use std::sync::Arc;
use std::time::Duration;

use quire_engine::client_op::ClientOp;
use quire_engine::limits::Limits;
use quire_protocol::{
    ClientMessage, ErrorCode, ErrorFrame, Join, PROTOCOL_VERSION, ServerMessage,
    decode_server_frame, encode_frame,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};

use crate::backoff::Backoff;
use crate::client::{ClientConfig, ClientEvent, Shared, Status};
use crate::doc_state::{Change, Desync, Rejection, SnapshotOutcome};
use crate::transport::{Connection, Connector, TransportError};

/// How one connection ended.
enum Outcome {
    /// Lost or abandoned; reconnect (with `since`).
    Lost { was_live: bool },
    /// Reconnect without `since` to get a snapshot.
    FreshSnapshot,
    /// The server refused us for good.
    Fatal(ErrorFrame),
    /// The application closed the client.
    Stopped,
}

pub(crate) async fn run(shared: Arc<Shared>, config: ClientConfig, connector: Arc<dyn Connector>) {
    let mut rng = StdRng::from_os_rng();
    let mut backoff = Backoff::new(config.backoff);
    let mut stop = shared.stop.subscribe();
    let mut fresh_snapshot = false;
    loop {
        if *stop.borrow() {
            break;
        }
        let attempt = tokio::select! {
            attempt = connector.connect(config.document_id) => attempt,
            _ = stop.changed() => break,
        };
        let outcome = match attempt {
            Ok(connection) => {
                shared.progress.send_modify(|p| p.connections += 1);
                let mut run = ConnectionRun::new(&shared, &config, connection);
                run.run(std::mem::take(&mut fresh_snapshot)).await
            }
            Err(error @ TransportError::Refused(_)) => {
                tracing::warn!(%error, "the server refused the connection; giving up");
                Outcome::Fatal(ErrorFrame::new(ErrorCode::Malformed, error.to_string()).fatal())
            }
            Err(error @ TransportError::Unreachable(_)) => {
                tracing::debug!(%error, "connect failed");
                Outcome::Lost { was_live: false }
            }
        };
        match outcome {
            Outcome::Stopped => break,
            Outcome::Fatal(error) => {
                shared.publish(Some(Status::Closed(Some(error.clone()))));
                shared.emit(ClientEvent::Status(Status::Closed(Some(error))));
                return;
            }
            Outcome::FreshSnapshot => fresh_snapshot = true,
            Outcome::Lost { was_live } => {
                if was_live {
                    backoff.reset();
                }
            }
        }
        shared.publish(Some(Status::Reconnecting));
        shared.emit(ClientEvent::Status(Status::Reconnecting));
        let delay = backoff.next_delay(&mut rng);
        tokio::select! {
            _ = sleep(delay) => {}
            _ = stop.changed() => break,
        }
    }
    shared.publish(Some(Status::Closed(None)));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitJoined,
    AwaitState,
    AwaitLive,
    Live,
}

struct ConnectionRun<'a> {
    shared: &'a Shared,
    config: &'a ClientConfig,
    out: mpsc::Sender<String>,
    incoming: mpsc::Receiver<String>,
    phase: Phase,
    retry_at: Option<Instant>,
}

/// Control flow out of a handler: keep going, or end the connection.
type Step = Result<(), Outcome>;

impl<'a> ConnectionRun<'a> {
    fn new(shared: &'a Shared, config: &'a ClientConfig, connection: Connection) -> Self {
        ConnectionRun {
            shared,
            config,
            out: connection.outgoing,
            incoming: connection.incoming,
            phase: Phase::AwaitJoined,
            retry_at: None,
        }
    }

    async fn run(&mut self, fresh_snapshot: bool) -> Outcome {
        self.shared.publish(Some(Status::Joining));
        let since = if fresh_snapshot {
            None
        } else {
            self.shared.state().since()
        };
        let join = ClientMessage::Join(Join {
            protocol: PROTOCOL_VERSION,
            token: self.config.token.clone(),
            document_id: self.config.document_id,
            since,
            client_name: self.config.client_name.clone(),
        });
        if let Err(outcome) = self.send(&join).await {
            return outcome;
        }
        let mut stop = self.shared.stop.subscribe();
        let mut ping = tokio::time::interval(self.config.ping_interval);
        ping.tick().await;
        let mut last_heard = Instant::now();
        loop {
            let far = Instant::now() + Duration::from_secs(3600);
            let step = tokio::select! {
                frame = self.incoming.recv() => match frame {
                    Some(text) => {
                        last_heard = Instant::now();
                        self.handle(&text).await
                    }
                    None => Err(self.lost()),
                },
                _ = self.shared.wake.notified() => self.flush().await,
                _ = ping.tick() => self.send(&ClientMessage::Ping { nonce: None }).await,
                _ = sleep_until(last_heard + self.config.silence_timeout) => Err(self.lost()),
                _ = sleep_until(self.retry_at.unwrap_or(far)), if self.retry_at.is_some() => {
                    self.retry_at = None;
                    self.resend().await
                }
                _ = self.shared.kick.notified() => Err(self.lost()),
                _ = stop.changed() => Err(Outcome::Stopped),
            };
            if let Err(outcome) = step {
                return self.last_words(outcome).await;
            }
        }
    }

    /// A connection found closed while sending may still hold the frames
    /// the server sent before closing it (typically the error saying why):
    /// the transport queues every frame it read before it stops, so they
    /// are all there. Handled, they surface the server's reason (a fatal
    /// one stops the client) instead of a bare reconnect. Handling a frame
    /// may try to send (the next op) and find the connection lost again;
    /// the frames after it still count.
    async fn last_words(&mut self, outcome: Outcome) -> Outcome {
        if !matches!(outcome, Outcome::Lost { .. }) {
            return outcome;
        }
        while let Ok(text) = self.incoming.try_recv() {
            match self.handle(&text).await {
                Ok(()) | Err(Outcome::Lost { .. }) => {}
                Err(last) => return last,
            }
        }
        outcome
    }

    fn lost(&self) -> Outcome {
        Outcome::Lost {
            was_live: self.phase == Phase::Live,
        }
    }

    async fn send(&self, message: &ClientMessage) -> Step {
        let text = encode_frame(message).map_err(|_| self.lost())?;
        self.out.send(text).await.map_err(|_| self.lost())
    }

    /// Sends the next local op and my cursor, when allowed.
    async fn flush(&mut self) -> Step {
        if self.phase != Phase::Live {
            return Ok(());
        }
        let (submit, presence) = {
            let mut state = self.shared.state();
            (state.take_submit(), state.presence_to_send())
        };
        if let Some(op) = submit {
            self.shared.publish(None);
            self.send(&ClientMessage::Submit { op }).await?;
        }
        if let Some((anchor, head, version)) = presence {
            self.send(&ClientMessage::Presence {
                anchor,
                head,
                version,
            })
            .await?;
        }
        Ok(())
    }

    async fn resend(&mut self) -> Step {
        let op: Option<ClientOp> = self.shared.state().resend();
        match op {
            Some(op) => self.send(&ClientMessage::Submit { op }).await,
            None => Ok(()),
        }
    }

    fn changed(&self, change: Change) {
        match change {
            Change::None => {}
            Change::Remote(op) => self.shared.emit(ClientEvent::Remote(op)),
            Change::Replaced => self.shared.emit(ClientEvent::Replaced),
            Change::Acked {
                operation_id,
                version,
                seq,
            } => self.shared.emit(ClientEvent::Acked {
                operation_id,
                version,
                seq,
            }),
        }
    }

    fn desync(&self, error: Desync) -> Outcome {
        tracing::debug!(%error, "reconnecting");
        match error {
            Desync::NeedFreshSnapshot => Outcome::FreshSnapshot,
            _ => self.lost(),
        }
    }

    async fn handle(&mut self, text: &str) -> Step {
        let message = match decode_server_frame(text, self.config.max_frame_bytes) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(%error, "bad frame from server");
                return Err(self.lost());
            }
        };
        match message {
            ServerMessage::Joined {
                user_id,
                role,
                limits,
                ..
            } => {
                if self.phase != Phase::AwaitJoined {
                    return Ok(());
                }
                self.shared.state().set_identity(
                    user_id,
                    Limits {
                        max_op_chars: limits.max_op_chars,
                        max_document_chars: limits.max_document_chars,
                    },
                );
                self.shared.progress.send_modify(|p| p.role = Some(role));
                self.phase = Phase::AwaitState;
            }
            ServerMessage::Snapshot {
                content,
                version,
                seq,
            } => {
                if self.phase != Phase::AwaitState {
                    return Ok(());
                }
                let outcome = self.shared.state().on_snapshot(&content, version, seq);
                self.phase = Phase::AwaitLive;
                self.send(&ClientMessage::SnapshotAck { seq }).await?;
                match outcome {
                    SnapshotOutcome::Applied(change) => self.changed(change),
                    SnapshotOutcome::ResendInFlight(op) => {
                        self.send(&ClientMessage::Submit { op }).await?
                    }
                }
            }
            ServerMessage::CatchUp { ops, .. } => {
                if self.phase != Phase::AwaitState {
                    return Ok(());
                }
                for entry in &ops {
                    let change = self.shared.state().on_entry(entry);
                    self.changed(change.map_err(|e| self.desync(e))?);
                }
                self.phase = Phase::AwaitLive;
                self.resend().await?;
            }
            ServerMessage::Live { .. } => {
                if self.phase == Phase::AwaitLive {
                    self.phase = Phase::Live;
                    self.shared.publish(Some(Status::Live));
                    self.shared.emit(ClientEvent::Status(Status::Live));
                }
            }
            ServerMessage::Ops { ops } => {
                for entry in &ops {
                    let change = self.shared.state().on_entry(entry);
                    self.changed(change.map_err(|e| self.desync(e))?);
                }
            }
            ServerMessage::Ack {
                operation_id,
                version,
                seq,
                ..
            } => {
                let change = self.shared.state().on_ack(&operation_id, version, seq);
                self.changed(change.map_err(|e| self.desync(e))?);
            }
            ServerMessage::Presence {
                users, session_id, ..
            } => {
                let mut state = self.shared.state();
                match (users, session_id) {
                    (Some(users), _) => state.on_presence_users(users),
                    (None, Some(session)) => state.on_presence_left(session),
                    (None, None) => {}
                }
                drop(state);
                self.shared.emit(ClientEvent::Presence);
            }
            ServerMessage::Error(error) => self.on_error(error)?,
            ServerMessage::Pong { .. } => {}
        }
        self.shared.publish(None);
        self.flush().await
    }

    fn on_error(&mut self, error: ErrorFrame) -> Step {
        if let Some(id) = &error.operation_id {
            if error.retryable {
                self.retry_at = Some(Instant::now() + self.config.retry_delay);
            } else {
                let rejection = match error.code {
                    ErrorCode::ResyncRequired => Rejection::RetryAsNew,
                    ErrorCode::OutcomeUnknown => Rejection::OutcomeUnknown,
                    _ => Rejection::Undo,
                };
                let change = self.shared.state().on_rejected(id, rejection);
                self.changed(change);
            }
        }
        self.shared.emit(ClientEvent::Error(error.clone()));
        if !error.fatal {
            return Ok(());
        }
        match error.code {
            ErrorCode::Unauthorized | ErrorCode::Forbidden | ErrorCode::NotFound => {
                Err(Outcome::Fatal(error))
            }
            _ => Err(self.lost()),
        }
    }
}
