//! Stale ops are transformed over everything applied since their base
//! version, with side left, whether those ops are in the in-memory window or
//! only in the stored log.

mod common;

use common::*;
use quire_core::CoreConfig;
use quire_engine::client_op::ClientOp;
use quire_engine::{DocumentId, UserId};
use quire_storage::Store;
use std::sync::Arc;

#[tokio::test]
async fn concurrent_inserts_at_one_position_put_the_later_arrival_first() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let hub = hub(&b.store, small_config());
        hub.submit_detached(doc, owner, insert(owner, "a", 0, 0, "A"))
            .await
            .unwrap();
        let ack = hub
            .submit_detached(doc, owner, insert(owner, "b", 0, 0, "B"))
            .await
            .unwrap();
        assert_eq!(ack.version.0, 2);
        assert_eq!(hub.read(doc).await.unwrap().content, "BA", "{}", b.name);
    }
}

#[tokio::test]
async fn an_insert_inside_a_concurrently_deleted_range_survives() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let hub = hub(&b.store, small_config());
        hub.submit_detached(doc, owner, insert(owner, "t", 0, 0, "hello world"))
            .await
            .unwrap();
        hub.submit_detached(doc, owner, delete(owner, "d", 1, 2, 6))
            .await
            .unwrap();
        hub.submit_detached(doc, owner, insert(owner, "i", 1, 4, "XY"))
            .await
            .unwrap();
        assert_eq!(
            hub.read(doc).await.unwrap().content,
            "heXYrld",
            "{}",
            b.name
        );
    }
}

/// Runs the same history on a document, with the given window size.
async fn replay(
    store: &Arc<dyn Store>,
    window_ops: usize,
    ops: &dyn Fn(UserId) -> Vec<ClientOp>,
) -> String {
    let (doc, owner): (DocumentId, UserId) = owned_document(&**store).await;
    let hub = hub(
        store,
        CoreConfig {
            window_ops,
            ..small_config()
        },
    );
    for op in ops(owner) {
        hub.submit_detached(doc, owner, op).await.unwrap();
    }
    hub.read(doc).await.unwrap().content
}

#[tokio::test]
async fn rebasing_over_the_stored_log_equals_rebasing_over_the_window() {
    let history = |u: UserId| {
        let mut ops: Vec<ClientOp> = (0..8)
            .map(|v| insert(u, &format!("i{v}"), v, v as usize, &v.to_string()))
            .collect();
        // Stale by eight versions: made against the empty document.
        ops.push(insert(u, "stale-1", 0, 0, "<"));
        ops.push(op(
            u,
            "stale-2",
            4,
            quire_engine::client_op::Edit::Replace {
                position: 1,
                length: 2,
                text: "R".into(),
            },
        ));
        ops
    };
    for b in backends().await {
        let in_memory = replay(&b.store, 1000, &history).await;
        let from_store = replay(&b.store, 2, &history).await;
        assert_eq!(in_memory, "<0R34567", "{}", b.name);
        assert_eq!(from_store, in_memory, "{}", b.name);
    }
}
