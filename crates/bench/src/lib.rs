//! quire-bench: see docs/architecture.md.

pub mod trace;
