//! `quire verify` as a process: a clean store passes and says what it
//! checked; a corrupted one exits non-zero naming the corruption.

use quire_core::{CoreConfig, Hub};
use quire_engine::client_op::{ClientOp, Edit};
use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, UserId};
use quire_storage::{NewDocument, NewUser, Snapshot};
use std::process::{Command, Output};

fn verify(dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("verify")
        .arg("--data")
        .arg(dir)
        .output()
        .unwrap()
}

#[tokio::test]
async fn verify_passes_a_clean_store_and_names_a_corrupt_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = quire_storage::open(&dir.path().to_string_lossy())
        .await
        .unwrap();
    let user = UserId::new_random();
    store
        .create_user(NewUser {
            id: user,
            username: "v".into(),
            password_hash: "x".into(),
            created_at_ms: 0,
        })
        .await
        .unwrap();
    let doc = DocumentId::new_random();
    store
        .create_document(NewDocument {
            id: doc,
            title: "t".into(),
            owner: user,
            created_at_ms: 0,
        })
        .await
        .unwrap();
    let hub = Hub::start(store.clone(), CoreConfig::default()).expect("valid configuration");
    for v in 0..5u64 {
        let op = ClientOp {
            operation_id: OperationId::parse(format!("op{v}")).unwrap(),
            user_id: user,
            base_version: DocVersion(v),
            edit: Edit::Insert {
                position: 0,
                text: "ab".into(),
            },
        };
        hub.submit_detached(doc, user, op).await.unwrap();
    }
    hub.shutdown().await;

    let clean = verify(dir.path());
    let stdout = String::from_utf8_lossy(&clean.stdout);
    assert!(clean.status.success(), "{stdout}");
    assert!(
        stdout.contains("checked 1 documents") && stdout.contains("no corruption found"),
        "{stdout}"
    );

    let bad = Snapshot {
        doc,
        version: DocVersion(3),
        seq: SeqId(3),
        content: "not it".into(),
        created_at_ms: 0,
    };
    store.save_snapshot(&bad).await.unwrap();
    let corrupt = verify(dir.path());
    let stderr = String::from_utf8_lossy(&corrupt.stderr);
    assert!(!corrupt.status.success());
    assert!(
        stderr.contains(&format!(
            "CORRUPTION in document {doc}: snapshot at seq 3 differs"
        )),
        "{stderr}"
    );

    let missing = verify(&dir.path().join("nope"));
    assert!(!missing.status.success());
}
