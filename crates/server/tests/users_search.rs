//! GET /api/users?prefix=: signed-in only, case-insensitive, paginated, and
//! never more than id + username.

mod common;

use common::{TestServer, backends};
use serde_json::Value;

fn names(body: &Value) -> Vec<String> {
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn prefix_search_is_case_insensitive_and_ordered() {
    for backend in backends() {
        let srv = TestServer::start(&backend).await;
        let me = srv.signup("zed").await;
        for name in ["anna", "Andrew", "ANDY", "bert", "an.x"] {
            srv.signup(name).await;
        }
        let r = srv.get("/api/users?prefix=AN", &me.token).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(names(&r.body), ["an.x", "Andrew", "ANDY", "anna"]);
        assert!(r.body["nextCursor"].is_null());
        for user in r.body["users"].as_array().unwrap() {
            let keys: Vec<_> = user.as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys, ["id", "username"], "no other field may leak");
        }
        // No prefix: everyone.
        let all = srv.get("/api/users", &me.token).await;
        assert_eq!(names(&all.body).len(), 6);
        let none = srv.get("/api/users?prefix=q", &me.token).await;
        assert_eq!(names(&none.body).len(), 0);
    }
}

#[tokio::test]
async fn pages_cover_every_match_exactly_once() {
    for backend in backends() {
        let srv = TestServer::start(&backend).await;
        let me = srv.signup("searcher").await;
        let mut expected: Vec<String> = (0..23).map(|i| format!("user{i:02}")).collect();
        for name in &expected {
            srv.signup(name).await;
        }
        expected.sort();
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                None => "/api/users?prefix=user&limit=5".to_owned(),
                Some(c) => format!("/api/users?prefix=user&limit=5&cursor={c}"),
            };
            let r = srv.get(&path, &me.token).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            let page = names(&r.body);
            assert!(page.len() <= 5);
            seen.extend(page);
            pages += 1;
            match r.body["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 5);
        assert_eq!(seen, expected);
    }
}
