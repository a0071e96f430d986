//! Document ownership across server instances sharing one database.
//!
//! Every document has one owner, and within one process the hub guarantees
//! that. Across processes this module does: without it two instances could
//! each load a document and serve their clients their own copy (Etherpad's
//! #3093); the log itself could not fork (a second append of a sequence id
//! hits the primary key), but the clients of one instance would not see the
//! other's edits.
//!
//! - **Liveness.** Each store is one *instance*, named by a random positive
//!   key. It holds the session-level advisory lock of that key on a
//!   connection of its own for as long as it is open. PostgreSQL releases
//!   the lock when that session ends, which a killed process's closed socket
//!   ends at once: a restarted server takes its predecessor's documents over
//!   immediately, with no lease to wait out. (A network partition ends the
//!   session only when PostgreSQL notices the dead connection; until then
//!   the documents stay where they are, which is the safe direction.)
//! - **Claims.** An owner claims its document before loading it
//!   (`document_claims`): it gets the claim if nobody holds it, if this
//!   instance does, or if the holder is no longer alive; otherwise the owner
//!   does not start. It releases the claim when it stops, only if the claim
//!   still carries its own token, so a late release never drops a newer
//!   owner's claim.
//! - **Fencing.** An append is refused (`Fenced`) while a live instance other
//!   than this one holds the document's claim, checked in the append's own
//!   transaction ([`LIVE_OTHER_HOLDER`]). An owner whose document was taken
//!   over (its instance lost its lock connection, say) therefore cannot
//!   write; it stops and its clients reconnect.
//! - **Hand-over on request.** An instance refused a claim asks the holder
//!   to give the document up ([`request_handoff`]: a `NOTIFY` on
//!   [`HANDOFF_CHANNEL`], naming the schema, the document and the asking
//!   instance). Every instance `LISTEN`s on its liveness connection and
//!   passes the other instances' requests for its schema on to its hub (its
//!   own would reach it too, late, possibly after it got the document: it
//!   must not give that up again), which decides whether to honour them
//!   (`CoreConfig::hand_off_after`): with a load balancer routing by
//!   document, the instance a document's clients are sent to gets it.

use super::sql::{execute, query_opt};
use crate::StoreResult;
use deadpool_postgres::GenericClient;
use quire_engine::DocumentId;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::{AbortHandle, JoinHandle};
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};

/// The `NOTIFY` channel of hand-over requests; the payload is
/// `<schema>:<document id>:<asking instance>` (channels are database-wide,
/// schemas are not).
pub(crate) const HANDOFF_CHANNEL: &str = "quire_handoff";

/// Hand-over requests waiting for a slow hub; beyond it the oldest are lost
/// (the requesting instance asks again at its clients' next join).
pub(crate) const HANDOFF_QUEUE: usize = 1024;

/// Where the liveness connection delivers the hand-over requests of one
/// schema, made by instances other than `instance`.
#[derive(Clone)]
pub(crate) struct HandoffInbox {
    pub schema: String,
    pub instance: i64,
    pub requests: broadcast::Sender<DocumentId>,
}

impl HandoffInbox {
    fn deliver(&self, payload: &str) {
        let mut fields = payload.split(':');
        let (Some(schema), Some(doc), Some(asker), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return;
        };
        if schema != self.schema || asker.parse::<i64>().ok() == Some(self.instance) {
            return;
        }
        if let Ok(doc) = doc.parse::<DocumentId>() {
            // No hub listening (yet) is not an error.
            let _ = self.requests.send(doc);
        }
    }
}

/// Asks whichever instance holds `doc`'s claim to hand it over to
/// `instance`.
pub(crate) async fn request_handoff<C: GenericClient>(
    c: &C,
    schema: &str,
    doc: DocumentId,
    instance: i64,
) -> StoreResult<()> {
    let payload = format!("{schema}:{doc}:{instance}");
    execute(c, "SELECT pg_notify($1, $2)", &[&HANDOFF_CHANNEL, &payload]).await?;
    Ok(())
}

/// SQL condition, on a `document_claims` row `c` and this instance's key
/// `$2`: another instance holds the claim and is alive, i.e. some session of
/// this database holds the advisory lock of its key (a bigint key shows in
/// `pg_locks` split into `classid`, the high half, and `objid`).
pub(crate) const LIVE_OTHER_HOLDER: &str = "c.instance <> $2 AND EXISTS (
    SELECT 1 FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND ((l.classid::bigint << 32) | l.objid::bigint) = c.instance)";

/// A new instance key: random, positive (so that `pg_locks` shows it as
/// above).
pub(crate) fn new_instance_key() -> i64 {
    (uuid::Uuid::new_v4().as_u64_pair().0 >> 1).max(1) as i64
}

/// Takes `key`'s advisory lock on a new connection and keeps it until the
/// returned handle is aborted (when the store is dropped); the connection
/// also listens for hand-over requests and delivers them to `inbox`. If that
/// connection fails, the lock is taken again on a new one, once a second.
pub(crate) async fn hold_liveness(
    config: Config,
    key: i64,
    inbox: HandoffInbox,
) -> StoreResult<AbortHandle> {
    let mut held = lock(&config, key, &inbox).await?;
    Ok(tokio::spawn(async move {
        loop {
            let (client, connection) = held;
            let ended = connection.await;
            drop(client);
            tracing::warn!(
                ?ended,
                "lost this instance's liveness lock; taking it again"
            );
            held = loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                match lock(&config, key, &inbox).await {
                    Ok(again) => break again,
                    Err(error) => tracing::warn!(%error, "cannot take the liveness lock yet"),
                }
            };
        }
    })
    .abort_handle())
}

type Held = (Client, JoinHandle<Result<(), tokio_postgres::Error>>);

async fn lock(config: &Config, key: i64, inbox: &HandoffInbox) -> StoreResult<Held> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let inbox = inbox.clone();
    let connection = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(note))) => inbox.deliver(note.payload()),
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => return Ok(()),
            }
        }
    });
    client
        .execute("SELECT pg_advisory_lock($1)", &[&key])
        .await?;
    client
        .batch_execute(&format!("LISTEN {HANDOFF_CHANNEL}"))
        .await?;
    Ok((client, connection))
}

/// Claims `doc` for `instance` under `token`; `false` when a live other
/// instance holds it.
pub(crate) async fn claim<C: GenericClient>(
    c: &C,
    doc: DocumentId,
    instance: i64,
    token: u64,
) -> StoreResult<bool> {
    static CLAIM: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO document_claims AS c (document, instance, token) VALUES ($1, $2, $3)
             ON CONFLICT (document) DO UPDATE SET instance = excluded.instance, token = excluded.token
             WHERE NOT ({LIVE_OTHER_HOLDER})
             RETURNING 1"
        )
    });
    let token = crate::codec::to_db_int("claim token", token)?;
    let row = query_opt(c, &CLAIM, &[&doc.0, &instance, &token]).await?;
    Ok(row.is_some())
}

/// Drops `instance`'s claim on `doc` if it still carries `token`.
pub(crate) async fn release<C: GenericClient>(
    c: &C,
    doc: DocumentId,
    instance: i64,
    token: u64,
) -> StoreResult<()> {
    let token = crate::codec::to_db_int("claim token", token)?;
    execute(
        c,
        "DELETE FROM document_claims WHERE document = $1 AND instance = $2 AND token = $3",
        &[&doc.0, &instance, &token],
    )
    .await?;
    Ok(())
}
