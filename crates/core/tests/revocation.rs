//! Access changes take effect on the next op: a downgraded writer's ops are
//! `forbidden` (the session stays), a revoked user's sessions are closed and
//! their next op refused, mid-stream.

mod common;

use common::*;
use quire_core::{CloseReason, CoreError, SessionEvent};
use quire_storage::{Role, Store};

#[tokio::test]
async fn downgrade_then_revoke_mid_stream() {
    for b in backends().await {
        let store: &dyn Store = &*b.store;
        let (doc, owner) = owned_document(store).await;
        let writer = user(store, "writer").await;
        share(store, doc, writer, Role::Write).await;
        let hub = hub(&b.store, small_config());
        let (mut s, _, _) = join_live(&hub, doc, writer, Role::Write).await;

        s.handle.submit(insert(writer, "w1", 0, 0, "a")).unwrap();
        assert_eq!(next_committed(&mut s.events).await[0].origin, Some(s.id));

        // Downgrade to read: the very next op is refused, the session stays.
        share(store, doc, writer, Role::Read).await;
        hub.access_changed(doc, writer, Some(Role::Read)).await;
        s.handle.submit(insert(writer, "w2", 1, 0, "b")).unwrap();
        match next_event(&mut s.events).await {
            SessionEvent::Rejected {
                operation_id,
                error,
            } => {
                assert_eq!(
                    (operation_id.as_str(), error),
                    ("w2", CoreError::Forbidden),
                    "{}",
                    b.name
                )
            }
            other => panic!("expected forbidden, got {other:?}"),
        }
        // It still receives others' ops.
        hub.submit_detached(doc, owner, insert(owner, "o1", 1, 1, "c"))
            .await
            .unwrap();
        assert_eq!(next_committed(&mut s.events).await[0].user, owner);

        // Revoke: the session is closed and the user's ops refused.
        store.revoke(doc, writer).await.unwrap();
        hub.access_changed(doc, writer, None).await;
        match next_event(&mut s.events).await {
            SessionEvent::Closed(reason) => assert_eq!(reason, CloseReason::Revoked),
            other => panic!("expected closed, got {other:?}"),
        }
        let err = hub
            .submit_detached(doc, writer, insert(writer, "w3", 2, 0, "d"))
            .await;
        assert_eq!(err, Err(CoreError::Forbidden), "{}", b.name);
        // A re-join with a stale role is refused too.
        let join = hub
            .join(quire_core::JoinRequest {
                doc,
                user: writer,
                username: "w".into(),
                role: Role::Write,
                since: None,
                routed: false,
            })
            .await;
        assert!(matches!(join, Err(CoreError::Forbidden)), "{}", b.name);
        assert_eq!(hub.read(doc).await.unwrap().content, "ac");
    }
}

#[tokio::test]
async fn a_grant_takes_effect_on_the_next_op() {
    for b in backends().await {
        let store: &dyn Store = &*b.store;
        let (doc, _owner) = owned_document(store).await;
        let late = user(store, "late").await;
        let hub = hub(&b.store, small_config());
        let err = hub
            .submit_detached(doc, late, insert(late, "l1", 0, 0, "x"))
            .await;
        assert_eq!(err, Err(CoreError::Forbidden));
        share(store, doc, late, Role::Write).await;
        hub.access_changed(doc, late, Some(Role::Write)).await;
        hub.submit_detached(doc, late, insert(late, "l1", 0, 0, "x"))
            .await
            .unwrap();
    }
}
