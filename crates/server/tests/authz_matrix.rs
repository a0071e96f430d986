//! Every endpoint × {anonymous, stranger, reader, writer, owner}, asserting the
//! exact status, on every backend. Each case runs on a fresh document so one
//! case cannot influence another, and every refused case is checked to have
//! changed nothing.

mod common;

use common::{TestServer, User, backends};
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Anonymous,
    Stranger,
    Reader,
    Writer,
    Owner,
}

const CALLERS: [Caller; 5] = [
    Caller::Anonymous,
    Caller::Stranger,
    Caller::Reader,
    Caller::Writer,
    Caller::Owner,
];

struct Endpoint {
    method: Method,
    /// `{doc}` and `{target}` are substituted per case.
    path: &'static str,
    body: fn(&Fixture, usize) -> Option<Value>,
    /// Expected status for anonymous, stranger, reader, writer, owner.
    expect: [u16; 5],
}

struct Fixture {
    owner: User,
    reader: User,
    writer: User,
    stranger: User,
    target: User,
    invitee: User,
}

fn none(_: &Fixture, _: usize) -> Option<Value> {
    None
}

fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::POST,
            path: "/api/auth/signup",
            body: |_, n| {
                Some(json!({"username": format!("newcomer{n}"), "password": "password123"}))
            },
            expect: [201, 201, 201, 201, 201],
        },
        Endpoint {
            method: Method::POST,
            path: "/api/auth/login",
            body: |f, _| Some(json!({"username": f.target.username, "password": "password123"})),
            expect: [200, 200, 200, 200, 200],
        },
        Endpoint {
            method: Method::GET,
            path: "/api/openapi.json",
            body: none,
            expect: [200, 200, 200, 200, 200],
        },
        Endpoint {
            method: Method::GET,
            path: "/api/me",
            body: none,
            expect: [401, 200, 200, 200, 200],
        },
        Endpoint {
            method: Method::GET,
            path: "/api/users?prefix=t",
            body: none,
            expect: [401, 200, 200, 200, 200],
        },
        Endpoint {
            method: Method::GET,
            path: "/api/documents",
            body: none,
            expect: [401, 200, 200, 200, 200],
        },
        Endpoint {
            method: Method::POST,
            path: "/api/documents",
            body: |_, _| Some(json!({"title": "new"})),
            expect: [401, 201, 201, 201, 201],
        },
        Endpoint {
            method: Method::GET,
            path: "/api/documents/{doc}",
            body: none,
            expect: [401, 404, 200, 200, 200],
        },
        Endpoint {
            method: Method::PATCH,
            path: "/api/documents/{doc}",
            body: |_, _| Some(json!({"title": "renamed"})),
            expect: [401, 404, 403, 200, 200],
        },
        Endpoint {
            method: Method::DELETE,
            path: "/api/documents/{doc}",
            body: none,
            expect: [401, 404, 403, 403, 204],
        },
        Endpoint {
            method: Method::GET,
            path: "/api/documents/{doc}/collaborators",
            body: none,
            expect: [401, 404, 200, 200, 200],
        },
        Endpoint {
            method: Method::POST,
            path: "/api/documents/{doc}/collaborators",
            body: |f, _| Some(json!({"userId": f.invitee.id, "role": "read"})),
            expect: [401, 404, 403, 403, 201],
        },
        Endpoint {
            method: Method::PATCH,
            path: "/api/documents/{doc}/collaborators/{target}",
            body: |_, _| Some(json!({"role": "write"})),
            expect: [401, 404, 403, 403, 200],
        },
        Endpoint {
            method: Method::DELETE,
            path: "/api/documents/{doc}/collaborators/{target}",
            body: none,
            expect: [401, 404, 403, 403, 204],
        },
    ]
}

fn token(f: &Fixture, caller: Caller) -> Option<&str> {
    match caller {
        Caller::Anonymous => None,
        Caller::Stranger => Some(&f.stranger.token),
        Caller::Reader => Some(&f.reader.token),
        Caller::Writer => Some(&f.writer.token),
        Caller::Owner => Some(&f.owner.token),
    }
}

/// What the owner sees of a document: its metadata and collaborator list.
async fn snapshot(srv: &TestServer, f: &Fixture, doc: &str) -> (Value, Value) {
    let meta = srv
        .get(&format!("/api/documents/{doc}"), &f.owner.token)
        .await
        .body;
    let collaborators = srv
        .get(
            &format!("/api/documents/{doc}/collaborators"),
            &f.owner.token,
        )
        .await
        .body;
    (meta, collaborators)
}

#[tokio::test]
async fn every_endpoint_for_every_kind_of_caller() {
    for backend in backends() {
        let srv = TestServer::start(&backend).await;
        let f = Fixture {
            owner: srv.signup("owner").await,
            reader: srv.signup("reader").await,
            writer: srv.signup("writer").await,
            stranger: srv.signup("stranger").await,
            target: srv.signup("target").await,
            invitee: srv.signup("invitee").await,
        };
        let mut case = 0;
        let mut failures = Vec::new();
        for ep in endpoints() {
            for (i, caller) in CALLERS.into_iter().enumerate() {
                case += 1;
                let doc = srv.create_doc(&f.owner, "matrix").await;
                srv.share(&f.owner, &doc, &f.reader, "read").await;
                srv.share(&f.owner, &doc, &f.writer, "write").await;
                srv.share(&f.owner, &doc, &f.target, "read").await;
                let before = snapshot(&srv, &f, &doc).await;
                let path = ep
                    .path
                    .replace("{doc}", &doc)
                    .replace("{target}", &f.target.id);
                let r = srv
                    .call(
                        ep.method.clone(),
                        &path,
                        token(&f, caller),
                        (ep.body)(&f, case),
                    )
                    .await;
                if r.status != ep.expect[i] {
                    failures.push(format!(
                        "{} {} as {caller:?}: got {} {:?}, want {}",
                        ep.method, ep.path, r.status, r.body, ep.expect[i]
                    ));
                }
                if r.status >= 400 && snapshot(&srv, &f, &doc).await != before {
                    failures.push(format!(
                        "{} {} as {caller:?}: refused but changed the document",
                        ep.method, ep.path
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{backend:?}:\n{}", failures.join("\n"));
    }
}

#[tokio::test]
async fn a_document_that_does_not_exist_is_404_for_everyone_signed_in() {
    for backend in backends() {
        let srv = TestServer::start(&backend).await;
        let u = srv.signup("someone").await;
        let other = srv.signup("other").await;
        let missing = uuid::Uuid::new_v4();
        for ep in endpoints().into_iter().filter(|e| e.path.contains("{doc}")) {
            let path = ep
                .path
                .replace("{doc}", &missing.to_string())
                .replace("{target}", &other.id);
            let body = match ep.method {
                Method::POST => Some(json!({"userId": other.id, "role": "read"})),
                Method::PATCH if ep.path.contains("{target}") => Some(json!({"role": "read"})),
                Method::PATCH => Some(json!({"title": "x"})),
                _ => None,
            };
            let r = srv
                .call(ep.method.clone(), &path, Some(&u.token), body.clone())
                .await;
            assert_eq!(
                (r.status, r.code()),
                (404, "not_found"),
                "{} {}",
                ep.method,
                ep.path
            );
            let anon = srv.call(ep.method.clone(), &path, None, body).await;
            assert_eq!(anon.status, 401, "{} {}", ep.method, ep.path);
        }
    }
}
