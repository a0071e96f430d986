//! The join protocol (docs/protocol.md §5): a durable snapshot, ops buffered
//! until the snapshot is acknowledged, then the buffer, then `Live`; a
//! bounded buffer; `since` answered with a catch-up while the ops exist, else
//! a snapshot; presence moved by ops; deletion and shutdown close sessions.

mod common;

use common::gated_store::gated_hub;
use common::*;
use quire_core::{CloseReason, CoreConfig, JoinRequest, PresenceEvent, SessionEvent};
use quire_engine::{DocVersion, SeqId};
use quire_storage::{Role, Store};

fn request(
    doc: quire_engine::DocumentId,
    user: quire_engine::UserId,
    since: Option<SeqId>,
) -> JoinRequest {
    JoinRequest {
        doc,
        user,
        username: "u".into(),
        role: Role::Owner,
        since,
        routed: false,
    }
}

#[tokio::test]
async fn ops_after_the_snapshot_wait_for_its_ack_then_live() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let hub = hub(&b.store, small_config());
        hub.submit_detached(doc, owner, insert(owner, "a", 0, 0, "a"))
            .await
            .unwrap();
        let mut s = hub.join(request(doc, owner, None)).await.unwrap();
        let seq = match next_event(&mut s.events).await {
            SessionEvent::Snapshot {
                content,
                version,
                seq,
            } => {
                assert_eq!((&*content, version, seq), ("a", DocVersion(1), SeqId(1)));
                seq
            }
            other => panic!("{other:?}"),
        };
        hub.submit_detached(doc, owner, insert(owner, "b", 1, 1, "b"))
            .await
            .unwrap();
        hub.submit_detached(doc, owner, insert(owner, "c", 2, 2, "c"))
            .await
            .unwrap();
        no_event_within(&mut s.events, 100).await;
        s.handle.snapshot_ack(seq).await.unwrap();
        let buffered = next_committed(&mut s.events).await;
        let seqs: Vec<u64> = buffered.iter().map(|c| c.seq.0).collect();
        assert_eq!(seqs, vec![2, 3], "{}", b.name);
        match next_event(&mut s.events).await {
            SessionEvent::Live { seq } => assert_eq!(seq, SeqId(3)),
            other => panic!("{other:?}"),
        }
        hub.submit_detached(doc, owner, insert(owner, "d", 3, 3, "d"))
            .await
            .unwrap();
        assert_eq!(next_committed(&mut s.events).await[0].seq, SeqId(4));
    }
}

#[tokio::test]
async fn the_snapshot_describes_durable_state_only() {
    for b in backends().await {
        let (gated, hub, doc, owner) = gated_hub(&b, small_config()).await;
        hub.submit_detached(doc, owner, insert(owner, "a", 0, 0, "a"))
            .await
            .unwrap();
        gated.close_gate();
        let pending = {
            let hub = hub.clone();
            tokio::spawn(async move {
                hub.submit_detached(doc, owner, insert(owner, "b", 1, 1, "b"))
                    .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut s = hub.join(request(doc, owner, None)).await.unwrap();
        no_event_within(&mut s.events, 100).await;
        gated.open_gate();
        pending.await.unwrap().unwrap();
        match next_event(&mut s.events).await {
            SessionEvent::Snapshot { content, seq, .. } => {
                assert_eq!((&*content, seq), ("ab", SeqId(2)), "{}", b.name)
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn an_overflowing_join_buffer_closes_the_session() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let hub = hub(
            &b.store,
            CoreConfig {
                join_buffer_ops: 3,
                ..small_config()
            },
        );
        let mut s = hub.join(request(doc, owner, None)).await.unwrap();
        assert!(matches!(
            next_event(&mut s.events).await,
            SessionEvent::Snapshot { .. }
        ));
        for v in 0..4u64 {
            hub.submit_detached(doc, owner, insert(owner, &format!("o{v}"), v, 0, "x"))
                .await
                .unwrap();
        }
        match next_event(&mut s.events).await {
            SessionEvent::Closed(reason) => {
                assert_eq!(reason, CloseReason::ResyncRequired, "{}", b.name)
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_slow_live_session_is_closed_instead_of_blocking_the_document() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let hub = hub(
            &b.store,
            CoreConfig {
                session_queue_capacity: 4,
                ..small_config()
            },
        );
        let (mut slow, _, _) = join_live(&hub, doc, owner, Role::Owner).await;
        for v in 0..8u64 {
            hub.submit_detached(doc, owner, insert(owner, &format!("o{v}"), v, 0, "x"))
                .await
                .unwrap();
        }
        let mut closed = false;
        while let Ok(Some(ev)) =
            tokio::time::timeout(std::time::Duration::from_millis(200), slow.events.recv()).await
        {
            if let SessionEvent::Closed(reason) = ev {
                assert_eq!(reason, CloseReason::ResyncRequired);
                closed = true;
            }
        }
        assert!(closed, "{}: the slow session was not closed", b.name);
        assert_eq!(hub.read(doc).await.unwrap().version, DocVersion(8));
    }
}

#[tokio::test]
async fn since_gets_a_catch_up_while_the_ops_exist_else_a_snapshot() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let config = CoreConfig {
            window_ops: 2,
            snapshot_every_ops: 5,
            retention_ops: 0,
            ..small_config()
        };
        let hub = hub(&b.store, config);
        for v in 0..4u64 {
            hub.submit_detached(
                doc,
                owner,
                insert(owner, &format!("o{v}"), v, 0, &v.to_string()),
            )
            .await
            .unwrap();
        }
        // seq 1 is below the window: the ops come from the stored log.
        let mut s = hub.join(request(doc, owner, Some(SeqId(1)))).await.unwrap();
        match next_event(&mut s.events).await {
            SessionEvent::CatchUp { ops, version, seq } => {
                let seqs: Vec<u64> = ops.iter().map(|c| c.seq.0).collect();
                assert_eq!(
                    (seqs, version, seq),
                    (vec![2, 3, 4], DocVersion(4), SeqId(4)),
                    "{}",
                    b.name
                );
                assert!(
                    ops[0]
                        .entry_json
                        .starts_with(r#"{"seq":2,"version":2,"userId":""#)
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            next_event(&mut s.events).await,
            SessionEvent::Live { seq: SeqId(4) }
        ));
        drop(s);
        // Prune the early log away, then ask again from seq 1: snapshot.
        for v in 4..12u64 {
            hub.submit_detached(doc, owner, insert(owner, &format!("o{v}"), v, 0, "."))
                .await
                .unwrap();
        }
        for _ in 0..300 {
            if b.store.audit_document(doc).await.unwrap().pruned_through.0 >= 5 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let mut s = hub.join(request(doc, owner, Some(SeqId(1)))).await.unwrap();
        assert!(
            matches!(
                next_event(&mut s.events).await,
                SessionEvent::Snapshot { seq: SeqId(12), .. }
            ),
            "{}",
            b.name
        );
        // A client claiming a state the server never had gets a snapshot too.
        let mut s = hub
            .join(request(doc, owner, Some(SeqId(99))))
            .await
            .unwrap();
        assert!(matches!(
            next_event(&mut s.events).await,
            SessionEvent::Snapshot { .. }
        ));
    }
}

#[tokio::test]
async fn presence_is_relayed_and_moved_by_ops() {
    for b in backends().await {
        let store: &dyn Store = &*b.store;
        let (doc, owner) = owned_document(store).await;
        let other = user(store, "other").await;
        share(store, doc, other, Role::Write).await;
        let hub = hub(&b.store, small_config());
        hub.submit_detached(doc, owner, insert(owner, "t", 0, 0, "hello"))
            .await
            .unwrap();
        let (a, _, _) = join_live(&hub, doc, owner, Role::Owner).await;
        let (mut bob, _, _) = join_live(&hub, doc, other, Role::Write).await;
        a.handle.presence(2, 4, DocVersion(1));
        match next_event(&mut bob.events).await {
            SessionEvent::Presence(PresenceEvent::Users(users)) => {
                assert_eq!(
                    (users[0].user, users[0].anchor, users[0].head),
                    (owner, 2, 4),
                    "{}",
                    b.name
                )
            }
            other => panic!("{other:?}"),
        }
        // An insert before the cursor moves it; a newcomer sees the moved cursor.
        hub.submit_detached(doc, other, insert(other, "i", 1, 0, ">>"))
            .await
            .unwrap();
        next_committed(&mut bob.events).await;
        let (mut carol, _, _) = join_live(&hub, doc, other, Role::Write).await;
        match next_event(&mut carol.events).await {
            SessionEvent::Presence(PresenceEvent::Users(users)) => {
                let cursor = users
                    .iter()
                    .find(|u| u.user == owner)
                    .expect("owner's cursor");
                assert_eq!(
                    (cursor.anchor, cursor.head, cursor.version),
                    (4, 6, DocVersion(2))
                );
            }
            other => panic!("{other:?}"),
        }
        let a_id = a.id;
        drop(a);
        loop {
            match next_event(&mut bob.events).await {
                SessionEvent::Presence(PresenceEvent::Left { session, user }) => {
                    assert_eq!((session, user), (a_id, owner));
                    break;
                }
                SessionEvent::Presence(_) => {}
                other => panic!("{other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn deletion_and_shutdown_close_sessions() {
    for b in backends().await {
        let (doc, owner) = owned_document(&*b.store).await;
        let (doc2, owner2) = owned_document(&*b.store).await;
        let hub = hub(&b.store, small_config());
        let (mut s, _, _) = join_live(&hub, doc, owner, Role::Owner).await;
        let (mut s2, _, _) = join_live(&hub, doc2, owner2, Role::Owner).await;
        b.store.delete_document(doc).await.unwrap();
        hub.document_deleted(doc).await;
        assert!(matches!(
            next_event(&mut s.events).await,
            SessionEvent::Closed(CloseReason::DocumentDeleted)
        ));
        assert_eq!(
            hub.read(doc).await,
            Err(quire_core::CoreError::NotFound),
            "{}",
            b.name
        );

        s2.handle.submit(insert(owner2, "last", 0, 0, "z")).unwrap();
        hub.shutdown().await;
        let mut saw_ack = false;
        loop {
            match next_event(&mut s2.events).await {
                SessionEvent::Committed(ops) => {
                    saw_ack |= ops.iter().any(|c| c.origin == Some(s2.id))
                }
                SessionEvent::Closed(reason) => {
                    assert_eq!(reason, CloseReason::ShuttingDown);
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(
            saw_ack,
            "{}: shutdown did not flush the submitted op",
            b.name
        );
        assert_eq!(b.store.audit_document(doc2).await.unwrap().ops.len(), 1);
        assert!(hub.read(doc2).await.is_err());
    }
}
