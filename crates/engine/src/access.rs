//! A user's access level to a document. It lives here, in the shared base
//! crate, because storage persists it and the wire protocol announces it:
//! one type keeps the two from drifting apart.

use serde::{Deserialize, Serialize};

/// What a user may do with a document. Ordered: `Read < Write < Owner`.
/// Serialised (JSON and database) as `"read"`, `"write"`, `"owner"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Read,
    Write,
    Owner,
}

impl Role {
    /// The lowercase name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Owner => "owner",
        }
    }

    /// The inverse of [`Role::as_str`]; `None` for any other string.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "read" => Some(Role::Read),
            "write" => Some(Role::Write),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }

    /// Whether this role may submit ops.
    pub fn can_write(self) -> bool {
        self >= Role::Write
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn names_round_trip_and_match_serde() {
        for role in [Role::Read, Role::Write, Role::Owner] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::parse("Owner"), None);
    }

    #[test]
    fn only_write_and_owner_can_write() {
        assert!(Role::Read < Role::Write && Role::Write < Role::Owner);
        assert!(!Role::Read.can_write());
        assert!(Role::Write.can_write());
        assert!(Role::Owner.can_write());
    }
}
