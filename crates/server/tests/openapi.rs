//! GET /api/openapi.json: generated from the code, lists exactly the REST
//! routes, and every documented operation is really routed.

mod common;

use std::collections::BTreeSet;

use common::{Backend, TestServer};
use reqwest::Method;

/// The REST surface (the WebSocket upgrade at /api/ws is not a REST operation).
const ROUTES: [(&str, &str); 14] = [
    ("post", "/api/auth/signup"),
    ("post", "/api/auth/login"),
    ("get", "/api/me"),
    ("get", "/api/users"),
    ("get", "/api/documents"),
    ("post", "/api/documents"),
    ("get", "/api/documents/{id}"),
    ("patch", "/api/documents/{id}"),
    ("delete", "/api/documents/{id}"),
    ("get", "/api/documents/{id}/collaborators"),
    ("post", "/api/documents/{id}/collaborators"),
    ("patch", "/api/documents/{id}/collaborators/{userId}"),
    ("delete", "/api/documents/{id}/collaborators/{userId}"),
    ("get", "/api/openapi.json"),
];

#[tokio::test]
async fn openapi_document_covers_exactly_the_routes() {
    let srv = TestServer::start(&Backend::Sqlite).await;
    let r = srv.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    let doc = r.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["title"], "Quire API");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("responses").is_some() {
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    let expected: BTreeSet<_> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);

    // Signed-in routes declare bearer security; signup, login and this document do not.
    for (method, path) in &expected {
        let op = &doc["paths"][path][method];
        let public = path.starts_with("/api/auth/") || path == "/api/openapi.json";
        assert_eq!(op["security"].is_array(), !public, "{method} {path}");
        assert!(
            op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .any(|s| s.starts_with('2')),
            "{method} {path}"
        );
    }

    // Every documented operation is really routed: anonymous calls reach a
    // handler (401/400/415...), never the unknown-endpoint 404 or a 405.
    let id = uuid::Uuid::new_v4().to_string();
    for (method, path) in &expected {
        let url = path.replace("{id}", &id).replace("{userId}", &id);
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = srv.raw(m, &url, None, Some("application/json"), "{}").await;
        assert!(
            r.status != 404 && r.status != 405,
            "{method} {path} is not routed: {}",
            r.status
        );
    }
}
