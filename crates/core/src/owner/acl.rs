//! Who may write to this document, cached in its owner. Loaded from the store
//! on a user's first op, kept current by `Hub::access_changed` (the REST
//! layer changes storage first, then tells the owner), so a revocation
//! applies to the very next op without a storage read per op.

use crate::error::CoreError;
use quire_engine::{DocumentId, UserId};
use quire_storage::{Role, Store};
use std::collections::HashMap;

pub(crate) struct Acl {
    roles: HashMap<UserId, Option<Role>>,
    capacity: usize,
}

impl Acl {
    pub fn new(capacity: usize) -> Acl {
        Acl {
            roles: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// The user's current role, read from the store on a cache miss.
    pub async fn role(
        &mut self,
        store: &dyn Store,
        doc: DocumentId,
        user: UserId,
    ) -> Result<Option<Role>, CoreError> {
        if let Some(role) = self.roles.get(&user) {
            return Ok(*role);
        }
        let role = store.role(doc, user).await.map_err(CoreError::from_store)?;
        self.set(user, role);
        Ok(role)
    }

    /// Records a role the caller just read from the store (a join), unless
    /// the cache already knows better (an `access_changed` came first).
    pub fn observe(&mut self, user: UserId, role: Role) -> Option<Role> {
        match self.roles.get(&user) {
            Some(known) => *known,
            None => {
                self.set(user, Some(role));
                Some(role)
            }
        }
    }

    pub fn set(&mut self, user: UserId, role: Option<Role>) {
        if self.roles.len() >= self.capacity && !self.roles.contains_key(&user) {
            // Bounded: forget everyone; roles are re-read on demand.
            self.roles.clear();
        }
        self.roles.insert(user, role);
    }
}
