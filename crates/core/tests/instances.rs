//! Two server instances on one PostgreSQL database never serve the same
//! document at once: while one has it open, the other refuses it with a
//! retryable `OpenElsewhere` (`unavailable` on the wire); once the first
//! closes it (its owner releases the claim before `Hub::shutdown` returns),
//! the second serves it, continuing the first's log. PostgreSQL only (a
//! SQLite directory serves one server).

mod common;

use common::{hub, insert, owned_document, small_config};
use quire_core::CoreError;
use quire_engine::DocVersion;
use quire_storage::Store;
use quire_storage::postgres::{PostgresOptions, PostgresStore};
use quire_storage::testing::postgres_url;
use std::sync::Arc;

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
