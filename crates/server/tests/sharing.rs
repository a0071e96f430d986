//! Sharing over real HTTP: invite by id or username, change role, revoke,
//! list collaborators, and the access-change hook.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::{TestServer, backends};
use quire_engine::{DocumentId, UserId};
use quire_server::access::AccessNotifier;
use quire_storage::Role;
use reqwest::Method;
use serde_json::json;

/// Records every notification, in order.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

#[async_trait]
impl AccessNotifier for Recorder {
    async fn access_changed(&self, doc: DocumentId, user: UserId, role: Option<Role>) {
        let role = role.map_or("revoked", |r| r.as_str());
        self.0.lock().unwrap().push(format!("{doc} {user} {role}"));
    }
    async fn document_deleted(&self, doc: DocumentId) {
        self.0.lock().unwrap().push(format!("{doc} deleted"));
    }
}

#[tokio::test]
async fn invite_change_revoke_with_notifications() {
    for backend in backends() {
        let recorder = Arc::new(Recorder::default());
        let hook = recorder.clone();
        let srv = TestServer::start_with(&backend, common::test_config(), None, move |s| {
            s.with_access_notifier(hook)
        })
        .await;
        let owner = srv.signup("owner").await;
        let ann = srv.signup("ann").await;
        let ben = srv.signup("Ben").await;
        let doc = srv.create_doc(&owner, "shared").await;
        let collab = format!("/api/documents/{doc}/collaborators");

        // Invite by id, then by username (case-insensitive).
        let r = srv
            .call(
                Method::POST,
                &collab,
                Some(&owner.token),
                Some(json!({"userId": ann.id, "role": "read"})),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(
            r.body,
            json!({"user": {"id": ann.id, "username": "ann"}, "role": "read"})
        );
        let r = srv
            .call(
                Method::POST,
                &collab,
                Some(&owner.token),
                Some(json!({"username": "ben", "role": "write"})),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        assert_eq!(r.body["user"]["id"], ben.id.as_str());

        // Everyone with access sees the list, ordered by username, owner included.
        let list = srv.get(&collab, &ann.token).await;
        assert_eq!(list.status, 200);
        assert_eq!(
            list.body,
            json!({"collaborators": [
                {"user": {"id": ann.id, "username": "ann"}, "role": "read"},
                {"user": {"id": ben.id, "username": "Ben"}, "role": "write"},
                {"user": {"id": owner.id, "username": "owner"}, "role": "owner"},
            ]})
        );

        // Inviting again changes the role (200).
        let r = srv
            .call(
                Method::POST,
                &collab,
                Some(&owner.token),
                Some(json!({"userId": ann.id, "role": "write"})),
            )
            .await;
        assert_eq!((r.status, r.body["role"].as_str()), (200, Some("write")));

        // PATCH changes a role; the reader-turned-writer may now rename.
        let r = srv
            .call(
                Method::PATCH,
                &format!("{collab}/{}", ben.id),
                Some(&owner.token),
                Some(json!({"role": "read"})),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(
            r.body,
            json!({"user": {"id": ben.id, "username": "Ben"}, "role": "read"})
        );
        assert_eq!(
            srv.get(&format!("/api/documents/{doc}"), &ben.token)
                .await
                .body["role"],
            "read"
        );

        // DELETE revokes: the document disappears for Ben.
        let r = srv
            .delete(&format!("{collab}/{}", ben.id), &owner.token)
            .await;
        assert_eq!(r.status, 204);
        assert_eq!(
            srv.get(&format!("/api/documents/{doc}"), &ben.token)
                .await
                .status,
            404
        );
        assert_eq!(
            srv.get("/api/documents", &ben.token).await.body["documents"],
            json!([])
        );
        let r = srv
            .delete(&format!("{collab}/{}", ben.id), &owner.token)
            .await;
        assert_eq!((r.status, r.code()), (404, "not_found"));

        let r = srv
            .delete(&format!("/api/documents/{doc}"), &owner.token)
            .await;
        assert_eq!(r.status, 204);

        assert_eq!(
            *recorder.0.lock().unwrap(),
            [
                format!("{doc} {} read", ann.id),
                format!("{doc} {} write", ben.id),
                format!("{doc} {} write", ann.id),
                format!("{doc} {} read", ben.id),
                format!("{doc} {} revoked", ben.id),
                format!("{doc} deleted"),
            ]
        );
    }
}

#[tokio::test]
async fn invalid_invitations_change_nothing() {
    for backend in backends() {
        let srv = TestServer::start(&backend).await;
        let owner = srv.signup("owner").await;
        let ann = srv.signup("ann").await;
        let doc = srv.create_doc(&owner, "d").await;
        let collab = format!("/api/documents/{doc}/collaborators");
        let cases = [
            (
                json!({"userId": owner.id, "role": "read"}),
                400,
                "owner_role",
            ),
            (
                json!({"username": "OWNER", "role": "write"}),
                400,
                "owner_role",
            ),
            (
                json!({"userId": uuid::Uuid::new_v4(), "role": "read"}),
                404,
                "not_found",
            ),
            (
                json!({"username": "ghost", "role": "read"}),
                404,
                "not_found",
            ),
            (
                json!({"userId": ann.id, "username": "ann", "role": "read"}),
                400,
                "invalid_invite",
            ),
            (json!({"role": "read"}), 400, "invalid_invite"),
            (
                json!({"userId": ann.id, "role": "owner"}),
                400,
                "invalid_json",
            ),
            (
                json!({"userId": ann.id, "role": "admin"}),
                400,
                "invalid_json",
            ),
            (json!({"userId": ann.id}), 400, "invalid_json"),
            (
                json!({"userId": "not-a-uuid", "role": "read"}),
                400,
                "invalid_json",
            ),
            (
                json!({"username": "a b", "role": "read"}),
                400,
                "invalid_username",
            ),
        ];
        for (body, status, code) in cases {
            let r = srv
                .call(
                    Method::POST,
                    &collab,
                    Some(&owner.token),
                    Some(body.clone()),
                )
                .await;
            assert_eq!((r.status, r.code()), (status, code), "{body}: {:?}", r.body);
        }
        // The owner's role cannot be changed or revoked either.
        let r = srv
            .call(
                Method::PATCH,
                &format!("{collab}/{}", owner.id),
                Some(&owner.token),
                Some(json!({"role": "read"})),
            )
            .await;
        assert_eq!((r.status, r.code()), (400, "owner_role"));
        let r = srv
            .delete(&format!("{collab}/{}", owner.id), &owner.token)
            .await;
        assert_eq!((r.status, r.code()), (400, "owner_role"));
        // Changing the role of someone without access is a 404.
        let r = srv
            .call(
                Method::PATCH,
                &format!("{collab}/{}", ann.id),
                Some(&owner.token),
                Some(json!({"role": "read"})),
            )
            .await;
        assert_eq!((r.status, r.code()), (404, "not_found"));

        let list = srv.get(&collab, &owner.token).await;
        assert_eq!(
            list.body["collaborators"].as_array().unwrap().len(),
            1,
            "{:?}",
            list.body
        );
        assert_eq!(
            srv.get(&format!("/api/documents/{doc}"), &ann.token)
                .await
                .status,
            404
        );
    }
}
