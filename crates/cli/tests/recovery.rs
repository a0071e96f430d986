//! Issue 4 item 6: the real `quire serve` under load, killed with SIGKILL at
//! random moments several times and restarted on the same storage. After
//! every restart each acknowledged op is still there (the served version
//! covers it), ops that were in flight at the kill are resent with their
//! original id and base and answered exactly once; at the end the stored log
//! holds every acknowledged op exactly once at its acknowledged seq, the
//! served content equals the replay of the log, and `quire verify` passes.
//! Runs on SQLite, and on PostgreSQL when `QUIRE_TEST_DATABASE_URL` is set.

mod common;

use common::spawn_serve;
use futures_util::{SinkExt, StreamExt};
use quire_engine::op::TextOp;
use quire_engine::{DocumentId, SeqId};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const KILLS: usize = 4;
const WRITERS: usize = 3;

/// Where the server keeps its data.
enum Target {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Target {
    fn args(&self, cmd: &mut Command) {
        match self {
            Target::Sqlite(dir) => cmd.arg("--data").arg(dir.path()),
            Target::Postgres(url) => cmd.arg("--database-url").arg(url),
        };
    }

    fn store_target(&self) -> String {
        match self {
            Target::Sqlite(dir) => dir.path().to_string_lossy().into_owned(),
            Target::Postgres(url) => url.clone(),
        }
    }
}

struct Server {
    child: Child,
    addr: String,
}

fn start(target: &Target) -> Server {
    let (child, addr) = spawn_serve(|cmd| {
        cmd.args(["--listen", "127.0.0.1:0"]);
        target.args(cmd);
        cmd.env(
            "QUIRE_JWT_SECRET",
            "recovery-test secret, long enough for HS256",
        );
    });
    Server { child, addr }
}

impl Server {
    fn kill9(mut self) {
        // std's Child::kill sends SIGKILL on Unix.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

async fn account_and_document(addr: &str) -> (String, String, DocumentId) {
    let http = reqwest::Client::new();
    let res = http
        .post(format!("http://{addr}/api/auth/signup"))
        .json(&json!({"username": "recovery", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    let user = body["user"]["id"].as_str().unwrap().to_owned();
    let res = http
        .post(format!("http://{addr}/api/documents"))
        .bearer_auth(&token)
        .json(&json!({"title": "recovery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let doc: Value = res.json().await.unwrap();
    (token, user, doc["id"].as_str().unwrap().parse().unwrap())
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A joined connection and the version/seq it has seen.
struct Conn {
    ws: Ws,
    version: u64,
    content: String,
}

async fn next_json(ws: &mut Ws) -> Option<Value> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

/// Joins and completes the handshake; None if the server is gone.
async fn join(addr: &str, token: &str, doc: DocumentId) -> Option<Conn> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/ws"))
        .await
        .ok()?;
    let join =
        json!({"type": "join", "protocol": 1, "token": token, "documentId": doc.to_string()});
    ws.send(Message::text(join.to_string())).await.ok()?;
    let joined = next_json(&mut ws).await?;
    assert_eq!(joined["type"], "joined", "{joined}");
    let snapshot = next_json(&mut ws).await?;
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    let seq = snapshot["seq"].as_u64().unwrap();
    ws.send(Message::text(
        json!({"type": "snapshotAck", "seq": seq}).to_string(),
    ))
    .await
    .ok()?;
    let mut conn = Conn {
        ws,
        version: snapshot["version"].as_u64().unwrap(),
        content: snapshot["content"].as_str().unwrap().to_owned(),
    };
    loop {
        let frame = next_json(&mut conn.ws).await?;
        match frame["type"].as_str() {
            Some("live") => return Some(conn),
            Some("ops") => conn.absorb(&frame),
            _ => {}
        }
    }
}

impl Conn {
    fn absorb(&mut self, ops_frame: &Value) {
        for entry in ops_frame["ops"].as_array().unwrap() {
            let op: TextOp = serde_json::from_value(entry["op"].clone()).unwrap();
            self.content = op.apply_to_str(&self.content).unwrap();
            self.version = entry["version"].as_u64().unwrap();
        }
    }

    /// Submits one op and waits for its answer: Some((seq, duplicate)) on
    /// ack, None if the connection died first.
    async fn submit(&mut self, user: &str, id: &str, base: u64) -> Option<(u64, bool)> {
        let op = json!({"operationId": id, "userId": user, "baseVersion": base,
                        "type": "insert", "position": 0, "text": "x"});
        self.ws
            .send(Message::text(
                json!({"type": "submit", "op": op}).to_string(),
            ))
            .await
            .ok()?;
        loop {
            let frame = next_json(&mut self.ws).await?;
            match frame["type"].as_str() {
                Some("ops") => self.absorb(&frame),
                Some("ack") if frame["operationId"] == id => {
                    self.version = self.version.max(frame["version"].as_u64().unwrap());
                    return Some((frame["seq"].as_u64().unwrap(), frame["duplicate"] == true));
                }
                Some("error") => {
                    assert_eq!(frame["retryable"], true, "unexpected error: {frame}");
                    return None;
                }
                _ => {}
            }
        }
    }
}

/// What the writers learned: acknowledged (id → seq) and in flight at the kill (id, base).
#[derive(Default)]
struct Ledger {
    acked: HashMap<String, u64>,
    in_flight: Vec<(String, u64)>,
}

async fn writer(
    addr: String,
    token: String,
    user: String,
    doc: DocumentId,
    tag: String,
    ledger: Arc<Mutex<Ledger>>,
) {
    let Some(mut conn) = join(&addr, &token, doc).await else {
        return;
    };
    for i in 0.. {
        let id = format!("{tag}-{i}");
        let base = conn.version;
        ledger.lock().unwrap().in_flight.push((id.clone(), base));
        match conn.submit(&user, &id, base).await {
            Some((seq, duplicate)) => {
                assert!(!duplicate, "a fresh op was reported as a duplicate");
                let mut l = ledger.lock().unwrap();
                l.in_flight.retain(|(i, _)| *i != id);
                assert!(l.acked.insert(id, seq).is_none());
            }
            None => return,
        }
    }
}

async fn run_recovery(target: Target) {
    let mut server = start(&target);
    let (token, user, doc) = account_and_document(&server.addr).await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut rng_state = 0x9E37_79B9_7F4A_7C15u64 ^ std::process::id() as u64;
    let mut random_ms = move |lo: u64, hi: u64| {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        lo + rng_state % (hi - lo)
    };

    for round in 0..KILLS {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                tokio::spawn(writer(
                    server.addr.clone(),
                    token.clone(),
                    user.clone(),
                    doc,
                    format!("r{round}w{w}"),
                    Arc::clone(&ledger),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(random_ms(150, 700))).await;
        server.kill9();
        for w in writers {
            w.await.unwrap();
        }

        let restarted = Instant::now();
        server = start(&target);
        let mut conn = join(&server.addr, &token, doc)
            .await
            .expect("join after restart");
        let serving_ms = restarted.elapsed().as_millis();
        let (max_acked, in_flight) = {
            let mut l = ledger.lock().unwrap();
            (
                l.acked.values().copied().max().unwrap_or(0),
                std::mem::take(&mut l.in_flight),
            )
        };
        assert!(
            conn.version >= max_acked,
            "round {round}: restarted at version {} but seq {max_acked} was acknowledged",
            conn.version
        );
        // Ops the kill interrupted: resend with the original id and base.
        for (id, base) in in_flight {
            let (seq, _) = conn
                .submit(&user, &id, base)
                .await
                .expect("resend after restart");
            assert!(ledger.lock().unwrap().acked.insert(id, seq).is_none());
        }
        println!(
            "round {round}: killed with {} ops acknowledged; serving again after {serving_ms} ms",
            ledger.lock().unwrap().acked.len()
        );
    }

    // The final state as served, then offline checks on the stopped store.
    let conn = join(&server.addr, &token, doc).await.unwrap();
    let served = conn.content.clone();
    let served_version = conn.version;
    server.kill9();
    let store = quire_storage::open(&target.store_target()).await.unwrap();
    let audit = store.audit_document(doc).await.unwrap();
    let acked = &ledger.lock().unwrap().acked;
    assert!(
        acked.len() > 20,
        "too little load to mean anything: {}",
        acked.len()
    );
    let by_id: HashMap<&str, SeqId> = audit
        .ops
        .iter()
        .map(|o| (o.operation_id.as_str(), o.seq))
        .collect();
    assert_eq!(
        by_id.len(),
        audit.ops.len(),
        "an operation id appears twice in the log"
    );
    for (id, seq) in acked {
        if *seq > audit.pruned_through.0 {
            assert_eq!(
                by_id.get(id.as_str()),
                Some(&SeqId(*seq)),
                "acknowledged op {id} missing or moved"
            );
        }
    }
    let distinct_seqs: HashSet<u64> = acked.values().copied().collect();
    assert_eq!(distinct_seqs.len(), acked.len(), "two acks share a seq");
    assert_eq!(audit.ops.last().map_or(0, |o| o.seq.0), served_version);
    if audit.pruned_through == SeqId(0) {
        let mut replay = String::new();
        for logged in &audit.ops {
            let op: TextOp = serde_json::from_str(&logged.op_json).unwrap();
            replay = op.apply_to_str(&replay).unwrap();
        }
        assert_eq!(
            replay, served,
            "served content differs from the replay of the log"
        );
    }
    assert_eq!(
        served.chars().count() as u64,
        served_version,
        "one char per op"
    );

    let mut verify = Command::new(env!("CARGO_BIN_EXE_quire"));
    verify.arg("verify");
    match &target {
        Target::Sqlite(dir) => verify.arg("--data").arg(dir.path()),
        Target::Postgres(url) => verify.arg("--database-url").arg(url),
    };
    let out = verify.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "quire verify failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("no corruption found"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_op_on_sqlite() {
    run_recovery(Target::Sqlite(tempfile::tempdir().unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_op_on_postgres() {
    let Some(url) = quire_storage::testing::postgres_url() else {
        return;
    };
    let schema = format!("quire_recovery_{}", uuid_like());
    let sep = if url.contains('?') { '&' } else { '?' };
    run_recovery(Target::Postgres(format!("{url}{sep}schema={schema}"))).await;
}

fn uuid_like() -> String {
    DocumentId::new_random().to_string().replace('-', "")
}
