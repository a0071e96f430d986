//! Document ownership across server instances sharing one PostgreSQL
//! database (`Store::claim_document`, `postgres::claims`): one instance owns
//! a document at a time, the other's appends are fenced, a stale release
//! leaves a newer claim alone, a crashed instance's documents are taken
//! over at once, an append never commits around a change of its claim, and
//! notices reach the other instances of the schema. PostgreSQL only: a SQLite directory serves
//! one server (`one_server_per_directory.rs`), whose claims always succeed.

mod harness;

use harness::{Db, document, ops, user};
use quire_engine::{DocumentId, UserId};
use quire_storage::postgres::{PostgresOptions, PostgresStore};
use quire_storage::{DocumentNotice, Store, StoreError};
use std::time::Duration;

/// Another server instance on `db`'s data.
async fn instance(db: &Db) -> PostgresStore {
    let options = PostgresOptions {
        pool_size: 2,
        ..PostgresOptions::default()
    };
    PostgresStore::connect(&db.target(), options).await.unwrap()
}

/// A database (when PostgreSQL is configured) holding one document of `name`'s.
async fn with_document(name: &str) -> Option<(Db, UserId, DocumentId)> {
    let db = Db::postgres().await?;
    let owner = user(&db.store, name).await;
    let doc = document(&db.store, owner, name, 1).await;
    Some((db, owner, doc))
}

fn fenced(result: Result<(), StoreError>) -> bool {
    matches!(&result, Err(StoreError::Fenced(m)) if m.contains("another server instance"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_owns_a_document_and_the_other_is_fenced() {
    let Some((db, owner, doc)) = with_document("claims").await else {
        return;
    };
    let (a, b) = (&db.store, instance(&db).await);

    assert!(a.claim_document(doc, 1).await.unwrap());
    // A newer owner on the same instance takes the claim over.
    assert!(a.claim_document(doc, 2).await.unwrap());
    assert!(!b.claim_document(doc, 1).await.unwrap());
    assert!(fenced(b.append_ops(&ops(doc, owner, 1, 1)).await));
    a.append_ops(&ops(doc, owner, 1, 2)).await.unwrap();

    // The first owner's late release leaves the second owner's claim.
    a.release_document(doc, 1).await.unwrap();
    assert!(!b.claim_document(doc, 1).await.unwrap());
    a.release_document(doc, 2).await.unwrap();

    assert!(b.claim_document(doc, 7).await.unwrap());
    assert!(fenced(a.append_ops(&ops(doc, owner, 3, 3)).await));
    b.append_ops(&ops(doc, owner, 3, 3)).await.unwrap();
    let seqs: Vec<u64> = b
        .audit_document(doc)
        .await
        .unwrap()
        .ops
        .iter()
        .map(|o| o.seq.0)
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_instances_documents_are_taken_over_at_once() {
    let Some((db, owner, doc)) = with_document("taken").await else {
        return;
    };
    let a = instance(&db).await;
    let b = instance(&db).await;
    assert!(a.claim_document(doc, 1).await.unwrap());
    assert!(!b.claim_document(doc, 1).await.unwrap());

    // A goes away without releasing (as a killed process does): its
    // liveness lock's session ends, which PostgreSQL notices in moments.
    drop(a);
    let started = std::time::Instant::now();
    while !b.claim_document(doc, 1).await.unwrap() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never taken over"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.append_ops(&ops(doc, owner, 1, 1)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_reaches_the_other_instances_of_the_same_schema_only() {
    let Some((db, owner, doc)) = with_document("notices").await else {
        return;
    };
    let Some(elsewhere) = Db::postgres().await else {
        return;
    };
    let (a, b) = (&db.store, instance(&db).await);
    let mut a_notices = a.instance_notices().expect("PostgreSQL delivers notices");
    let mut b_notices = b.instance_notices().unwrap();
    let mut other_schema = elsewhere.store.instance_notices().unwrap();

    let sent = [
        DocumentNotice::HandOffRequested { document: doc },
        DocumentNotice::AccessChanged {
            document: doc,
            user: owner,
        },
        DocumentNotice::Deleted { document: doc },
    ];
    for notice in sent {
        b.notify_instances(notice).await.unwrap();
    }
    for notice in sent {
        let got = tokio::time::timeout(Duration::from_secs(5), a_notices.recv()).await;
        assert_eq!(got.expect("delivered in time").unwrap(), notice);
    }
    // Notifications are database-wide; a store on another schema ignores
    // them, and the sender ignores its own (arriving late, a hand-over
    // request would make its hub give up a document it has just been handed).
    let quiet = Duration::from_millis(300);
    let (own, other) = tokio::join!(
        tokio::time::timeout(quiet, b_notices.recv()),
        tokio::time::timeout(quiet, other_schema.recv())
    );
    assert!(own.is_err(), "{own:?}");
    assert!(other.is_err(), "{other:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_and_a_change_of_its_claim_never_overlap() {
    let Some((db, owner, doc)) = with_document("claim-lock").await else {
        return;
    };
    let a = std::sync::Arc::clone(&db.store);
    assert!(a.claim_document(doc, 1).await.unwrap());
    // Another session is changing the claim (a takeover or a release in
    // progress): an append that passed the fence must not commit around it,
    // so it waits for that change to commit, then checks again.
    let url = quire_storage::testing::postgres_url().unwrap();
    let target = db.target();
    let (_, schema) = target.rsplit_once("schema=").unwrap();
    let (changer, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    changer
        .batch_execute(&format!(
            "SET search_path = {schema}; BEGIN;
             UPDATE document_claims SET token = token WHERE document = '{}';",
            doc.0
        ))
        .await
        .unwrap();
    let append = tokio::spawn({
        let a = std::sync::Arc::clone(&a);
        async move { a.append_ops(&ops(doc, owner, 1, 1)).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !append.is_finished(),
        "the append did not wait for the claim"
    );
    changer.batch_execute("COMMIT").await.unwrap();
    let appended = tokio::time::timeout(Duration::from_secs(5), append).await;
    appended.expect("the append went on").unwrap().unwrap();
}
