//! One simulated client: a task that owns its socket and replica, submits single-character
//! inserts at random positions (closed loop or at a fixed rate), applies what it receives and
//! records latencies. Per op it does one small encode, one decode per frame, a rope insert and
//! a histogram record: nothing proportional to the document or to the number of clients.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::watch;
use tokio::time::{self, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

use super::clock::SubmitClock;
use super::replica::{LocalOp, Replica};
use super::shared_frames;
use super::stats::{SampleBuffer, Stats};
use super::target::{Event, Joined, LoadError, Origin, Role, Submit, Target};
use super::ws::{WsStream, close_gracefully, send_text};

/// How often an otherwise silent client sends the target's heartbeat.
const PING_EVERY: Duration = Duration::from_secs(15);

/// Where the run is; every client watches it.
#[derive(Debug, Clone)]
pub enum Phase {
    /// Connected, waiting for the start.
    Ready,
    /// Submitting.
    Run { start: Instant },
    /// No new ops; finish the unacknowledged ones.
    Stop,
    /// Compare with the server's final state, given per document as (text, version).
    /// `None` where the server's state could not be read.
    Converge(Arc<Vec<Option<(String, u64)>>>),
}

/// What a client reports when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Converged,
    Diverged,
}

/// Shared by all clients of a run.
pub struct Shared<T: Target> {
    pub target: Arc<T>,
    pub stats: Arc<Stats>,
    pub clock: Arc<SubmitClock>,
    /// `None`: closed loop.
    pub rate: Option<f64>,
    /// Tells the coordinator that one more writer has no unacknowledged op after `Stop`.
    pub drained: tokio::sync::mpsc::UnboundedSender<()>,
}

pub struct Client<T: Target> {
    shared: Arc<Shared<T>>,
    id: u32,
    doc: usize,
    role: Role,
    ws: WsStream,
    conn: T::Conn,
    replica: Replica,
    rng: fastrand::Rng,
    next_n: u64,
    ch: char,
    stopping: bool,
    /// This writer has told the coordinator it has no unacknowledged op left (always true
    /// for a watcher, which is not counted).
    reported_drained: bool,
    /// Latency samples not yet in the shared histograms; flushed when the client is dropped
    /// (which the coordinator waits for before reading the figures).
    acks: SampleBuffer,
    broadcasts: SampleBuffer,
}

impl<T: Target> Drop for Client<T> {
    fn drop(&mut self) {
        self.acks.flush(&self.shared.stats.ack);
        self.broadcasts.flush(&self.shared.stats.broadcast);
    }
}

impl<T: Target> Client<T> {
    pub fn new(
        shared: Arc<Shared<T>>,
        id: u32,
        doc: usize,
        role: Role,
        joined: Joined<T::Conn>,
        seed: u64,
    ) -> Result<Self, LoadError> {
        let replica = Replica::new(&joined.text, joined.version);
        let mut client = Self {
            shared,
            id,
            doc,
            role,
            ws: joined.ws,
            conn: joined.conn,
            replica,
            rng: fastrand::Rng::with_seed(seed ^ (u64::from(id) << 20)),
            next_n: 1,
            ch: char::from(b'a' + (id % 26) as u8),
            stopping: false,
            // Only writers take part in the drain; a watcher has nothing to drain.
            reported_drained: role == Role::Watcher,
            acks: SampleBuffer::new(id),
            broadcasts: SampleBuffer::new(id),
        };
        for frame in &joined.early {
            client.on_frame(frame)?;
        }
        Ok(client)
    }

    /// Runs until the convergence check; lost connections and protocol errors end the client
    /// as diverged (and are counted).
    pub async fn run(mut self, mut phase: watch::Receiver<Phase>) -> Outcome {
        match self.run_inner(&mut phase).await {
            Ok(outcome) => outcome,
            Err(e) => {
                self.shared.stats.error(&e);
                if !self.reported_drained {
                    let _ = self.shared.drained.send(());
                }
                Outcome::Diverged
            }
        }
    }

    async fn run_inner(
        &mut self,
        phase: &mut watch::Receiver<Phase>,
    ) -> Result<Outcome, LoadError> {
        let mut ticker: Option<time::Interval> = None;
        let mut ping = time::interval_at(time::Instant::now() + PING_EVERY, PING_EVERY);
        // Re-read only when it changes: the watch channel's lock is shared by every client.
        let mut current = phase.borrow_and_update().clone();
        loop {
            match current {
                Phase::Ready => {}
                Phase::Run { start } => {
                    if self.role == Role::Writer && !self.stopping {
                        if let Some(rate) = self.shared.rate {
                            if ticker.is_none() {
                                ticker = Some(self.open_loop_ticker(start, rate));
                            }
                        } else if !self.replica.has_unacked() {
                            self.generate(Instant::now())?;
                        }
                    }
                }
                Phase::Stop => {
                    self.stopping = true;
                    ticker = None;
                }
                Phase::Converge(ref finals) => {
                    self.stopping = true;
                    ticker = None;
                    let Some((text, version)) = finals.get(self.doc).and_then(Option::as_ref)
                    else {
                        close_gracefully(&mut self.ws).await;
                        return Ok(Outcome::Diverged);
                    };
                    if self.replica.version() >= *version {
                        let outcome = if self.replica.text_equals(text) {
                            Outcome::Converged
                        } else {
                            Outcome::Diverged
                        };
                        close_gracefully(&mut self.ws).await;
                        return Ok(outcome);
                    }
                }
            }
            self.send_next().await?;
            if self.stopping && !self.replica.has_unacked() && !self.reported_drained {
                self.reported_drained = true;
                let _ = self.shared.drained.send(());
            }

            tokio::select! {
                message = self.ws.next() => {
                    match message {
                        Some(Ok(Message::Text(frame))) => self.on_frame(frame.as_str())?,
                        Some(Ok(Message::Close(_))) | None => {
                            return Err(LoadError::Connect("server closed the connection".into()));
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return Err(LoadError::Connect(e.to_string())),
                    }
                }
                changed = phase.changed() => {
                    if changed.is_err() {
                        return Err(LoadError::Protocol("coordinator gone".into()));
                    }
                    current = phase.borrow_and_update().clone();
                }
                tick = async { ticker.as_mut().expect("guarded").tick().await }, if ticker.is_some() => {
                    self.generate(tick.into_std())?;
                }
                _ = ping.tick() => {
                    if let Some(frame) = self.shared.target.ping_frame() {
                        send_text(&mut self.ws, frame).await?;
                    }
                }
            }
        }
    }

    /// A ticker firing `rate` times per second from a random phase after `start`; late ticks
    /// fire in a burst, so the generated load stays at the rate even if this task lags.
    fn open_loop_ticker(&mut self, start: Instant, rate: f64) -> time::Interval {
        let period = Duration::from_secs_f64(1.0 / rate);
        let offset = period.mul_f64(self.rng.f64());
        let mut ticker = time::interval_at(time::Instant::from_std(start) + offset, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        ticker
    }

    /// Makes one local insert at a random position.
    fn generate(&mut self, created: Instant) -> Result<(), LoadError> {
        let position = self.rng.u64(0..=self.replica.len_chars());
        let op = LocalOp {
            n: self.next_n,
            position,
            ch: self.ch,
            created,
        };
        self.next_n += 1;
        self.replica.insert_local(op)
    }

    async fn send_next(&mut self) -> Result<(), LoadError> {
        let Some(op) = self.replica.take_next_to_send() else {
            return Ok(());
        };
        let origin = Origin {
            client: self.id,
            n: op.n,
        };
        self.shared.clock.record(origin, op.created);
        let submit = Submit {
            origin,
            base_version: self.replica.version(),
            position: op.position,
            ch: op.ch,
        };
        let frame = self.shared.target.submit_frame(&self.conn, &submit);
        send_text(&mut self.ws, frame).await
    }

    fn on_frame(&mut self, frame: &str) -> Result<(), LoadError> {
        let now = Instant::now();
        let mut failure = None;
        let Self {
            shared,
            conn,
            replica,
            acks,
            broadcasts,
            ..
        } = self;
        let stats = &shared.stats;
        let clock = &shared.clock;
        let target = &shared.target;
        let on: &mut dyn FnMut(Event<'_>) = &mut |event| {
            if failure.is_some() {
                return;
            }
            let result = match event {
                Event::Ack { origin, version } => {
                    replica.acknowledge(origin.n, version).map(|op| {
                        acks.record(&stats.ack, now.saturating_duration_since(op.created));
                    })
                }
                Event::Remote {
                    version,
                    origin,
                    insert,
                } => replica.apply_remote(version, insert).map(|applied| {
                    if !applied {
                        return;
                    }
                    match origin.and_then(|o| clock.since(o, now)) {
                        Some(latency) => broadcasts.record(&stats.broadcast, latency),
                        None => stats.untimed(),
                    }
                }),
                Event::Rejected => Err(LoadError::Protocol("op rejected by the server".into())),
                Event::Ignored => Ok(()),
            };
            if let Err(e) = result {
                failure = Some(e);
            }
        };
        shared_frames::decode(frame, on, |on| target.decode(conn, frame, on))?;
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
