//! Keyset pagination for list endpoints: a page size within the configured
//! bounds and an opaque cursor (base64url of a small JSON position). Clients
//! pass `nextCursor` back unchanged; anything else is `400 invalid_cursor`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::ServerConfig;
use crate::error::Invalid;

/// The page size to use: `limit` if within `1..=max_page_size`, else an error;
/// the default page size when absent.
pub fn page_size(limit: Option<u32>, cfg: &ServerConfig) -> Result<u32, Invalid> {
    match limit {
        None => Ok(cfg.default_page_size),
        Some(n) if (1..=cfg.max_page_size).contains(&n) => Ok(n),
        Some(_) => Err(Invalid::Limit {
            max: cfg.max_page_size,
        }),
    }
}

pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    // Serialising plain position structs cannot fail.
    let json = serde_json::to_vec(position).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

pub fn decode_cursor<T: DeserializeOwned>(cursor: &str, cfg: &ServerConfig) -> Result<T, Invalid> {
    if cursor.len() > cfg.max_cursor_bytes {
        return Err(Invalid::Cursor);
    }
    let json = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| Invalid::Cursor)?;
    serde_json::from_slice(&json).map_err(|_| Invalid::Cursor)
}

/// Splits a result fetched with `limit + 1` rows into the page and whether
/// another page follows.
pub fn split_page<T>(mut rows: Vec<T>, limit: u32) -> (Vec<T>, bool) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    (rows, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let cfg = ServerConfig::default();
        assert_eq!(page_size(None, &cfg), Ok(cfg.default_page_size));
        assert_eq!(page_size(Some(1), &cfg), Ok(1));
        assert!(page_size(Some(0), &cfg).is_err());
        assert!(page_size(Some(cfg.max_page_size + 1), &cfg).is_err());
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cfg = ServerConfig::default();
        let c = encode_cursor(&("abc", 5));
        assert_eq!(
            decode_cursor::<(String, i32)>(&c, &cfg),
            Ok(("abc".into(), 5))
        );
        assert_eq!(
            decode_cursor::<(String, i32)>("!!", &cfg),
            Err(Invalid::Cursor)
        );
        assert_eq!(
            decode_cursor::<(String, i32)>(&encode_cursor(&7), &cfg),
            Err(Invalid::Cursor)
        );
        assert_eq!(
            decode_cursor::<(String, i32)>(&"a".repeat(10_000), &cfg),
            Err(Invalid::Cursor)
        );
    }

    #[test]
    fn split() {
        assert_eq!(split_page(vec![1, 2, 3], 2), (vec![1, 2], true));
        assert_eq!(split_page(vec![1, 2], 2), (vec![1, 2], false));
    }
}
