//! Shared harness of the realtime tests: the real router on 127.0.0.1:0 over
//! a fresh SQLite store (via `common::TestServer`), raw WebSocket connections
//! for frame-exact tests, SDK clients (optionally fault-injected), and the
//! stored-log checks that prove every op was applied exactly once.
#![allow(dead_code)] // each test file uses its own subset

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use quire_client::{Client, ClientConfig, Connector, FaultPlan, FaultyConnector, WsConnector};
use quire_core::{CoreConfig, Hub};
use quire_engine::{DocumentId, Text};
use quire_server::gateway::GatewayConfig;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::{Backend, TestServer, User, test_config};

/// How long a test waits for one expected frame.
pub const FRAME_WAIT: Duration = Duration::from_secs(5);

pub async fn start() -> TestServer {
    start_with(CoreConfig::default(), GatewayConfig::default()).await
}

pub async fn start_with(core: CoreConfig, gateway: GatewayConfig) -> TestServer {
    TestServer::start_with(&Backend::Sqlite, test_config(), None, move |state| {
        let hub = Hub::start(state.store.clone(), core).expect("a valid core configuration");
        state.with_hub(hub).with_gateway_config(gateway)
    })
    .await
}

pub fn ws_url(server: &TestServer) -> String {
    format!("{}/api/ws", server.base.replacen("http://", "ws://", 1))
}

pub fn doc_id(doc: &str) -> DocumentId {
    doc.parse().expect("document id")
}

/// A raw WebSocket for frame-exact assertions.
pub struct RawWs {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl RawWs {
    pub async fn connect(server: &TestServer) -> RawWs {
        RawWs::connect_to(&ws_url(server)).await
    }

    pub async fn connect_to(url: &str) -> RawWs {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("ws connect");
        RawWs { ws }
    }

    /// Connects and joins `doc` as `user`; returns the `joined` frame.
    pub async fn join(
        server: &TestServer,
        user: &User,
        doc: &str,
        since: Option<(u64, u64)>,
    ) -> (RawWs, Value) {
        let mut ws = RawWs::connect(server).await;
        let mut join =
            json!({"type": "join", "protocol": 1, "token": user.token, "documentId": doc});
        if let Some((version, seq)) = since {
            join["since"] = json!({"version": version, "seq": seq});
        }
        ws.send(join).await;
        let joined = ws.recv().await;
        assert_eq!(joined["type"], "joined", "{joined}");
        (ws, joined)
    }

    pub async fn send(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::text(text.to_owned()))
            .await
            .expect("ws send");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::binary(bytes)).await.expect("ws send");
    }

    /// The next text frame, as JSON (panics after [`FRAME_WAIT`] or on close).
    pub async fn recv(&mut self) -> Value {
        self.try_recv(FRAME_WAIT)
            .await
            .expect("expected a frame, the socket closed or timed out")
    }

    /// The next text frame within `wait`, `None` on close or timeout.
    pub async fn try_recv(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(wait, self.ws.next()).await.ok()??;
            match message {
                Ok(Message::Text(text)) => {
                    return Some(
                        serde_json::from_str(text.as_str()).expect("server frame is JSON"),
                    );
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// The next frame of type `kind`, skipping presence and pong frames.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == kind {
                return frame;
            }
            assert!(
                frame["type"] == "presence" || frame["type"] == "pong",
                "expected {kind}, got {frame}"
            );
        }
    }

    /// Asserts the server closes the socket (after any frames) within `wait`.
    pub async fn expect_closed(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.ws.next()).await {
                Err(_) => panic!("socket still open after {wait:?}"),
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Joins without `since` and completes the snapshot handshake; returns
    /// the snapshot frame.
    pub async fn join_live(server: &TestServer, user: &User, doc: &str) -> (RawWs, Value) {
        let (mut ws, _) = RawWs::join(server, user, doc, None).await;
        let snapshot = ws.recv_type("snapshot").await;
        ws.send(json!({"type": "snapshotAck", "seq": snapshot["seq"]}))
            .await;
        ws.recv_type("live").await;
        (ws, snapshot)
    }
}

/// A submit frame inserting `text` at `position`.
pub fn insert_frame(user: &User, id: &str, base: u64, position: u64, text: &str) -> Value {
    json!({"type": "submit", "op": {"operationId": id, "userId": user.id, "baseVersion": base,
           "type": "insert", "position": position, "text": text}})
}

/// An SDK client for `user` on `doc`, over a real socket.
pub fn client(server: &TestServer, user: &User, doc: &str) -> Client {
    client_via(
        server,
        user,
        doc,
        Arc::new(WsConnector::new(ws_url(server), 64 << 20)),
    )
}

/// An SDK client whose connections go through fault injection.
pub fn faulty_client(
    server: &TestServer,
    user: &User,
    doc: &str,
    plan: FaultPlan,
    seed: u64,
) -> Client {
    let connector = FaultyConnector::new(WsConnector::new(ws_url(server), 64 << 20), plan, seed);
    client_via(server, user, doc, Arc::new(connector))
}

pub fn client_via(
    _server: &TestServer,
    user: &User,
    doc: &str,
    connector: Arc<dyn Connector>,
) -> Client {
    let mut config = ClientConfig::new(user.token.clone(), doc_id(doc));
    config.backoff.initial = Duration::from_millis(20);
    config.backoff.max = Duration::from_millis(200);
    config.retry_delay = Duration::from_millis(20);
    Client::start(config, connector)
}

/// A core that never prunes its log in these tests (so "exactly once" can
/// be checked against every op ever applied).
pub fn unpruned_core() -> CoreConfig {
    CoreConfig {
        retention_ops: 1 << 40,
        // The dedup horizon may never pass the rebase horizon.
        registry_retention_ops: 1 << 40,
        ..CoreConfig::default()
    }
}

/// The stored log of `doc` replayed from scratch (the log must be unpruned);
/// asserts contiguous seqs and versions and that no (user, operationId)
/// appears twice. Returns the text and the number of ops.
pub async fn replay_stored_log(server: &TestServer, doc: &str) -> (String, usize) {
    let audit = server
        .state
        .store
        .audit_document(doc_id(doc))
        .await
        .expect("audit");
    assert_eq!(
        audit.pruned_through.0, 0,
        "these tests expect an unpruned log"
    );
    let mut text = Text::new();
    let mut seen = HashSet::new();
    for (i, logged) in audit.ops.iter().enumerate() {
        let n = i as u64 + 1;
        assert_eq!(
            (logged.seq.0, logged.version.0),
            (n, n),
            "log not contiguous"
        );
        assert!(
            seen.insert((logged.user, logged.operation_id.clone())),
            "operation {} applied twice",
            logged.operation_id
        );
        let op: quire_engine::op::TextOp =
            serde_json::from_str(&logged.op_json).expect("stored op");
        text.apply(&op).expect("stored op applies");
    }
    (text.to_string(), audit.ops.len())
}

/// The server's current text of `doc`.
pub async fn server_text(server: &TestServer, doc: &str) -> String {
    server
        .state
        .hub
        .read(doc_id(doc))
        .await
        .expect("read")
        .content
}
