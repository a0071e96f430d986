//! Real editing traces (../shared/traces) replayed through real SDK clients
//! and the real server: one op per patch, and the same trace split across
//! several clients taking turns. The stored log must replay to `endContent`.

mod common;
mod gateway_support;

use std::path::Path;
use std::time::Instant;

use gateway_support::*;
use quire_bench::trace::Trace;

/// The trace through the bench crate's loader, which turns each non-empty
/// patch into one client edit.
fn load(name: &str) -> Trace {
    let path = format!(
        "{}/../../../shared/traces/{name}.json.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let trace = Trace::load(Path::new(&path)).unwrap_or_else(|e| panic!("{path}: {e:#}"));
    assert!(trace.start_content.is_empty(), "traces start empty");
    trace
}

/// Every patch one op, acknowledged (durably) before the next. About 0.45 ms
/// per patch here: 9 s for sveltecomponent, 19 s for rustcode, minutes for
/// the two long traces (ignored by default).
const EVERY_PATCH: usize = usize::MAX;

/// One client. The first `strict` patches are one op each, acknowledged
/// before the next patch; the rest are typed at full speed, so later patches
/// are composed into the op that follows the one in flight.
async fn replay(name: &str, strict: usize) {
    let trace = load(name);
    let server = start_with(unpruned_core(), Default::default()).await;
    let user = server.signup("typist").await;
    let doc = server.create_doc(&user, name).await;
    let client = client(&server, &user, &doc);
    client.wait_live().await.unwrap();
    let started = Instant::now();
    let patches = &trace.edits;
    let strict = strict.min(patches.len());
    for patch in &patches[..strict] {
        client
            .edit(patch)
            .expect("trace patch applies to the local text");
        client.wait_synced().await.unwrap();
    }
    let (_, logged) = replay_stored_log(&server, &doc).await;
    assert_eq!(logged, strict, "one logged op per acknowledged patch");
    for patch in &patches[strict..] {
        client
            .edit(patch)
            .expect("trace patch applies to the local text");
    }
    client.wait_synced().await.unwrap();
    eprintln!(
        "{name}: {} patches ({strict} acked one by one) in {:?}",
        patches.len(),
        started.elapsed()
    );
    assert!(
        client.text() == trace.end_content,
        "client text differs from endContent"
    );
    let (stored, _) = replay_stored_log(&server, &doc).await;
    assert!(
        stored == trace.end_content,
        "stored document differs from endContent"
    );
    assert_eq!(server_text(&server, &doc).await, trace.end_content);
    client.close().await;
}

/// Several clients take turns of `turn` patches; each waits until it has
/// seen everything the previous one wrote, so positions mean what the trace
/// says.
async fn replay_taking_turns(name: &str, clients: usize, turn: usize) {
    let trace = load(name);
    let server = start_with(unpruned_core(), Default::default()).await;
    let owner = server.signup("owner").await;
    let doc = server.create_doc(&owner, name).await;
    let mut all = Vec::new();
    for i in 0..clients {
        let user = server.signup(&format!("writer{i}")).await;
        server.share(&owner, &doc, &user, "write").await;
        let c = client(&server, &user, &doc);
        c.wait_live().await.unwrap();
        all.push(c);
    }
    let patches = &trace.edits;
    let started = Instant::now();
    for (i, chunk) in patches.chunks(turn).enumerate() {
        let writer = &all[i % clients];
        let target = server.state.hub.read(doc_id(&doc)).await.unwrap().version;
        let mut progress = writer.progress();
        progress.wait_for(|p| p.version >= target).await.unwrap();
        for patch in chunk {
            writer
                .edit(patch)
                .expect("trace patch applies to the local text");
        }
        writer.wait_synced().await.unwrap();
    }
    let final_version = server.state.hub.read(doc_id(&doc)).await.unwrap().version;
    for c in &all {
        c.progress()
            .wait_for(|p| p.version >= final_version)
            .await
            .unwrap();
        assert!(
            c.text() == trace.end_content,
            "a client differs from endContent"
        );
    }
    eprintln!(
        "{name}: {} patches by {clients} clients in turns of {turn}, {:?}",
        patches.len(),
        started.elapsed()
    );
    let (stored, _) = replay_stored_log(&server, &doc).await;
    assert!(
        stored == trace.end_content,
        "stored document differs from endContent"
    );
    for c in all {
        c.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sveltecomponent_one_op_per_patch() {
    replay("sveltecomponent", EVERY_PATCH).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustcode_one_op_per_patch() {
    replay("rustcode", EVERY_PATCH).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "about a minute: one fsync per patch; run with --ignored"]
async fn seph_blog1_one_op_per_patch() {
    replay("seph-blog1", EVERY_PATCH).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "about two minutes: one fsync per patch; run with --ignored"]
async fn automerge_paper_one_op_per_patch() {
    replay("automerge-paper", EVERY_PATCH).await;
}

/// Typed at full speed: patches typed while an op is in flight are composed
/// into the next one (the client's pending queue), and still end at
/// `endContent`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustcode_typed_at_full_speed() {
    replay("rustcode", 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sveltecomponent_three_clients_taking_turns() {
    replay_taking_turns("sveltecomponent", 3, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustcode_four_clients_taking_turns() {
    replay_taking_turns("rustcode", 4, 500).await;
}
