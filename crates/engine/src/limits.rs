//! Size limits an op and a document must respect (docs/protocol.md §7).
//!
//! They live in the engine because validation needs them; the server reads
//! them from its configuration and announces them to clients in `joined`.

use serde::{Deserialize, Serialize};

/// Per-op and per-document size limits, in Unicode code points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Most code points of inserted text one op may carry.
    pub max_op_chars: usize,
    /// Most code points a document may hold after any op.
    pub max_document_chars: usize,
}

impl Limits {
    /// Default per-op insert limit: 1,048,576 code points.
    pub const DEFAULT_MAX_OP_CHARS: usize = 1_048_576;
    /// Default document size limit: 16,777,216 code points.
    pub const DEFAULT_MAX_DOCUMENT_CHARS: usize = 16_777_216;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_op_chars: Self::DEFAULT_MAX_OP_CHARS,
            max_document_chars: Self::DEFAULT_MAX_DOCUMENT_CHARS,
        }
    }
}
