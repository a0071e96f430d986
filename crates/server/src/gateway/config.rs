//! Every bound of the gateway, with the defaults docs/protocol.md §7 announces.

use std::time::Duration;

/// Gateway limits and timers.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Largest accepted client frame (`maxFrameBytes`, 4 MiB). Frames up to
    /// twice this size are read and answered with a typed `too_large`; larger
    /// ones break the socket read and get the same answer if it can be sent.
    pub max_frame_bytes: usize,
    /// The first frame must be `join` within this time (10 s).
    pub join_timeout: Duration,
    /// A connection silent for this long is closed (60 s).
    pub idle_timeout: Duration,
    /// Frames queued for one connection's writer (4,096); a client that lets
    /// it fill is sent `resync_required` (fatal).
    pub outbound_queue_frames: usize,
    /// Submits per connection not yet answered (64); more is `rate_limited`.
    pub max_unacked_submits: usize,
    /// Sustained submits per second per connection.
    pub rate_limit_per_sec: u32,
    /// Submits a connection may send in a burst above the sustained rate.
    pub rate_limit_burst: u32,
    /// Most op entries spliced into one `ops` frame.
    pub max_ops_per_frame: usize,
    /// Most session events turned into frames per wakeup before yielding.
    pub max_events_per_wakeup: usize,
    /// Read buffer per socket (2 KiB), and the most one socket read takes.
    /// The WebSocket layer zero-fills it before every read, so a large one
    /// (its default is 128 KiB) costs a 128 KiB memset per small frame, and
    /// every open connection keeps it: 8 KiB was a quarter of the memory of
    /// an open document. It grows to hold a larger frame.
    pub socket_read_buffer_bytes: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            max_frame_bytes: 4 << 20,
            join_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            outbound_queue_frames: 4_096,
            max_unacked_submits: 64,
            rate_limit_per_sec: 2_000,
            rate_limit_burst: 4_000,
            max_ops_per_frame: 512,
            max_events_per_wakeup: 1_024,
            socket_read_buffer_bytes: 2 * 1024,
        }
    }
}

impl GatewayConfig {
    /// The WebSocket layer's own message limit: room above `max_frame_bytes`
    /// so that a slightly oversized frame is read and refused with a typed error.
    pub fn socket_message_limit(&self) -> usize {
        self.max_frame_bytes.saturating_mul(2)
    }
}
