//! Fault injection for tests: a [`Connector`] wrapper that, per frame and at
//! random (seeded), kills the connection (losing the frame), delays frames
//! (keeping their order, as a WebSocket would) and duplicates them.
//!
//! Each direction of each connection is relayed by its own task, so a delay
//! in one direction does not hold up the other.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use quire_engine::DocumentId;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::mpsc;

use crate::transport::{CONNECTION_QUEUE_FRAMES, Connection, Connector, TransportError};

/// Probabilities per frame, in each direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct FaultPlan {
    /// Drop this frame and close the connection.
    pub kill: f64,
    /// Hold this frame (and those behind it) for up to `max_delay`.
    pub delay: f64,
    pub max_delay: Duration,
    /// Deliver this frame twice.
    pub duplicate: f64,
    /// Fail a connection attempt.
    pub refuse: f64,
}

/// Wraps a connector with a [`FaultPlan`].
pub struct FaultyConnector<C> {
    inner: C,
    plan: FaultPlan,
    rng: Mutex<StdRng>,
}

impl<C: Connector> FaultyConnector<C> {
    pub fn new(inner: C, plan: FaultPlan, seed: u64) -> FaultyConnector<C> {
        FaultyConnector {
            inner,
            plan,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    fn fork_rng(&self) -> StdRng {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        StdRng::seed_from_u64(rng.random())
    }
}

#[async_trait]
impl<C: Connector> Connector for FaultyConnector<C> {
    async fn connect(&self, document: DocumentId) -> Result<Connection, TransportError> {
        if self
            .fork_rng()
            .random_bool(self.plan.refuse.clamp(0.0, 1.0))
        {
            return Err(TransportError::Unreachable(
                "refused by fault injection".into(),
            ));
        }
        let real = self.inner.connect(document).await?;
        let (out_tx, out_rx) = mpsc::channel(CONNECTION_QUEUE_FRAMES);
        let (in_tx, in_rx) = mpsc::channel(CONNECTION_QUEUE_FRAMES);
        tokio::spawn(relay(out_rx, real.outgoing, self.plan, self.fork_rng()));
        tokio::spawn(relay(real.incoming, in_tx, self.plan, self.fork_rng()));
        Ok(Connection {
            outgoing: out_tx,
            incoming: in_rx,
        })
    }
}

/// Forwards frames from `from` to `to` with faults; ending (on a kill, or when
/// either side closes) drops both channel ends, which closes the connection.
async fn relay(
    mut from: mpsc::Receiver<String>,
    to: mpsc::Sender<String>,
    plan: FaultPlan,
    mut rng: StdRng,
) {
    while let Some(frame) = from.recv().await {
        if rng.random_bool(plan.kill.clamp(0.0, 1.0)) {
            return;
        }
        if rng.random_bool(plan.delay.clamp(0.0, 1.0)) && !plan.max_delay.is_zero() {
            let wait = rng.random_range(Duration::ZERO..=plan.max_delay);
            tokio::time::sleep(wait).await;
        }
        let copies = if rng.random_bool(plan.duplicate.clamp(0.0, 1.0)) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            if to.send(frame.clone()).await.is_err() {
                return;
            }
        }
    }
}
