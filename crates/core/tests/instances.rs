//! Two server instances on one PostgreSQL database never serve the same
//! document at once: while one has it open, the other refuses it with a
//! retryable `OpenElsewhere` (`unavailable` on the wire); once the first
//! closes it (its owner releases the claim before `Hub::shutdown` returns),
//! the second serves it, continuing the first's log. With hand-over enabled
//! (`CoreConfig::hand_off_after`), the refused instance's request makes the
//! first give the document up. An owner that panics gives its claim up
//! too. PostgreSQL only (a SQLite directory serves
//! one server).

mod common;

use common::gated_store::GatedStore;
use common::{hub, insert, join_live, next_event, no_event_within, owned_document, small_config};
use quire_core::{CloseReason, CoreConfig, CoreError, DocumentView, Hub, SessionEvent};
use quire_engine::{DocVersion, DocumentId};
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
    // Asked too early (open on A for less than `hand_off_after`): A keeps it.
    assert!(matches!(
        hub_b.read(doc).await,
        Err(CoreError::OpenElsewhere)
    ));
    no_event_within(&mut session.events, 100).await;

    // Asked again later: A commits what it has, closes its sessions and
    // gives the claim up; B then serves the document and continues the log.
    tokio::time::sleep(Duration::from_millis(300)).await;
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
    // A no longer has it: A refuses, and its request does not move it back.
    assert!(matches!(
        hub_a.read(doc).await,
        Err(CoreError::OpenElsewhere)
    ));
    assert_eq!(hub_b.read(doc).await.unwrap().content, "ab");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_that_panics_gives_its_claim_up() {
    let Some((a, b)) = two_instances().await else {
        return;
    };
    let (doc, owner) = owned_document(&*a).await;
    let gated = GatedStore::new(Arc::clone(&a));
    let hub_a = hub(&(Arc::clone(&gated) as Arc<dyn Store>), small_config());
    let hub_b = hub(&b, small_config());

    // A's owner claims the document, then panics while loading it.
    gated
        .panic_next_load
        .store(1, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(
        hub_a.read(doc).await,
        Err(CoreError::Unavailable(_))
    ));
    // A is alive, yet B gets the document as soon as A's supervisor has
    // released the claim (it runs after the panic is caught, so B may be
    // refused for a moment), and serves it.
    let view = read_once_served(&hub_b, doc).await;
    assert_eq!((view.content.as_str(), view.version), ("", DocVersion(0)));
    let ack = hub_b
        .submit_detached(doc, owner, insert(owner, "from-b", 0, 0, "b"))
        .await
        .unwrap();
    assert_eq!(ack.version, DocVersion(1));
    assert!(matches!(
        hub_a.read(doc).await,
        Err(CoreError::OpenElsewhere)
    ));
}
