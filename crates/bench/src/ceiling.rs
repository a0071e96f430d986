//! `quire bench ceiling`: the most ops/s a durable, fanned-out closed loop can
//! reach on this machine, whoever the server is.
//!
//! Why: the one-document targets compare Quire's ops/s with ShareDB's, and
//! with durable acks and C closed-loop clients the rate is bounded by the
//! machine (fsync latency, loopback round trips, two cores for both sides),
//! not only by the server. This measures that bound with the least code that
//! still does the work of a durable collaborative server:
//!
//! - **server**: one thread, one epoll loop. Each round it reads every frame
//!   that is ready, makes them durable together (one append and
//!   `fdatasync` of a preallocated file, or one SQLite transaction in WAL
//!   mode with `synchronous=FULL` into a table shaped like Quire's op log,
//!   its WAL preallocated and never checkpointed during the run, as Quire's
//!   writer finds it),
//!   and only then writes every client one frame holding all of the round's
//!   ops: for the submitter it is the ack, for the others the broadcast.
//!   No hand-off between threads, so every op that arrives during an fsync
//!   joins the next one.
//! - **clients**: one thread, C connections; each sends a 32-byte op, waits
//!   for its ack, sends the next. `client_work_per_op` spins that long for
//!   every op a client reads (its own ack included), to stand for a real
//!   client's decoding and applying: `bench/compare.sh` passes what
//!   `quire bench load` spent per op it read in the same run
//!   (`client_cpu_s` / (`ops` + `broadcasts`), 1.6 µs with 10 clients here).
//!
//! No WebSocket framing, JSON, authentication, validation, transform or
//! client replicas: the figure is an upper bound for any server and client
//! with durable acks and fan-out on this machine, not a target to meet.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use serde::Serialize;

/// Every op on the wire: the submitting client's index, then padding (a
/// one-character insert with its ids is about this size in a binary format).
const FRAME: usize = 32;
const LISTENER: Token = Token(usize::MAX);
/// How often the server loop looks at the stop flag when idle.
const IDLE_POLL: Duration = Duration::from_millis(20);
/// The raw log file is preallocated to this size and written round-robin
/// (each round at the next 4 KiB block), so no fsync extends the file.
const LOG_FILE_BYTES: u64 = 64 << 20;
const BLOCK: u64 = 4096;
/// SQLite's WAL is written in zeros ahead of the run, this much per second
/// of it and at most `WAL_MAX_BYTES`, so that commits overwrite blocks
/// instead of extending the file. A run that outgrows it still works, its
/// later commits are only slower (the bound stays a bound).
const WAL_BYTES_PER_SECOND: u64 = 96 << 20;
const WAL_MAX_BYTES: u64 = 1 << 30;

/// How the server makes a round durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// One write of the round at the next block of a preallocated file, then `fdatasync`.
    File,
    /// One SQLite transaction (WAL, `synchronous=FULL`), one row per op.
    Sqlite,
}

impl std::str::FromStr for Durability {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "file" => Ok(Durability::File),
            "sqlite" => Ok(Durability::Sqlite),
            other => Err(format!("unknown durability {other:?} (file or sqlite)")),
        }
    }
}

#[derive(Clone, Debug)]
pub struct CeilingConfig {
    pub clients: usize,
    pub seconds: f64,
    pub durability: Durability,
    /// CPU time a client spends on each op it reads, its own ack included (0: none).
    pub client_work_per_op: Duration,
    /// Where the log file or database goes (made fresh, removed afterwards).
    pub dir: PathBuf,
}

#[derive(Debug, Serialize)]
pub struct CeilingReport {
    pub ceiling: Durability,
    pub clients: usize,
    pub client_work_ns_per_op: u64,
    pub seconds: f64,
    /// Acks received by the clients.
    pub ops: u64,
    pub ops_per_s: f64,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    /// Ops made durable per fsync (per transaction for SQLite).
    pub ops_per_commit: f64,
    /// Every client received every op of every round it saw (ack or broadcast).
    pub fanned_out: bool,
}

/// Runs the server on a thread of its own and the clients on this one.
pub fn run(config: &CeilingConfig) -> anyhow::Result<CeilingReport> {
    if config.clients == 0 || config.clients > 10_000 {
        bail!("clients must be between 1 and 10,000");
    }
    let (log, files) = DurableLog::create(config)?;
    let report = measure(config, log);
    for file in files {
        let _ = std::fs::remove_file(file);
    }
    report
}

fn measure(config: &CeilingConfig, log: DurableLog) -> anyhow::Result<CeilingReport> {
    let listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("ceiling-server".into())
            .spawn(move || serve(listener, log, &stop))?
    };
    let clients = drive_clients(addr, config);
    stop.store(true, Ordering::Relaxed);
    let served = server
        .join()
        .map_err(|_| anyhow::anyhow!("the ceiling server panicked"))??;
    let clients = clients?;
    let ms = |q: f64| clients.latency.value_at_quantile(q) as f64 / 1000.0;
    Ok(CeilingReport {
        ceiling: config.durability,
        clients: config.clients,
        client_work_ns_per_op: config.client_work_per_op.as_nanos() as u64,
        seconds: clients.elapsed,
        ops: clients.acks,
        ops_per_s: (clients.acks as f64 / clients.elapsed).round(),
        ack_p50_ms: ms(0.5),
        ack_p99_ms: ms(0.99),
        ops_per_commit: served.ops as f64 / served.commits.max(1) as f64,
        fanned_out: clients.fanned_out,
    })
}

// ---- the server --------------------------------------------------------

/// Where a round goes before it is acknowledged.
enum DurableLog {
    File {
        file: std::fs::File,
        next: u64,
    },
    Sqlite {
        conn: rusqlite::Connection,
        seq: i64,
    },
}

impl DurableLog {
    /// The log and the files it made.
    fn create(config: &CeilingConfig) -> anyhow::Result<(DurableLog, Vec<PathBuf>)> {
        let dir = &config.dir;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        match config.durability {
            Durability::File => {
                let path = dir.join("ceiling.log");
                let file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&path)
                    .with_context(|| format!("creating {}", path.display()))?;
                write_zeros(&file, 0, LOG_FILE_BYTES)?;
                Ok((DurableLog::File { file, next: 0 }, vec![path]))
            }
            Durability::Sqlite => {
                let path = dir.join("ceiling.sqlite");
                let files: Vec<PathBuf> = ["", "-wal", "-shm"]
                    .iter()
                    .map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())))
                    .collect();
                for file in &files {
                    let _ = std::fs::remove_file(file);
                }
                let conn = rusqlite::Connection::open(&path)?;
                let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    bail!("SQLite refused WAL mode (got {mode})");
                }
                // Quire's op-log row, clustered by (document, seq).
                conn.execute_batch(
                    "PRAGMA synchronous = FULL;
                     PRAGMA wal_autocheckpoint = 0;
                     CREATE TABLE ops (
                         document BLOB NOT NULL, seq INTEGER NOT NULL,
                         operation_id TEXT NOT NULL, op BLOB NOT NULL,
                         PRIMARY KEY (document, seq)) WITHOUT ROWID;",
                )?;
                // Zeros past the WAL's valid frames are never read as frames
                // (see crates/storage/src/sqlite/wal_file.rs); the write lock
                // is held meanwhile.
                conn.execute_batch("BEGIN IMMEDIATE")?;
                let wal = std::fs::OpenOptions::new().write(true).open(&files[1])?;
                let bytes = ((config.seconds.max(1.0).ceil() as u64) * WAL_BYTES_PER_SECOND)
                    .min(WAL_MAX_BYTES);
                write_zeros(&wal, wal.metadata()?.len(), bytes)?;
                conn.execute_batch("ROLLBACK")?;
                Ok((DurableLog::Sqlite { conn, seq: 0 }, files))
            }
        }
    }

    /// Returns once `round` (whole frames) is on disk.
    fn append(&mut self, round: &[u8]) -> anyhow::Result<()> {
        match self {
            DurableLog::File { file, next } => {
                file.write_all_at(round, *next)?;
                let blocks = (round.len() as u64).div_ceil(BLOCK);
                *next = (*next + blocks * BLOCK) % LOG_FILE_BYTES;
                file.sync_data()?;
            }
            DurableLog::Sqlite { conn, seq } => {
                let tx = conn.transaction()?;
                {
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO ops VALUES (x'00112233445566778899aabbccddeeff', ?1, ?2, ?3)",
                    )?;
                    for op in round.chunks_exact(FRAME) {
                        *seq += 1;
                        insert.execute(rusqlite::params![*seq, format!("op-{seq}"), op])?;
                    }
                }
                tx.commit()?;
            }
        }
        Ok(())
    }
}

/// Writes `bytes` of zeros from `start` and syncs them.
fn write_zeros(file: &std::fs::File, start: u64, bytes: u64) -> anyhow::Result<()> {
    let zeros = vec![0u8; 1 << 20];
    let mut written = 0;
    while written < bytes {
        let len = (bytes - written).min(zeros.len() as u64) as usize;
        file.write_all_at(&zeros[..len], start + written)?;
        written += len as u64;
    }
    file.sync_all()?;
    Ok(())
}

struct Served {
    commits: u64,
    ops: u64,
}

/// A client connection on the server side: bytes read but not yet a whole
/// frame, and bytes the socket did not take yet.
struct Peer {
    socket: TcpStream,
    inbound: Vec<u8>,
    outbound: Vec<u8>,
    open: bool,
}

fn serve(
    mut listener: TcpListener,
    mut log: DurableLog,
    stop: &AtomicBool,
) -> anyhow::Result<Served> {
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut peers: Vec<Peer> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut round = Vec::new();
    let mut served = Served { commits: 0, ops: 0 };
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        poll.poll(&mut events, Some(IDLE_POLL))?;
        for event in events.iter() {
            if event.token() == LISTENER {
                accept_all(&listener, &poll, &mut peers)?;
                continue;
            }
            let peer = &mut peers[event.token().0];
            if event.is_writable() {
                flush(peer);
            }
            if event.is_readable() {
                read_frames(peer, &mut buf, &mut round);
            }
        }
        if round.is_empty() {
            continue;
        }
        log.append(&round)?;
        served.commits += 1;
        served.ops += (round.len() / FRAME) as u64;
        for (index, peer) in peers.iter_mut().enumerate() {
            if !peer.open {
                continue;
            }
            let was_idle = peer.outbound.is_empty();
            peer.outbound.extend_from_slice(&round);
            flush(peer);
            if was_idle && !peer.outbound.is_empty() {
                poll.registry().reregister(
                    &mut peer.socket,
                    Token(index),
                    Interest::READABLE | Interest::WRITABLE,
                )?;
            }
        }
        round.clear();
    }
    Ok(served)
}

fn accept_all(listener: &TcpListener, poll: &Poll, peers: &mut Vec<Peer>) -> anyhow::Result<()> {
    loop {
        match listener.accept() {
            Ok((mut socket, _)) => {
                socket.set_nodelay(true)?;
                poll.registry()
                    .register(&mut socket, Token(peers.len()), Interest::READABLE)?;
                peers.push(Peer {
                    socket,
                    inbound: Vec::new(),
                    outbound: Vec::new(),
                    open: true,
                });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Moves every whole frame the peer sent into `round`.
fn read_frames(peer: &mut Peer, buf: &mut [u8], round: &mut Vec<u8>) {
    // End of stream or an error: the peer is gone.
    if !matches!(
        read_available(&mut peer.socket, buf, &mut peer.inbound),
        Ok(true)
    ) {
        peer.open = false;
    }
    let whole = whole_frames(&peer.inbound);
    round.extend_from_slice(&peer.inbound[..whole]);
    peer.inbound.drain(..whole);
}

/// Appends everything the socket has ready to `inbound`; `Ok(false)` at the
/// end of the stream.
fn read_available(
    socket: &mut TcpStream,
    buf: &mut [u8],
    inbound: &mut Vec<u8>,
) -> std::io::Result<bool> {
    loop {
        match socket.read(buf) {
            Ok(0) => return Ok(false),
            Ok(n) => inbound.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
            Err(e) => return Err(e),
        }
    }
}

/// The length of the whole frames at the start of `bytes`.
fn whole_frames(bytes: &[u8]) -> usize {
    bytes.len() - bytes.len() % FRAME
}

/// Writes as much of the peer's backlog as the socket takes.
fn flush(peer: &mut Peer) {
    while !peer.outbound.is_empty() {
        match peer.socket.write(&peer.outbound) {
            Ok(n) => drop(peer.outbound.drain(..n)),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(_) => {
                peer.open = false;
                peer.outbound.clear();
            }
        }
    }
}

// ---- the clients -------------------------------------------------------

struct Driven {
    acks: u64,
    elapsed: f64,
    latency: Histogram<u64>,
    fanned_out: bool,
}

/// A client: what it has read of its current round, when its op left.
struct Client {
    socket: TcpStream,
    inbound: Vec<u8>,
    sent_at: Instant,
    /// Ops of other clients received (broadcasts).
    remote: u64,
    /// Its own ops acknowledged.
    acks: u64,
}

fn drive_clients(addr: SocketAddr, config: &CeilingConfig) -> anyhow::Result<Driven> {
    let count = config.clients;
    let mut poll = Poll::new()?;
    let mut clients = Vec::with_capacity(count);
    for index in 0..count {
        let stream = std::net::TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        let mut socket = TcpStream::from_std(stream);
        poll.registry()
            .register(&mut socket, Token(index), Interest::READABLE)?;
        clients.push(Client {
            socket,
            inbound: Vec::new(),
            sent_at: Instant::now(),
            remote: 0,
            acks: 0,
        });
    }
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let started = Instant::now();
    for (index, client) in clients.iter_mut().enumerate() {
        submit(client, index)?;
    }
    let run_for = Duration::from_secs_f64(config.seconds.max(0.01));
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    let mut acks = 0u64;
    let mut fanned_out = true;
    while started.elapsed() < run_for {
        poll.poll(&mut events, Some(IDLE_POLL))?;
        for event in events.iter() {
            let index = event.token().0;
            let client = &mut clients[index];
            if !read_available(&mut client.socket, &mut buf, &mut client.inbound)? {
                bail!("the ceiling server closed a connection");
            }
            let whole = whole_frames(&client.inbound);
            work_for(config.client_work_per_op * (whole / FRAME) as u32);
            let mut acked = false;
            for op in client.inbound[..whole].chunks_exact(FRAME) {
                if submitter(op) == index {
                    // Closed loop: at most one op of this client per round.
                    fanned_out &= !acked;
                    acked = true;
                } else {
                    client.remote += 1;
                }
            }
            client.inbound.drain(..whole);
            if acked {
                acks += 1;
                client.acks += 1;
                let micros = client.sent_at.elapsed().as_micros() as u64;
                latency.saturating_record(micros.max(1));
                submit(client, index)?;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Every client read every round made durable before its last read: the
    // others' ops plus its own add up to all acks but those of the rounds
    // still unread at the end (at most one round per client, each at most
    // one op per client).
    let unread = (count * count) as u64;
    for client in &clients {
        fanned_out &= client.remote + client.acks + unread >= acks;
    }
    Ok(Driven {
        acks,
        elapsed,
        latency,
        fanned_out,
    })
}

/// Keeps this thread busy for `time`, as decoding and applying would.
fn work_for(time: Duration) {
    if time.is_zero() {
        return;
    }
    let started = Instant::now();
    while started.elapsed() < time {
        std::hint::spin_loop();
    }
}

fn submit(client: &mut Client, index: usize) -> anyhow::Result<()> {
    let mut op = [0u8; FRAME];
    op[..8].copy_from_slice(&(index as u64).to_le_bytes());
    client.sent_at = Instant::now();
    // An empty send buffer always takes 32 bytes; anything else is a fault.
    let written = client.socket.write(&op)?;
    if written != FRAME {
        bail!("a client's socket took {written} of {FRAME} bytes");
    }
    Ok(())
}

fn submitter(op: &[u8]) -> usize {
    let mut index = [0u8; 8];
    index.copy_from_slice(&op[..8]);
    u64::from_le_bytes(index) as usize
}
