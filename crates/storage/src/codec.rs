//! Conversions between Quire's types and what the databases store, shared by
//! both backends so the two never disagree: unsigned counters are stored as
//! signed 64-bit integers (both databases' native integer) with checked
//! conversions both ways, roles as their lower-case names.

use crate::{Role, StoreError, StoreResult};
use quire_engine::OperationId;

/// A counter (sequence id, version) as the database's signed integer.
/// Values above `i64::MAX` cannot be stored and are refused, never wrapped.
pub(crate) fn to_db_int(what: &str, value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| {
        StoreError::Backend(format!(
            "{what} {value} exceeds the storable range (i64::MAX)"
        ))
    })
}

/// A stored integer back to a counter; a negative value means corruption.
pub(crate) fn from_db_int(what: &str, value: i64) -> StoreResult<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what} {value}")))
}

pub(crate) fn role_from_db(value: &str) -> StoreResult<Role> {
    Role::parse(value).ok_or_else(|| StoreError::Corrupt(format!("unknown role {value:?}")))
}

pub(crate) fn operation_id_from_db(value: String) -> StoreResult<OperationId> {
    OperationId::parse(value.as_str())
        .map_err(|e| StoreError::Corrupt(format!("stored operation id {value:?}: {e}")))
}

/// The case-insensitive key usernames are unique by.
pub(crate) fn username_key(username: &str) -> String {
    username.to_lowercase()
}

/// The smallest string greater than every string starting with `prefix`, in
/// code-point order (which is byte order for UTF-8, the order both backends
/// compare `username_lower` in). `None` when no such bound exists (empty
/// prefix, or only U+10FFFF characters): the range is then open-ended.
/// Turns a prefix search into an index range scan.
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Wall-clock milliseconds, for bookkeeping columns the caller does not supply
/// (when a migration was applied).
pub(crate) fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bound_increments_the_last_character() {
        assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
        assert_eq!(
            prefix_upper_bound("a\u{D7FF}").as_deref(),
            Some("a\u{E000}")
        );
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
    }

    #[test]
    fn upper_bound_is_above_every_extension_and_below_the_next_prefix() {
        let bound = prefix_upper_bound("bob").unwrap();
        for s in ["bob", "bob\u{10FFFF}", "bobzzz", "bob~"] {
            assert!(s < bound.as_str(), "{s:?}");
        }
        for s in ["boc", "bp", "c"] {
            assert!(s >= bound.as_str(), "{s:?}");
        }
    }

    #[test]
    fn counters_convert_with_checks() {
        assert_eq!(to_db_int("seq", 5).unwrap(), 5);
        assert!(matches!(
            to_db_int("seq", u64::MAX),
            Err(StoreError::Backend(_))
        ));
        assert_eq!(from_db_int("seq", 7).unwrap(), 7);
        assert!(matches!(
            from_db_int("seq", -1),
            Err(StoreError::Corrupt(_))
        ));
    }
}
