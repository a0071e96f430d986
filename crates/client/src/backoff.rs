//! Reconnect delays: exponential with full jitter, so that many clients
//! dropped at once do not come back in lockstep.

use std::time::Duration;

use rand::Rng;

/// Bounds of the reconnect delay.
#[derive(Debug, Clone, Copy)]
pub struct BackoffConfig {
    /// Upper bound of the first delay.
    pub initial: Duration,
    /// Upper bound of any delay.
    pub max: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
        }
    }
}

/// Counts failed attempts and picks the next delay.
#[derive(Debug)]
pub struct Backoff {
    config: BackoffConfig,
    attempt: u32,
}

impl Backoff {
    pub fn new(config: BackoffConfig) -> Backoff {
        Backoff { config, attempt: 0 }
    }

    /// A uniformly random delay in `[0, min(max, initial * 2^attempt)]`,
    /// then counts the attempt.
    pub fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(20)).unwrap_or(u32::MAX);
        let cap = self
            .config
            .initial
            .saturating_mul(factor)
            .min(self.config.max);
        self.attempt = self.attempt.saturating_add(1);
        rng.random_range(Duration::ZERO..=cap)
    }

    /// A connection succeeded: start over.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn delays_grow_to_the_cap_and_reset() {
        let config = BackoffConfig {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(100),
        };
        let mut backoff = Backoff::new(config);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for attempt in 0..40u32 {
            let cap = Duration::from_millis(10 * 2u64.pow(attempt.min(20))).min(config.max);
            assert!(backoff.next_delay(&mut rng) <= cap);
        }
        assert_eq!(backoff.attempts(), 40);
        backoff.reset();
        assert!(backoff.next_delay(&mut rng) <= config.initial);
    }
}
