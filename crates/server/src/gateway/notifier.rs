//! Plugs the collaboration core into the REST layer's access-change hook, so
//! a revocation or deletion reaches open documents (and their sessions) at once.

use async_trait::async_trait;
use quire_core::Hub;
use quire_engine::{DocumentId, UserId};
use quire_storage::Role;

use crate::access::AccessNotifier;

/// Forwards committed access changes to the [`Hub`].
#[derive(Clone)]
pub struct HubAccessNotifier {
    hub: Hub,
}

impl HubAccessNotifier {
    pub fn new(hub: Hub) -> HubAccessNotifier {
        HubAccessNotifier { hub }
    }
}

#[async_trait]
impl AccessNotifier for HubAccessNotifier {
    async fn access_changed(&self, doc: DocumentId, user: UserId, role: Option<Role>) {
        self.hub.access_changed(doc, user, role).await;
    }

    async fn document_deleted(&self, doc: DocumentId) {
        self.hub.document_deleted(doc).await;
    }
}
