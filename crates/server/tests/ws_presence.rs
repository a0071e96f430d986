//! Presence over real sockets: a cursor set by one client reaches the others
//! with the user's name and colour, moves with remote edits, and disappears
//! when its connection leaves.

mod common;
mod gateway_support;

use std::time::Duration;

use gateway_support::*;
use quire_client::Client;
use quire_protocol::PresenceUser;

/// Polls `other`'s view of the cursors until `check` holds (5 s at most).
async fn eventually(other: &Client, what: &str, check: impl Fn(&[PresenceUser]) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let cursors = other.cursors();
        if check(&cursors) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: cursors are {cursors:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn cursors_travel_move_with_edits_and_leave() {
    let server = start().await;
    let ada = server.signup("ada").await;
    let bob = server.signup("bob").await;
    let doc = server.create_doc(&ada, "d").await;
    server.share(&ada, &doc, &bob, "write").await;
    let a = client(&server, &ada, &doc);
    let b = client(&server, &bob, &doc);
    a.wait_live().await.unwrap();
    b.wait_live().await.unwrap();
    a.insert(0, "hello world").unwrap();
    a.wait_synced().await.unwrap();
    b.progress().wait_for(|p| p.version.0 == 1).await.unwrap();

    a.set_cursor(6, 11); // selects "world"
    eventually(&b, "ada's selection arrives", |c| {
        c.len() == 1
            && c[0].username == "ada"
            && (c[0].anchor, c[0].head) == (6, 11)
            && c[0].color.starts_with('#')
    })
    .await;

    // Bob types before the selection: on his side it moves with the text.
    b.insert(0, ">> ").unwrap();
    eventually(&b, "the selection moves with bob's insert", |c| {
        c.len() == 1 && (c[0].anchor, c[0].head) == (9, 14)
    })
    .await;
    b.wait_synced().await.unwrap();
    eventually(&b, "and stays there once acknowledged", |c| {
        c.len() == 1 && (c[0].anchor, c[0].head) == (9, 14)
    })
    .await;
    assert_eq!(&b.text()[9..14], "world");

    // Ada leaves: her cursor goes.
    a.close().await;
    eventually(&b, "ada's cursor is removed", |c| c.is_empty()).await;
}
