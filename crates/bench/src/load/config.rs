//! What one load run does: how many documents, writers and watchers, for how long, and at
//! which pace. Validated up front so a bad command line fails before any connection is made.

use std::time::Duration;

use thiserror::Error;

/// Upper bound on connections one generator process opens (writers + watchers over all
/// documents); far above the 10,000 × 2 workload, low enough to fail fast on typos.
pub const MAX_CONNECTIONS: usize = 200_000;
/// Longest run accepted, so every benchmark stays bounded in time.
pub const MAX_DURATION: Duration = Duration::from_secs(3_600);
/// Highest open-loop rate per writer, in ops/s.
pub const MAX_RATE: f64 = 10_000.0;
/// Largest initial document, in code points (the protocol's default `maxDocumentChars`).
pub const MAX_INITIAL_CHARS: usize = 16 * 1024 * 1024;

/// One run of the load generator.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Documents edited at once.
    pub docs: usize,
    /// Writing clients per document.
    pub clients: usize,
    /// Read-only clients per document (fan-out only).
    pub watchers: usize,
    /// How long writers keep submitting.
    pub duration: Duration,
    /// `None`: closed loop (send an op, wait for its ack, repeat). `Some(r)`: open loop,
    /// each writer generates `r` ops/s whatever the server does.
    pub rate: Option<f64>,
    /// Code points each document holds before the clients join (for join-time runs).
    pub initial_chars: usize,
    /// Connections being opened at the same time during the join phase.
    pub connect_concurrency: usize,
    /// How long to wait, after the run, for in-flight ops to be acknowledged and for every
    /// client to reach the server's final version.
    pub settle_timeout: Duration,
    /// Seed of the position generator (each client derives its own stream from it).
    pub seed: u64,
}

impl Default for LoadConfig {
    fn default() -> Self {
        Self {
            docs: 1,
            clients: 10,
            watchers: 0,
            duration: Duration::from_secs(5),
            rate: None,
            initial_chars: 0,
            connect_concurrency: 64,
            settle_timeout: Duration::from_secs(20),
            seed: 1,
        }
    }
}

/// A load configuration that cannot run.
#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("--docs must be at least 1")]
    NoDocuments,
    #[error("--clients must be at least 1")]
    NoClients,
    #[error("{0} connections requested; at most {MAX_CONNECTIONS} per generator")]
    TooManyConnections(String),
    #[error("--seconds must be > 0 and at most {}", MAX_DURATION.as_secs())]
    BadDuration,
    #[error("--rate must be a number > 0 and at most {MAX_RATE}")]
    BadRate,
    #[error("--initial-chars must be at most {MAX_INITIAL_CHARS}")]
    TooLargeInitialText,
    #[error("--connect-concurrency must be at least 1")]
    NoConcurrency,
}

impl LoadConfig {
    /// Checks every number with checked arithmetic; a valid config can be run as is.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.docs == 0 {
            return Err(ConfigError::NoDocuments);
        }
        if self.clients == 0 {
            return Err(ConfigError::NoClients);
        }
        let total = self.connections().filter(|&n| n <= MAX_CONNECTIONS);
        if total.is_none() {
            return Err(ConfigError::TooManyConnections(format!(
                "{} × ({} + {})",
                self.docs, self.clients, self.watchers
            )));
        }
        if self.duration.is_zero() || self.duration > MAX_DURATION {
            return Err(ConfigError::BadDuration);
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0 && rate <= MAX_RATE)
        {
            return Err(ConfigError::BadRate);
        }
        if self.initial_chars > MAX_INITIAL_CHARS {
            return Err(ConfigError::TooLargeInitialText);
        }
        if self.connect_concurrency == 0 {
            return Err(ConfigError::NoConcurrency);
        }
        Ok(())
    }

    /// Writers plus watchers over all documents, `None` on overflow.
    pub fn connections(&self) -> Option<usize> {
        self.clients
            .checked_add(self.watchers)?
            .checked_mul(self.docs)
    }

    /// Writers over all documents (fits whenever [`Self::validate`] passed).
    pub fn writers(&self) -> usize {
        self.clients.saturating_mul(self.docs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(LoadConfig::default().validate(), Ok(()));
    }

    #[test]
    fn rejects_bad_numbers() {
        let base = LoadConfig::default();
        let cases = [
            (
                LoadConfig {
                    docs: 0,
                    ..base.clone()
                },
                ConfigError::NoDocuments,
            ),
            (
                LoadConfig {
                    clients: 0,
                    ..base.clone()
                },
                ConfigError::NoClients,
            ),
            (
                LoadConfig {
                    duration: Duration::ZERO,
                    ..base.clone()
                },
                ConfigError::BadDuration,
            ),
            (
                LoadConfig {
                    rate: Some(f64::NAN),
                    ..base.clone()
                },
                ConfigError::BadRate,
            ),
            (
                LoadConfig {
                    rate: Some(-1.0),
                    ..base.clone()
                },
                ConfigError::BadRate,
            ),
            (
                LoadConfig {
                    initial_chars: MAX_INITIAL_CHARS + 1,
                    ..base.clone()
                },
                ConfigError::TooLargeInitialText,
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(config.validate(), Err(expected));
        }
    }

    #[test]
    fn rejects_overflowing_connection_counts() {
        let config = LoadConfig {
            docs: usize::MAX,
            clients: 2,
            ..LoadConfig::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::TooManyConnections(_))
        ));
        let config = LoadConfig {
            docs: 10_000,
            clients: 2,
            watchers: 0,
            ..LoadConfig::default()
        };
        assert_eq!(config.validate(), Ok(()));
    }
}
