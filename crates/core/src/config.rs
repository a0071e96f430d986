//! Every bound of the collaboration core, in one place, with its default.
//!
//! Nothing in the core grows without a limit: each queue, buffer and window has
//! a field here, so an operator can see (and tune) what memory a document and a
//! session may hold.

use quire_engine::limits::Limits;
use std::time::Duration;

/// Configuration of a [`Hub`](crate::Hub). `CoreConfig::default()` is the
/// production setting; tests shrink individual bounds.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Recent ops each open document keeps in memory (with their dedup
    /// entries) to rebase stale ops without touching storage.
    pub window_ops: usize,
    /// Take a snapshot after this many ops since the previous one...
    pub snapshot_every_ops: u64,
    /// ...or after this many bytes of op JSON since the previous one.
    pub snapshot_every_bytes: u64,
    /// Ops kept in the stored log below the latest snapshot before they are
    /// pruned. This is how far back a client's op may be rebased (the rebase
    /// horizon trails the latest snapshot by it).
    pub retention_ops: u64,
    /// Operation-id registry entries kept below the latest snapshot (about
    /// 60 bytes each). This is how far back a resend is still recognised and
    /// answered with its original ack (the dedup horizon trails the latest
    /// snapshot by it). Must be ≥ `retention_ops`, because the dedup horizon
    /// may never pass the rebase horizon ([`CoreConfig::validate`];
    /// [`Hub::start`](crate::Hub::start) refuses a configuration that fails it).
    pub registry_retention_ops: u64,
    /// A document with no session and no pending work is unloaded after this.
    pub idle_unload_after: Duration,
    /// Commands waiting in one document owner's mailbox; a full mailbox answers
    /// `Overloaded` (retryable).
    pub mailbox_capacity: usize,
    /// Events queued for one session; a session that falls this far behind is
    /// closed with `ResyncRequired` (docs/protocol.md §7: 4,096 frames).
    pub session_queue_capacity: usize,
    /// Longest a durable op waits before it is delivered to a live session
    /// that has no acknowledgement due (docs/protocol.md §4, "Delivery
    /// timing"). A document's sessions are served in rounds, one group of
    /// sessions at a time, each group at most once per *hold* =
    /// `broadcast_interval_per_session` × (sessions of the document), capped
    /// at this; a session whose own op became durable gets everything up to
    /// its ack at once. Zero delivers every commit at once.
    pub broadcast_interval: Duration,
    /// The hold per session of a document: a session costs about one socket
    /// write per delivery, so this bounds a document's delivery writes to
    /// about one per `broadcast_interval_per_session` (1,000 sessions × 40 µs:
    /// each served once per 40 ms, whatever the commit rate), while a small
    /// document is never held noticeably (10 sessions: 0.4 ms).
    pub broadcast_interval_per_session: Duration,
    /// Ops buffered for a joining session between its snapshot and its
    /// `snapshot_ack` (docs/protocol.md §7: 16,384); overflow closes it with
    /// `ResyncRequired`.
    pub join_buffer_ops: usize,
    /// Most ops handed to the store in one `append_ops` call.
    pub max_commit_batch: usize,
    /// Most `append_ops` calls one document has waiting at once. More than
    /// one lets the store start the next transaction the moment the previous
    /// one is durable (see `owner`); each call holds at most
    /// `max_commit_batch` ops and all of them together `max_pending_ops`.
    pub max_commits_in_flight: usize,
    /// Most ops applied in memory but not yet durable per document (pending
    /// and in flight); beyond it
    /// the owner stops taking new submits until commits catch up (its mailbox
    /// then fills and answers `Overloaded`).
    pub max_pending_ops: usize,
    /// Most ops a `since` join may receive as a catch-up; further behind, the
    /// session gets a snapshot instead.
    pub max_catch_up_ops: usize,
    /// Users whose role one open document caches (beyond it the cache is
    /// cleared and roles are re-read from storage on demand).
    pub acl_cache_users: usize,
    /// Several instances on one database (PostgreSQL): hand an open document
    /// over when another instance asks for it (a `DocumentNotice::HandOffRequested`,
    /// sent when that instance is refused the document for a client routed
    /// to it, `JoinRequest::routed`), once it has been
    /// open here this long; its sessions are closed `unavailable` and rejoin
    /// through the load balancer. `None` (the default) never hands over: only
    /// a load balancer that routes by document (docs/architecture.md) sends
    /// all of a document's clients to the asking instance; with any other
    /// routing, handing over would move the document back and forth.
    pub hand_off_after: Option<Duration>,
    /// Op and document size limits (announced to clients in `joined`).
    pub limits: Limits,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            window_ops: 10_000,
            snapshot_every_ops: 1_000,
            snapshot_every_bytes: 4 * 1024 * 1024,
            retention_ops: 10_000,
            registry_retention_ops: 200_000,
            idle_unload_after: Duration::from_secs(60),
            mailbox_capacity: 4_096,
            session_queue_capacity: 4_096,
            broadcast_interval: Duration::from_millis(40),
            broadcast_interval_per_session: Duration::from_micros(40),
            join_buffer_ops: 16_384,
            max_commit_batch: 4_096,
            max_commits_in_flight: 8,
            max_pending_ops: 16_384,
            max_catch_up_ops: 16_384,
            acl_cache_users: 4_096,
            hand_off_after: None,
            limits: Limits::default(),
        }
    }
}

/// A [`CoreConfig`] whose bounds contradict each other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "registry_retention_ops ({registry}) is below retention_ops ({log}): \
         the dedup horizon would pass the rebase horizon"
    )]
    RegistryShorterThanLog { registry: u64, log: u64 },
}

impl CoreConfig {
    /// Checks the bounds against each other.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.registry_retention_ops < self.retention_ops {
            return Err(ConfigError::RegistryShorterThanLog {
                registry: self.registry_retention_ops,
                log: self.retention_ops,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_must_outlive_the_log() {
        assert_eq!(CoreConfig::default().validate(), Ok(()));
        let short = CoreConfig {
            retention_ops: 10,
            registry_retention_ops: 9,
            ..CoreConfig::default()
        };
        assert_eq!(
            short.validate(),
            Err(ConfigError::RegistryShorterThanLog {
                registry: 9,
                log: 10
            })
        );
        let (store, _dir) = quire_storage::testing::fresh_sqlite();
        assert!(matches!(
            crate::Hub::start(store, short),
            Err(ConfigError::RegistryShorterThanLog {
                registry: 9,
                log: 10
            })
        ));
    }
}
