//! quire-protocol: see docs/architecture.md.
