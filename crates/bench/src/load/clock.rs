//! When each op was submitted, readable by every other client, so that broadcast arrival can be
//! measured from submit time without putting a timestamp on the wire (ShareDB would not carry
//! one) and without a lock on the hot path.
//!
//! Each client owns a small ring of slots indexed by its op number; a slot packs the op number
//! (low 24 bits) with the submit time in microseconds since the run's epoch (40 bits, 12 days).
//! A reader finds an op's slot, and trusts it only if the packed number matches, so an op too
//! old to still be in the ring is reported as unknown instead of being timed wrongly.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::target::Origin;

/// Ops of one client whose submit time stays readable (a receiver lagging more than this many
/// of one sender's ops behind gets no sample for them).
pub const SLOTS_PER_CLIENT: usize = 256;
const TIME_BITS: u32 = 40;
const TIME_MASK: u64 = (1 << TIME_BITS) - 1;
const N_MASK: u64 = (1 << (64 - TIME_BITS)) - 1;

/// Submit times of every client's recent ops.
pub struct SubmitClock {
    epoch: Instant,
    slots: Box<[AtomicU64]>,
}

impl SubmitClock {
    pub fn new(clients: usize) -> Self {
        let slots = (0..clients.saturating_mul(SLOTS_PER_CLIENT))
            .map(|_| AtomicU64::new(0))
            .collect();
        Self {
            epoch: Instant::now(),
            slots,
        }
    }

    fn slot(&self, origin: Origin) -> Option<&AtomicU64> {
        let ring = (origin.client as usize).checked_mul(SLOTS_PER_CLIENT)?;
        self.slots
            .get(ring + (origin.n % SLOTS_PER_CLIENT as u64) as usize)
    }

    /// Records that `origin` was submitted at `at`.
    pub fn record(&self, origin: Origin, at: Instant) {
        // +1 keeps a real sample distinct from an empty slot.
        let micros = (at.saturating_duration_since(self.epoch).as_micros() as u64 + 1) & TIME_MASK;
        if let Some(slot) = self.slot(origin) {
            slot.store(
                ((origin.n & N_MASK) << TIME_BITS) | micros,
                Ordering::Release,
            );
        }
    }

    /// How long ago `origin` was submitted, as seen at `now`; `None` if unknown.
    pub fn since(&self, origin: Origin, now: Instant) -> Option<Duration> {
        let packed = self.slot(origin)?.load(Ordering::Acquire);
        if packed == 0 || packed >> TIME_BITS != origin.n & N_MASK {
            return None;
        }
        let submitted = self.epoch + Duration::from_micros((packed & TIME_MASK) - 1);
        Some(now.saturating_duration_since(submitted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_was_recorded() {
        let clock = SubmitClock::new(2);
        let t = Instant::now();
        let origin = Origin { client: 1, n: 7 };
        assert_eq!(clock.since(origin, t), None);
        clock.record(origin, t);
        let later = t + Duration::from_millis(3);
        let d = clock.since(origin, later).unwrap();
        assert!(
            d >= Duration::from_micros(2_999) && d <= Duration::from_micros(3_001),
            "{d:?}"
        );
        // Another client's same op number is not confused with it.
        assert_eq!(clock.since(Origin { client: 0, n: 7 }, later), None);
    }

    #[test]
    fn overwritten_slots_and_unknown_clients_give_none() {
        let clock = SubmitClock::new(1);
        let t = Instant::now();
        clock.record(Origin { client: 0, n: 1 }, t);
        clock.record(
            Origin {
                client: 0,
                n: 1 + SLOTS_PER_CLIENT as u64,
            },
            t,
        );
        assert_eq!(clock.since(Origin { client: 0, n: 1 }, t), None);
        assert!(
            clock
                .since(
                    Origin {
                        client: 0,
                        n: 1 + SLOTS_PER_CLIENT as u64
                    },
                    t
                )
                .is_some()
        );
        assert_eq!(clock.since(Origin { client: 5, n: 1 }, t), None);
        clock.record(
            Origin {
                client: u32::MAX,
                n: 1,
            },
            t,
        ); // ignored, no panic
    }
}
