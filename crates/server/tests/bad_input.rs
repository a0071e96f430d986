//! Hostile and broken input: every case gets a typed JSON error and changes
//! nothing. Tokens: missing, malformed, forged, expired, other secret.

mod common;

use std::time::Duration;

use common::{Backend, TestServer, User};
use quire_server::auth::{JwtSecret, TokenService};
use quire_server::clock::SystemClock;
use reqwest::Method;
use serde_json::json;

const SIGNUP: &str = "/api/auth/signup";

#[tokio::test]
async fn bad_usernames_and_passwords() {
    let srv = TestServer::start(&Backend::Sqlite).await;
    let huge = "x".repeat(10_000);
    let cases = [
        (
            json!({"username": "", "password": "password123"}),
            "invalid_username",
        ),
        (
            json!({"username": "ab", "password": "password123"}),
            "invalid_username",
        ),
        (
            json!({"username": "x".repeat(33), "password": "password123"}),
            "invalid_username",
        ),
        (
            json!({"username": huge, "password": "password123"}),
            "invalid_username",
        ),
        (
            json!({"username": "has space", "password": "password123"}),
            "invalid_username",
        ),
        (
            json!({"username": "émile", "password": "password123"}),
            "invalid_username",
        ),
        (
            json!({"username": "a%_b", "password": "password123"}),
            "invalid_username",
        ),
        (
            json!({"username": "valid", "password": ""}),
            "invalid_password",
        ),
        (
            json!({"username": "valid", "password": "short"}),
            "invalid_password",
        ),
        (
            json!({"username": "valid", "password": "p".repeat(257)}),
            "invalid_password",
        ),
        (
            json!({"username": "valid", "password": huge}),
            "invalid_password",
        ),
    ];
    for (body, code) in cases {
        for path in [SIGNUP, "/api/auth/login"] {
            let r = srv.call(Method::POST, path, None, Some(body.clone())).await;
            assert_eq!((r.status, r.code()), (400, code), "{path} {body:.60}");
            assert!(!r.body["error"]["message"].as_str().unwrap().is_empty());
        }
    }
    // Nothing was created.
    let u = srv.signup("checker").await;
    let all = srv.get("/api/users", &u.token).await;
    assert_eq!(all.body["users"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn malformed_json_wrong_types_unknown_fields() {
    let srv = TestServer::start(&Backend::Sqlite).await;
    let u = srv.signup("writer").await;
    let json_ct = Some("application/json");
    let bodies: [(&str, &str); 8] = [
        ("{", "invalid_json"),
        ("not json", "invalid_json"),
        ("", "invalid_json"),
        ("[]", "invalid_json"),
        (
            r#"{"username": 5, "password": "password123"}"#,
            "invalid_json",
        ),
        (r#"{"username": "abc", "password": null}"#, "invalid_json"),
        (r#"{"username": "abc"}"#, "invalid_json"),
        (
            r#"{"username": "abc", "password": "password123", "admin": true}"#,
            "invalid_json",
        ),
    ];
    for (body, code) in bodies {
        let r = srv.raw(Method::POST, SIGNUP, None, json_ct, body).await;
        assert_eq!((r.status, r.code()), (400, code), "{body}: {:?}", r.body);
    }
    for body in [
        r#"{"title": 42}"#,
        r#"{"title": "t", "owner": "me"}"#,
        r#"{}"#,
        "{",
    ] {
        let r = srv
            .raw(
                Method::POST,
                "/api/documents",
                Some(&u.token),
                json_ct,
                body,
            )
            .await;
        assert_eq!((r.status, r.code()), (400, "invalid_json"), "{body}");
    }
    for title in ["", "   ", "a\u{0}b", "line\nbreak"] {
        let r = srv
            .call(
                Method::POST,
                "/api/documents",
                Some(&u.token),
                Some(json!({"title": title})),
            )
            .await;
        assert_eq!((r.status, r.code()), (400, "invalid_title"), "{title:?}");
    }
    let r = srv
        .call(
            Method::POST,
            "/api/documents",
            Some(&u.token),
            Some(json!({"title": "t".repeat(201)})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_title"));
    // Missing content type is 415, an oversized body 413; both JSON errors.
    let r = srv
        .raw(
            Method::POST,
            "/api/documents",
            Some(&u.token),
            None,
            r#"{"title":"x"}"#,
        )
        .await;
    assert_eq!((r.status, r.code()), (415, "unsupported_media_type"));
    let big = format!(r#"{{"title": "{}"}}"#, "x".repeat(70 * 1024));
    let r = srv
        .raw(Method::POST, "/api/documents", Some(&u.token), json_ct, big)
        .await;
    assert_eq!((r.status, r.code()), (413, "payload_too_large"));
    assert_eq!(
        srv.get("/api/documents", &u.token).await.body["documents"],
        json!([])
    );
}

#[tokio::test]
async fn bad_query_strings_and_paths() {
    let srv = TestServer::start(&Backend::Sqlite).await;
    let u = srv.signup("querier").await;
    let cases = [
        ("/api/documents?limit=0", "invalid_limit"),
        ("/api/documents?limit=201", "invalid_limit"),
        ("/api/documents?limit=-1", "invalid_query"),
        ("/api/documents?limit=abc", "invalid_query"),
        ("/api/documents?limit=99999999999999999999", "invalid_query"),
        ("/api/documents?sort=title", "invalid_query"),
        ("/api/documents?cursor=garbage!", "invalid_cursor"),
        ("/api/documents?cursor=e30", "invalid_cursor"),
        ("/api/users?prefix=%25", "invalid_prefix"),
        ("/api/users?prefix=a%20b", "invalid_prefix"),
        ("/api/users?cursor=%%%", "invalid_cursor"),
        ("/api/users?limit=1000", "invalid_limit"),
    ];
    for (path, code) in cases {
        let r = srv.get(path, &u.token).await;
        assert_eq!((r.status, r.code()), (400, code), "{path}: {:?}", r.body);
    }
    let long_prefix = format!("/api/users?prefix={}", "a".repeat(33));
    assert_eq!(
        srv.get(&long_prefix, &u.token).await.code(),
        "invalid_prefix"
    );
    let long_cursor = format!("/api/documents?cursor={}", "A".repeat(4096));
    assert_eq!(
        srv.get(&long_cursor, &u.token).await.code(),
        "invalid_cursor"
    );
    // Ids that do not parse name nothing.
    for path in [
        "/api/documents/not-a-uuid",
        "/api/documents/1/collaborators",
        "/api/nope",
        "/api",
        "/api/documents/x/y/z",
    ] {
        let r = srv.get(path, &u.token).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{path}");
    }
    let r = srv
        .call(Method::PUT, "/api/documents", Some(&u.token), None)
        .await;
    assert_eq!((r.status, r.code()), (405, "method_not_allowed"));
}

fn secret(byte: u8) -> JwtSecret {
    JwtSecret::from_bytes(vec![byte; 32]).unwrap()
}

async fn assert_401(srv: &TestServer, authorization: &str, code: &str) {
    for path in ["/api/me", "/api/documents"] {
        let r = srv
            .with_authorization(Method::GET, path, authorization)
            .await;
        assert_eq!(
            (r.status, r.code()),
            (401, code),
            "{authorization:.40} on {path}"
        );
    }
}

#[tokio::test]
async fn forged_malformed_expired_and_foreign_tokens() {
    let srv = TestServer::start(&Backend::Sqlite).await;
    let u: User = srv.signup("victim").await;

    let r = srv.call(Method::GET, "/api/me", None, None).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
    for header in [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "bearer not.a.jwt",
        "Bearer a.b.c",
    ] {
        assert_401(&srv, header, "invalid_token").await;
    }

    // Signed with another server's secret, for an existing user.
    let other = TokenService::new(
        &secret(9),
        Duration::from_secs(3600),
        std::sync::Arc::new(SystemClock),
    );
    let foreign = other.issue(u.id.parse().unwrap()).unwrap().token;
    assert_401(&srv, &format!("Bearer {foreign}"), "invalid_token").await;

    // Forged: our header and claims with the signature of another token, and
    // a tampered payload under our genuine signature.
    let parts: Vec<&str> = u.token.split('.').collect();
    let foreign_sig = foreign.split('.').nth(2).unwrap();
    assert_401(
        &srv,
        &format!("Bearer {}.{}.{}", parts[0], parts[1], foreign_sig),
        "invalid_token",
    )
    .await;
    let mallory = srv.signup("mallory").await;
    let mallory_payload = mallory.token.split('.').nth(1).unwrap();
    assert_401(
        &srv,
        &format!("Bearer {}.{}.{}", parts[0], mallory_payload, parts[2]),
        "invalid_token",
    )
    .await;
    // alg=none.
    let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
    assert_401(
        &srv,
        &format!("Bearer {none_header}.{}.", parts[1]),
        "invalid_token",
    )
    .await;

    // A correctly signed token for a user that does not exist.
    let ours = TokenService::new(
        &secret(common::TEST_SECRET[0]),
        Duration::from_secs(3600),
        std::sync::Arc::new(SystemClock),
    );
    let ghost = ours
        .issue(quire_engine::UserId::new_random())
        .unwrap()
        .token;
    assert_401(&srv, &format!("Bearer {ghost}"), "invalid_token").await;

    // The genuine token still works, then expires exactly at its lifetime.
    assert_eq!(srv.get("/api/me", &u.token).await.status, 200);
    srv.clock.advance_ms(24 * 3600 * 1000 - 1000);
    assert_eq!(srv.get("/api/me", &u.token).await.status, 200);
    srv.clock.advance_ms(1000);
    assert_401(&srv, &format!("Bearer {}", u.token), "token_expired").await;
    // Logging in again gives a fresh, working token.
    let login = srv
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "victim", "password": "password123"})),
        )
        .await;
    assert_eq!(
        srv.get("/api/me", login.body["token"].as_str().unwrap())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn short_token_lifetime_from_config() {
    let mut config = common::test_config();
    config.token_lifetime = Duration::from_secs(60);
    let srv = TestServer::start_with(&Backend::Sqlite, config, None, |s| s).await;
    let r = srv
        .call(
            Method::POST,
            SIGNUP,
            None,
            Some(json!({"username": "brief", "password": "password123"})),
        )
        .await;
    assert_eq!(
        r.body["expiresAt"].as_i64(),
        Some(common::START_MS + 60_000)
    );
    let token = r.body["token"].as_str().unwrap();
    srv.clock.advance_ms(60_000);
    assert_eq!(srv.get("/api/me", token).await.code(), "token_expired");
}
