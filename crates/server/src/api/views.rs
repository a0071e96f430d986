//! The JSON shapes the API sends, shared by several endpoints. Field names are
//! camelCase; times are milliseconds since the Unix epoch.

use quire_storage::{DocumentRecord, Role, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Public view of an account: never includes the password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        Self {
            id: u.id.0,
            username: u.username.clone(),
        }
    }
}

/// A caller's role on a document: `owner` > `write` > `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleView {
    Read,
    Write,
    Owner,
}

impl From<Role> for RoleView {
    fn from(r: Role) -> Self {
        match r {
            Role::Read => RoleView::Read,
            Role::Write => RoleView::Write,
            Role::Owner => RoleView::Owner,
        }
    }
}

/// A role the owner can grant: ownership itself is never granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GrantRole {
    Read,
    Write,
}

impl From<GrantRole> for Role {
    fn from(r: GrantRole) -> Self {
        match r {
            GrantRole::Read => Role::Read,
            GrantRole::Write => Role::Write,
        }
    }
}

/// Document metadata as seen by one caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentView {
    pub id: Uuid,
    pub title: String,
    pub owner_id: Uuid,
    /// The caller's role on this document.
    pub role: RoleView,
    pub created_at: i64,
    pub updated_at: i64,
}

impl DocumentView {
    pub fn new(doc: &DocumentRecord, role: Role) -> Self {
        Self {
            id: doc.id.0,
            title: doc.title.clone(),
            owner_id: doc.owner.0,
            role: role.into(),
            created_at: doc.created_at_ms,
            updated_at: doc.updated_at_ms,
        }
    }
}

/// Someone with access to a document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Collaborator {
    pub user: UserView,
    pub role: RoleView,
}

impl Collaborator {
    pub fn new(user: &UserRecord, role: Role) -> Self {
        Self {
            user: user.into(),
            role: role.into(),
        }
    }
}
