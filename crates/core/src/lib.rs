//! quire-core: see docs/architecture.md.
