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
//!   transaction ([`LIVE_OTHER_HOLDER`]), which also takes a share lock on
//!   the claim row: a claim taken over or released meanwhile waits for the
//!   append to commit, so a new holder loads the document only after every
//!   append that passed the check is in the log. An owner whose document was
//!   taken over (its instance lost its lock connection, say) therefore cannot
//!   write; it stops and its clients reconnect. (An owner releases its claim
//!   only once its own appends have ended, `quire_core`'s `owner::supervise`.)
//! - **Notices between instances** ([`notify`]: a `NOTIFY` on
//!   [`NOTICE_CHANNEL`] with a JSON payload naming the schema, the sending
//!   instance and a [`DocumentNotice`]). Every instance `LISTEN`s on its
//!   liveness connection and passes the other instances' notices for its
//!   schema on to its hub (its own would reach it too, late), which acts on
//!   those about documents it has open:
//!   - *hand-over requests*: an instance refused a claim for a client routed
//!     to it asks the holder to give the document up; the holder decides
//!     (`CoreConfig::hand_off_after`): with a load balancer routing by
//!     document, the instance a document's clients are sent to gets it;
//!   - *access changes and deletions* made through any instance's REST API
//!     reach the instance serving the document, which reads the new rule
//!     and closes revoked sessions at once.

use super::sql::{execute, query_opt};
use crate::{DocumentNotice, StoreResult};
use deadpool_postgres::GenericClient;
use quire_engine::DocumentId;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::{AbortHandle, JoinHandle};
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};

/// The `NOTIFY` channel of [`DocumentNotice`]s; the payload is a JSON
/// [`Envelope`] (channels are database-wide, schemas are not).
pub(crate) const NOTICE_CHANNEL: &str = "quire_notices";

/// Notices waiting for a slow hub; beyond it the oldest are lost (a
/// hand-over is asked again at the next routed join; a lost access change
/// takes effect when the document next loads).
pub(crate) const NOTICE_QUEUE: usize = 1024;

/// A notice on the wire.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    schema: String,
    /// The sending instance's key.
    from: i64,
    notice: DocumentNotice,
}

/// Where the liveness connection delivers the notices of one schema, sent
/// by instances other than `instance`.
#[derive(Clone)]
pub(crate) struct NoticeInbox {
    pub schema: String,
    pub instance: i64,
    pub notices: broadcast::Sender<DocumentNotice>,
}

impl NoticeInbox {
    fn deliver(&self, payload: &str) {
        let Ok(envelope) = serde_json::from_str::<Envelope>(payload) else {
            return;
        };
        if envelope.schema != self.schema || envelope.from == self.instance {
            return;
        }
        // No hub listening (yet) is not an error.
        let _ = self.notices.send(envelope.notice);
    }
}

/// Sends `notice` to the other instances on `schema`.
pub(crate) async fn notify<C: GenericClient>(
    c: &C,
    schema: &str,
    instance: i64,
    notice: DocumentNotice,
) -> StoreResult<()> {
    let payload = serde_json::to_string(&Envelope {
        schema: schema.to_owned(),
        from: instance,
        notice,
    })
    .map_err(|e| crate::StoreError::Backend(format!("cannot encode a notice: {e}")))?;
    execute(c, "SELECT pg_notify($1, $2)", &[&NOTICE_CHANNEL, &payload]).await?;
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
/// also listens for notices and delivers them to `inbox`. If that
/// connection fails, the lock is taken again on a new one, once a second.
pub(crate) async fn hold_liveness(
    config: Config,
    key: i64,
    inbox: NoticeInbox,
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

async fn lock(config: &Config, key: i64, inbox: &NoticeInbox) -> StoreResult<Held> {
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
        .batch_execute(&format!("LISTEN {NOTICE_CHANNEL}"))
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
