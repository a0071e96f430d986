//! Documents over real HTTP: create, get, list (owned + shared, with role,
//! paginated), rename, delete.

mod common;

use std::collections::HashSet;

use common::{START_MS, TestServer, backends};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn create_get_rename_delete() {
    for backend in backends() {
        let srv = TestServer::start(&backend).await;
        let owner = srv.signup("owner").await;
        let r = srv
            .call(
                Method::POST,
                "/api/documents",
                Some(&owner.token),
                Some(json!({"title": "Plan"})),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(
            r.body,
            json!({"id": id, "title": "Plan", "ownerId": owner.id, "role": "owner", "createdAt": START_MS, "updatedAt": START_MS})
        );

        let got = srv.get(&format!("/api/documents/{id}"), &owner.token).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body, r.body);

        srv.clock.advance_ms(5_000);
        let renamed = srv
            .call(
                Method::PATCH,
                &format!("/api/documents/{id}"),
                Some(&owner.token),
                Some(json!({"title": "Plan B"})),
            )
            .await;
        assert_eq!(renamed.status, 200, "{:?}", renamed.body);
        assert_eq!(renamed.body["title"], "Plan B");
        assert_eq!(renamed.body["updatedAt"].as_i64(), Some(START_MS + 5_000));
        assert_eq!(renamed.body["createdAt"].as_i64(), Some(START_MS));
        assert_eq!(
            srv.get(&format!("/api/documents/{id}"), &owner.token)
                .await
                .body["title"],
            "Plan B"
        );

        let del = srv
            .delete(&format!("/api/documents/{id}"), &owner.token)
            .await;
        assert_eq!(del.status, 204);
        assert!(del.body.is_null());
        let gone = srv.get(&format!("/api/documents/{id}"), &owner.token).await;
        assert_eq!((gone.status, gone.code()), (404, "not_found"));
        assert_eq!(
            srv.get("/api/documents", &owner.token).await.body["documents"],
            json!([])
        );
        let again = srv
            .delete(&format!("/api/documents/{id}"), &owner.token)
            .await;
        assert_eq!(again.status, 404);
    }
}

#[tokio::test]
async fn list_shows_owned_and_shared_with_my_role_newest_first() {
    for backend in backends() {
        let srv = TestServer::start(&backend).await;
        let alice = srv.signup("alice").await;
        let bob = srv.signup("bob").await;
        let a1 = srv.create_doc(&alice, "a1").await;
        srv.clock.advance_ms(1);
        let b1 = srv.create_doc(&bob, "b1").await;
        srv.clock.advance_ms(1);
        let b2 = srv.create_doc(&bob, "b2").await;
        srv.clock.advance_ms(1);
        let _b3 = srv.create_doc(&bob, "b3 (not shared)").await;
        srv.share(&bob, &b1, &alice, "write").await;
        srv.share(&bob, &b2, &alice, "read").await;

        let r = srv.get("/api/documents", &alice.token).await;
        assert_eq!(r.status, 200);
        let listed: Vec<(String, String)> = r.body["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["id"].as_str().unwrap().to_owned(),
                    d["role"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                (b2.clone(), "read".into()),
                (b1.clone(), "write".into()),
                (a1.clone(), "owner".into())
            ]
        );
        assert!(r.body["nextCursor"].is_null());

        // A shared document's GET reports the caller's own role.
        assert_eq!(
            srv.get(&format!("/api/documents/{b1}"), &alice.token)
                .await
                .body["role"],
            "write"
        );
        assert_eq!(
            srv.get(&format!("/api/documents/{b1}"), &bob.token)
                .await
                .body["role"],
            "owner"
        );
    }
}

#[tokio::test]
async fn pagination_returns_every_document_once() {
    for backend in backends() {
        let srv = TestServer::start(&backend).await;
        let u = srv.signup("pager").await;
        let mut made = HashSet::new();
        for i in 0..17 {
            // Several documents share a timestamp: the cursor must break ties.
            if i % 3 == 0 {
                srv.clock.advance_ms(1);
            }
            made.insert(srv.create_doc(&u, &format!("doc {i}")).await);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => "/api/documents?limit=4".to_owned(),
                Some(c) => format!("/api/documents?limit=4&cursor={c}"),
            };
            let r = srv.get(&path, &u.token).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            let docs = r.body["documents"].as_array().unwrap();
            assert!(docs.len() <= 4);
            seen.extend(docs.iter().map(|d| {
                (
                    d["createdAt"].as_i64().unwrap(),
                    d["id"].as_str().unwrap().to_owned(),
                )
            }));
            match r.body["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 17);
        assert_eq!(
            seen.iter()
                .map(|(_, id)| id.clone())
                .collect::<HashSet<_>>(),
            made
        );
        assert!(
            seen.windows(2).all(|w| w[0].0 >= w[1].0),
            "newest first: {seen:?}"
        );
    }
}
