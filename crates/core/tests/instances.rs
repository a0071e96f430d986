//! Two server instances on one PostgreSQL database never serve the same
//! document at once: while one has it open, the other refuses it with a
//! retryable `OpenElsewhere` (`unavailable` on the wire); once the first
//! closes it (its owner releases the claim before `Hub::shutdown` returns),
//! the second serves it, continuing the first's log. With hand-over enabled
//! (`CoreConfig::hand_off_after`), a client routed to the refused instance
//! makes the first give the document up (a read does not). An owner that
//! panics gives its claim up too. Access changes and deletions made through
//! one instance reach the instance serving the document. PostgreSQL only
//! (a SQLite directory serves one server).

mod common;

use common::gated_store::GatedStore;
use common::{
    hub, insert, join_live, next_event, no_event_within, owned_document, share, small_config, user,
};
use quire_core::{
    CloseReason, CoreConfig, CoreError, DocumentView, Hub, JoinRequest, Session, SessionEvent,
};
use quire_engine::{DocVersion, DocumentId, UserId};
use quire_storage::Role;
use quire_storage::Store;
use quire_storage::postgres::{PostgresOptions, PostgresStore};
use quire_storage::testing::postgres_url;
use std::sync::Arc;
use std::time::Duration;

/// Reads `doc` through `hub`, retrying (for at most 5 s) while another
/// instance still holds it, as a client retries `unavailable`.
async fn read_once_served(hub: &Hub, doc: DocumentId) -> DocumentView {
    for _ in 0..100 {
        match hub.read(doc).await {
            Ok(view) => return view,
            Err(CoreError::OpenElsewhere) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(other) => panic!("{other:?}"),
        }
    }
    panic!("the document was never handed over");
}

/// A join as the gateway makes it for a client whose URL named the
/// document (a load balancer routing by document sent it here).
async fn routed_join(hub: &Hub, doc: DocumentId, user: UserId) -> Result<Session, CoreError> {
    hub.join(JoinRequest {
        doc,
        user,
        username: "routed".into(),
        role: Role::Owner,
        since: None,
        routed: true,
    })
    .await
}

/// Two stores (two instances) on one fresh schema.
async fn two_instances() -> Option<(Arc<dyn Store>, Arc<dyn Store>)> {
    let url = postgres_url()?;
    let options = PostgresOptions {
        schema: Some(format!("quire_test_{}", uuid::Uuid::new_v4().simple())),
        pool_size: 4,
        ..PostgresOptions::default()
    };
    let a = PostgresStore::connect(&url, options.clone()).await.unwrap();
    let b = PostgresStore::connect(&url, options).await.unwrap();
    Some((Arc::new(a), Arc::new(b)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_open_on_one_instance_is_refused_on_the_other_until_it_closes() {
    let Some((a, b)) = two_instances().await else {
        return;
    };
    let (doc, owner) = owned_document(&*a).await;
    let (hub_a, hub_b) = (hub(&a, small_config()), hub(&b, small_config()));

    hub_a
        .submit_detached(doc, owner, insert(owner, "from-a", 0, 0, "a"))
        .await
        .unwrap();
    let refused = hub_b
        .submit_detached(doc, owner, insert(owner, "from-b", 0, 0, "b"))
        .await;
    assert!(
        matches!(refused, Err(CoreError::OpenElsewhere)),
        "{refused:?}"
    );
    assert!(CoreError::OpenElsewhere.is_retryable());
    assert!(matches!(
        hub_b.read(doc).await,
        Err(CoreError::OpenElsewhere)
    ));

    hub_a.shutdown().await;
    let ack = hub_b
        .submit_detached(doc, owner, insert(owner, "from-b", 1, 0, "b"))
        .await
        .unwrap();
    assert_eq!(ack.version, DocVersion(2));
    let view = hub_b.read(doc).await.unwrap();
    assert_eq!(view.content, "ba");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_instance_asks_for_the_document_and_is_handed_it() {
    let Some((a, b)) = two_instances().await else {
        return;
    };
    let (doc, owner) = owned_document(&*a).await;
    let hands_over = |after: Duration| CoreConfig {
        hand_off_after: Some(after),
        ..small_config()
    };
    let hub_a = hub(&a, hands_over(Duration::from_millis(300)));
    // B asks whenever it is refused; it gives a document up only after an
    // hour, so A's request at the end is refused.
    let hub_b = hub(&b, hands_over(Duration::from_secs(3600)));

    let (mut session, _, _) = join_live(&hub_a, doc, owner, Role::Owner).await;
    hub_a
        .submit_detached(doc, owner, insert(owner, "from-a", 0, 0, "a"))
        .await
        .unwrap();
    assert!(matches!(
        next_event(&mut session.events).await,
        SessionEvent::Committed(_)
    ));
    // Asked too early (open on A for less than `hand_off_after`) by a
    // client routed to B: A keeps it.
    assert!(matches!(
        routed_join(&hub_b, doc, owner).await,
        Err(CoreError::OpenElsewhere)
    ));
    no_event_within(&mut session.events, 100).await;

    // Reads on B never ask, however long A has had the document (REST calls
    // may go to any instance; they must not move documents around).
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..3 {
        assert!(matches!(
            hub_b.read(doc).await,
            Err(CoreError::OpenElsewhere)
        ));
    }
    no_event_within(&mut session.events, 200).await;

    // A routed client asks again: A commits what it has, closes its
    // sessions and gives the claim up; B then serves the document and
    // continues the log.
    let _ = routed_join(&hub_b, doc, owner).await;
    let view = read_once_served(&hub_b, doc).await;
    assert_eq!((view.content.as_str(), view.version), ("a", DocVersion(1)));
    loop {
        match next_event(&mut session.events).await {
            SessionEvent::Closed(reason) => {
                assert_eq!(reason, CloseReason::HandedOver);
                break;
            }
            SessionEvent::Committed(_) | SessionEvent::Presence(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let ack = hub_b
        .submit_detached(doc, owner, insert(owner, "from-b", 1, 1, "b"))
        .await
        .unwrap();
    assert_eq!(ack.version, DocVersion(2));
    // A no longer has it: A refuses a client routed to it, and its request
    // does not move the document back (B keeps documents for an hour).
    assert!(matches!(
        routed_join(&hub_a, doc, owner).await,
        Err(CoreError::OpenElsewhere)
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hub_b.read(doc).await.unwrap().content, "ab");
}

/// The session's next events up to its end, which must come within 5 s.
async fn closed_reason(session: &mut Session) -> CloseReason {
    loop {
        match next_event(&mut session.events).await {
            SessionEvent::Closed(reason) => return reason,
            SessionEvent::Committed(_) | SessionEvent::Presence(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_changes_and_deletions_through_one_instance_reach_the_other() {
    let Some((a, b)) = two_instances().await else {
        return;
    };
    let (doc, owner) = owned_document(&*a).await;
    let writer = user(&*a, "writer").await;
    share(&*a, doc, writer, Role::Write).await;
    let (hub_a, hub_b) = (hub(&a, small_config()), hub(&b, small_config()));
    let (mut writing, _, _) = join_live(&hub_a, doc, writer, Role::Write).await;
    let (mut owning, _, _) = join_live(&hub_a, doc, owner, Role::Owner).await;

    // Revoked through B's REST API: A, which serves the document, closes
    // the writer's session at once and refuses the writer's ops.
    b.revoke(doc, writer).await.unwrap();
    hub_b.access_changed(doc, writer, None).await;
    assert_eq!(closed_reason(&mut writing).await, CloseReason::Revoked);
    assert_eq!(
        hub_a
            .submit_detached(doc, writer, insert(writer, "after-revoke", 0, 0, "x"))
            .await,
        Err(CoreError::Forbidden)
    );
    no_event_within(&mut owning.events, 100).await;

    // Deleted through B: A closes the document's sessions.
    b.delete_document(doc).await.unwrap();
    hub_b.document_deleted(doc).await;
    assert_eq!(
        closed_reason(&mut owning).await,
        CloseReason::DocumentDeleted
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_that_panics_gives_its_claim_up() {
    let Some((a, b)) = two_instances().await else {
        return;
    };
    let (doc, owner) = owned_document(&*a).await;
    let gated = GatedStore::new(Arc::clone(&a));
    // A window of 2 ops: a client further behind is caught up from the log.
    let config = CoreConfig {
        window_ops: 2,
        ..small_config()
    };
    let hub_a = hub(&(Arc::clone(&gated) as Arc<dyn Store>), config.clone());
    let hub_b = hub(&b, config);
    for (n, id) in ["a1", "a2", "a3", "a4"].into_iter().enumerate() {
        hub_a
            .submit_detached(doc, owner, insert(owner, id, n as u64, n, "a"))
            .await
            .unwrap();
    }

    // A's owner panics while catching a joining client up (a bug, say):
    // the client is told, and nothing else waits for that owner.
    gated
        .panic_next_ops_after
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let join = hub_a
        .join(JoinRequest {
            doc,
            user: owner,
            username: "behind".into(),
            role: Role::Owner,
            since: Some(quire_engine::SeqId(1)),
            routed: false,
        })
        .await;
    assert!(matches!(join, Err(CoreError::Unavailable(_))), "{join:?}");
    // A is alive, yet B gets the document as soon as A's supervisor has
    // released the claim (it runs after the panic is caught, so B may be
    // refused for a moment), and serves it, continuing the log.
    let view = read_once_served(&hub_b, doc).await;
    assert_eq!(
        (view.content.as_str(), view.version),
        ("aaaa", DocVersion(4))
    );
    let ack = hub_b
        .submit_detached(doc, owner, insert(owner, "from-b", 4, 0, "b"))
        .await
        .unwrap();
    assert_eq!(ack.version, DocVersion(5));
    assert!(matches!(
        hub_a.read(doc).await,
        Err(CoreError::OpenElsewhere)
    ));
}
