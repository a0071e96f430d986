//! A SQLite store opened for reading (`quire verify`): it reads what a
//! running or stopped server wrote, refuses every write, and creates or
//! changes nothing on disk.

mod harness;

use harness::{Db, document, ops, user};
use quire_engine::UserId;
use quire_storage::{NewUser, StoreError};
use std::path::Path;

fn database_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("quire.db")).unwrap()
}

#[tokio::test]
async fn reads_what_the_writer_committed_and_refuses_writes() {
    let db = Db::sqlite();
    let owner = user(&db.store, "ro").await;
    let doc = document(&db.store, owner, "ro", 1).await;
    db.store.append_ops(&ops(doc, owner, 1, 3)).await.unwrap();

    // While the writer's store is still open, as with a running server.
    let reader = quire_storage::open_for_reading(&db.target()).await.unwrap();
    assert_eq!(reader.all_document_ids().await.unwrap(), vec![doc]);
    assert_eq!(reader.audit_document(doc).await.unwrap().ops.len(), 3);
    let refused = reader
        .create_user(NewUser {
            id: UserId::new_random(),
            username: "nope".into(),
            password_hash: "x".into(),
            created_at_ms: 0,
        })
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Backend(m)) if m.contains("read-only")),
        "{refused:?}"
    );
    assert!(reader.append_ops(&ops(doc, owner, 4, 4)).await.is_err());
    assert_eq!(db.store.audit_document(doc).await.unwrap().ops.len(), 3);
}

#[tokio::test]
async fn leaves_a_stopped_servers_files_as_they_are() {
    let (store, dir) = quire_storage::testing::fresh_sqlite();
    let target = dir.path().to_str().unwrap();
    let owner = user(&store, "stopped").await;
    let doc = document(&store, owner, "stopped", 1).await;
    store.append_ops(&ops(doc, owner, 1, 2)).await.unwrap();
    drop(store);
    // The writer thread closes the database (and removes the WAL) once the
    // store is dropped; wait for that.
    let wal = dir.path().join("quire.db-wal");
    for _ in 0..200 {
        if !wal.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let before = database_bytes(dir.path());

    let reader = quire_storage::open_for_reading(target).await.unwrap();
    assert_eq!(reader.all_document_ids().await.unwrap().len(), 1);
    drop(reader);

    assert!(before == database_bytes(dir.path()), "the database changed");
    let wal_len = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(wal_len, 0, "no WAL was written or preallocated");
}

#[tokio::test]
async fn a_directory_without_a_database_is_refused_and_left_empty() {
    let dir = tempfile::tempdir().unwrap();
    let error = quire_storage::open_for_reading(dir.path().to_str().unwrap())
        .await
        .err()
        .expect("no database to read");
    assert!(error.to_string().contains("no Quire database"), "{error}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
