//! A SQLite data directory is open for writing in one store at a time, so
//! two servers never own the same documents: a second store is refused with
//! the holder's process id, a reader beside the writer still works, and
//! closing the writer frees the directory. (That a SIGKILLed holder frees it
//! too is shown by `crash_safety`, which reopens after every kill.)

use quire_engine::UserId;
use quire_storage::sqlite::{LOCK_FILE, SqliteStore};
use quire_storage::testing::test_sqlite_options;
use quire_storage::{NewUser, Store, StoreError};

fn new_user(name: &str) -> NewUser {
    NewUser {
        id: UserId::new_random(),
        username: name.into(),
        password_hash: "x".into(),
        created_at_ms: 0,
    }
}

#[tokio::test]
async fn a_second_writer_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let first = SqliteStore::open(dir.path(), test_sqlite_options()).unwrap();
    let kept = first.create_user(new_user("first")).await.unwrap();

    let refused = SqliteStore::open(dir.path(), test_sqlite_options()).err();
    let holder = format!("process {}", std::process::id());
    assert!(
        matches!(&refused, Some(StoreError::Unavailable(m))
            if m.contains("in use by another Quire server") && m.contains(&holder)),
        "{refused:?}"
    );
    assert!(dir.path().join(LOCK_FILE).is_file());

    // Reading beside the writer (`quire verify`) is not writing.
    let target = dir.path().to_str().unwrap();
    let reader = quire_storage::open_for_reading(target).await.unwrap();
    assert_eq!(
        reader.user_by_id(kept.id).await.unwrap(),
        Some(kept.clone())
    );
    // The refused store changed nothing: the first still writes.
    first.create_user(new_user("still")).await.unwrap();

    drop(first);
    let second = SqliteStore::open(dir.path(), test_sqlite_options()).unwrap();
    assert_eq!(second.user_by_id(kept.id).await.unwrap(), Some(kept));
    second.create_user(new_user("second")).await.unwrap();
}
