//! The Rust SDK against the real server in the cases the chaos test does not
//! reach: a reader's refused edit is undone locally, and a revoked client,
//! or one whose URL the server refuses, stops with the reason instead of
//! reconnecting forever.

mod common;
mod gateway_support;

use std::sync::Arc;
use std::time::Duration;

use gateway_support::*;
use quire_client::{Client, ClientError, ClientEvent, Status, WsConnector};
use quire_protocol::{ErrorCode, ErrorFrame};

/// Waits (at most 5 s) for the client to give up; its reason and how many
/// connections it had opened by then.
async fn stopped_with_reason(c: &Client) -> (ErrorFrame, u64) {
    let mut progress = c.progress();
    let closed = tokio::time::timeout(
        Duration::from_secs(5),
        progress.wait_for(|p| matches!(p.status, Status::Closed(_))),
    )
    .await
    .expect("the client stops")
    .unwrap()
    .clone();
    let Status::Closed(Some(reason)) = closed.status else {
        panic!("closed without a reason: {closed:?}")
    };
    (reason, closed.connections)
}

#[tokio::test]
async fn a_readers_edit_is_refused_and_undone_locally() {
    let server = start().await;
    let owner = server.signup("owner").await;
    let reader = server.signup("reader").await;
    let doc = server.create_doc(&owner, "d").await;
    server.share(&owner, &doc, &reader, "read").await;
    let w = client(&server, &owner, &doc);
    w.wait_live().await.unwrap();
    w.insert(0, "shared").unwrap();
    w.wait_synced().await.unwrap();

    let r = client(&server, &reader, &doc);
    let mut events = r.subscribe();
    r.wait_live().await.unwrap();
    r.progress().wait_for(|p| p.version.0 == 1).await.unwrap();
    r.insert(6, "!").unwrap();
    assert_eq!(r.text(), "shared!");
    let refused = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(ClientEvent::Error(e)) = events.recv().await {
                return e;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(refused.code, ErrorCode::Forbidden);
    r.wait_synced().await.unwrap();
    assert_eq!(r.text(), "shared", "the refused edit is undone");
    assert_eq!(server_text(&server, &doc).await, "shared");
}

#[tokio::test]
async fn a_revoked_client_stops_with_the_reason() {
    let server = start().await;
    let owner = server.signup("owner").await;
    let writer = server.signup("writer").await;
    let doc = server.create_doc(&owner, "d").await;
    server.share(&owner, &doc, &writer, "write").await;
    let c = client(&server, &writer, &doc);
    c.wait_live().await.unwrap();
    c.insert(0, "x").unwrap();
    c.wait_synced().await.unwrap();
    let reply = server
        .delete(
            &format!("/api/documents/{doc}/collaborators/{}", writer.id),
            &owner.token,
        )
        .await;
    assert!(reply.status < 300);
    let (reason, connections) = stopped_with_reason(&c).await;
    assert_eq!((reason.code, reason.fatal), (ErrorCode::Forbidden, true));
    assert!(matches!(
        c.wait_synced().await,
        Err(ClientError::Closed(Some(_)))
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        c.progress().borrow().connections,
        connections,
        "no reconnect attempts"
    );
}

#[tokio::test]
async fn a_client_whose_url_is_refused_stops_with_the_reason() {
    let server = start().await;
    let owner = server.signup("owner").await;
    let doc = server.create_doc(&owner, "d").await;
    // The gateway refuses a query it does not know (400 before the upgrade).
    let url = format!("{}?unknown=1", ws_url(&server));
    let c = client_via(
        &server,
        &owner,
        &doc,
        Arc::new(WsConnector::new(url, 1 << 20)),
    );
    let (reason, connections) = stopped_with_reason(&c).await;
    assert!(reason.fatal && reason.message.contains("400"), "{reason:?}");
    assert_eq!(connections, 0);
}
