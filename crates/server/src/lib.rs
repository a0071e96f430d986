//! quire-server: see docs/architecture.md.
