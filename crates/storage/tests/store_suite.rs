//! The storage test suite: every test runs against SQLite and (when
//! configured) PostgreSQL, through the `Store` trait only.

mod harness;

use futures_util::future::join_all;
use harness::{Db, document, op, ops, user};
use quire_engine::{DocVersion, DocumentId, OperationId, SeqId, UserId};
use quire_storage::{
    DocumentCursor, NewUser, PruneRequest, RegisteredOp, Role, Snapshot, StoreError,
};

store_tests!(
    users_are_unique_case_insensitively,
    user_search_is_a_paginated_prefix_range,
    listing_shows_owned_and_shared_documents_newest_first,
    rename_and_delete_cascade,
    access_rules_set_change_revoke,
    owner_rule_cannot_be_changed_through_sharing,
    append_checks_continuity,
    a_reused_operation_id_is_found_above_the_base,
    operation_ids_are_keyed_per_user,
    failing_requests_do_not_affect_their_group,
    ops_after_and_lookup_operation,
    snapshots_and_document_state,
    pruning_moves_the_horizon,
    the_registry_outlives_the_log,
    audit_reports_everything_stored,
    concurrent_appends_are_durable_and_ordered,
    migrations_are_idempotent,
);

async fn users_are_unique_case_insensitively(db: Db) {
    let s = &db.store;
    let alice = user(s, "Alice").await;
    let taken = s
        .create_user(NewUser {
            id: UserId::new_random(),
            username: "aLICE".into(),
            password_hash: "h".into(),
            created_at_ms: 5,
        })
        .await;
    assert!(
        matches!(taken, Err(StoreError::Conflict(ref m)) if m.contains("taken")),
        "{taken:?}"
    );
    let same_id = s
        .create_user(NewUser {
            id: alice,
            username: "other".into(),
            password_hash: "h".into(),
            created_at_ms: 5,
        })
        .await;
    assert!(
        matches!(same_id, Err(StoreError::Conflict(_))),
        "{same_id:?}"
    );

    let by_name = s.user_by_name("ALICE").await.unwrap().unwrap();
    assert_eq!((by_name.id, by_name.username.as_str()), (alice, "Alice"));
    assert_eq!(by_name.password_hash, "$argon2id$fake$Alice");
    assert_eq!(s.user_by_id(alice).await.unwrap(), Some(by_name));
    assert_eq!(s.user_by_id(UserId::new_random()).await.unwrap(), None);
    assert_eq!(s.user_by_name("alicia").await.unwrap(), None);
    assert_eq!(
        s.user_by_name("other").await.unwrap(),
        None,
        "a refused user must leave nothing behind"
    );
}

async fn user_search_is_a_paginated_prefix_range(db: Db) {
    let s = &db.store;
    for name in ["bob", "Bobby", "bobcat", "boc", "bo", "alice", "bob\u{e9}"] {
        user(s, name).await;
    }
    let names = |users: Vec<quire_storage::UserRecord>| {
        users.into_iter().map(|u| u.username).collect::<Vec<_>>()
    };

    let page1 = s.search_users("bob", None, 2).await.unwrap();
    assert_eq!(names(page1), ["bob", "Bobby"]);
    let page2 = s.search_users("bob", Some("bobby"), 2).await.unwrap();
    assert_eq!(names(page2), ["bobcat", "bob\u{e9}"]);
    let page3 = s.search_users("bob", Some("bob\u{e9}"), 2).await.unwrap();
    assert!(page3.is_empty());

    assert_eq!(
        names(s.search_users("bo", None, 10).await.unwrap()),
        ["bo", "bob", "Bobby", "bobcat", "bob\u{e9}", "boc"]
    );
    assert_eq!(
        names(s.search_users("", None, 3).await.unwrap()),
        ["alice", "bo", "bob"]
    );
    assert_eq!(
        names(s.search_users("", Some("boc"), 3).await.unwrap()),
        Vec::<String>::new()
    );
    assert!(s.search_users("z", None, 10).await.unwrap().is_empty());
    // A cursor before the prefix does not widen the range.
    assert_eq!(
        names(s.search_users("boc", Some("a"), 10).await.unwrap()),
        ["boc"]
    );
}

async fn listing_shows_owned_and_shared_documents_newest_first(db: Db) {
    let s = &db.store;
    let (alice, bob) = (user(s, "alice").await, user(s, "bob").await);
    let d1 = document(s, alice, "one", 100).await;
    let d2 = document(s, alice, "two", 300).await;
    let d3 = document(s, bob, "three", 200).await;
    let d4 = document(s, bob, "four", 300).await;
    let d5 = document(s, bob, "not shared", 400).await;
    s.set_role(d3, alice, Role::Read).await.unwrap();
    s.set_role(d4, alice, Role::Write).await.unwrap();

    // Newest first; the tie at 300 is broken by id, descending.
    let (first_300, second_300) = if d2.0 > d4.0 { (d2, d4) } else { (d4, d2) };
    let expected = [first_300, second_300, d3, d1];
    let role_of = |d: DocumentId| match d {
        x if x == d1 || x == d2 => Role::Owner,
        x if x == d3 => Role::Read,
        _ => Role::Write,
    };

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = s.documents_for_user(alice, cursor, 3).await.unwrap();
        if page.is_empty() {
            break;
        }
        for (doc, role) in &page {
            assert_eq!(*role, role_of(doc.id), "role of {}", doc.title);
            seen.push(doc.id);
        }
        let last = &page.last().unwrap().0;
        cursor = Some(DocumentCursor {
            created_at_ms: last.created_at_ms,
            id: last.id,
        });
    }
    assert_eq!(seen, expected);

    let all = s.documents_for_user(alice, None, 10).await.unwrap();
    let two = all.iter().find(|(d, _)| d.id == d2).unwrap();
    assert_eq!(
        (
            two.0.title.as_str(),
            two.0.owner,
            two.0.created_at_ms,
            two.0.updated_at_ms
        ),
        ("two", alice, 300, 300)
    );

    let bobs: Vec<_> = s
        .documents_for_user(bob, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|(d, r)| (d.id, r))
        .collect();
    assert_eq!(
        bobs,
        [(d5, Role::Owner), (d4, Role::Owner), (d3, Role::Owner)]
    );
    assert!(
        s.documents_for_user(UserId::new_random(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn rename_and_delete_cascade(db: Db) {
    let s = &db.store;
    let (alice, bob) = (user(s, "alice").await, user(s, "bob").await);
    let doc = document(s, alice, "draft", 100).await;
    let other = document(s, alice, "keep", 100).await;

    s.rename_document(doc, "final", 555).await.unwrap();
    let meta = s.document(doc).await.unwrap().unwrap();
    assert_eq!(
        (meta.title.as_str(), meta.updated_at_ms, meta.created_at_ms),
        ("final", 555, 100)
    );
    assert!(matches!(
        s.rename_document(DocumentId::new_random(), "x", 1).await,
        Err(StoreError::NotFound)
    ));

    s.set_role(doc, bob, Role::Write).await.unwrap();
    let logged = ops(doc, bob, 1, 3);
    s.append_ops(&logged).await.unwrap();
    s.append_ops(&ops(other, bob, 1, 2)).await.unwrap();
    s.save_snapshot(&Snapshot {
        doc,
        version: DocVersion(2),
        seq: SeqId(2),
        content: "ab".into(),
        created_at_ms: 1,
    })
    .await
    .unwrap();

    s.delete_document(doc).await.unwrap();
    assert_eq!(s.document(doc).await.unwrap(), None);
    assert_eq!(s.role(doc, alice).await.unwrap(), None);
    assert_eq!(s.role(doc, bob).await.unwrap(), None);
    assert!(s.collaborators(doc).await.unwrap().is_empty());
    assert!(s.ops_after(doc, SeqId(0), 100).await.unwrap().is_empty());
    assert_eq!(
        s.lookup_operation(doc, bob, &logged[0].operation_id, SeqId(0))
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        s.load_document_state(doc).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.audit_document(doc).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.all_document_ids().await.unwrap(), vec![other]);
    assert!(
        s.documents_for_user(bob, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        s.delete_document(doc).await,
        Err(StoreError::NotFound)
    ));

    // The other document is untouched.
    assert_eq!(s.ops_after(other, SeqId(0), 100).await.unwrap().len(), 2);
    assert_eq!(s.role(other, alice).await.unwrap(), Some(Role::Owner));
}

async fn access_rules_set_change_revoke(db: Db) {
    let s = &db.store;
    let (owner, zed, amy) = (
        user(s, "Owner").await,
        user(s, "zed").await,
        user(s, "Amy").await,
    );
    let doc = document(s, owner, "shared", 1).await;
    assert_eq!(s.role(doc, owner).await.unwrap(), Some(Role::Owner));
    assert_eq!(s.role(doc, zed).await.unwrap(), None);

    s.set_role(doc, zed, Role::Read).await.unwrap();
    assert_eq!(s.role(doc, zed).await.unwrap(), Some(Role::Read));
    s.set_role(doc, zed, Role::Write).await.unwrap();
    assert_eq!(s.role(doc, zed).await.unwrap(), Some(Role::Write));
    s.set_role(doc, amy, Role::Read).await.unwrap();

    let collaborators: Vec<_> = s
        .collaborators(doc)
        .await
        .unwrap()
        .into_iter()
        .map(|(u, r)| (u.username, r))
        .collect();
    assert_eq!(
        collaborators,
        [
            ("Amy".to_string(), Role::Read),
            ("Owner".to_string(), Role::Owner),
            ("zed".to_string(), Role::Write)
        ]
    );

    s.revoke(doc, zed).await.unwrap();
    assert_eq!(s.role(doc, zed).await.unwrap(), None);
    assert!(matches!(
        s.revoke(doc, zed).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.set_role(DocumentId::new_random(), zed, Role::Read).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.set_role(doc, UserId::new_random(), Role::Read).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.revoke(DocumentId::new_random(), zed).await,
        Err(StoreError::NotFound)
    ));
}

async fn owner_rule_cannot_be_changed_through_sharing(db: Db) {
    let s = &db.store;
    let (owner, other) = (user(s, "owner").await, user(s, "other").await);
    let doc = document(s, owner, "mine", 1).await;
    assert!(matches!(
        s.set_role(doc, other, Role::Owner).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.role(doc, other).await.unwrap(), None);
    assert!(matches!(
        s.set_role(doc, owner, Role::Read).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.revoke(doc, owner).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.role(doc, owner).await.unwrap(), Some(Role::Owner));
}

async fn append_checks_continuity(db: Db) {
    let s = &db.store;
    let u = user(s, "writer").await;
    let doc = document(s, u, "log", 1).await;

    let starts_late = s.append_ops(&ops(doc, u, 2, 3)).await;
    assert!(
        matches!(starts_late, Err(StoreError::Continuity(_))),
        "{starts_late:?}"
    );
    s.append_ops(&ops(doc, u, 1, 3)).await.unwrap();
    assert!(matches!(
        s.append_ops(&ops(doc, u, 3, 4)).await,
        Err(StoreError::Continuity(_))
    ));
    assert!(matches!(
        s.append_ops(&ops(doc, u, 5, 5)).await,
        Err(StoreError::Continuity(_))
    ));
    let gap_inside = vec![op(doc, u, 4), op(doc, u, 6)];
    assert!(matches!(
        s.append_ops(&gap_inside).await,
        Err(StoreError::Continuity(_))
    ));
    assert!(matches!(
        s.append_ops(&ops(DocumentId::new_random(), u, 1, 1)).await,
        Err(StoreError::NotFound)
    ));
    s.append_ops(&[]).await.unwrap();

    // Nothing of the refused requests was written: the log is 1..=3, then 4 fits.
    let seqs: Vec<u64> = s
        .ops_after(doc, SeqId(0), 100)
        .await
        .unwrap()
        .iter()
        .map(|o| o.seq.0)
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(
        s.lookup_operation(doc, u, &gap_inside[0].operation_id, SeqId(0))
            .await
            .unwrap(),
        None
    );
    s.append_ops(&ops(doc, u, 4, 4)).await.unwrap();

    // One request may carry several documents, interleaved.
    let other = document(s, u, "other", 1).await;
    let mixed = vec![
        op(doc, u, 5),
        op(other, u, 1),
        op(doc, u, 6),
        op(other, u, 2),
    ];
    s.append_ops(&mixed).await.unwrap();
    assert_eq!(
        s.ops_after(doc, SeqId(4), 100).await.unwrap(),
        vec![mixed[0].clone(), mixed[2].clone()]
    );
    assert_eq!(
        s.ops_after(other, SeqId(0), 100).await.unwrap(),
        vec![mixed[1].clone(), mixed[3].clone()]
    );
    assert_eq!(
        s.document(doc).await.unwrap().unwrap().updated_at_ms,
        mixed[2].created_at_ms
    );
}

async fn a_reused_operation_id_is_found_above_the_base(db: Db) {
    let s = &db.store;
    let u = user(s, "writer").await;
    let doc = document(s, u, "log", 1).await;
    // A client reused op 1's id for op 3 (the core allows it once the first
    // use has left its window): each lookup finds the first use above the
    // base it is given, which is the one a resend with that base refers to.
    let mut logged = ops(doc, u, 1, 4);
    logged[2].operation_id = logged[0].operation_id.clone();
    s.append_ops(&logged).await.unwrap();
    let id = &logged[0].operation_id;
    let at = |seq| {
        Some(RegisteredOp {
            version: DocVersion(seq),
            seq: SeqId(seq),
        })
    };
    assert_eq!(
        s.lookup_operation(doc, u, id, SeqId(0)).await.unwrap(),
        at(1)
    );
    assert_eq!(
        s.lookup_operation(doc, u, id, SeqId(1)).await.unwrap(),
        at(3)
    );
    assert_eq!(
        s.lookup_operation(doc, u, id, SeqId(2)).await.unwrap(),
        at(3)
    );
    assert_eq!(
        s.lookup_operation(doc, u, id, SeqId(3)).await.unwrap(),
        None
    );
    assert_eq!(
        s.lookup_operation(doc, u, &logged[3].operation_id, SeqId(3))
            .await
            .unwrap(),
        at(4)
    );
}

async fn operation_ids_are_keyed_per_user(db: Db) {
    let s = &db.store;
    let (a, b) = (user(s, "a").await, user(s, "b").await);
    let doc = document(s, a, "d", 1).await;
    let other_doc = document(s, a, "e", 1).await;
    let id = OperationId::parse("same-id").unwrap();
    let mut first = op(doc, a, 1);
    first.operation_id = id.clone();
    let mut second = op(doc, b, 2);
    second.operation_id = id.clone();
    let mut elsewhere = op(other_doc, a, 1);
    elsewhere.operation_id = id.clone();
    s.append_ops(&[first, second]).await.unwrap();
    s.append_ops(&[elsewhere]).await.unwrap();
    assert_eq!(
        s.lookup_operation(doc, a, &id, SeqId(0))
            .await
            .unwrap()
            .unwrap()
            .seq,
        SeqId(1)
    );
    assert_eq!(
        s.lookup_operation(doc, b, &id, SeqId(0))
            .await
            .unwrap()
            .unwrap()
            .seq,
        SeqId(2)
    );
    assert_eq!(
        s.lookup_operation(other_doc, a, &id, SeqId(0))
            .await
            .unwrap()
            .unwrap()
            .seq,
        SeqId(1)
    );
    assert_eq!(
        s.lookup_operation(other_doc, b, &id, SeqId(0))
            .await
            .unwrap(),
        None
    );
}

async fn failing_requests_do_not_affect_their_group(db: Db) {
    let s = &db.store;
    let u = user(s, "writer").await;
    let good_docs: Vec<DocumentId> = join_all((0..20).map(|i| document(s, u, "good", i))).await;
    let bad = document(s, u, "bad", 1).await;
    let dup = document(s, u, "dup", 1).await;
    let seed = op(dup, u, 1);
    s.append_ops(std::slice::from_ref(&seed)).await.unwrap();

    // Fired together so that they share group commits.
    let mut requests = Vec::new();
    for &d in &good_docs {
        requests.push((ops(d, u, 1, 3), true));
    }
    let missing = DocumentId::new_random();
    for i in 0..10 {
        requests.push((ops(bad, u, 5 + i, 6 + i), false)); // gaps: Continuity
        requests.push((vec![op(dup, u, 1)], false)); // seq 1 again: Continuity
        requests.push((vec![op(missing, u, 1)], false)); // NotFound
    }
    let results = join_all(requests.iter().map(|(r, _)| s.append_ops(r))).await;
    for ((request, should_pass), result) in requests.iter().zip(&results) {
        match (should_pass, result) {
            (true, Ok(())) => {}
            (false, Err(StoreError::Continuity(_))) if [bad, dup].contains(&request[0].doc) => {}
            (false, Err(StoreError::NotFound)) if request[0].doc == missing => {}
            other => panic!(
                "unexpected outcome {other:?} for a request on {}",
                request[0].doc
            ),
        }
    }
    for &d in &good_docs {
        assert_eq!(s.ops_after(d, SeqId(0), 10).await.unwrap().len(), 3);
    }
    assert!(s.ops_after(bad, SeqId(0), 10).await.unwrap().is_empty());
    assert_eq!(s.ops_after(dup, SeqId(0), 10).await.unwrap(), vec![seed]);
}

async fn ops_after_and_lookup_operation(db: Db) {
    let s = &db.store;
    let u = user(s, "w").await;
    let doc = document(s, u, "d", 1).await;
    let logged = ops(doc, u, 1, 10);
    s.append_ops(&logged).await.unwrap();
    assert_eq!(s.ops_after(doc, SeqId(0), 3).await.unwrap(), logged[..3]);
    assert_eq!(s.ops_after(doc, SeqId(7), 100).await.unwrap(), logged[7..]);
    assert!(s.ops_after(doc, SeqId(10), 100).await.unwrap().is_empty());
    assert!(
        s.ops_after(DocumentId::new_random(), SeqId(0), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.lookup_operation(doc, u, &logged[4].operation_id, SeqId(0))
            .await
            .unwrap(),
        Some(RegisteredOp {
            version: DocVersion(5),
            seq: SeqId(5)
        })
    );
    assert_eq!(
        s.lookup_operation(doc, u, &OperationId::new_random(), SeqId(0))
            .await
            .unwrap(),
        None
    );
}

async fn snapshots_and_document_state(db: Db) {
    let s = &db.store;
    let u = user(s, "w").await;
    let doc = document(s, u, "d", 1).await;

    let empty = s.load_document_state(doc).await.unwrap();
    assert_eq!(
        (empty.snapshot, empty.tail.len(), empty.pruned_through),
        (None, 0, SeqId(0))
    );

    let logged = ops(doc, u, 1, 7);
    s.append_ops(&logged[..5]).await.unwrap();
    let no_snapshot = s.load_document_state(doc).await.unwrap();
    assert_eq!(no_snapshot.tail, logged[..5]);

    let snap3 = Snapshot {
        doc,
        version: DocVersion(3),
        seq: SeqId(3),
        content: "abc".into(),
        created_at_ms: 9,
    };
    let snap5 = Snapshot {
        doc,
        version: DocVersion(5),
        seq: SeqId(5),
        content: "abcde".into(),
        created_at_ms: 9,
    };
    s.save_snapshot(&snap5).await.unwrap();
    s.save_snapshot(&snap3).await.unwrap(); // an older one saved late does not win
    s.save_snapshot(&snap3).await.unwrap(); // the same snapshot again is fine
    let different = Snapshot {
        content: "xyz".into(),
        ..snap3.clone()
    };
    assert!(matches!(
        s.save_snapshot(&different).await,
        Err(StoreError::Conflict(_))
    ));
    let orphan = Snapshot {
        doc: DocumentId::new_random(),
        ..snap3.clone()
    };
    assert!(matches!(
        s.save_snapshot(&orphan).await,
        Err(StoreError::NotFound)
    ));

    s.append_ops(&logged[5..]).await.unwrap();
    let state = s.load_document_state(doc).await.unwrap();
    assert_eq!(state.snapshot, Some(snap5));
    assert_eq!(state.tail, logged[5..]);
    assert_eq!(state.pruned_through, SeqId(0));
    assert!(matches!(
        s.load_document_state(DocumentId::new_random()).await,
        Err(StoreError::NotFound)
    ));
}

async fn pruning_moves_the_horizon(db: Db) {
    let s = &db.store;
    let u = user(s, "w").await;
    let doc = document(s, u, "d", 1).await;
    let logged = ops(doc, u, 1, 7);
    s.append_ops(&logged).await.unwrap();
    for seq in [2u64, 4, 7] {
        let snap = Snapshot {
            doc,
            version: DocVersion(seq),
            seq: SeqId(seq),
            content: "x".repeat(seq as usize),
            created_at_ms: 1,
        };
        s.save_snapshot(&snap).await.unwrap();
    }

    s.prune(PruneRequest {
        doc,
        through: SeqId(3),
        registry_through: SeqId(3),
        drop_snapshots_before: SeqId(4),
    })
    .await
    .unwrap();
    assert_eq!(s.ops_after(doc, SeqId(0), 100).await.unwrap(), logged[3..]);
    assert_eq!(
        s.lookup_operation(doc, u, &logged[2].operation_id, SeqId(0))
            .await
            .unwrap(),
        None
    );
    assert!(
        s.lookup_operation(doc, u, &logged[3].operation_id, SeqId(0))
            .await
            .unwrap()
            .is_some()
    );
    let audit = s.audit_document(doc).await.unwrap();
    assert_eq!(audit.pruned_through, SeqId(3));
    assert_eq!(
        audit.snapshots.iter().map(|x| x.seq.0).collect::<Vec<_>>(),
        [4, 7]
    );
    assert_eq!(
        audit.registry.iter().map(|r| r.2.seq.0).collect::<Vec<_>>(),
        [4, 5, 6, 7]
    );

    // A smaller horizon never moves it back.
    s.prune(PruneRequest {
        doc,
        through: SeqId(1),
        registry_through: SeqId(1),
        drop_snapshots_before: SeqId(0),
    })
    .await
    .unwrap();
    assert_eq!(
        s.load_document_state(doc).await.unwrap().pruned_through,
        SeqId(3)
    );

    // Prune the whole log: the next op still continues at 8, not 1.
    s.prune(PruneRequest {
        doc,
        through: SeqId(7),
        registry_through: SeqId(7),
        drop_snapshots_before: SeqId(7),
    })
    .await
    .unwrap();
    let state = s.load_document_state(doc).await.unwrap();
    assert_eq!(
        (
            state.pruned_through,
            state.snapshot.map(|x| x.seq),
            state.tail.len()
        ),
        (SeqId(7), Some(SeqId(7)), 0)
    );
    // The newest op's time outlives its row.
    assert_eq!(
        s.document(doc).await.unwrap().unwrap().updated_at_ms,
        logged[6].created_at_ms
    );
    assert!(matches!(
        s.append_ops(&ops(doc, u, 1, 1)).await,
        Err(StoreError::Continuity(_))
    ));
    s.append_ops(&ops(doc, u, 8, 9)).await.unwrap();
    assert!(matches!(
        s.prune(PruneRequest {
            doc: DocumentId::new_random(),
            through: SeqId(1),
            registry_through: SeqId(0),
            drop_snapshots_before: SeqId(0)
        })
        .await,
        Err(StoreError::NotFound)
    ));
}

async fn the_registry_outlives_the_log(db: Db) {
    let s = &db.store;
    let u = user(s, "w").await;
    let doc = document(s, u, "d", 1).await;
    let logged = ops(doc, u, 1, 8);
    s.append_ops(&logged).await.unwrap();
    let snap = Snapshot {
        doc,
        version: DocVersion(6),
        seq: SeqId(6),
        content: "x".repeat(6),
        created_at_ms: 1,
    };
    s.save_snapshot(&snap).await.unwrap();

    // The dedup horizon may never pass the rebase horizon: refused, no change.
    assert!(matches!(
        s.prune(PruneRequest {
            doc,
            through: SeqId(3),
            registry_through: SeqId(4),
            drop_snapshots_before: SeqId(0),
        })
        .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.audit_document(doc).await.unwrap().ops.len(), 8);

    s.prune(PruneRequest {
        doc,
        through: SeqId(6),
        registry_through: SeqId(2),
        drop_snapshots_before: SeqId(6),
    })
    .await
    .unwrap();
    // Log pruned through 6, registry only through 2: ops 3..=6 are gone from
    // the log but still recognised by their operation ids.
    assert_eq!(s.ops_after(doc, SeqId(0), 100).await.unwrap(), logged[6..]);
    assert_eq!(
        s.lookup_operation(doc, u, &logged[1].operation_id, SeqId(0))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.lookup_operation(doc, u, &logged[2].operation_id, SeqId(0))
            .await
            .unwrap(),
        Some(RegisteredOp {
            version: DocVersion(3),
            seq: SeqId(3)
        })
    );
    let state = s.load_document_state(doc).await.unwrap();
    assert_eq!(
        (state.pruned_through, state.registry_pruned_through),
        (SeqId(6), SeqId(2))
    );
    let audit = s.audit_document(doc).await.unwrap();
    assert_eq!(
        (audit.pruned_through, audit.registry_pruned_through),
        (SeqId(6), SeqId(2))
    );
    assert_eq!(
        audit.registry.iter().map(|r| r.2.seq.0).collect::<Vec<_>>(),
        [3, 4, 5, 6, 7, 8]
    );

    // Each horizon only rises; the registry catches up with the log later.
    s.prune(PruneRequest {
        doc,
        through: SeqId(6),
        registry_through: SeqId(1),
        drop_snapshots_before: SeqId(0),
    })
    .await
    .unwrap();
    assert_eq!(
        s.audit_document(doc).await.unwrap().registry_pruned_through,
        SeqId(2)
    );
    s.prune(PruneRequest {
        doc,
        through: SeqId(6),
        registry_through: SeqId(5),
        drop_snapshots_before: SeqId(6),
    })
    .await
    .unwrap();
    let audit = s.audit_document(doc).await.unwrap();
    assert_eq!(
        (audit.pruned_through, audit.registry_pruned_through),
        (SeqId(6), SeqId(5))
    );
    assert_eq!(
        audit.registry.iter().map(|r| r.2.seq.0).collect::<Vec<_>>(),
        [6, 7, 8]
    );
    // A new op still registers and continues the log.
    s.append_ops(&ops(doc, u, 9, 9)).await.unwrap();
    assert_eq!(s.audit_document(doc).await.unwrap().registry.len(), 4);
}

async fn audit_reports_everything_stored(db: Db) {
    let s = &db.store;
    let (a, b) = (user(s, "a").await, user(s, "b").await);
    let doc = document(s, a, "d", 1).await;
    let mut logged = ops(doc, a, 1, 4);
    logged[2].user = b;
    s.append_ops(&logged).await.unwrap();
    let snap = Snapshot {
        doc,
        version: DocVersion(2),
        seq: SeqId(2),
        content: "hi".into(),
        created_at_ms: 3,
    };
    s.save_snapshot(&snap).await.unwrap();

    let audit = s.audit_document(doc).await.unwrap();
    assert_eq!(audit.ops, logged);
    assert_eq!(audit.snapshots, vec![snap]);
    assert_eq!(audit.pruned_through, SeqId(0));
    let expected: Vec<_> = logged
        .iter()
        .map(|o| {
            (
                o.user,
                o.operation_id.clone(),
                RegisteredOp {
                    version: o.version,
                    seq: o.seq,
                },
            )
        })
        .collect();
    assert_eq!(audit.registry, expected);

    let mut ids = vec![doc, document(s, b, "e", 1).await];
    ids.sort();
    assert_eq!(s.all_document_ids().await.unwrap(), ids);
}

async fn concurrent_appends_are_durable_and_ordered(db: Db) {
    const DOCS: usize = 8;
    const WRITERS_PER_DOC: usize = 4;
    const OPS_PER_WRITER: u64 = 25;
    let s = db.store.clone();
    let u = user(&s, "w").await;
    let docs: Vec<DocumentId> = join_all((0..DOCS).map(|i| document(&s, u, "d", i as i64))).await;

    // Several tasks race for each document; each takes the next seq under a
    // per-document lock (as the core's owner does) and appends 1-op batches.
    let mut tasks = Vec::new();
    for &doc in &docs {
        let next = std::sync::Arc::new(tokio::sync::Mutex::new(1u64));
        for _ in 0..WRITERS_PER_DOC {
            let (s, next) = (s.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..OPS_PER_WRITER {
                    let mut seq = next.lock().await;
                    s.append_ops(&[op(doc, u, *seq)]).await.unwrap();
                    *seq += 1;
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }

    let total = WRITERS_PER_DOC as u64 * OPS_PER_WRITER;
    drop(s);
    let closed = db.close(); // keeps the data (a SQLite directory) alive
    let reopened = closed.open().await;
    for &doc in &docs {
        let log = reopened.ops_after(doc, SeqId(0), 10_000).await.unwrap();
        assert_eq!(
            log.iter().map(|o| o.seq.0).collect::<Vec<_>>(),
            (1..=total).collect::<Vec<_>>()
        );
        let audit = reopened.audit_document(doc).await.unwrap();
        assert_eq!(audit.registry.len() as u64, total);
    }
}

async fn migrations_are_idempotent(db: Db) {
    let u = user(&db.store, "persisted").await;
    // Two more stores on the same data, opened at once: migrations run again,
    // concurrently, and find nothing to do. PostgreSQL serves both (several
    // instances share one database); a SQLite directory serves one store at a
    // time, so there exactly one opens and the other is refused.
    let postgres = db.is_postgres();
    let closed = db.close();
    let (a, b) = tokio::join!(closed.try_open(), closed.try_open());
    let opened: Vec<std::sync::Arc<dyn quire_storage::Store>> = match (a, b) {
        (Ok(a), Ok(b)) if postgres => vec![a, b],
        (Ok(one), Err(StoreError::Unavailable(m))) | (Err(StoreError::Unavailable(m)), Ok(one))
            if !postgres && m.contains("in use") =>
        {
            vec![one]
        }
        (a, b) => panic!(
            "postgres: {postgres}, opened: {:?} / {:?}",
            a.err(),
            b.err()
        ),
    };
    for store in opened {
        assert_eq!(
            store.user_by_id(u).await.unwrap().unwrap().username,
            "persisted"
        );
        assert_eq!(
            store.user_by_name("PERSISTED").await.unwrap().unwrap().id,
            u
        );
    }
}
