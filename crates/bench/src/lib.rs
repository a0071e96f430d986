//! quire-bench: see docs/architecture.md.
//!
//! - [`load`]: the load generator behind `quire bench load`, generic over a [`load::Target`].
//! - [`sharedb`]: a [`load::Target`] speaking ShareDB's JSON wire protocol, for the side-by-side
//!   comparison in `bench/compare.sh`.
//! - [`ceiling`]: the bound any durable, fanned-out closed loop meets on this machine
//!   (`quire bench ceiling`), to read the one-document figures against.
//! - [`quire_target`]: the [`load::Target`] for a running Quire server (REST setup + WebSocket).

pub mod ceiling;
pub mod load;
pub mod quire_target;
pub mod sharedb;
pub mod trace;
