//! quire-client: see docs/architecture.md.
