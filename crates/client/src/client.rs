//! The application-facing handle: edit the local text, read it, watch the
//! connection, follow other users' cursors. The protocol work happens in a
//! background task ([`crate::session`]); both share the [`DocState`] behind a
//! mutex held only for short, non-async sections.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use quire_engine::client_op::Edit;
use quire_engine::limits::Limits;
use quire_engine::op::TextOp;
use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, Text};
use quire_protocol::{ErrorFrame, PresenceUser, Role};
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;

use crate::backoff::BackoffConfig;
use crate::doc_state::{DocState, EditError};
use crate::session;
use crate::transport::Connector;

/// How a client connects and how patient it is. Every queue and timer is here.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The JWT from `POST /api/auth/login`.
    pub token: String,
    pub document_id: DocumentId,
    pub client_name: Option<String>,
    pub backoff: BackoffConfig,
    /// A `ping` is sent this often (docs/protocol.md §7: 15 s).
    pub ping_interval: Duration,
    /// This long without any frame means the connection is dead (30 s).
    pub silence_timeout: Duration,
    /// Wait before resending an op refused with a retryable error.
    pub retry_delay: Duration,
    /// Largest frame accepted from the server.
    pub max_frame_bytes: usize,
    /// Events buffered for each subscriber; a slow subscriber sees `Lagged`.
    pub event_capacity: usize,
}

impl ClientConfig {
    pub fn new(token: impl Into<String>, document_id: DocumentId) -> ClientConfig {
        ClientConfig {
            token: token.into(),
            document_id,
            client_name: Some("quire-client".into()),
            backoff: BackoffConfig::default(),
            ping_interval: Duration::from_secs(15),
            silence_timeout: Duration::from_secs(30),
            retry_delay: Duration::from_millis(100),
            max_frame_bytes: 64 << 20,
            event_capacity: 1024,
        }
    }
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Connecting,
    /// Connected, between `join` and `live`.
    Joining,
    Live,
    /// Disconnected; a reconnect attempt is scheduled.
    Reconnecting,
    /// Given up: the server refused us for good (or the client was closed).
    Closed(Option<ErrorFrame>),
}

/// A summary of the client's state, observable with [`Client::progress`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub status: Status,
    pub version: DocVersion,
    pub seq: SeqId,
    /// Local edits not yet acknowledged.
    pub unacked: bool,
    /// Role from the last `joined`.
    pub role: Option<Role>,
    /// Connections opened so far.
    pub connections: u64,
}

/// What happened, for an application that renders the text.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// A remote op, as applied to the local text.
    Remote(TextOp),
    /// The whole local text changed (first load, resync, refused op undone):
    /// re-read [`Client::text`].
    Replaced,
    Acked {
        operation_id: OperationId,
        version: DocVersion,
        seq: SeqId,
    },
    /// The server refused one of our ops (it was undone locally) or sent an error.
    Error(ErrorFrame),
    /// Other users' cursors changed: re-read [`Client::cursors`].
    Presence,
    Status(Status),
}

/// Why waiting on the client failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("the client is closed: {0:?}")]
    Closed(Option<ErrorFrame>),
}

pub(crate) struct Shared {
    pub state: Mutex<DocState>,
    /// Local work to send (an edit, a cursor move).
    pub wake: Notify,
    /// Drop the current connection now (tests, network-change hooks).
    pub kick: Notify,
    pub progress: watch::Sender<Progress>,
    pub events: broadcast::Sender<ClientEvent>,
    pub stop: watch::Sender<bool>,
}

impl Shared {
    pub fn state(&self) -> MutexGuard<'_, DocState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn emit(&self, event: ClientEvent) {
        // No subscriber is fine: events are for applications that want them.
        let _ = self.events.send(event);
    }

    /// Refreshes the observable progress from the state.
    pub fn publish(&self, status: Option<Status>) {
        let (version, seq, unacked) = {
            let state = self.state();
            (state.version(), state.seq(), state.has_unacked())
        };
        // Watchers wake only on a real change.
        self.progress.send_if_modified(|p| {
            let before = (p.version, p.seq, p.unacked);
            p.version = version;
            p.seq = seq;
            p.unacked = unacked;
            let status_changed = status.as_ref().is_some_and(|s| *s != p.status);
            if let Some(status) = status {
                p.status = status;
            }
            status_changed || before != (version, seq, unacked)
        });
    }
}

/// A connected document. Dropping it stops the background task.
pub struct Client {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Client {
    /// Starts connecting in the background (inside a tokio runtime).
    pub fn start(config: ClientConfig, connector: Arc<dyn Connector>) -> Client {
        let (progress, _) = watch::channel(Progress {
            status: Status::Connecting,
            version: DocVersion(0),
            seq: SeqId(0),
            unacked: false,
            role: None,
            connections: 0,
        });
        let (events, _) = broadcast::channel(config.event_capacity.max(1));
        let (stop, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(DocState::new(Limits::default())),
            wake: Notify::new(),
            kick: Notify::new(),
            progress,
            events,
            stop,
        });
        let task = tokio::spawn(session::run(shared.clone(), config, connector));
        Client { shared, task }
    }

    /// Applies an edit (insert/delete/replace/compound, in local-text code
    /// points) locally and queues it for the server.
    pub fn edit(&self, edit: &Edit) -> Result<(), EditError> {
        let op = {
            let state = self.shared.state();
            edit.to_text_op(&state.limits())?
        };
        self.apply(op)
    }

    pub fn insert(&self, position: usize, text: &str) -> Result<(), EditError> {
        self.edit(&Edit::Insert {
            position,
            text: text.into(),
        })
    }

    pub fn delete(&self, position: usize, length: usize) -> Result<(), EditError> {
        self.edit(&Edit::Delete { position, length })
    }

    pub fn replace(&self, position: usize, length: usize, text: &str) -> Result<(), EditError> {
        self.edit(&Edit::Replace {
            position,
            length,
            text: text.into(),
        })
    }

    /// Builds an edit from the local text and applies it, atomically: no
    /// remote op can move the text between reading it and editing it.
    /// `make` returning `None` edits nothing.
    pub fn edit_with(&self, make: impl FnOnce(&Text) -> Option<Edit>) -> Result<(), EditError> {
        {
            let mut state = self.shared.state();
            let Some(edit) = make(state.text()) else {
                return Ok(());
            };
            let op = edit.to_text_op(&state.limits())?;
            state.local_edit(op)?;
        }
        self.shared.publish(None);
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Applies an op in component form locally and queues it.
    pub fn apply(&self, op: TextOp) -> Result<(), EditError> {
        self.shared.state().local_edit(op)?;
        self.shared.publish(None);
        self.shared.wake.notify_one();
        Ok(())
    }

    /// The local text (server state plus unacknowledged local edits).
    pub fn text(&self) -> String {
        self.shared.state().text().to_string()
    }

    /// Length of the local text in code points.
    pub fn len_chars(&self) -> usize {
        self.shared.state().text().len_chars()
    }

    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.shared.progress.subscribe()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ClientEvent> {
        self.shared.events.subscribe()
    }

    /// Sets my cursor/selection (local-text code points); announced to
    /// others once the server has acknowledged my edits.
    pub fn set_cursor(&self, anchor: usize, head: usize) {
        self.shared.state().set_cursor(anchor, head);
        self.shared.wake.notify_one();
    }

    /// Other sessions' cursors, in local-text code points.
    pub fn cursors(&self) -> Vec<PresenceUser> {
        self.shared.state().cursors()
    }

    /// Drops the current connection; the client reconnects as after a
    /// network failure.
    pub fn drop_connection(&self) {
        self.shared.kick.notify_one();
    }

    /// Waits until the client is live.
    pub async fn wait_live(&self) -> Result<(), ClientError> {
        self.wait_for(|p| p.status == Status::Live).await
    }

    /// Waits until the client is live and every local edit is acknowledged.
    pub async fn wait_synced(&self) -> Result<(), ClientError> {
        self.wait_for(|p| p.status == Status::Live && !p.unacked)
            .await
    }

    async fn wait_for(&self, done: impl Fn(&Progress) -> bool) -> Result<(), ClientError> {
        let mut rx = self.shared.progress.subscribe();
        let result = rx
            .wait_for(|p| done(p) || matches!(p.status, Status::Closed(_)))
            .await
            .map(|p| p.clone());
        match result {
            Ok(Progress {
                status: Status::Closed(reason),
                ..
            }) => Err(ClientError::Closed(reason)),
            Ok(_) => Ok(()),
            Err(_) => Err(ClientError::Closed(None)),
        }
    }

    /// Stops the client and waits for its task to end.
    pub async fn close(mut self) {
        self.shared.stop.send_replace(true);
        let _ = (&mut self.task).await;
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shared.stop.send_replace(true);
    }
}
