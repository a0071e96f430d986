//! Every tunable bound of the HTTP server in one place, with the reason for its
//! default. Nothing else in the crate hard-codes a size, a count or a lifetime:
//! a reviewer can see here how much one request may cost.

use std::time::Duration;

/// Bounds and policies of the REST API. `ServerConfig::default()` is what
/// `quire serve` runs with; tests shrink the password-hashing cost and inject
/// short token lifetimes.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted request body. Every REST body is a few short strings,
    /// so 64 KiB is generous; larger bodies get `413 payload_too_large`.
    pub max_body_bytes: usize,
    /// How long a token from signup/login stays valid.
    pub token_lifetime: Duration,
    /// Page size of list endpoints when the client gives no `limit`.
    pub default_page_size: u32,
    /// Largest `limit` a client may ask for; larger is `400 invalid_limit`.
    pub max_page_size: u32,
    /// Longest document title, in Unicode scalar values.
    pub max_title_chars: usize,
    /// Longest accepted pagination cursor, in bytes (cursors we issue are far shorter).
    pub max_cursor_bytes: usize,
    /// Cost of argon2id password hashes.
    pub password_hashing: PasswordHashing,
}

/// Argon2id cost parameters and the bounds on hashing work in flight. Hashing
/// is CPU- and memory-heavy on purpose, so it runs on the blocking pool and is
/// limited: at most `max_concurrent` hashes run at once and at most
/// `max_pending` requests wait or run; beyond that a signup/login gets
/// `503 busy` instead of queueing without bound.
#[derive(Debug, Clone)]
pub struct PasswordHashing {
    /// Memory cost in KiB (OWASP's argon2id recommendation: 19 MiB).
    pub memory_kib: u32,
    /// Number of passes (OWASP: 2).
    pub iterations: u32,
    /// Lanes (OWASP: 1).
    pub parallelism: u32,
    /// Hashes computed at the same time.
    pub max_concurrent: usize,
    /// Hash requests admitted at once (running plus waiting).
    pub max_pending: usize,
}

impl Default for PasswordHashing {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_pending: 64,
        }
    }
}

impl PasswordHashing {
    /// The cheapest parameters argon2 accepts: for tests only, where hundreds of
    /// signups must take milliseconds.
    pub fn insecure_fast_for_tests() -> Self {
        Self {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
            ..Self::default()
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            token_lifetime: Duration::from_secs(24 * 60 * 60),
            default_page_size: 50,
            max_page_size: 200,
            max_title_chars: 200,
            max_cursor_bytes: 512,
            password_hashing: PasswordHashing::default(),
        }
    }
}
