//! The load generator behind `quire bench load`: D documents, C writing clients and W watchers
//! per document, S seconds, closed loop or open loop at a fixed rate per writer.
//!
//! The generator is generic over a [`Target`] (the server's wire protocol), so Quire and ShareDB
//! are driven by the same scheduling, replica, transform and timing code and the client side
//! costs the same on both. A run:
//! 1. `prepare`: the target creates fresh documents (and accounts, for Quire);
//! 2. join: every client connects and takes the document's state (bounded concurrency, join
//!    latency recorded);
//! 3. run: writers submit single-character inserts at random positions for S seconds;
//! 4. drain: writers stop and wait for their last acks (`seconds` ends here);
//! 5. converge: the server's final text is read over a fresh connection and every client must
//!    reach that version with exactly that text.

mod client;
mod clock;
mod config;
mod cpu;
pub mod insert_op;
mod replica;
mod shared_frames;
mod stats;
mod target;
pub mod ws;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

pub use config::{ConfigError, LoadConfig};
pub use stats::LoadReport;
pub use target::{Event, Insert, Joined, LoadError, Origin, Role, Submit, Target, initial_text};

use client::{Client, Outcome, Phase, Shared};
use clock::SubmitClock;
use stats::Stats;

/// Time allowed per connection during the join phase, on top of a fixed allowance.
const JOIN_TIME_PER_CONNECTION: Duration = Duration::from_millis(5);
const JOIN_TIME_BASE: Duration = Duration::from_secs(30);
/// How far ahead of the phase change an open-loop run starts (see `run`).
const ARM_LEAD_BASE: Duration = Duration::from_millis(50);
const ARM_LEAD_PER_CONNECTION: Duration = Duration::from_micros(20);
/// Pause between the last ack and reading the final states.
const QUIET_BEFORE_CONVERGE: Duration = Duration::from_millis(250);
/// Concurrent reads of final document states.
const FINAL_STATE_CONCURRENCY: usize = 16;

/// Runs one load and returns its report. Every phase is bounded in time.
pub async fn run<T: Target>(target: Arc<T>, config: &LoadConfig) -> Result<LoadReport, LoadError> {
    config.validate()?;
    let connections = config.connections().ok_or(ConfigError::NoClients)?;
    let writers = config.writers();
    let setup_started = Instant::now();
    let docs = Arc::new(target.prepare(config).await?);
    let setup_seconds = setup_started.elapsed();
    if docs.len() != config.docs {
        return Err(LoadError::Protocol(format!(
            "prepared {} documents",
            docs.len()
        )));
    }

    let stats = Arc::new(Stats::default());
    let (drained_tx, mut drained_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        target: Arc::clone(&target),
        stats: Arc::clone(&stats),
        clock: Arc::new(SubmitClock::new(writers)),
        rate: config.rate,
        drained: drained_tx,
    });
    let (phase_tx, phase_rx) = watch::channel(Phase::Ready);

    // Join: one task per connection; it reports once joined, then runs the client.
    let (joined_tx, mut joined_rx) = mpsc::unbounded_channel::<Result<(), LoadError>>();
    let permits = Arc::new(Semaphore::new(config.connect_concurrency));
    let mut tasks = JoinSet::new();
    for (id, doc, role) in connection_plan(config) {
        let (shared, docs, permits) =
            (Arc::clone(&shared), Arc::clone(&docs), Arc::clone(&permits));
        let (joined_tx, phase_rx, seed) = (joined_tx.clone(), phase_rx.clone(), config.seed);
        tasks.spawn(async move {
            let permit = permits.acquire_owned().await;
            let started = Instant::now();
            let joined = shared.target.join(&docs[doc], id, role).await;
            let client = joined.and_then(|joined| {
                shared.stats.join.record(id, started.elapsed());
                Client::new(Arc::clone(&shared), id, doc, role, joined, seed)
            });
            drop(permit);
            match client {
                Ok(client) => {
                    let _ = joined_tx.send(Ok(()));
                    client.run(phase_rx).await
                }
                Err(e) => {
                    let _ = joined_tx.send(Err(e));
                    Outcome::Diverged
                }
            }
        });
    }
    drop(joined_tx);
    let join_deadline = JOIN_TIME_BASE + JOIN_TIME_PER_CONNECTION * connections as u32;
    tokio::time::timeout(join_deadline, async {
        for _ in 0..connections {
            match joined_rx.recv().await {
                Some(Ok(())) => {}
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(LoadError::Protocol(
                        "a client task ended while joining".into(),
                    ));
                }
            }
        }
        Ok(())
    })
    .await
    .map_err(|_| LoadError::Timeout("joining"))??;

    let join_seconds = setup_started.elapsed() - setup_seconds;

    // Run, then drain. Open-loop clients time each op from its tick's deadline, and arming
    // the tickers takes every client task a turn on the generator's thread (about 100 ms for
    // 20,000 clients): so the start lies far enough ahead that every ticker is armed before
    // its first deadline, else the first ticks fire late and the generator's own lateness is
    // timed as the server's (9,900 documents: 1,300 acks "late" by 80-90 ms in the first
    // 0.2 s of every run). Closed-loop clients time from their send, and start at once.
    let start = run_start(Instant::now(), config.rate.is_some(), connections);
    let _ = phase_tx.send(Phase::Run { start });
    tokio::time::sleep_until(start.into()).await;
    let cpu_at_start = cpu::process_cpu();
    tokio::time::sleep(config.duration).await;
    let _ = phase_tx.send(Phase::Stop);
    let drained = tokio::time::timeout(config.settle_timeout, async {
        for _ in 0..writers {
            if drained_rx.recv().await.is_none() {
                break;
            }
        }
    })
    .await;
    let elapsed = start.elapsed();
    let client_cpu = cpu::process_cpu()
        .zip(cpu_at_start)
        .map(|(end, start)| round_ms(end.saturating_sub(start)));
    if drained.is_err() {
        stats.error(&LoadError::Timeout("waiting for the last acks"));
    }

    // Converge, after a quiet moment: ShareDB may still be sending duplicate copies of ops.
    tokio::time::sleep(QUIET_BEFORE_CONVERGE).await;
    let finals = Arc::new(final_states(&target, &docs, &stats).await);
    let _ = phase_tx.send(Phase::Converge(finals));
    let mut converged = 0usize;
    let collected = tokio::time::timeout(config.settle_timeout, async {
        while let Some(outcome) = tasks.join_next().await {
            if matches!(outcome, Ok(Outcome::Converged)) {
                converged += 1;
            }
        }
    })
    .await;
    if collected.is_err() {
        tasks.abort_all();
        // Wait for the cancelled clients to be dropped: that is when they hand over their
        // last latency samples.
        while tasks.join_next().await.is_some() {}
    }

    let figures = stats.figures(elapsed);
    Ok(LoadReport {
        target: target.name(),
        docs: config.docs,
        clients: config.clients,
        watchers: config.watchers,
        rate: config.rate,
        initial_chars: config.initial_chars,
        setup_s: round_ms(setup_seconds),
        join_s: round_ms(join_seconds),
        seconds: figures.seconds,
        ops: figures.ops,
        ops_per_s: figures.ops_per_s,
        ack_p50_ms: figures.ack[0],
        ack_p99_ms: figures.ack[1],
        ack_max_ms: figures.ack[2],
        broadcast_p50_ms: figures.broadcast[0],
        broadcast_p99_ms: figures.broadcast[1],
        broadcast_max_ms: figures.broadcast[2],
        broadcasts: figures.broadcasts,
        join_p50_ms: figures.join[0],
        join_max_ms: figures.join[1],
        client_cpu_s: client_cpu,
        errors: figures.errors,
        first_error: figures.first_error,
        converged: converged == connections && figures.errors == 0,
    })
}

/// Seconds with millisecond precision.
fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Every connection of the run as (client id, document index, role). Writers get ids
/// `0..writers` (the submit clock covers exactly those); watchers follow.
fn connection_plan(config: &LoadConfig) -> impl Iterator<Item = (u32, usize, Role)> + use<> {
    let (docs, clients, watchers) = (config.docs, config.clients, config.watchers);
    let writers =
        (0..docs).flat_map(move |d| (0..clients).map(move |c| (d * clients + c, d, Role::Writer)));
    let watching = (0..docs).flat_map(move |d| {
        (0..watchers).map(move |w| (docs * clients + d * watchers + w, d, Role::Watcher))
    });
    // Ids fit in u32: validate() bounds the connection count far below u32::MAX.
    writers
        .chain(watching)
        .map(|(id, d, role)| (id as u32, d, role))
}

/// When the run starts, given the moment the clients are told (see `run`).
fn run_start(now: Instant, open_loop: bool, connections: usize) -> Instant {
    if open_loop {
        let per_connection = u32::try_from(connections).unwrap_or(u32::MAX);
        now + ARM_LEAD_BASE + ARM_LEAD_PER_CONNECTION.saturating_mul(per_connection)
    } else {
        now
    }
}

/// The server's final (text, version) of every document, read with bounded concurrency;
/// `None` (and a counted error) for a document whose state could not be read.
async fn final_states<T: Target>(
    target: &Arc<T>,
    docs: &Arc<Vec<T::Doc>>,
    stats: &Stats,
) -> Vec<Option<(String, u64)>> {
    let permits = Arc::new(Semaphore::new(FINAL_STATE_CONCURRENCY));
    let mut reads = JoinSet::new();
    for index in 0..docs.len() {
        let (target, docs, permits) = (Arc::clone(target), Arc::clone(docs), Arc::clone(&permits));
        reads.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (index, target.server_state(&docs[index]).await)
        });
    }
    let mut finals = vec![None; docs.len()];
    while let Some(read) = reads.join_next().await {
        match read {
            Ok((index, Ok(state))) => finals[index] = Some(state),
            Ok((_, Err(e))) => stats.error(&e),
            Err(e) => stats.error(&e),
        }
    }
    finals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_numbers_writers_first_and_covers_every_connection() {
        let config = LoadConfig {
            docs: 3,
            clients: 2,
            watchers: 1,
            ..LoadConfig::default()
        };
        let plan: Vec<_> = connection_plan(&config).collect();
        assert_eq!(plan.len(), 9);
        assert_eq!(&plan[..2], &[(0, 0, Role::Writer), (1, 0, Role::Writer)]);
        assert_eq!(plan[5], (5, 2, Role::Writer));
        assert_eq!(
            &plan[6..],
            &[
                (6, 0, Role::Watcher),
                (7, 1, Role::Watcher),
                (8, 2, Role::Watcher)
            ]
        );
    }

    #[test]
    fn an_open_loop_run_starts_once_every_ticker_can_be_armed() {
        let now = Instant::now();
        assert_eq!(run_start(now, false, 20_000), now, "closed loop: at once");
        let small = run_start(now, true, 10) - now;
        let large = run_start(now, true, 20_000) - now;
        assert!(
            small >= ARM_LEAD_BASE && small < Duration::from_millis(60),
            "{small:?}"
        );
        // 20,000 clients took ~100 ms to arm on one thread: the lead covers that with room.
        assert!(large >= Duration::from_millis(300), "{large:?}");
    }
}
