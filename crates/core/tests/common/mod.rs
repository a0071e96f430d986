//! Shared test harness: stores on every available backend, users and
//! documents, op builders. Each test runs once per backend (SQLite always,
//! PostgreSQL when `QUIRE_TEST_DATABASE_URL` is set).
#![allow(dead_code)] // each test file uses part of the harness

pub mod gated_store;

use quire_core::{CoreConfig, Hub, SessionEvent};
use quire_engine::client_op::{ClientOp, Edit};
use quire_engine::{DocVersion, DocumentId, OperationId, UserId};
use quire_storage::testing::{fresh_postgres, fresh_sqlite, postgres_url};
use quire_storage::{NewDocument, NewUser, Role, Store};
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::mpsc;

/// A store on one backend, with whatever keeps it alive.
pub struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    pub dir: Option<TempDir>,
}

/// Fresh, empty stores: SQLite, plus PostgreSQL when configured.
pub async fn backends() -> Vec<Backend> {
    let (store, dir) = fresh_sqlite();
    let mut all = vec![Backend {
        name: "sqlite",
        store,
        dir: Some(dir),
    }];
    if let Some(url) = postgres_url() {
        all.push(Backend {
            name: "postgres",
            store: fresh_postgres(&url).await,
            dir: None,
        });
    }
    all
}

pub async fn user(store: &dyn Store, name: &str) -> UserId {
    let id = UserId::new_random();
    store
        .create_user(NewUser {
            id,
            username: format!("{name}-{}", &id.to_string()[..8]),
            password_hash: "$argon2id$unused".into(),
            created_at_ms: 0,
        })
        .await
        .expect("create user");
    id
}

pub async fn document(store: &dyn Store, owner: UserId) -> DocumentId {
    let id = DocumentId::new_random();
    store
        .create_document(NewDocument {
            id,
            title: "test".into(),
            owner,
            created_at_ms: 0,
        })
        .await
        .expect("create document");
    id
}

/// A document owned by a fresh user: (doc, owner).
pub async fn owned_document(store: &dyn Store) -> (DocumentId, UserId) {
    let owner = user(store, "owner").await;
    (document(store, owner).await, owner)
}

pub async fn share(store: &dyn Store, doc: DocumentId, user: UserId, role: Role) {
    store.set_role(doc, user, role).await.expect("set role");
}

pub fn op(user: UserId, id: &str, base: u64, edit: Edit) -> ClientOp {
    ClientOp {
        operation_id: OperationId::parse(id).expect("valid id"),
        user_id: user,
        base_version: DocVersion(base),
        edit,
    }
}

pub fn insert(user: UserId, id: &str, base: u64, position: usize, text: &str) -> ClientOp {
    op(
        user,
        id,
        base,
        Edit::Insert {
            position,
            text: text.into(),
        },
    )
}

pub fn delete(user: UserId, id: &str, base: u64, position: usize, length: usize) -> ClientOp {
    op(user, id, base, Edit::Delete { position, length })
}

pub fn small_config() -> CoreConfig {
    CoreConfig {
        idle_unload_after: Duration::from_secs(3600),
        ..CoreConfig::default()
    }
}

pub fn hub(store: &Arc<dyn Store>, config: CoreConfig) -> Hub {
    Hub::start(Arc::clone(store), config).expect("a valid core configuration")
}

/// The next event, failing the test if none comes within 5 s.
pub async fn next_event(events: &mut mpsc::Receiver<SessionEvent>) -> SessionEvent {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("timed out waiting for a session event")
        .expect("session event channel closed")
}

/// Asserts no event arrives within `ms` milliseconds.
pub async fn no_event_within(events: &mut mpsc::Receiver<SessionEvent>, ms: u64) {
    if let Ok(ev) = tokio::time::timeout(Duration::from_millis(ms), events.recv()).await {
        panic!("unexpected event: {ev:?}");
    }
}

/// Joins and completes the handshake (snapshot, ack, live). Returns the
/// session and the snapshot's content and seq.
pub async fn join_live(
    hub: &Hub,
    doc: DocumentId,
    user: UserId,
    role: Role,
) -> (quire_core::Session, String, quire_engine::SeqId) {
    let mut session = hub
        .join(quire_core::JoinRequest {
            doc,
            user,
            username: "someone".into(),
            role,
            since: None,
            routed: false,
        })
        .await
        .expect("join");
    let (content, seq) = match next_event(&mut session.events).await {
        SessionEvent::Snapshot { content, seq, .. } => (content.to_string(), seq),
        other => panic!("expected a snapshot, got {other:?}"),
    };
    session
        .handle
        .snapshot_ack(seq)
        .await
        .expect("snapshot ack");
    match next_event(&mut session.events).await {
        SessionEvent::Live { seq: live } => assert_eq!(live, seq),
        other => panic!("expected live, got {other:?}"),
    }
    (session, content, seq)
}

/// The committed entries of the next event, which must be `Committed`.
pub async fn next_committed(
    events: &mut mpsc::Receiver<SessionEvent>,
) -> Vec<std::sync::Arc<quire_core::CommittedOp>> {
    match next_event(events).await {
        SessionEvent::Committed(ops) => ops.to_vec(),
        other => panic!("expected committed ops, got {other:?}"),
    }
}
