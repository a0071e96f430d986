//! The client's model of one document, free of I/O so that every rule of
//! docs/protocol.md §5 is a plain method with a unit test.
//!
//! Three texts are in play, two of them stored:
//! - `confirmed`: the server's state at (`version`, `seq`), the base of every
//!   op the client sends;
//! - the in-flight op (sent, not acknowledged) and `pending` (local edits not
//!   sent yet, composed into one op, against `confirmed` + in-flight);
//! - `text` = `confirmed` + in-flight + `pending`: what the user sees.
//!
//! A remote op is transformed over in-flight then pending (local side left,
//! as the server gives a later-arriving op side left), applied to `text`, and
//! the local ops are transformed over it. An in-flight op is kept twice: as
//! sent (to resend with its original operationId and baseVersion) and as
//! transformed (to apply to `confirmed` when acknowledged). Only `pending` is
//! ever composed into; an op already sent never is.
//!
//! When a reconnect ends in a snapshot instead of a catch-up, the fate of the
//! in-flight op is unknown; the client resends it (the server recognises it
//! or refuses it) and only then rebases local edits onto the snapshot
//! ([`DocState::on_snapshot`]).

use std::collections::BTreeMap;

use quire_engine::client_op::{ClientOp, Edit};
use quire_engine::limits::Limits;
use quire_engine::op::{Component, Side, TextOp, transform_position, transform_x};
use quire_engine::{DocVersion, OpError, OperationId, SeqId, Text, UserId};
use quire_protocol::{OpEntry, PresenceUser, Since};

use crate::rebase::{diff, invert};

/// Why the client must reconnect: the stream it received is not one it can
/// continue from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Desync {
    #[error("sequence gap: expected seq {expected}, got {got}")]
    Gap { expected: u64, got: u64 },
    #[error("acknowledgement for an op that is not in flight")]
    UnexpectedAck,
    #[error("an op from the server does not apply: {0}")]
    BadRemoteOp(OpError),
    /// The resent op was applied after the snapshot; a fresh snapshot
    /// (join without `since`) will contain it.
    #[error("need a fresh snapshot")]
    NeedFreshSnapshot,
}

/// What a received message changed, for the application's events.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Nothing (a duplicate or an old frame).
    None,
    /// A remote op, as applied to the local text.
    Remote(TextOp),
    /// The in-flight op was acknowledged.
    Acked {
        operation_id: OperationId,
        version: DocVersion,
        seq: SeqId,
    },
    /// The local text was replaced (snapshot, resync or rejected op undone).
    Replaced,
}

/// What the session must do after a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotOutcome {
    /// The snapshot is the new state.
    Applied(Change),
    /// Resend the in-flight op; the rebase waits for its answer.
    ResendInFlight(ClientOp),
}

/// A local edit that could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the document is not loaded yet")]
    NotLoaded,
    #[error("invalid edit: {0}")]
    Invalid(#[from] OpError),
}

#[derive(Debug, Clone)]
struct InFlight {
    /// Exactly as sent (for resending).
    sent: ClientOp,
    /// Transformed over every remote op since: applies to `confirmed`.
    op: TextOp,
    /// Acknowledged after a snapshot whose text does not contain it.
    applied_after_snapshot: bool,
}

/// A snapshot held back while the fate of the in-flight op is learned.
#[derive(Debug)]
struct Resolving {
    text: Text,
    version: DocVersion,
    seq: SeqId,
}

/// What an `error` about the in-flight op says about it (docs/protocol.md §5
/// rule 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not applied, but may be as a new op on the current version
    /// (`resync_required`): it is merged into the pending edits.
    RetryAsNew,
    /// Not applied and never will be: it is undone locally.
    Undo,
    /// Maybe applied long ago, maybe never (`outcome_unknown`, only for a
    /// resend after a snapshot): never re-created, so never applied twice;
    /// the snapshot says whether it is in the text. Outside a resync it is
    /// undone (the live stream would have carried it had it been applied).
    OutcomeUnknown,
}

/// The document as one client sees it.
#[derive(Debug)]
pub struct DocState {
    user: Option<UserId>,
    limits: Limits,
    loaded: bool,
    text: Text,
    confirmed: Text,
    version: DocVersion,
    seq: SeqId,
    inflight: Option<InFlight>,
    pending: Option<TextOp>,
    resolving: Option<Resolving>,
    my_cursor: Option<(usize, usize)>,
    cursor_dirty: bool,
    /// Other sessions' cursors by session id, against `confirmed`.
    others: BTreeMap<u64, PresenceUser>,
}

impl DocState {
    pub fn new(limits: Limits) -> DocState {
        DocState {
            user: None,
            limits,
            loaded: false,
            text: Text::new(),
            confirmed: Text::new(),
            version: DocVersion(0),
            seq: SeqId(0),
            inflight: None,
            pending: None,
            resolving: None,
            my_cursor: None,
            cursor_dirty: false,
            others: BTreeMap::new(),
        }
    }

    pub fn set_identity(&mut self, user: UserId, limits: Limits) {
        self.user = Some(user);
        self.limits = limits;
    }

    pub fn text(&self) -> &Text {
        &self.text
    }
    pub fn version(&self) -> DocVersion {
        self.version
    }
    pub fn seq(&self) -> SeqId {
        self.seq
    }
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Local edits the server has not acknowledged (in flight or pending).
    pub fn has_unacked(&self) -> bool {
        self.inflight.is_some() || self.pending.is_some()
    }

    /// What to put in `join.since`.
    pub fn since(&self) -> Option<Since> {
        self.loaded.then_some(Since {
            version: self.version,
            seq: self.seq,
        })
    }

    /// Applies a local edit to the local text and queues it.
    pub fn local_edit(&mut self, op: TextOp) -> Result<(), EditError> {
        if !self.loaded {
            return Err(EditError::NotLoaded);
        }
        op.check_fits(self.text.len_chars(), &self.limits)?;
        if op.inserted_chars() > self.limits.max_op_chars {
            return Err(OpError::TooLarge {
                chars: op.inserted_chars(),
                max: self.limits.max_op_chars,
            }
            .into());
        }
        self.text.apply(&op)?;
        if let Some((anchor, head)) = self.my_cursor {
            self.my_cursor = Some((
                transform_position(anchor, &op, Side::Right),
                transform_position(head, &op, Side::Right),
            ));
        }
        self.pending = match self.pending.take() {
            Some(pending) => Some(pending.compose(&op)),
            None => Some(op),
        }
        .filter(|p| !p.is_noop());
        Ok(())
    }

    /// The next op to send, if none is in flight: the pending edits become the
    /// in-flight op, with a fresh operation id, against `version`.
    pub fn take_submit(&mut self) -> Option<ClientOp> {
        if self.inflight.is_some() || self.resolving.is_some() {
            return None;
        }
        let user = self.user?;
        let op = self.pending.take()?;
        let sent = ClientOp {
            operation_id: OperationId::new_random(),
            user_id: user,
            base_version: self.version,
            edit: edit_of(&op),
        };
        self.inflight = Some(InFlight {
            sent: sent.clone(),
            op,
            applied_after_snapshot: false,
        });
        Some(sent)
    }

    /// The in-flight op exactly as first sent (original id and base version),
    /// to resend after a reconnect.
    pub fn resend(&self) -> Option<ClientOp> {
        self.inflight.as_ref().map(|f| f.sent.clone())
    }

    fn is_inflight(&self, user: UserId, id: &OperationId) -> bool {
        self.user == Some(user) && self.inflight_id() == Some(id)
    }

    fn inflight_id(&self) -> Option<&OperationId> {
        self.inflight.as_ref().map(|f| &f.sent.operation_id)
    }

    /// A `snapshot` arrived. On first load it is simply the state. Later (a
    /// reconnect the server could not answer with a catch-up) local edits are
    /// rebased onto it, once the in-flight op's fate is known.
    pub fn on_snapshot(
        &mut self,
        content: &str,
        version: DocVersion,
        seq: SeqId,
    ) -> SnapshotOutcome {
        let text = Text::from(content);
        if !self.loaded {
            self.loaded = true;
            self.confirmed = text.clone();
            self.text = text;
            self.version = version;
            self.seq = seq;
            self.inflight = None;
            self.pending = None;
            return SnapshotOutcome::Applied(Change::Replaced);
        }
        match &self.inflight {
            Some(f) if !f.applied_after_snapshot => {
                let resend = f.sent.clone();
                self.resolving = Some(Resolving { text, version, seq });
                SnapshotOutcome::ResendInFlight(resend)
            }
            Some(_) => SnapshotOutcome::Applied(self.rebase_onto(text, version, seq, true)),
            None => SnapshotOutcome::Applied(self.rebase_onto(text, version, seq, false)),
        }
    }

    /// An op entry from `catchUp` or `ops`.
    pub fn on_entry(&mut self, entry: &OpEntry) -> Result<Change, Desync> {
        if let Some(r) = &mut self.resolving {
            if entry.seq <= r.seq {
                return Ok(Change::None);
            }
            expect_next(r.seq, entry.seq)?;
            r.text.apply(&entry.op).map_err(Desync::BadRemoteOp)?;
            r.version = entry.version;
            r.seq = entry.seq;
            if self.is_inflight(entry.user_id, &entry.operation_id) {
                return Ok(self.finish_resolving(true));
            }
            return Ok(Change::None);
        }
        if entry.seq <= self.seq {
            return Ok(Change::None);
        }
        expect_next(self.seq, entry.seq)?;
        if self.is_inflight(entry.user_id, &entry.operation_id) {
            return self.ack_inflight(entry.version, entry.seq);
        }
        self.confirmed
            .apply(&entry.op)
            .map_err(Desync::BadRemoteOp)?;
        let mut remote = entry.op.clone();
        if let Some(f) = &mut self.inflight {
            let (local, over) = transform_x(&f.op, &remote);
            f.op = local;
            remote = over;
        }
        if let Some(p) = &mut self.pending {
            let (local, over) = transform_x(p, &remote);
            *p = local;
            remote = over;
        }
        self.text.apply(&remote).map_err(Desync::BadRemoteOp)?;
        self.move_others(&entry.op, Some(entry.user_id));
        if let Some((anchor, head)) = self.my_cursor {
            self.my_cursor = Some((
                transform_position(anchor, &remote, Side::Left),
                transform_position(head, &remote, Side::Left),
            ));
        }
        self.version = entry.version;
        self.seq = entry.seq;
        Ok(Change::Remote(remote))
    }

    /// An `ack` frame.
    pub fn on_ack(
        &mut self,
        id: &OperationId,
        version: DocVersion,
        seq: SeqId,
    ) -> Result<Change, Desync> {
        if let Some(r) = &self.resolving {
            if self.inflight_id() != Some(id) {
                return Ok(Change::None);
            }
            if seq <= r.seq {
                return Ok(self.finish_resolving(true));
            }
            self.resolving = None;
            if let Some(f) = &mut self.inflight {
                f.applied_after_snapshot = true;
            }
            return Err(Desync::NeedFreshSnapshot);
        }
        if seq <= self.seq {
            return Ok(Change::None);
        }
        if self.inflight_id() != Some(id) {
            return Err(Desync::UnexpectedAck);
        }
        expect_next(self.seq, seq)?;
        self.ack_inflight(version, seq)
    }

    /// The server refused the in-flight op `id` for good; `rejection` says
    /// what that means for it (see [`Rejection`]): merged back into the
    /// pending edits, undone locally, or, while a snapshot resolves it,
    /// taken as applied and left to the snapshot.
    pub fn on_rejected(&mut self, id: &OperationId, rejection: Rejection) -> Change {
        if self.inflight_id() != Some(id) {
            return Change::None;
        }
        if self.resolving.is_some() {
            // `outcome_unknown`: the snapshot is taken as the truth about the
            // op. Rebasing as if it were applied leaves it in the text once
            // if it was, and the snapshot's difference removes it if it was
            // not; either way it is never re-created.
            return self.finish_resolving(rejection == Rejection::OutcomeUnknown);
        }
        let Some(f) = self.inflight.take() else {
            return Change::None;
        };
        if rejection == Rejection::RetryAsNew {
            self.pending = Some(match self.pending.take() {
                Some(p) => f.op.compose(&p),
                None => f.op,
            });
            return Change::None;
        }
        let Some(mut undo) = invert(&f.op, &self.confirmed) else {
            return Change::None;
        };
        if let Some(p) = &mut self.pending {
            let (local, over) = transform_x(p, &undo);
            *p = local;
            undo = over;
        }
        self.pending = self.pending.take().filter(|p| !p.is_noop());
        if self.text.apply(&undo).is_err() {
            // Cannot happen (undo is built from the text it applies to);
            // the next snapshot repairs the text if it ever does.
            return Change::None;
        }
        Change::Replaced
    }

    fn ack_inflight(&mut self, version: DocVersion, seq: SeqId) -> Result<Change, Desync> {
        let Some(f) = self.inflight.take() else {
            return Err(Desync::UnexpectedAck);
        };
        self.confirmed.apply(&f.op).map_err(Desync::BadRemoteOp)?;
        self.move_others(&f.op, None);
        self.version = version;
        self.seq = seq;
        Ok(Change::Acked {
            operation_id: f.sent.operation_id,
            version,
            seq,
        })
    }

    fn finish_resolving(&mut self, applied: bool) -> Change {
        match self.resolving.take() {
            Some(r) => self.rebase_onto(r.text, r.version, r.seq, applied),
            None => Change::None,
        }
    }

    /// Replaces the state with `server` (at `version`/`seq`) and rebases the
    /// unacknowledged local edits onto it. `inflight_applied`: `server`
    /// already contains the in-flight op.
    fn rebase_onto(
        &mut self,
        server: Text,
        version: DocVersion,
        seq: SeqId,
        inflight_applied: bool,
    ) -> Change {
        let mut base = std::mem::take(&mut self.confirmed);
        let local = match self.inflight.take() {
            Some(f) if inflight_applied => {
                // `f.op` applies to `base` by construction.
                let _ = base.apply(&f.op);
                self.pending.take()
            }
            Some(f) => Some(match self.pending.take() {
                Some(p) => f.op.compose(&p),
                None => f.op,
            }),
            None => self.pending.take(),
        };
        let server_change = diff(&base, &server);
        let rebased = local
            .map(|op| op.transform(&server_change, Side::Left))
            .filter(|op| !op.is_noop());
        let mut text = server.clone();
        let rebased = rebased.filter(|op| text.apply(op).is_ok());
        self.text = text;
        self.confirmed = server;
        self.version = version;
        self.seq = seq;
        self.pending = rebased;
        self.my_cursor = None;
        self.others.clear();
        Change::Replaced
    }

    // ---- presence ----------------------------------------------------

    /// Sets my cursor/selection, in local-text code points.
    pub fn set_cursor(&mut self, anchor: usize, head: usize) {
        let len = self.text.len_chars();
        self.my_cursor = Some((anchor.min(len), head.min(len)));
        self.cursor_dirty = true;
    }

    /// My cursor to announce, if it changed and the local text equals the
    /// confirmed state (so the positions mean the same on the server).
    pub fn presence_to_send(&mut self) -> Option<(usize, usize, DocVersion)> {
        if !self.cursor_dirty || self.has_unacked() || self.resolving.is_some() || !self.loaded {
            return None;
        }
        self.cursor_dirty = false;
        self.my_cursor.map(|(a, h)| (a, h, self.version))
    }

    /// A `presence` frame listing users' cursors.
    pub fn on_presence_users(&mut self, users: Vec<PresenceUser>) {
        let len = self.confirmed.len_chars();
        for mut user in users {
            user.anchor = user.anchor.min(len);
            user.head = user.head.min(len);
            self.others.insert(user.session_id, user);
        }
    }

    /// A `presence` frame announcing a departure.
    pub fn on_presence_left(&mut self, session_id: u64) {
        self.others.remove(&session_id);
    }

    /// Other sessions' cursors, mapped onto the local text.
    pub fn cursors(&self) -> Vec<PresenceUser> {
        let local_ops = self
            .inflight
            .iter()
            .map(|f| &f.op)
            .chain(self.pending.iter());
        let local_ops: Vec<&TextOp> = local_ops.collect();
        self.others
            .values()
            .map(|user| {
                let mut user = user.clone();
                for op in &local_ops {
                    user.anchor = transform_position(user.anchor, op, Side::Left);
                    user.head = transform_position(user.head, op, Side::Left);
                }
                user
            })
            .collect()
    }

    /// Moves others' cursors over an op applied to `confirmed`; a cursor of
    /// the op's author moves past its own insert.
    fn move_others(&mut self, op: &TextOp, author: Option<UserId>) {
        for user in self.others.values_mut() {
            let side = if Some(user.user_id) == author {
                Side::Right
            } else {
                Side::Left
            };
            user.anchor = transform_position(user.anchor, op, side);
            user.head = transform_position(user.head, op, side);
        }
    }
}

fn expect_next(current: SeqId, got: SeqId) -> Result<(), Desync> {
    if current.next() == Some(got) {
        Ok(())
    } else {
        Err(Desync::Gap {
            expected: current.0.saturating_add(1),
            got: got.0,
        })
    }
}

/// The readable client-op form of an op: insert, delete or replace when it
/// is one, `compound` otherwise.
pub fn edit_of(op: &TextOp) -> Edit {
    let (position, rest) = match op.components() {
        [Component::Skip(n), rest @ ..] => (*n, rest),
        rest => (0, rest),
    };
    match rest {
        [Component::Insert(text)] => Edit::Insert {
            position,
            text: text.to_string(),
        },
        [Component::Delete(length)] => Edit::Delete {
            position,
            length: *length,
        },
        [Component::Delete(length), Component::Insert(text)] => Edit::Replace {
            position,
            length: *length,
            text: text.to_string(),
        },
        _ => Edit::Compound {
            components: op.components().to_vec(),
        },
    }
}
