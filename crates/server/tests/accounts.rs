//! Sign up, log in and /api/me over real HTTP, on every backend.

mod common;

use common::{START_MS, TestServer, backends};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn signup_login_and_me() {
    for backend in backends() {
        let srv = TestServer::start(&backend).await;
        let r = srv
            .call(
                Method::POST,
                "/api/auth/signup",
                None,
                Some(json!({"username": "Alice_1", "password": "s3cret-pass"})),
            )
            .await;
        assert_eq!(r.status, 201, "{backend:?}: {:?}", r.body);
        let id = r.body["user"]["id"].as_str().unwrap().to_owned();
        assert_eq!(r.body["user"]["username"], "Alice_1");
        assert_eq!(
            r.body["user"].as_object().unwrap().len(),
            2,
            "only id and username: {:?}",
            r.body
        );
        // Default lifetime is 24 h, counted from the server's clock.
        assert_eq!(
            r.body["expiresAt"].as_i64(),
            Some(START_MS + 24 * 3600 * 1000)
        );

        let me = srv.get("/api/me", r.body["token"].as_str().unwrap()).await;
        assert_eq!(me.status, 200);
        assert_eq!(me.body, json!({"id": id, "username": "Alice_1"}));

        // Log in (username is case-insensitive) and use the new token.
        let login = srv
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"username": "alice_1", "password": "s3cret-pass"})),
            )
            .await;
        assert_eq!(login.status, 200, "{:?}", login.body);
        assert_eq!(login.body["user"]["id"], id.as_str());
        let me = srv
            .get("/api/me", login.body["token"].as_str().unwrap())
            .await;
        assert_eq!(me.body["username"], "Alice_1");
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    for backend in backends() {
        let srv = TestServer::start(&backend).await;
        srv.signup("bob").await;
        let wrong = srv
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"username": "bob", "password": "not-the-password"})),
            )
            .await;
        let unknown = srv
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"username": "nobody", "password": "password123"})),
            )
            .await;
        for r in [&wrong, &unknown] {
            assert_eq!(r.status, 401);
            assert_eq!(r.code(), "invalid_credentials");
        }
        assert_eq!(wrong.body, unknown.body);
    }
}

#[tokio::test]
async fn usernames_are_unique_regardless_of_case() {
    for backend in backends() {
        let srv = TestServer::start(&backend).await;
        srv.signup("carol").await;
        for name in ["carol", "CAROL", "Carol"] {
            let r = srv
                .call(
                    Method::POST,
                    "/api/auth/signup",
                    None,
                    Some(json!({"username": name, "password": "password123"})),
                )
                .await;
            assert_eq!(r.status, 409, "{name}");
            assert_eq!(r.code(), "username_taken");
        }
        // The original password still works: nothing was overwritten.
        let login = srv
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"username": "carol", "password": "password123"})),
            )
            .await;
        assert_eq!(login.status, 200);
    }
}

#[tokio::test]
async fn concurrent_signups_of_one_name_create_one_account() {
    let srv = TestServer::start(&common::Backend::Sqlite).await;
    let attempts = (0..8).map(|_| {
        srv.call(
            Method::POST,
            "/api/auth/signup",
            None,
            Some(json!({"username": "racer", "password": "password123"})),
        )
    });
    let replies = futures_util::future::join_all(attempts).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let taken = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!((created, taken), (1, 7), "{replies:?}");
}
