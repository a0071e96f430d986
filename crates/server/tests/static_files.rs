//! `--web-dir`: the built web app is served with SPA fallback to index.html
//! for every non-API path; API paths never fall back to the app.

mod common;

use common::{Backend, TestServer, test_config};
use reqwest::Method;

#[tokio::test]
async fn serves_files_and_falls_back_to_index_html() {
    let web = tempfile::tempdir().unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>Quire</title>",
    )
    .unwrap();
    std::fs::create_dir(web.path().join("assets")).unwrap();
    std::fs::write(web.path().join("assets/app.js"), "console.log('quire')").unwrap();
    let srv =
        TestServer::start_with(&Backend::Sqlite, test_config(), Some(web.path()), |s| s).await;

    for (path, body) in [
        ("/", "<!doctype html><title>Quire</title>"),
        ("/documents/123", "<!doctype html><title>Quire</title>"),
        ("/login", "<!doctype html><title>Quire</title>"),
        ("/assets/app.js", "console.log('quire')"),
    ] {
        let res = srv
            .http
            .get(format!("{}{}", srv.base, path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.text().await.unwrap(), body, "{path}");
    }
    // Unknown API paths stay JSON 404s.
    let r = srv.call(Method::GET, "/api/unknown", None, None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = srv.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn without_web_dir_only_the_api_answers() {
    let srv = TestServer::start(&Backend::Sqlite).await;
    for path in ["/", "/index.html", "/documents/1"] {
        let r = srv.call(Method::GET, path, None, None).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{path}");
    }
}
