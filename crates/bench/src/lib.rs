//! quire-bench: see docs/architecture.md.
