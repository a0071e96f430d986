//! Latency histograms shared by all client tasks, and the one-line report.
//!
//! Histograms are sharded by client so that tasks on different threads rarely touch the same
//! lock, and there are a fixed number of them whatever the client count (one hdrhistogram per
//! client would cost gigabytes at 20,000 clients). Clients hand samples over in batches
//! ([`SampleBuffer`]): with a million samples a second spread over a thousand clients, a shard's
//! counts are out of the cache again by the time the same shard is next recorded into, so
//! recording one sample at a time cost several cache misses and a lock per sample.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

const SHARDS: usize = 16;
/// Samples a [`SampleBuffer`] holds before handing them to its histogram.
const BATCH: usize = 256;
/// Largest latency recorded exactly; longer samples are clamped to it.
const MAX_MICROS: u64 = 3_600_000_000;

/// A latency histogram in microseconds, recorded from many tasks.
pub struct ShardedHistogram {
    shards: Vec<Mutex<Histogram<u64>>>,
}

impl Default for ShardedHistogram {
    fn default() -> Self {
        let new = || Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static bounds are valid");
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(new())).collect(),
        }
    }
}

impl ShardedHistogram {
    pub fn record(&self, client: u32, latency: Duration) {
        let micros = (latency.as_micros() as u64).clamp(1, MAX_MICROS);
        let mut shard = self.shards[client as usize % SHARDS]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        shard.saturating_record(micros);
    }

    fn record_all(&self, client: u32, micros: &[u64]) {
        let mut shard = self.shards[client as usize % SHARDS]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for &m in micros {
            shard.saturating_record(m);
        }
    }

    /// All shards merged.
    pub fn merged(&self) -> Histogram<u64> {
        let mut all =
            Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("static bounds are valid");
        for shard in &self.shards {
            let shard = shard
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            all.add(&*shard).expect("same bounds");
        }
        all
    }
}

/// One client's recent samples for one histogram, recorded into it [`BATCH`] at a time. The
/// owner must [`flush`](SampleBuffer::flush) it before the figures are read.
pub struct SampleBuffer {
    client: u32,
    micros: Vec<u64>,
}

impl SampleBuffer {
    pub fn new(client: u32) -> Self {
        Self {
            client,
            micros: Vec::new(),
        }
    }

    pub fn record(&mut self, into: &ShardedHistogram, latency: Duration) {
        self.micros
            .push((latency.as_micros() as u64).clamp(1, MAX_MICROS));
        if self.micros.len() >= BATCH {
            self.flush(into);
        }
    }

    pub fn flush(&mut self, into: &ShardedHistogram) {
        if !self.micros.is_empty() {
            into.record_all(self.client, &self.micros);
            self.micros.clear();
        }
    }
}

/// Counters and histograms of one run.
#[derive(Default)]
pub struct Stats {
    pub ack: ShardedHistogram,
    pub broadcast: ShardedHistogram,
    pub join: ShardedHistogram,
    pub errors: AtomicU64,
    /// The first error, reported as an example of what went wrong.
    first_error: Mutex<Option<String>>,
    /// Remote ops whose submit time had already left the [`super::clock::SubmitClock`].
    pub untimed: AtomicU64,
}

impl Stats {
    pub fn error(&self, error: &dyn std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self
            .first_error
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        first.get_or_insert_with(|| error.to_string());
    }

    pub fn untimed(&self) {
        self.untimed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Milliseconds with two decimals, `None` for an empty histogram.
fn ms(histogram: &Histogram<u64>, quantile: f64) -> Option<f64> {
    (!histogram.is_empty())
        .then(|| (histogram.value_at_quantile(quantile) as f64 / 10.0).round() / 100.0)
}

fn max_ms(histogram: &Histogram<u64>) -> Option<f64> {
    (!histogram.is_empty()).then(|| (histogram.max() as f64 / 10.0).round() / 100.0)
}

/// The JSON line `quire bench load` prints.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LoadReport {
    pub target: &'static str,
    pub docs: usize,
    pub clients: usize,
    pub watchers: usize,
    /// Ops/s per writer in an open-loop run; `null` for closed loop.
    pub rate: Option<f64>,
    pub initial_chars: usize,
    /// Creating the documents (and accounts) before the run.
    pub setup_s: f64,
    /// Opening and joining every connection.
    pub join_s: f64,
    /// From the first submit until every writer's last op was acknowledged.
    pub seconds: f64,
    /// Acknowledged ops.
    pub ops: u64,
    pub ops_per_s: f64,
    pub ack_p50_ms: Option<f64>,
    pub ack_p99_ms: Option<f64>,
    pub ack_max_ms: Option<f64>,
    /// From submit to arrival at each other client of the document.
    pub broadcast_p50_ms: Option<f64>,
    pub broadcast_p99_ms: Option<f64>,
    pub broadcast_max_ms: Option<f64>,
    /// Remote ops received over all clients (each op counts once per receiver).
    pub broadcasts: u64,
    /// Time from opening a connection to holding the document's state.
    pub join_p50_ms: Option<f64>,
    pub join_max_ms: Option<f64>,
    /// CPU time (user + system, every thread) the generator spent from the
    /// first submit until the last ack: what the client side cost.
    pub client_cpu_s: Option<f64>,
    /// Rejected ops, protocol surprises and lost connections.
    pub errors: u64,
    /// The first of them, if any.
    pub first_error: Option<String>,
    /// Every client's final text equals the server's.
    pub converged: bool,
}

/// The figures of a finished run, before the run's shape is added.
pub struct Figures {
    pub seconds: f64,
    pub ops: u64,
    pub ops_per_s: f64,
    pub ack: [Option<f64>; 3],
    pub broadcast: [Option<f64>; 3],
    pub broadcasts: u64,
    pub join: [Option<f64>; 2],
    pub errors: u64,
    pub first_error: Option<String>,
}

impl Stats {
    pub fn figures(&self, elapsed: Duration) -> Figures {
        let ack = self.ack.merged();
        let broadcast = self.broadcast.merged();
        let join = self.join.merged();
        // Every ack and every applied remote op is recorded exactly once.
        let ops = ack.len();
        let seconds = elapsed.as_secs_f64();
        Figures {
            seconds: (seconds * 1000.0).round() / 1000.0,
            ops,
            ops_per_s: if seconds > 0.0 {
                (ops as f64 / seconds).round()
            } else {
                0.0
            },
            ack: [ms(&ack, 0.5), ms(&ack, 0.99), max_ms(&ack)],
            broadcast: [
                ms(&broadcast, 0.5),
                ms(&broadcast, 0.99),
                max_ms(&broadcast),
            ],
            broadcasts: broadcast.len() + self.untimed.load(Ordering::Relaxed),
            join: [ms(&join, 0.5), max_ms(&join)],
            errors: self.errors.load(Ordering::Relaxed),
            first_error: self
                .first_error
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_shards_and_reports_milliseconds() {
        let h = ShardedHistogram::default();
        for client in 0..100u32 {
            h.record(client, Duration::from_micros(1_000 + u64::from(client)));
        }
        let all = h.merged();
        assert_eq!(all.len(), 100);
        assert_eq!(max_ms(&all), Some(1.1));
        assert_eq!(ms(&all, 0.5), Some(1.05));
        assert_eq!(ms(&Histogram::<u64>::new(3).unwrap(), 0.5), None);
    }

    #[test]
    fn buffered_samples_reach_the_histogram_once_flushed() {
        let h = ShardedHistogram::default();
        let mut buffer = SampleBuffer::new(3);
        for i in 0..(BATCH as u64 + 10) {
            buffer.record(&h, Duration::from_micros(100 + i));
        }
        assert_eq!(
            h.merged().len(),
            BATCH as u64,
            "a full batch is recorded at once"
        );
        buffer.flush(&h);
        buffer.flush(&h);
        let all = h.merged();
        assert_eq!(all.len(), BATCH as u64 + 10);
        assert_eq!(all.max(), 100 + BATCH as u64 + 9);
    }

    #[test]
    fn ops_per_second_from_acks() {
        let stats = Stats::default();
        for i in 0..500 {
            stats.ack.record(i, Duration::from_millis(2));
        }
        let figures = stats.figures(Duration::from_millis(250));
        assert_eq!(figures.ops, 500);
        assert_eq!(figures.ops_per_s, 2000.0);
        assert_eq!(figures.ack[2], Some(2.0));
        assert_eq!(figures.broadcast, [None, None, None]);
    }
}
