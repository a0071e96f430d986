//! The owner of one open document: a tokio task that is the only code allowed
//! to change the document. Every request reaches it through its mailbox and is
//! handled one at a time, so ops are applied in a single order without locks.
//!
//! Life of an op: the pipeline (`pipeline`) applies it in memory and queues
//! it as *pending*. After each round of commands the pending ops go to the
//! document's committer (`committer`) as one batch, without waiting for the
//! batches still in flight (at most `max_commits_in_flight`); it makes the
//! store calls in order, as many at once as the store keeps in order,
//! merging what queued up meanwhile (group commit; the store also merges
//! concurrent calls, of this and other documents, into one transaction).
//! Only when a batch is reported durable are its ops broadcast (`sessions`)
//! and acknowledged. If a commit fails, the in-memory
//! state ran ahead of the durable one: the owner reloads the document from
//! storage, and every op the reload does not contain is rejected with a
//! retryable error — never acknowledged.

mod acl;
mod committer;
mod pipeline;
mod rebase;
mod sessions;
mod snapshots;
pub(crate) mod state;

use crate::error::CoreError;
use crate::events::{Ack, CloseReason, CommittedOp, DocumentView, SessionEvent, SessionId};
use crate::hub::HubInner;
use crate::session::{JoinRequest, Session, SessionHandle};
use acl::Acl;
use committer::{CommitResult, Committer, StoreCallsGuard};
use futures_util::FutureExt;
use pipeline::{Outcome, Pipeline};
use quire_engine::client_op::ClientOp;
use quire_engine::{DocVersion, DocumentId, SeqId, UserId};
use quire_storage::{DocumentNotice, LoggedOp, Role, Snapshot, StoreError};
use sessions::{Greeting, Pacing, Sessions};
use snapshots::SnapshotPolicy;
use state::{DocState, committed_from_log, seq_at};
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// A request to a document's owner. Its large payloads are boxed: a mailbox
/// allocates its first 32 slots when it is created, so the size of this
/// enum is paid 32 times by every open document (see `command_size`).
pub(crate) enum Command {
    Join {
        req: Box<JoinRequest>,
        session: SessionId,
        reply: oneshot::Sender<Result<Session, CoreError>>,
    },
    Submit {
        origin: Origin,
        op: Box<ClientOp>,
    },
    SnapshotAck {
        session: SessionId,
        seq: SeqId,
    },
    Presence {
        session: SessionId,
        anchor: u64,
        head: u64,
        version: DocVersion,
    },
    Leave {
        session: SessionId,
    },
    Read {
        reply: oneshot::Sender<Result<DocumentView, CoreError>>,
    },
    AccessChanged {
        user: UserId,
        role: Option<Role>,
    },
    Deleted,
    /// Another server instance asks for the document (`Store::instance_notices`).
    HandOff,
    /// Commit what was applied, close the sessions and stop (the hub waits
    /// until no owner runs, see [`spawn`]).
    Shutdown,
}

/// Who submitted an op and where its answer goes.
pub(crate) enum Origin {
    /// A joined session: answers are session events.
    Session(SessionId),
    /// `Hub::submit_detached`: the answer goes to `reply`.
    Detached {
        user: UserId,
        reply: oneshot::Sender<Result<Ack, CoreError>>,
    },
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Join { .. } => "Join",
            Command::Submit { .. } => "Submit",
            Command::SnapshotAck { .. } => "SnapshotAck",
            Command::Presence { .. } => "Presence",
            Command::Leave { .. } => "Leave",
            Command::Read { .. } => "Read",
            Command::AccessChanged { .. } => "AccessChanged",
            Command::Deleted => "Deleted",
            Command::HandOff => "HandOff",
            Command::Shutdown => "Shutdown",
        })
    }
}

/// How long a stopping owner's supervisor waits for the store calls the
/// owner made before it gives the claim up anyway (a hung store).
const STORE_CALLS_DRAIN: Duration = Duration::from_secs(30);
/// A failed release is tried this many times in all, this far apart.
const RELEASE_ATTEMPTS: u32 = 4;
const RELEASE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Spawns the owner of `doc`; it loads the document before reading its
/// mailbox. The hub counts it running until its claim is given up.
pub(crate) fn spawn(hub: Arc<HubInner>, doc: DocumentId, generation: u64) -> mpsc::Sender<Command> {
    let (mailbox, rx) = mpsc::channel(hub.config.mailbox_capacity.max(1));
    hub.owner_started();
    tokio::spawn(supervise(hub, doc, generation, mailbox.clone(), rx));
    mailbox
}

/// Runs the owner, then gives its claim up once every store call it made
/// has ended (an append still queued in the store could otherwise be
/// written after another instance loaded the document: its clients would
/// be told of ops the log does not hold).
///
/// If the owner panics (a bug), its sessions' event channels close with it
/// (their clients rejoin), the requests it was answering get `Unavailable`,
/// and what reached its mailbox meanwhile goes, after the claim is given
/// up, to a new owner, which loads the document from the store: here, or
/// on another instance. Nothing durable is lost: acks only ever follow
/// commits.
async fn supervise(
    hub: Arc<HubInner>,
    doc: DocumentId,
    generation: u64,
    mailbox: mpsc::Sender<Command>,
    mut rx: mpsc::Receiver<Command>,
) {
    let (guard, store_calls) = oneshot::channel();
    let owner = AssertUnwindSafe(run(
        Arc::clone(&hub),
        doc,
        generation,
        mailbox,
        &mut rx,
        Arc::new(guard),
    ));
    let panicked = owner.catch_unwind().await.is_err();
    if panicked {
        tracing::error!(%doc, "the document's owner panicked; releasing its claim");
    }
    if tokio::time::timeout(STORE_CALLS_DRAIN, store_calls)
        .await
        .is_err()
    {
        tracing::error!(%doc, "the owner's store calls did not end in time; releasing its claim anyway");
    }
    release(&hub, doc, generation).await;
    if panicked {
        hub.retire_owner(doc, generation, || rx.close());
        reroute_remaining(&hub, doc, &mut rx);
    }
    // `Hub::shutdown` returns once every claim is given up, so another
    // instance can take the documents over at once.
    hub.owner_stopped();
}

async fn run(
    hub: Arc<HubInner>,
    doc: DocumentId,
    generation: u64,
    mailbox: mpsc::Sender<Command>,
    rx: &mut mpsc::Receiver<Command>,
    store_calls: StoreCallsGuard,
) {
    match load(&hub, doc, generation).await {
        Ok(state) => {
            let mut owner = Owner::new(
                Arc::clone(&hub),
                doc,
                generation,
                mailbox,
                state,
                store_calls,
            );
            owner.run(rx).await;
        }
        Err(error) => {
            if !matches!(error, CoreError::NotFound) {
                tracing::warn!(%doc, %error, "document failed to load");
            }
            hub.retire_owner(doc, generation, || rx.close());
            let routed_join = fail_remaining(rx, &error);
            if matches!(error, CoreError::OpenElsewhere) && routed_join {
                // A client the load balancer sent here for this document:
                // the holder hands it over if it is configured to (and it
                // has been open there long enough); the client retries
                // meanwhile. Reads and other requests never ask, or a REST
                // call to any instance would move the document.
                hub.tell_instances(DocumentNotice::HandOffRequested { document: doc })
                    .await;
            }
        }
    }
}

/// Hands what is left in a closed mailbox to a fresh owner of `doc`.
fn reroute_remaining(hub: &Arc<HubInner>, doc: DocumentId, rx: &mut mpsc::Receiver<Command>) {
    while let Ok(cmd) = rx.try_recv() {
        match cmd {
            Command::Join { .. }
            | Command::Read { .. }
            | Command::Submit {
                origin: Origin::Detached { .. },
                ..
            } => {
                // On failure the command (and its reply) is dropped: the
                // caller sees the owner gone and gets `Unavailable`.
                let _ = hub.route(hub, doc, cmd);
            }
            _ => {}
        }
    }
}

/// Gives up this owner's claim on the document. It runs after the owner
/// left the hub's map, so a newer owner of the document in this process may
/// already hold the claim, under its own generation, which this leaves alone.
///
/// A claim left behind would keep the document from every other instance
/// while this one lives (it has no owner to hand it over), so a failed
/// release is tried again, a few times.
async fn release(hub: &HubInner, doc: DocumentId, generation: u64) {
    for attempt in 1..=RELEASE_ATTEMPTS {
        match hub.store.release_document(doc, generation).await {
            Ok(()) => return,
            Err(error) if attempt < RELEASE_ATTEMPTS => {
                tracing::warn!(%doc, %error, attempt, "releasing the document's claim failed; retrying");
                tokio::time::sleep(RELEASE_RETRY_AFTER).await;
            }
            Err(error) => {
                tracing::error!(%doc, %error, "releasing the document's claim failed; it stays held until this instance stops");
            }
        }
    }
}

/// Claims the document for this server instance (`Store::claim_document`,
/// under the owner's `generation`), then loads it through the store: its
/// existence, then snapshot + tail. Also run again after a failed commit, so
/// an owner whose document moved to another instance stops there.
async fn load(
    hub: &HubInner,
    doc: DocumentId,
    generation: u64,
) -> Result<(DocState, Option<SeqId>), CoreError> {
    let store = &*hub.store;
    if store
        .document(doc)
        .await
        .map_err(CoreError::from_store)?
        .is_none()
    {
        return Err(CoreError::NotFound);
    }
    if !store
        .claim_document(doc, generation)
        .await
        .map_err(CoreError::from_store)?
    {
        return Err(CoreError::OpenElsewhere);
    }
    let stored = store
        .load_document_state(doc)
        .await
        .map_err(CoreError::from_store)?;
    let snapshot_seq = stored.snapshot.as_ref().map(|s| s.seq);
    Ok((DocState::load(stored, hub.config.window_ops)?, snapshot_seq))
}

/// Answers every request left in a closed mailbox with `error`; says
/// whether one of them was the join of a client routed to this instance by
/// document ([`JoinRequest::routed`]).
fn fail_remaining(rx: &mut mpsc::Receiver<Command>, error: &CoreError) -> bool {
    let mut routed_join = false;
    while let Ok(cmd) = rx.try_recv() {
        match cmd {
            Command::Join { req, reply, .. } => {
                routed_join |= req.routed;
                drop(reply.send(Err(error.clone())));
            }
            Command::Read { reply } => drop(reply.send(Err(error.clone()))),
            Command::Submit {
                origin: Origin::Detached { reply, .. },
                ..
            } => drop(reply.send(Err(error.clone()))),
            _ => {}
        }
    }
    routed_join
}

/// An op applied in memory, waiting to be durable.
struct Applied {
    committed: Arc<CommittedOp>,
    reply: Option<oneshot::Sender<Result<Ack, CoreError>>>,
}

/// Where an answer goes.
enum AnswerTo {
    Session(SessionId),
    Detached(oneshot::Sender<Result<Ack, CoreError>>),
}

/// An answer that describes state not yet durable.
enum Waiting {
    Read {
        at: SeqId,
        view: DocumentView,
        reply: oneshot::Sender<Result<DocumentView, CoreError>>,
    },
    Duplicate {
        at: SeqId,
        ack: Ack,
        to: AnswerTo,
    },
}

/// What a snapshot task reports.
enum SnapshotStep {
    Saved(SeqId),
    SaveFailed,
    Pruned,
}

/// What woke the owner.
enum Wake {
    Committed(CommitResult),
    Snapshot(SnapshotStep),
    Command(Option<Command>),
    /// Held broadcasts are due (`Sessions::next_round`).
    Round,
    Tick,
}

/// Whether the owner goes on after handling something.
enum Exit {
    Continue,
    /// End the owner: close its sessions with the reason, answer anything
    /// not yet durable or still queued with the error.
    Stop(CloseReason, CoreError),
}

struct Owner {
    hub: Arc<HubInner>,
    doc: DocumentId,
    generation: u64,
    /// Handed to the sessions' handles.
    mailbox: mpsc::Sender<Command>,
    state: DocState,
    /// Highest seq known durable.
    durable: SeqId,
    /// Length in code points of the durable text (for presence).
    durable_len: usize,
    sessions: Sessions,
    acl: Acl,
    /// Applied in memory, not yet handed to the store.
    pending: Vec<Applied>,
    pending_logged: Vec<LoggedOp>,
    /// Batches sent to the committer, awaiting its answers, oldest first.
    commits: VecDeque<Vec<Applied>>,
    /// Ops in `commits`.
    in_flight_ops: usize,
    committer: Committer,
    waiting: Vec<Waiting>,
    snapshots: SnapshotPolicy,
    snapshot_task: Option<JoinHandle<SnapshotStep>>,
    /// Cloned into every task that calls the store for this owner.
    store_calls: StoreCallsGuard,
    /// Shutting down: takes no new commands and stops once everything
    /// applied is durable.
    stopping: bool,
    /// Handing the document over to another instance: like `stopping`, takes
    /// no new commands and stops once everything applied is durable.
    handing_over: bool,
    /// When the owner started serving (hand-over requests wait for
    /// `CoreConfig::hand_off_after` from here).
    opened_at: Instant,
    last_activity: Instant,
}

impl Owner {
    fn new(
        hub: Arc<HubInner>,
        doc: DocumentId,
        generation: u64,
        mailbox: mpsc::Sender<Command>,
        (state, snapshot_seq): (DocState, Option<SeqId>),
        store_calls: StoreCallsGuard,
    ) -> Owner {
        let config = &hub.config;
        let tail_len = state.seq.0 - snapshot_seq.unwrap_or(SeqId(0)).0;
        Owner {
            durable: state.seq,
            durable_len: state.text.len_chars(),
            sessions: Sessions::new(
                config.join_buffer_ops,
                Pacing {
                    per_session: config.broadcast_interval_per_session,
                    max: config.broadcast_interval,
                },
            ),
            acl: Acl::new(config.acl_cache_users),
            pending: Vec::new(),
            pending_logged: Vec::new(),
            commits: VecDeque::new(),
            in_flight_ops: 0,
            committer: Committer::spawn(
                Arc::clone(&hub.store),
                config.max_commits_in_flight,
                config.max_commit_batch,
                Arc::clone(&store_calls),
            ),
            waiting: Vec::new(),
            snapshots: SnapshotPolicy::new(config, snapshot_seq, tail_len),
            snapshot_task: None,
            store_calls,
            stopping: false,
            handing_over: false,
            opened_at: Instant::now(),
            last_activity: Instant::now(),
            state,
            hub,
            doc,
            generation,
            mailbox,
        }
    }

    async fn run(&mut self, rx: &mut mpsc::Receiver<Command>) {
        let period = (self.hub.config.idle_unload_after / 4).max(Duration::from_millis(10));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let accepting = self.accepting();
            let wake = tokio::select! {
                biased;
                r = self.committer.next_result(), if !self.commits.is_empty() => Wake::Committed(r),
                r = finished(&mut self.snapshot_task) => Wake::Snapshot(r.unwrap_or(SnapshotStep::SaveFailed)),
                _ = at(self.sessions.next_round()) => Wake::Round,
                cmd = rx.recv(), if accepting => Wake::Command(cmd),
                _ = tick.tick() => Wake::Tick,
            };
            let exit = match wake {
                Wake::Committed(result) => self.commit_finished(result).await,
                Wake::Snapshot(step) => {
                    self.snapshot_finished(step);
                    Exit::Continue
                }
                Wake::Round => {
                    self.sessions.deliver_due();
                    Exit::Continue
                }
                Wake::Command(None) => Exit::Stop(CloseReason::ShuttingDown, shutting_down()),
                Wake::Command(Some(cmd)) => {
                    self.last_activity = Instant::now();
                    match self.handle(cmd).await {
                        Exit::Continue => self.gather(rx).await,
                        stop => stop,
                    }
                }
                Wake::Tick => {
                    self.sessions.reap_closed();
                    if self.idle_for() >= self.hub.config.idle_unload_after && self.quiescent() {
                        self.unload(rx);
                        return;
                    }
                    Exit::Continue
                }
            };
            if let Exit::Stop(reason, error) = exit {
                self.stop(rx, reason, &error);
                return;
            }
            self.start_commit();
            self.start_snapshot();
            if self.stopping && self.quiescent_ignoring_sessions() {
                self.stop(rx, CloseReason::ShuttingDown, &shutting_down());
                return;
            }
            if self.handing_over && self.quiescent_ignoring_sessions() {
                tracing::info!(doc = %self.doc, "handing the document over to another instance");
                self.stop(rx, CloseReason::HandedOver, &CoreError::OpenElsewhere);
                return;
            }
        }
    }

    /// Takes what else is queued before a commit starts, so it joins the
    /// same batch. When no commit is running, yields once first: submitters
    /// woken by the previous batch's acks get to queue their next ops, which
    /// then share one commit instead of trickling into many.
    async fn gather(&mut self, rx: &mut mpsc::Receiver<Command>) -> Exit {
        let mut budget = self.hub.config.max_commit_batch;
        let mut yielded = !self.commits.is_empty();
        while budget > 0 && self.accepting() {
            let cmd = match rx.try_recv() {
                Ok(cmd) => cmd,
                Err(_) if !yielded => {
                    yielded = true;
                    tokio::task::yield_now().await;
                    continue;
                }
                Err(_) => break,
            };
            if let stop @ Exit::Stop(..) = self.handle(cmd).await {
                return stop;
            }
            budget -= 1;
        }
        Exit::Continue
    }

    /// Below `max_pending_ops` applied but not yet durable.
    fn accepting(&self) -> bool {
        !self.stopping
            && !self.handing_over
            && self.pending.len() + self.in_flight_ops < self.hub.config.max_pending_ops
    }

    fn idle_for(&self) -> Duration {
        Instant::now().saturating_duration_since(self.last_activity)
    }

    fn quiescent_ignoring_sessions(&self) -> bool {
        self.pending.is_empty()
            && self.commits.is_empty()
            && self.snapshot_task.is_none()
            && self.waiting.is_empty()
    }

    fn quiescent(&self) -> bool {
        self.sessions.is_empty() && self.quiescent_ignoring_sessions()
    }

    async fn handle(&mut self, cmd: Command) -> Exit {
        match cmd {
            Command::Join {
                req,
                session,
                reply,
            } => self.join(*req, session, reply).await,
            Command::Submit { origin, op } => self.submit(origin, *op).await,
            Command::SnapshotAck { session, seq } => self.sessions.snapshot_acked(session, seq),
            Command::Presence {
                session,
                anchor,
                head,
                version,
            } => self.presence(session, anchor, head, version),
            Command::Leave { session } => self.sessions.remove(session),
            Command::Read { reply } => {
                let view = self.view();
                if view.seq <= self.durable {
                    let _ = reply.send(Ok(view));
                } else {
                    self.waiting.push(Waiting::Read {
                        at: view.seq,
                        view,
                        reply,
                    });
                }
            }
            Command::AccessChanged { user, role } => {
                self.acl.set(user, role);
                if role.is_none() {
                    self.sessions
                        .close_where(CloseReason::Revoked, |s| s.user == user);
                }
            }
            Command::Deleted => {
                return Exit::Stop(CloseReason::DocumentDeleted, CoreError::NotFound);
            }
            Command::HandOff => {
                let after = self.hub.config.hand_off_after;
                self.handing_over |= after.is_some_and(|after| self.opened_at.elapsed() >= after);
            }
            Command::Shutdown => self.stopping = true,
        }
        Exit::Continue
    }

    fn view(&self) -> DocumentView {
        DocumentView {
            content: self.state.text.to_string(),
            version: self.state.version,
            seq: self.state.seq,
        }
    }

    // ---- joining --------------------------------------------------------

    async fn join(
        &mut self,
        req: JoinRequest,
        session: SessionId,
        reply: oneshot::Sender<Result<Session, CoreError>>,
    ) {
        if self.acl.observe(req.user, req.role).is_none() {
            let _ = reply.send(Err(CoreError::Forbidden));
            return;
        }
        let at = self.state.seq;
        let greeting = match req.since {
            Some(since) => match self.catch_up(since).await {
                Some(ops) => Greeting::CatchUp {
                    ops,
                    version: self.state.version,
                },
                None => self.snapshot_greeting(),
            },
            None => self.snapshot_greeting(),
        };
        let (events_tx, events) = mpsc::channel(self.hub.config.session_queue_capacity.max(2));
        let handle = SessionHandle::new(session, self.doc, req.user, self.mailbox.clone());
        self.sessions.add(
            session,
            req.user,
            req.username.into(),
            events_tx,
            at,
            greeting,
        );
        if reply
            .send(Ok(Session {
                id: session,
                events,
                handle,
            }))
            .is_err()
        {
            self.sessions.remove(session);
            return;
        }
        // Already durable: greet at once.
        self.sessions.on_durable(self.durable, &Arc::from([]));
    }

    fn snapshot_greeting(&self) -> Greeting {
        Greeting::Snapshot {
            content: self.state.text.to_string().into(),
            version: self.state.version,
        }
    }

    /// The ops after `since`, if all of them are still available and not too many.
    async fn catch_up(&self, since: SeqId) -> Option<Arc<[Arc<CommittedOp>]>> {
        let behind = self.state.seq.0.checked_sub(since.0)?;
        if behind > self.hub.config.max_catch_up_ops as u64 || since < self.state.pruned_through {
            return None;
        }
        let floor = self.state.window.floor();
        let mut ops = Vec::with_capacity(behind as usize);
        if since < floor {
            let missing = u32::try_from(floor.0 - since.0).ok()?;
            let stored = self
                .hub
                .store
                .ops_after(self.doc, since, missing)
                .await
                .ok()?;
            let mut expected = since;
            for logged in &stored {
                expected = expected.next()?;
                if logged.seq != expected {
                    return None;
                }
                ops.push(Arc::new(committed_from_log(logged).ok()?));
            }
            if expected != floor {
                return None;
            }
        }
        ops.extend(
            self.state
                .window
                .ops_after(since.max(floor))?
                .map(|w| Arc::clone(&w.op)),
        );
        Some(ops.into())
    }

    // ---- submitting -----------------------------------------------------

    async fn submit(&mut self, origin: Origin, op: ClientOp) {
        // The authenticated user is the session's, never what the op claims.
        let (user, origin_session, to) = match origin {
            Origin::Session(id) => match self.sessions.get(id) {
                Some(slot) => (slot.user, Some(id), AnswerTo::Session(id)),
                // The session left; nobody awaits the answer.
                None => return,
            },
            Origin::Detached { user, reply } => (user, None, AnswerTo::Detached(reply)),
        };
        let role = match self.acl.role(&*self.hub.store, self.doc, user).await {
            Ok(role) => role,
            Err(error) => return self.answer(to, &op, Err(error)),
        };
        let pipeline = Pipeline {
            store: &*self.hub.store,
            doc: self.doc,
            limits: &self.hub.config.limits,
        };
        let outcome = pipeline
            .accept(&mut self.state, user, role, &op, origin_session, now_ms())
            .await;
        match outcome {
            Ok(Outcome::Applied { committed, logged }) => {
                if self.snapshots.count(logged.op_json.len()) {
                    self.snapshots.capture(Snapshot {
                        doc: self.doc,
                        version: self.state.version,
                        seq: self.state.seq,
                        content: self.state.text.to_string(),
                        created_at_ms: now_ms(),
                    });
                }
                let reply = match to {
                    AnswerTo::Detached(reply) => Some(reply),
                    AnswerTo::Session(_) => None,
                };
                self.pending.push(Applied { committed, reply });
                self.pending_logged.push(logged);
            }
            Ok(Outcome::Duplicate(original)) => {
                let ack = Ack {
                    operation_id: op.operation_id.clone(),
                    version: original.version,
                    seq: original.seq,
                    duplicate: true,
                };
                if original.seq <= self.durable {
                    self.answer(to, &op, Ok(ack));
                } else {
                    self.waiting.push(Waiting::Duplicate {
                        at: original.seq,
                        ack,
                        to,
                    });
                }
            }
            Err(error) => self.answer(to, &op, Err(error)),
        }
    }

    fn answer(&mut self, to: AnswerTo, op: &ClientOp, result: Result<Ack, CoreError>) {
        match to {
            AnswerTo::Detached(reply) => drop(reply.send(result)),
            AnswerTo::Session(id) => self.sessions.send(
                id,
                match result {
                    Ok(ack) => SessionEvent::Ack(ack),
                    Err(error) => SessionEvent::Rejected {
                        operation_id: op.operation_id.clone(),
                        error,
                    },
                },
            ),
        }
    }

    // ---- presence -------------------------------------------------------

    /// Moves the cursor from the client's `version` to the durable version
    /// (over the window's ops) and records it. Cursors against versions the
    /// window no longer holds, or not yet durable, are dropped.
    fn presence(&mut self, session: SessionId, anchor: u64, head: u64, version: DocVersion) {
        if !self.sessions.is_live(session) {
            return;
        }
        let from = seq_at(version);
        if from > self.durable {
            return;
        }
        let Some(ops) = self.state.window.ops_after(from) else {
            return;
        };
        let clamp = |p: u64| usize::try_from(p).unwrap_or(usize::MAX);
        let (mut a, mut h) = (clamp(anchor), clamp(head));
        for w in ops.take_while(|w| w.op.seq <= self.durable) {
            a = rebase::move_left(a, &w.op.op, w.shape);
            h = rebase::move_left(h, &w.op.op, w.shape);
        }
        let (a, h) = (
            a.min(self.durable_len) as u64,
            h.min(self.durable_len) as u64,
        );
        self.sessions
            .set_presence(session, a, h, DocVersion(self.durable.0));
    }

    // ---- committing -----------------------------------------------------

    /// Hands the pending ops to the store, unless `max_commits_in_flight`
    /// calls are already waiting.
    fn start_commit(&mut self) {
        while !self.pending.is_empty()
            && self.commits.len() < self.hub.config.max_commits_in_flight.max(1)
        {
            let n = self
                .pending
                .len()
                .min(self.hub.config.max_commit_batch.max(1));
            self.committer
                .send(self.pending_logged.drain(..n).collect());
            let batch: Vec<Applied> = self.pending.drain(..n).collect();
            self.in_flight_ops += batch.len();
            self.commits.push_back(batch);
        }
    }

    /// The oldest batch's result.
    async fn commit_finished(&mut self, result: CommitResult) -> Exit {
        let batch = self.commits.pop_front().unwrap_or_default();
        self.in_flight_ops -= batch.len();
        match result {
            Ok(()) => {
                self.committed(batch);
                Exit::Continue
            }
            Err(error) => self.commit_failed(batch, error).await,
        }
    }

    /// `batch` is durable: broadcast, acknowledge, release what waited for it.
    fn committed(&mut self, batch: Vec<Applied>) {
        let Some(last) = batch.last() else { return };
        self.durable = last.committed.seq;
        for applied in &batch {
            let op = &applied.committed.op;
            self.durable_len = self.durable_len + op.inserted_chars() - op.deleted_chars();
        }
        let ops: Arc<[Arc<CommittedOp>]> = batch.iter().map(|a| Arc::clone(&a.committed)).collect();
        self.sessions.on_durable(self.durable, &ops);
        for applied in batch {
            if let Some(reply) = applied.reply {
                let c = &applied.committed;
                let _ = reply.send(Ok(Ack {
                    operation_id: c.operation_id.clone(),
                    version: c.version,
                    seq: c.seq,
                    duplicate: false,
                }));
            }
        }
        self.release_waiting();
        self.state.window.evict(self.durable);
    }

    fn release_waiting(&mut self) {
        let durable = self.durable;
        let (ready, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| match w {
                Waiting::Read { at, .. } | Waiting::Duplicate { at, .. } => *at <= durable,
            });
        self.waiting = later;
        for w in ready {
            match w {
                Waiting::Read { view, reply, .. } => drop(reply.send(Ok(view))),
                Waiting::Duplicate { ack, to, .. } => match to {
                    AnswerTo::Detached(reply) => drop(reply.send(Ok(ack))),
                    AnswerTo::Session(id) => self.sessions.send(id, SessionEvent::Ack(ack)),
                },
            }
        }
    }

    /// The store refused or lost the batch. The calls behind it are waited
    /// for (they were sent; their fate must be known), then the document is
    /// reloaded: each batch the storage holds after all (a failure can hide
    /// a commit) is durable; the first it does not hold, and everything
    /// applied after it, is rejected (retryable) and the in-memory state
    /// becomes the durable one again.
    async fn commit_failed(&mut self, batch: Vec<Applied>, error: StoreError) -> Exit {
        tracing::warn!(doc = %self.doc, %error, ops = batch.len(), "commit failed; reloading");
        let mut batches = vec![batch];
        while let Some(batch) = self.commits.pop_front() {
            self.in_flight_ops -= batch.len();
            let _ = self.committer.next_result().await;
            batches.push(batch);
        }
        let reloaded = match load(&self.hub, self.doc, self.generation).await {
            Ok(reloaded) => reloaded,
            Err(load_error) => {
                tracing::warn!(doc = %self.doc, %load_error, "reload after failed commit failed");
                let failure = CoreError::Unavailable(error.to_string());
                self.reject_all(batches.into_iter().flatten().collect(), &failure);
                return Exit::Stop(CloseReason::Unavailable, failure);
            }
        };
        let stored_seq = reloaded.0.seq;
        // A batch was written after all if the log holds its ops: each one
        // at its seq under its own operation id (another writer's op at
        // that seq is not ours, and must not be acknowledged as if it were).
        let written = |batch: &Vec<Applied>| {
            batch.iter().all(|a| {
                let op = &a.committed;
                op.seq <= stored_seq
                    && reloaded
                        .0
                        .window
                        .lookup(op.user, &op.operation_id)
                        .is_some_and(|stored| stored.seq == op.seq)
            })
        };
        let mut batches = batches.into_iter().filter(|b| !b.is_empty()).peekable();
        while let Some(batch) = batches.next_if(written) {
            self.committed(batch);
        }
        let lost: Vec<Applied> = batches.flatten().collect();
        if stored_seq != self.durable {
            tracing::error!(doc = %self.doc, ?stored_seq, durable = ?self.durable, "stored log disagrees with the owner");
            let failure = CoreError::Internal("stored log disagrees with the owner".into());
            self.reject_all(lost, &failure);
            return Exit::Stop(CloseReason::Unavailable, failure);
        }
        if lost.is_empty() {
            // Every batch was durable after all: the pending ops still
            // continue the stored log.
            return Exit::Continue;
        }
        // Nothing after `durable` was written: resending the same ops may succeed.
        let failure = CoreError::Unavailable(format!("commit failed: {error}"));
        self.reject_all(lost, &failure);
        self.state = reloaded.0;
        self.durable_len = self.state.text.len_chars();
        self.snapshots.forget_beyond(self.durable);
        // Answers that described the lost state: reads are re-read, greetings
        // re-made, duplicates of lost ops rejected like the ops themselves.
        let durable = self.durable;
        for w in std::mem::take(&mut self.waiting) {
            match w {
                Waiting::Read { reply, .. } => drop(reply.send(Ok(self.view()))),
                Waiting::Duplicate { at, ack, to } if at <= durable => {
                    self.waiting.push(Waiting::Duplicate { at, ack, to })
                }
                Waiting::Duplicate { ack, to, .. } => match to {
                    AnswerTo::Detached(reply) => drop(reply.send(Err(failure.clone()))),
                    AnswerTo::Session(id) => self.sessions.send(
                        id,
                        SessionEvent::Rejected {
                            operation_id: ack.operation_id,
                            error: failure.clone(),
                        },
                    ),
                },
            }
        }
        let content: Arc<str> = self.state.text.to_string().into();
        let version = self.state.version;
        self.sessions.regreet(|| {
            (
                durable,
                Greeting::Snapshot {
                    content: Arc::clone(&content),
                    version,
                },
            )
        });
        self.sessions.on_durable(durable, &Arc::from([]));
        Exit::Continue
    }

    /// Rejects `batch` and every pending op with `error`.
    fn reject_all(&mut self, batch: Vec<Applied>, error: &CoreError) {
        let pending = std::mem::take(&mut self.pending);
        self.pending_logged.clear();
        for applied in batch.into_iter().chain(pending) {
            let c = &applied.committed;
            match (applied.reply, c.origin) {
                (Some(reply), _) => drop(reply.send(Err(error.clone()))),
                (None, Some(id)) => self.sessions.send(
                    id,
                    SessionEvent::Rejected {
                        operation_id: c.operation_id.clone(),
                        error: error.clone(),
                    },
                ),
                (None, None) => {}
            }
        }
    }

    // ---- snapshots ------------------------------------------------------

    fn start_snapshot(&mut self) {
        let Some(snapshot) = self
            .snapshots
            .take_ready(self.durable, self.snapshot_task.is_some())
        else {
            return;
        };
        let store = Arc::clone(&self.hub.store);
        self.snapshot_task = Some(self.spawn_store_task(async move {
            match store.save_snapshot(&snapshot).await {
                Ok(()) => SnapshotStep::Saved(snapshot.seq),
                Err(error) => {
                    tracing::warn!(doc = %snapshot.doc, %error, "snapshot failed");
                    SnapshotStep::SaveFailed
                }
            }
        }));
    }

    /// Spawns `task`, which calls the store for this owner, holding the
    /// store-calls guard until it ends: a task left running when the owner
    /// stops (its handle dropped) still ends before the claim is given up.
    fn spawn_store_task<T: Send + 'static>(
        &self,
        task: impl Future<Output = T> + Send + 'static,
    ) -> JoinHandle<T> {
        let guard = Arc::clone(&self.store_calls);
        tokio::spawn(async move {
            let output = task.await;
            drop(guard);
            output
        })
    }

    fn snapshot_finished(&mut self, step: SnapshotStep) {
        match step {
            SnapshotStep::Saved(seq) => {
                let Some(prune) = self
                    .snapshots
                    .saved(self.doc, seq, self.state.pruned_through)
                else {
                    return;
                };
                // Raise the horizons in memory BEFORE the store prunes: from
                // now on no op based below them is rebased or looked up (the
                // dedup invariant in `pipeline`).
                self.state.pruned_through = prune.through;
                self.state.registry_pruned_through = self
                    .state
                    .registry_pruned_through
                    .max(prune.registry_through);
                let store = Arc::clone(&self.hub.store);
                self.snapshot_task = Some(self.spawn_store_task(async move {
                    if let Err(error) = store.prune(prune).await {
                        tracing::warn!(doc = %prune.doc, %error, "prune failed");
                    }
                    SnapshotStep::Pruned
                }));
            }
            SnapshotStep::SaveFailed => self.snapshots.save_failed(),
            SnapshotStep::Pruned => {}
        }
    }

    // ---- leaving memory -------------------------------------------------

    /// Idle: leave the hub's map and close the mailbox under its lock, then
    /// hand anything that slipped in meanwhile to a fresh owner.
    fn unload(&mut self, rx: &mut mpsc::Receiver<Command>) {
        self.hub
            .retire_owner(self.doc, self.generation, || rx.close());
        reroute_remaining(&self.hub, self.doc, rx);
        tracing::debug!(doc = %self.doc, "document unloaded");
    }

    /// Ends the owner: closes sessions, fails whatever is not durable, leaves
    /// the map and answers what is left in the mailbox.
    fn stop(&mut self, rx: &mut mpsc::Receiver<Command>, reason: CloseReason, error: &CoreError) {
        // Batches still in flight are not acknowledged: their clients resend
        // them (and a resend of one that was written after all is found by
        // its operation id). The committer finishes them before the claim
        // is given up (`supervise`).
        let in_flight: Vec<Applied> = std::mem::take(&mut self.commits)
            .into_iter()
            .flatten()
            .collect();
        self.in_flight_ops = 0;
        self.reject_all(in_flight, error);
        for w in std::mem::take(&mut self.waiting) {
            match w {
                Waiting::Read { reply, .. } => drop(reply.send(Err(error.clone()))),
                Waiting::Duplicate {
                    to: AnswerTo::Detached(reply),
                    ..
                } => drop(reply.send(Err(error.clone()))),
                Waiting::Duplicate { .. } => {}
            }
        }
        self.sessions.close_where(reason, |_| true);
        self.hub
            .retire_owner(self.doc, self.generation, || rx.close());
        fail_remaining(rx, error);
    }
}

/// Waits for an optional task; never resolves when there is none.
async fn finished<T>(task: &mut Option<JoinHandle<T>>) -> Result<T, tokio::task::JoinError> {
    match task {
        Some(handle) => {
            let result = handle.await;
            *task = None;
            result
        }
        None => std::future::pending().await,
    }
}

/// Sleeps until `deadline`; never resolves when there is none.
async fn at(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn shutting_down() -> CoreError {
    CoreError::Unavailable("the server is shutting down".into())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod command_size {
    /// Every open document's mailbox holds 32 of these from the start: 112
    /// bytes each (3.5 KiB a document) before the payloads were boxed.
    #[test]
    fn a_command_stays_small() {
        assert!(std::mem::size_of::<super::Command>() <= 48);
    }
}
