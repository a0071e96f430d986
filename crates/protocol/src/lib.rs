//! # quire-protocol
//!
//! The wire messages of `docs/protocol.md`, shared by the server's realtime
//! gateway, the Rust client SDK and the benchmarks, so that both ends of a
//! socket are compiled from one definition of every frame.
//!
//! - [`ClientMessage`] / [`ServerMessage`]: every frame, tagged by `"type"`,
//!   camelCase fields, unknown fields rejected.
//! - [`codec`]: strict decoding with typed errors ([`FrameError`]) and a frame
//!   size bound checked before any parsing, plus the encoders the gateway uses
//!   to build `ops`/`catchUp` frames by concatenating entries the core has
//!   already serialised (one serialisation per op, not one per recipient).
//! - [`ErrorCode`]: the error table of §6, with its retryable/fatal rules.

pub mod client_msg;
pub mod codec;
pub mod error_code;
pub mod server_msg;

pub use client_msg::{ClientMessage, Join, Since};
pub use codec::{
    FrameError, decode_client_frame, decode_server_frame, encode_catch_up_frame, encode_frame,
    encode_ops_frame, encode_snapshot_frame,
};
pub use error_code::ErrorCode;
pub use server_msg::{ErrorFrame, OpEntry, PresenceUser, Role, ServerMessage, WireLimits};

/// The protocol version this crate speaks; a `join` must carry it.
pub const PROTOCOL_VERSION: u32 = 1;
