//! Two server instances on one PostgreSQL database behind a load balancer
//! that routes WebSocket connections by their `document` parameter
//! (docs/architecture.md, "Several instances: routing by document"), with
//! SDK clients typing throughout. When the balancer starts sending the
//! document to the other instance (a pool change), the new instance is
//! refused, asks for the document, and the first hands it over; the clients
//! rejoin through the balancer, resend what was not acknowledged, and all
//! end with one text in which every keystroke appears exactly once.
//! PostgreSQL only (a SQLite directory serves one server).

mod common;
mod gateway_support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TestServer, test_config};
use gateway_support::*;
use quire_client::{Client, ClientEvent, WsConnector};
use quire_core::{CoreConfig, CoreError, Hub};
use quire_protocol::ErrorCode;
use quire_storage::Store;
use quire_storage::postgres::{PostgresOptions, PostgresStore};
use quire_storage::testing::postgres_url;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::error::RecvError;

const CLIENTS: usize = 3;
const KEYSTROKES: usize = 40;

/// A TCP load balancer, as nginx's `hash $arg_document` would be: it reads
/// a connection's request head, sends a request naming a document to that
/// document's instance in `routes` (the test changes it, as a pool change
/// would), anything else to `default`, then relays bytes both ways for the
/// life of the connection, so open connections stay where they are.
struct Balancer {
    addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, SocketAddr>>>,
}

impl Balancer {
    async fn start(default: SocketAddr) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes = Arc::new(Mutex::new(HashMap::new()));
        let table = Arc::clone(&routes);
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                tokio::spawn(relay(inbound, Arc::clone(&table), default));
            }
        });
        Balancer { addr, routes }
    }

    fn route(&self, doc: &str, to: &TestServer) {
        self.routes
            .lock()
            .unwrap()
            .insert(doc.to_owned(), address(to));
    }

    fn ws_url(&self) -> String {
        format!("ws://{}/api/ws", self.addr)
    }
}

async fn relay(
    mut inbound: TcpStream,
    routes: Arc<Mutex<HashMap<String, SocketAddr>>>,
    default: SocketAddr,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    let document = loop {
        let n = inbound.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        let parsed = request
            .parse(&head)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        if parsed.is_complete() {
            let target = url::Url::parse(&format!("http://balancer{}", request.path.unwrap()))
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            break target
                .query_pairs()
                .find(|(key, _)| key == "document")
                .map(|(_, doc)| doc.into_owned());
        }
    };
    let backend = document
        .and_then(|doc| routes.lock().unwrap().get(&doc).copied())
        .unwrap_or(default);
    let mut outbound = TcpStream::connect(backend).await?;
    outbound.write_all(&head).await?;
    tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await?;
    Ok(())
}

fn address(server: &TestServer) -> SocketAddr {
    server.base.trim_start_matches("http://").parse().unwrap()
}

/// An instance on `schema`: its own store (its own liveness lock), its own
/// hub, handing documents over on request.
async fn instance(url: &str, schema: &str) -> TestServer {
    let options = PostgresOptions {
        schema: Some(schema.to_owned()),
        pool_size: 4,
        ..PostgresOptions::default()
    };
    let store: Arc<dyn Store> = Arc::new(PostgresStore::connect(url, options).await.unwrap());
    let core = CoreConfig {
        hand_off_after: Some(Duration::from_millis(100)),
        ..unpruned_core()
    };
    TestServer::start_on(store, None, test_config(), None, move |state| {
        let hub = Hub::start(state.store.clone(), core).expect("a valid core configuration");
        state.with_hub(hub)
    })
    .await
}

/// Types `KEYSTROKES` characters at seeded random places, a few ms apart.
async fn type_into(client: Arc<Client>, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for i in 0..KEYSTROKES {
        let at = rng.random_range(0..=client.len_chars());
        let key = char::from(b'a' + (i % 26) as u8).to_string();
        client.insert(at, &key).unwrap();
        tokio::time::sleep(Duration::from_millis(rng.random_range(1..8))).await;
    }
}

/// Resolves `true` once `client` is told its document moved to another
/// instance (`unavailable`, then it rejoins), `false` if it stops first.
fn told_moved(client: &Client) -> tokio::task::JoinHandle<bool> {
    let mut events = client.subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(ClientEvent::Error(e)) if e.code == ErrorCode::Unavailable => {
                    return e.message.contains("moved");
                }
                Err(RecvError::Closed) => return false,
                _ => {}
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_follow_their_document_when_the_balancer_moves_it() {
    let Some(url) = postgres_url() else {
        return;
    };
    let schema = format!("quire_test_{}", uuid::Uuid::new_v4().simple());
    let a = instance(&url, &schema).await;
    let b = instance(&url, &schema).await;
    let balancer = Balancer::start(address(&a)).await;
    let owner = a.signup("owner").await;
    let doc = a.create_doc(&owner, "moving").await;
    balancer.route(&doc, &a);

    let connect = || {
        let connector = Arc::new(WsConnector::new(balancer.ws_url(), 64 << 20));
        Arc::new(client_via(&a, &owner, &doc, connector))
    };
    let clients: Vec<Arc<Client>> = (0..CLIENTS).map(|_| connect()).collect();
    for c in &clients {
        c.wait_live().await.unwrap();
    }
    let told_moved: Vec<_> = clients.iter().map(|c| told_moved(c)).collect();
    let typing: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| tokio::spawn(type_into(Arc::clone(c), i as u64)))
        .collect();

    // Mid-typing, the balancer sends the document to B. The open
    // connections stay on A; a new client's join reaches B, which is refused
    // and asks A for the document; A hands it over, its clients rejoin
    // through the balancer at B, and the new client gets in on a retry.
    tokio::time::sleep(Duration::from_millis(60)).await;
    balancer.route(&doc, &b);
    let late = connect();
    tokio::time::timeout(Duration::from_secs(20), late.wait_live())
        .await
        .expect("the late client joins B in time")
        .unwrap();
    for t in typing {
        t.await.unwrap();
    }
    for c in &clients {
        tokio::time::timeout(Duration::from_secs(20), c.wait_synced())
            .await
            .expect("every keystroke acknowledged in time")
            .unwrap();
    }

    for told in told_moved {
        let told = tokio::time::timeout(Duration::from_secs(5), told).await;
        assert!(told.expect("in time").unwrap(), "A closed every session");
    }

    // One char per keystroke: none lost, none applied twice.
    let text = server_text(&b, &doc).await;
    assert_eq!(text.chars().count(), CLIENTS * KEYSTROKES);
    for c in clients.iter().chain([&late]) {
        tokio::time::timeout(Duration::from_secs(10), async {
            while c.text() != text {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("every client ends with B's text");
    }
    // One contiguous log, written by both instances, every op once in it.
    assert_eq!(replay_stored_log(&b, &doc).await.0, text);
    assert!(matches!(
        a.state.hub.read(doc_id(&doc)).await,
        Err(CoreError::OpenElsewhere)
    ));
}
