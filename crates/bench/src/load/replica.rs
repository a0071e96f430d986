//! A client's copy of the document, kept the way a real client keeps it: local inserts apply at
//! once, remote ops are transformed over the client's unacknowledged ones and applied.
//!
//! The generator's workload only inserts single characters, so every op in flight, pending or
//! received is one insert; transforming an insert over an insert is the whole of the
//! text-unicode transform that can occur, with the protocol's tie-break (the local op takes
//! side left, the remote op side right). Anything else on the wire is a protocol error, and a
//! wrong transform would show up as `converged: false`.

use std::collections::VecDeque;
use std::time::Instant;

use ropey::Rope;

use super::target::{Insert, LoadError};

/// An insert this client made that the server has not acknowledged yet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalOp {
    pub n: u64,
    pub position: u64,
    pub ch: char,
    /// When the op was generated (its scheduled time in an open-loop run).
    pub created: Instant,
}

/// The document as one client sees it.
pub struct Replica {
    text: Rope,
    version: u64,
    /// In-flight op first, then ops waiting for it.
    unacked: VecDeque<LocalOp>,
    in_flight: bool,
}

impl Replica {
    pub fn new(text: &str, version: u64) -> Self {
        Self {
            text: Rope::from_str(text),
            version,
            unacked: VecDeque::new(),
            in_flight: false,
        }
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn len_chars(&self) -> u64 {
        self.text.len_chars() as u64
    }

    pub fn has_unacked(&self) -> bool {
        !self.unacked.is_empty()
    }

    pub fn text_equals(&self, other: &str) -> bool {
        self.text == other
    }

    /// Applies a local insert and queues it for sending.
    pub fn insert_local(&mut self, op: LocalOp) -> Result<(), LoadError> {
        self.insert_at(op.position, op.ch.encode_utf8(&mut [0; 4]))?;
        self.unacked.push_back(op);
        Ok(())
    }

    /// The next op to send, if none is in flight; it is in flight from now on.
    pub fn take_next_to_send(&mut self) -> Option<LocalOp> {
        if self.in_flight {
            return None;
        }
        let next = *self.unacked.front()?;
        self.in_flight = true;
        Some(next)
    }

    /// The server acknowledged the in-flight op, which produced `version`.
    pub fn acknowledge(&mut self, n: u64, version: u64) -> Result<LocalOp, LoadError> {
        let expected = self.version.checked_add(1);
        match self.unacked.front() {
            Some(op) if self.in_flight && op.n == n && Some(version) == expected => {}
            _ => {
                return Err(LoadError::Protocol(format!(
                    "ack for op {n} at version {version}, expected op in flight at {expected:?}"
                )));
            }
        }
        self.in_flight = false;
        self.version = version;
        Ok(self.unacked.pop_front().expect("checked above"))
    }

    /// Applies a remote insert producing `version`. Returns `false` for an op this replica
    /// already has (ShareDB may send one twice); an op skipping a version is an error.
    pub fn apply_remote(&mut self, version: u64, insert: Insert<'_>) -> Result<bool, LoadError> {
        if version <= self.version {
            return Ok(false);
        }
        if Some(version) != self.version.checked_add(1) {
            return Err(LoadError::Protocol(format!(
                "remote op for version {version} while at {}",
                self.version
            )));
        }
        let len = insert.text.chars().count() as u64;
        let mut position = insert.position;
        for local in &mut self.unacked {
            // Local side left: on a tie the local insert stays first.
            if local.position <= position {
                position += 1;
            } else {
                local.position += len;
            }
        }
        self.insert_at(position, insert.text)?;
        self.version = version;
        Ok(true)
    }

    fn insert_at(&mut self, position: u64, text: &str) -> Result<(), LoadError> {
        let at = usize::try_from(position)
            .ok()
            .filter(|&at| at <= self.text.len_chars())
            .ok_or_else(|| {
                LoadError::Protocol(format!(
                    "insert at {position} beyond the text ({} chars)",
                    self.text.len_chars()
                ))
            })?;
        self.text.insert(at, text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(n: u64, position: u64, ch: char) -> LocalOp {
        LocalOp {
            n,
            position,
            ch,
            created: Instant::now(),
        }
    }

    #[test]
    fn local_then_ack() {
        let mut r = Replica::new("ab", 3);
        r.insert_local(op(1, 1, 'x')).unwrap();
        assert!(r.text_equals("axb"));
        let sent = r.take_next_to_send().unwrap();
        assert_eq!(sent.n, 1);
        assert!(
            r.take_next_to_send().is_none(),
            "one op in flight at a time"
        );
        assert!(r.acknowledge(1, 5).is_err(), "version must follow");
        r.acknowledge(1, 4).unwrap();
        assert_eq!(r.version(), 4);
        assert!(!r.has_unacked());
    }

    #[test]
    fn remote_insert_transforms_over_unacked_ones() {
        // Server state "ab" at v0. We insert 'x' at 1 (in flight) and 'y' at 3 (pending, after
        // 'b'); a remote 'R' at 1 arrives first (v1). The server will put our 'x' (incoming,
        // side left) before 'R': final "axRby".
        let mut r = Replica::new("ab", 0);
        r.insert_local(op(1, 1, 'x')).unwrap();
        r.take_next_to_send().unwrap();
        r.insert_local(op(2, 3, 'y')).unwrap();
        assert!(r.text_equals("axby"));
        assert!(
            r.apply_remote(
                1,
                Insert {
                    position: 1,
                    text: "R"
                }
            )
            .unwrap()
        );
        assert!(r.text_equals("axRby"));
        // The pending op moved past the remote insert; the in-flight one did not.
        r.acknowledge(1, 2).unwrap();
        assert_eq!(r.take_next_to_send().unwrap().position, 4);
    }

    #[test]
    fn remote_before_local_position_shifts_it() {
        let mut r = Replica::new("abc", 0);
        r.insert_local(op(1, 3, 'x')).unwrap();
        r.take_next_to_send().unwrap();
        r.apply_remote(
            1,
            Insert {
                position: 0,
                text: "ZZ",
            },
        )
        .unwrap();
        assert!(r.text_equals("ZZabcx"));
        r.acknowledge(1, 2).unwrap();
        assert!(r.text_equals("ZZabcx"));
    }

    #[test]
    fn duplicates_are_dropped_and_gaps_rejected() {
        let mut r = Replica::new("", 5);
        assert!(
            !r.apply_remote(
                5,
                Insert {
                    position: 0,
                    text: "a"
                }
            )
            .unwrap()
        );
        assert!(
            r.apply_remote(
                7,
                Insert {
                    position: 0,
                    text: "a"
                }
            )
            .is_err()
        );
        assert!(
            r.apply_remote(
                6,
                Insert {
                    position: 1,
                    text: "a"
                }
            )
            .is_err(),
            "beyond the text"
        );
        assert!(r.text_equals(""));
    }
}
