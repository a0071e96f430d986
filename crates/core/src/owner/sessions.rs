//! The sessions of one document and what each has been sent.
//!
//! A session moves through three phases (docs/protocol.md §5):
//! `Awaiting` (its snapshot or catch-up describes a state that is not durable
//! yet, so nothing is sent), `Buffering` (snapshot sent; committed ops are
//! held, up to `join_buffer_ops`, until the client acknowledges the snapshot)
//! and `Live` (committed batches are forwarded as they become durable).
//!
//! Delivery never blocks the owner: each session has a bounded queue; a
//! session whose queue is full is closed with `ResyncRequired` (the last slot
//! of the queue is kept for that `Closed` event).

use crate::events::{
    CloseReason, CommittedOp, PresenceEntry, PresenceEvent, SessionEvent, SessionId,
};
use quire_engine::op::{Side, transform_position};
use quire_engine::{DocVersion, SeqId, UserId};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What a joining session will receive once the state it describes is durable.
pub(crate) enum Greeting {
    Snapshot {
        content: Arc<str>,
        version: DocVersion,
    },
    CatchUp {
        ops: Arc<[Arc<CommittedOp>]>,
        version: DocVersion,
    },
}

enum Phase {
    /// Waiting for seq `at` to be durable, then sends the greeting.
    Awaiting { at: SeqId, greeting: Greeting },
    /// Snapshot at `at` sent; holds committed ops after it.
    Buffering {
        at: SeqId,
        buffer: Vec<Arc<CommittedOp>>,
    },
    /// Receives every committed op with seq > `after`.
    Live { after: SeqId },
}

pub(crate) struct Slot {
    pub user: UserId,
    pub username: Arc<str>,
    events: mpsc::Sender<SessionEvent>,
    phase: Phase,
    presence: Option<PresenceEntry>,
}

pub(crate) struct Sessions {
    slots: HashMap<SessionId, Slot>,
    join_buffer_ops: usize,
}

/// Whether an event may be dropped when the session's queue is full.
#[derive(PartialEq, Eq)]
enum Importance {
    /// Losing it would desynchronise the client: close the session instead.
    Essential,
    /// Presence: skipped under pressure.
    Droppable,
}

impl Sessions {
    pub fn new(join_buffer_ops: usize) -> Sessions {
        Sessions {
            slots: HashMap::new(),
            join_buffer_ops,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn get(&self, id: SessionId) -> Option<&Slot> {
        self.slots.get(&id)
    }

    pub fn add(
        &mut self,
        id: SessionId,
        user: UserId,
        username: Arc<str>,
        events: mpsc::Sender<SessionEvent>,
        at: SeqId,
        greeting: Greeting,
    ) {
        let slot = Slot {
            user,
            username,
            events,
            phase: Phase::Awaiting { at, greeting },
            presence: None,
        };
        self.slots.insert(id, slot);
    }

    /// Sends a session an event outside the committed stream (duplicate acks,
    /// rejections).
    pub fn send(&mut self, id: SessionId, event: SessionEvent) {
        if let Some(slot) = self.slots.get_mut(&id)
            && !deliver(slot, event, Importance::Essential)
        {
            self.remove(id);
        }
    }

    /// Everything that became durable up to `durable`: greetings whose state
    /// is now durable, then `batch` (ops just committed, ascending).
    pub fn on_durable(&mut self, durable: SeqId, batch: &Arc<[Arc<CommittedOp>]>) {
        if let Some(last) = batch.last() {
            for slot in self.slots.values_mut() {
                if let Some(p) = &mut slot.presence {
                    for committed in batch.iter().filter(|c| c.seq > seq_of(p.version)) {
                        p.anchor = moved(p.anchor, &committed.op);
                        p.head = moved(p.head, &committed.op);
                    }
                    p.version = last.version;
                }
            }
        }
        let mut closed = Vec::new();
        let mut went_live = Vec::new();
        for (&id, slot) in self.slots.iter_mut() {
            match greet_if_durable(slot, durable) {
                Greeted::No => {}
                Greeted::Closed => {
                    closed.push(id);
                    continue;
                }
                Greeted::Live => went_live.push(id),
                Greeted::Buffering => {}
            }
            if !forward(slot, batch, self.join_buffer_ops) {
                closed.push(id);
            }
        }
        for id in closed {
            self.remove(id);
        }
        for id in went_live {
            self.send_presence_of_others(id);
        }
    }

    /// The client applied its snapshot at `seq`: flush the buffer, go live.
    pub fn snapshot_acked(&mut self, id: SessionId, seq: SeqId) {
        let Some(slot) = self.slots.get_mut(&id) else {
            return;
        };
        let Phase::Buffering { at, buffer } = &mut slot.phase else {
            return;
        };
        if *at != seq {
            tracing::debug!(?id, ?seq, expected = ?at, "snapshot ack for another snapshot ignored");
            return;
        }
        let buffered = std::mem::take(buffer);
        let last = buffered.last().map_or(*at, |op| op.seq);
        slot.phase = Phase::Live { after: last };
        let mut ok = true;
        if !buffered.is_empty() {
            ok = deliver(
                slot,
                SessionEvent::Committed(buffered.into()),
                Importance::Essential,
            );
        }
        ok = ok
            && deliver(
                slot,
                SessionEvent::Live { seq: last },
                Importance::Essential,
            );
        if ok {
            self.send_presence_of_others(id);
        } else {
            self.remove(id);
        }
    }

    /// Replaces every greeting that is not sent yet (after a reload lost the
    /// state they described).
    pub fn regreet(&mut self, mut greeting_for: impl FnMut() -> (SeqId, Greeting)) {
        for slot in self.slots.values_mut() {
            if let Phase::Awaiting { .. } = slot.phase {
                let (at, greeting) = greeting_for();
                slot.phase = Phase::Awaiting { at, greeting };
            }
        }
    }

    /// Records a session's cursor (already moved to the durable `version`)
    /// and tells the other live sessions.
    pub fn set_presence(&mut self, id: SessionId, anchor: u64, head: u64, version: DocVersion) {
        let Some(slot) = self.slots.get_mut(&id) else {
            return;
        };
        if !matches!(slot.phase, Phase::Live { .. }) {
            return;
        }
        let entry = PresenceEntry {
            session: id,
            user: slot.user,
            username: Arc::clone(&slot.username),
            anchor,
            head,
            version,
        };
        slot.presence = Some(entry.clone());
        self.broadcast_presence(id, PresenceEvent::Users(vec![entry]));
    }

    pub fn is_live(&self, id: SessionId) -> bool {
        self.slots
            .get(&id)
            .is_some_and(|s| matches!(s.phase, Phase::Live { .. }))
    }

    /// Removes a session; tells the others if it had shown a cursor.
    pub fn remove(&mut self, id: SessionId) {
        if let Some(slot) = self.slots.remove(&id)
            && slot.presence.is_some()
        {
            self.broadcast_presence(
                id,
                PresenceEvent::Left {
                    session: id,
                    user: slot.user,
                },
            );
        }
    }

    /// Closes every session of `user` (or every session) with `reason`.
    pub fn close_where(&mut self, reason: CloseReason, mut which: impl FnMut(&Slot) -> bool) {
        let ids: Vec<SessionId> = self
            .slots
            .iter()
            .filter(|(_, s)| which(s))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(slot) = self.slots.get_mut(&id) {
                let _ = slot.events.try_send(SessionEvent::Closed(reason.clone()));
            }
            self.remove(id);
        }
    }

    /// Forgets sessions whose receiver was dropped without a `Leave`.
    pub fn reap_closed(&mut self) {
        let gone: Vec<SessionId> = self
            .slots
            .iter()
            .filter(|(_, s)| s.events.is_closed())
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.remove(id);
        }
    }

    fn broadcast_presence(&mut self, from: SessionId, event: PresenceEvent) {
        for (&id, slot) in self.slots.iter_mut() {
            if id != from && matches!(slot.phase, Phase::Live { .. }) {
                deliver(
                    slot,
                    SessionEvent::Presence(event.clone()),
                    Importance::Droppable,
                );
            }
        }
    }

    fn send_presence_of_others(&mut self, to: SessionId) {
        let others: Vec<PresenceEntry> = self
            .slots
            .iter()
            .filter(|(id, _)| **id != to)
            .filter_map(|(_, s)| s.presence.clone())
            .collect();
        if let (false, Some(slot)) = (others.is_empty(), self.slots.get_mut(&to)) {
            deliver(
                slot,
                SessionEvent::Presence(PresenceEvent::Users(others)),
                Importance::Droppable,
            );
        }
    }
}

enum Greeted {
    No,
    Buffering,
    Live,
    Closed,
}

fn greet_if_durable(slot: &mut Slot, durable: SeqId) -> Greeted {
    match &slot.phase {
        Phase::Awaiting { at, .. } if *at <= durable => {}
        _ => return Greeted::No,
    }
    let placeholder = Phase::Live { after: SeqId(0) };
    let Phase::Awaiting { at, greeting } = std::mem::replace(&mut slot.phase, placeholder) else {
        return Greeted::No;
    };
    match greeting {
        Greeting::Snapshot { content, version } => {
            slot.phase = Phase::Buffering {
                at,
                buffer: Vec::new(),
            };
            let snapshot = SessionEvent::Snapshot {
                content,
                version,
                seq: at,
            };
            match deliver(slot, snapshot, Importance::Essential) {
                true => Greeted::Buffering,
                false => Greeted::Closed,
            }
        }
        Greeting::CatchUp { ops, version } => {
            slot.phase = Phase::Live { after: at };
            let catch_up = SessionEvent::CatchUp {
                ops,
                version,
                seq: at,
            };
            match deliver(slot, catch_up, Importance::Essential)
                && deliver(slot, SessionEvent::Live { seq: at }, Importance::Essential)
            {
                true => Greeted::Live,
                false => Greeted::Closed,
            }
        }
    }
}

/// Passes the just-committed `batch` to one session according to its phase.
/// Returns false if the session must be dropped.
fn forward(slot: &mut Slot, batch: &Arc<[Arc<CommittedOp>]>, join_buffer_ops: usize) -> bool {
    match &mut slot.phase {
        Phase::Awaiting { .. } => true,
        Phase::Buffering { at, buffer } => {
            let at = *at;
            buffer.extend(batch.iter().filter(|op| op.seq > at).cloned());
            if buffer.len() > join_buffer_ops {
                let _ = slot
                    .events
                    .try_send(SessionEvent::Closed(CloseReason::ResyncRequired));
                return false;
            }
            true
        }
        Phase::Live { after } => {
            let after = *after;
            let Some(last) = batch.last() else {
                return true;
            };
            if last.seq <= after {
                return true;
            }
            slot.phase = Phase::Live { after: last.seq };
            let fresh = if batch.first().is_some_and(|first| first.seq > after) {
                Arc::clone(batch)
            } else {
                batch.iter().filter(|op| op.seq > after).cloned().collect()
            };
            deliver(slot, SessionEvent::Committed(fresh), Importance::Essential)
        }
    }
}

/// Queues `event` for the session. Returns false if the session is gone or
/// had to be closed because its queue is full.
fn deliver(slot: &mut Slot, event: SessionEvent, importance: Importance) -> bool {
    if slot.events.capacity() <= 1 {
        if importance == Importance::Droppable {
            return true;
        }
        let _ = slot
            .events
            .try_send(SessionEvent::Closed(CloseReason::ResyncRequired));
        return false;
    }
    slot.events.try_send(event).is_ok()
}

fn seq_of(version: DocVersion) -> SeqId {
    super::state::seq_at(version)
}

/// A cursor position moved over one op. Positions beyond `usize` cannot
/// exist in a document, so they saturate.
fn moved(pos: u64, op: &quire_engine::op::TextOp) -> u64 {
    let pos = usize::try_from(pos).unwrap_or(usize::MAX);
    transform_position(pos, op, Side::Left) as u64
}
