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

/// A parsed list request: the validated page size and the decoded position to
/// continue after. The list endpoints share it so that fetching `limit + 1`
/// rows and deriving `nextCursor` is written once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<C> {
    pub after: Option<C>,
    pub limit: u32,
}

impl<C: DeserializeOwned> PageRequest<C> {
    /// Validates `limit` and decodes `cursor` (see [`page_size`] and [`decode_cursor`]).
    pub fn parse(
        limit: Option<u32>,
        cursor: Option<&str>,
        cfg: &ServerConfig,
    ) -> Result<Self, Invalid> {
        Ok(PageRequest {
            limit: page_size(limit, cfg)?,
            after: cursor.map(|c| decode_cursor(c, cfg)).transpose()?,
        })
    }

    /// How many rows to ask the store for: one more than the page, to learn
    /// whether another page follows.
    pub fn fetch_count(&self) -> u32 {
        self.limit.saturating_add(1)
    }

    /// The page out of rows fetched with [`PageRequest::fetch_count`], and the
    /// cursor of the next page (the last row's `position`) when one follows.
    pub fn finish<T, P: Serialize>(
        &self,
        rows: Vec<T>,
        position: impl FnOnce(&T) -> P,
    ) -> (Vec<T>, Option<String>) {
        let (rows, more) = split_page(rows, self.limit);
        let next_cursor = more
            .then(|| rows.last().map(|row| encode_cursor(&position(row))))
            .flatten();
        (rows, next_cursor)
    }
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
    fn page_request_continues_after_the_last_row_only_when_more_follow() {
        let cfg = ServerConfig::default();
        let first = PageRequest::<u32>::parse(Some(2), None, &cfg).unwrap();
        assert_eq!((first.after, first.fetch_count()), (None, 3));
        let (rows, next) = first.finish(vec![10, 20, 30], |r| *r);
        assert_eq!(rows, vec![10, 20]);
        let next = next.expect("a third row means another page");
        let second = PageRequest::<u32>::parse(None, Some(&next), &cfg).unwrap();
        assert_eq!(second.after, Some(20));
        assert_eq!(second.limit, cfg.default_page_size);
        assert_eq!(first.finish(vec![10, 20], |r| *r), (vec![10, 20], None));
        assert_eq!(
            PageRequest::<u32>::parse(Some(0), None, &cfg),
            Err(Invalid::Limit {
                max: cfg.max_page_size
            })
        );
        assert_eq!(
            PageRequest::<u32>::parse(None, Some("!!"), &cfg),
            Err(Invalid::Cursor)
        );
    }

    #[test]
    fn split() {
        assert_eq!(split_page(vec![1, 2, 3], 2), (vec![1, 2], true));
        assert_eq!(split_page(vec![1, 2], 2), (vec![1, 2], false));
    }
}
