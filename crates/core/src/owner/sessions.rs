//! The sessions of one document and what each has been sent.
//!
//! A session moves through three phases (docs/protocol.md §5):
//! `Awaiting` (its snapshot or catch-up describes a state that is not durable
//! yet, so nothing is sent), `Buffering` (snapshot sent; committed ops are
//! held, up to `join_buffer_ops`, until the client acknowledges the snapshot)
//! and `Live` (committed ops are forwarded once durable).
//!
//! Live delivery is paced per document ([`Pacing`]): every delivery costs a
//! session a wakeup and a socket write, so with many sessions durable ops are
//! held and handed out in *rounds*. A document's sessions fall into
//! [`GROUPS`] groups (by session id); each round serves one group, and a
//! group is served at most once per `hold` (which grows with the number of
//! sessions, up to `CoreConfig::broadcast_interval`), so every held op
//! reaches every live session within `hold`. Rounds are spaced `hold /
//! GROUPS` apart, which spreads a document's socket writes (and the
//! clients' work) evenly instead of waking every session at the same
//! instant. A round that is due within the timer's resolution goes out at
//! once, so a quiet or small document delivers every commit immediately.
//! A session whose own op just became durable is not held: it gets every op
//! up to and including its acknowledgement at once, so acks are as fast as
//! commits and still come in seq order after every op before them
//! (docs/protocol.md §4). Before a presence event, the recipient is caught up
//! the same way, so a cursor never names a version the session lacks.
//!
//! Delivery never blocks the owner: each session has a bounded queue; a
//! session whose queue is full is closed with `ResyncRequired` (the last slot
//! of the queue is kept for that `Closed` event).

use crate::events::{
    CloseReason, CommittedOp, PresenceEntry, PresenceEvent, SessionEvent, SessionId,
};
use quire_engine::op::{Side, transform_position};
use quire_engine::{DocVersion, SeqId, UserId};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

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
    pacing: Pacing,
    /// Durable ops some live session may still lack (seq above the lowest
    /// of `served`), ascending.
    held: VecDeque<Arc<CommittedOp>>,
    /// Seq of the last op put into `held`.
    latest: SeqId,
    /// Per group: every live session of the group has every op up to this
    /// seq (sessions that went live or were caught up since may be ahead).
    served: [SeqId; GROUPS],
    /// Per group: when its last round went out.
    last_served: [Option<Instant>; GROUPS],
    /// When the last round of any group went out.
    last_round: Option<Instant>,
    /// The group considered first for the next round (ties rotate).
    cursor: usize,
    /// When the next round is due, if any group lacks held ops.
    next_round: Option<Instant>,
}

/// Groups a document's sessions are split into for paced delivery.
const GROUPS: usize = 8;
/// Rounds due within this are sent at once: tokio's timers fire on
/// millisecond ticks, so waiting for them would only add delay.
const TIMER_RESOLUTION: Duration = Duration::from_millis(1);

/// How long durable ops may be held for a group: `per_session` times the
/// number of sessions, at most `max`. A round costs about one socket write
/// per session it serves, so this caps a document's writes at about
/// 1 / `per_session` per second, whatever its commit rate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacing {
    pub per_session: Duration,
    pub max: Duration,
}

impl Pacing {
    fn hold(&self, sessions: usize) -> Duration {
        let sessions = u32::try_from(sessions).unwrap_or(u32::MAX);
        self.per_session
            .checked_mul(sessions)
            .map_or(self.max, |d| d.min(self.max))
    }
}

fn group_of(id: SessionId) -> usize {
    (id.0 % GROUPS as u64) as usize
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
    pub fn new(join_buffer_ops: usize, pacing: Pacing) -> Sessions {
        Sessions {
            slots: HashMap::new(),
            join_buffer_ops,
            pacing,
            held: VecDeque::new(),
            latest: SeqId(0),
            served: [SeqId(0); GROUPS],
            last_served: [None; GROUPS],
            last_round: None,
            cursor: 0,
            next_round: None,
        }
    }

    /// When the owner must call [`Sessions::deliver_due`], if ever.
    pub fn next_round(&self) -> Option<Instant> {
        self.next_round
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
    /// is now durable, then `batch` (ops just committed, ascending): into the
    /// join buffers at once, to live sessions with an ack in it at once, to
    /// the other live sessions in the next round.
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
            if !buffer(slot, batch, self.join_buffer_ops) {
                closed.push(id);
            }
        }
        for id in closed {
            self.remove(id);
        }
        if let Some(last) = batch.last() {
            self.held.extend(batch.iter().cloned());
            self.latest = last.seq;
            let mut acked: Vec<SessionId> = batch.iter().filter_map(|c| c.origin).collect();
            acked.dedup();
            for id in acked {
                self.catch_up(id);
            }
            self.deliver_due();
        }
        for id in went_live {
            self.send_presence_of_others(id);
        }
    }

    /// Sends every round that is due (within the timer's resolution) and
    /// notes when the next one is.
    pub fn deliver_due(&mut self) {
        let now = Instant::now();
        let hold = self.pacing.hold(self.slots.len());
        let spacing = hold / GROUPS as u32;
        self.next_round = None;
        while let Some((group, due)) = self.most_due(now, hold, spacing) {
            if due > now + TIMER_RESOLUTION {
                self.next_round = Some(due);
                break;
            }
            self.serve(group, now);
        }
        let lowest = self.served.iter().min().copied().unwrap_or(self.latest);
        while self.held.front().is_some_and(|c| c.seq <= lowest) {
            self.held.pop_front();
        }
    }

    /// The group lacking held ops whose round is due first, and when: a
    /// group waits `hold` after its last round, and any round `spacing`
    /// after the previous one; a group never served is due `now` (the
    /// caller's clock reading, so that it compares as due).
    fn most_due(
        &self,
        now: Instant,
        hold: Duration,
        spacing: Duration,
    ) -> Option<(usize, Instant)> {
        let after_any = self.last_round.map(|t| t + spacing);
        (0..GROUPS)
            .map(|i| (self.cursor + i) % GROUPS)
            .filter(|&g| self.served[g] < self.latest)
            .map(|g| {
                let due = self.last_served[g].map(|t| t + hold).max(after_any);
                (g, due)
            })
            .min_by_key(|&(_, due)| due)
            .map(|(g, due)| (g, due.unwrap_or(now)))
    }

    /// One round: every live session of `group` gets the held ops it lacks
    /// (sessions that lack the same ops share one slice).
    fn serve(&mut self, group: usize, now: Instant) {
        self.served[group] = self.latest;
        self.last_served[group] = Some(now);
        self.last_round = Some(now);
        self.cursor = (group + 1) % GROUPS;
        let mut shared: Option<(SeqId, Arc<[Arc<CommittedOp>]>)> = None;
        let mut closed = Vec::new();
        for (&id, slot) in self.slots.iter_mut() {
            let Phase::Live { after } = slot.phase else {
                continue;
            };
            if group_of(id) != group || after >= self.latest {
                continue;
            }
            let fresh = match &shared {
                Some((from, ops)) if *from == after => Arc::clone(ops),
                _ => {
                    let start = self.held.partition_point(|c| c.seq <= after);
                    let ops: Arc<[Arc<CommittedOp>]> = self.held.range(start..).cloned().collect();
                    shared = Some((after, Arc::clone(&ops)));
                    ops
                }
            };
            if !deliver_live(slot, &fresh) {
                closed.push(id);
            }
        }
        for id in closed {
            self.remove(id);
        }
    }

    /// Gives one live session every held op it lacks, ahead of its round.
    fn catch_up(&mut self, id: SessionId) {
        let Some(slot) = self.slots.get_mut(&id) else {
            return;
        };
        let Phase::Live { after } = slot.phase else {
            return;
        };
        if after >= self.latest {
            return;
        }
        let start = self.held.partition_point(|c| c.seq <= after);
        let fresh: Arc<[Arc<CommittedOp>]> = self.held.range(start..).cloned().collect();
        if !deliver_live(slot, &fresh) {
            self.remove(id);
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
        // Cursors are at the durable version: each recipient first gets the
        // held ops up to it.
        if !self.held.is_empty() {
            let live: Vec<SessionId> = self
                .slots
                .iter()
                .filter(|(id, s)| **id != from && matches!(s.phase, Phase::Live { .. }))
                .map(|(id, _)| *id)
                .collect();
            for id in live {
                self.catch_up(id);
            }
        }
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
        if !others.is_empty() {
            self.catch_up(to);
        }
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

/// Adds the just-committed `batch` to a buffering session's join buffer.
/// Returns false if the session must be dropped (its buffer overflowed).
fn buffer(slot: &mut Slot, batch: &Arc<[Arc<CommittedOp>]>, join_buffer_ops: usize) -> bool {
    let Phase::Buffering { at, buffer } = &mut slot.phase else {
        return true;
    };
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

/// Hands a live session `ops`: the held ops it lacks, ascending and
/// contiguous with what it has. Returns false if the session must be dropped.
fn deliver_live(slot: &mut Slot, ops: &Arc<[Arc<CommittedOp>]>) -> bool {
    let Some(last) = ops.last() else {
        return true;
    };
    slot.phase = Phase::Live { after: last.seq };
    deliver(
        slot,
        SessionEvent::Committed(Arc::clone(ops)),
        Importance::Essential,
    )
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

#[cfg(test)]
mod tests {
    //! Paced delivery on a virtual clock: `Sessions` alone, fed batches the
    //! way the owner feeds them.
    use super::*;
    use quire_engine::OperationId;
    use quire_engine::op::{Component, TextOp};

    const HOLD: Duration = Duration::from_millis(80);
    const SPACING: Duration = Duration::from_millis(10); // HOLD / GROUPS

    fn pacing() -> Pacing {
        Pacing {
            per_session: Duration::from_millis(40),
            max: HOLD,
        }
    }

    fn op(seq: u64, origin: Option<SessionId>) -> Arc<CommittedOp> {
        Arc::new(CommittedOp {
            seq: SeqId(seq),
            version: DocVersion(seq),
            user: UserId::new_random(),
            operation_id: OperationId::parse(format!("op-{seq}")).unwrap(),
            op: TextOp::from_components([Component::Insert("x".into())]).unwrap(),
            origin,
            entry_json: Arc::from("{}"),
        })
    }

    fn batch(ops: &[Arc<CommittedOp>]) -> Arc<[Arc<CommittedOp>]> {
        ops.iter().cloned().collect()
    }

    /// `n` live sessions with ids 0..n (session `i` is in group `i % GROUPS`).
    fn live_sessions(n: u64, pacing: Pacing) -> (Sessions, Vec<mpsc::Receiver<SessionEvent>>) {
        let mut sessions = Sessions::new(100, pacing);
        let mut receivers = Vec::new();
        for i in 0..n {
            let (tx, mut rx) = mpsc::channel(64);
            let greeting = Greeting::CatchUp {
                ops: Arc::from([]),
                version: DocVersion(0),
            };
            sessions.add(
                SessionId(i),
                UserId::new_random(),
                "u".into(),
                tx,
                SeqId(0),
                greeting,
            );
            sessions.on_durable(SeqId(0), &Arc::from([]));
            assert!(matches!(rx.try_recv(), Ok(SessionEvent::CatchUp { .. })));
            assert!(matches!(rx.try_recv(), Ok(SessionEvent::Live { .. })));
            receivers.push(rx);
        }
        (sessions, receivers)
    }

    fn committed(rx: &mut mpsc::Receiver<SessionEvent>) -> Option<Arc<[Arc<CommittedOp>]>> {
        match rx.try_recv() {
            Ok(SessionEvent::Committed(ops)) => Some(ops),
            Ok(other) => panic!("expected committed ops, got {other:?}"),
            Err(_) => None,
        }
    }

    fn seqs(ops: &[Arc<CommittedOp>]) -> Vec<u64> {
        ops.iter().map(|c| c.seq.0).collect()
    }

    /// Runs the rounds due by now, as the owner does when `next_round` fires.
    fn fire(sessions: &mut Sessions) {
        if sessions.next_round().is_some_and(|t| t <= Instant::now()) {
            sessions.deliver_due();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn rounds_serve_one_group_at_a_time_and_everyone_within_the_hold() {
        // 16 sessions: two per group, hold 80 ms (capped), rounds 10 ms apart.
        let (mut sessions, mut rx) = live_sessions(16, pacing());
        let start = Instant::now();
        sessions.on_durable(SeqId(1), &batch(&[op(1, None)]));
        // A quiet document: the first group gets it at once, as one shared slice.
        let a = committed(&mut rx[0]).expect("group 0 served at once");
        let b = committed(&mut rx[8]).expect("group 0 served at once");
        assert_eq!(seqs(&a), [1]);
        assert!(Arc::ptr_eq(&a, &b), "one slice per round");
        assert!(rx[1..8].iter_mut().all(|r| committed(r).is_none()));
        // Then one group per spacing, in order.
        for group in 1..GROUPS {
            assert_eq!(sessions.next_round(), Some(start + SPACING * group as u32));
            tokio::time::advance(SPACING).await;
            fire(&mut sessions);
            assert_eq!(seqs(&committed(&mut rx[group]).unwrap()), [1]);
            assert_eq!(seqs(&committed(&mut rx[group + 8]).unwrap()), [1]);
        }
        assert!(Instant::now() - start < HOLD);
        assert_eq!(sessions.next_round(), None, "nothing left to deliver");
        assert!(sessions.held.is_empty(), "served ops are released");
    }

    #[tokio::test(start_paused = true)]
    async fn commits_within_the_hold_reach_a_group_as_one_event() {
        let (mut sessions, mut rx) = live_sessions(16, pacing());
        let start = Instant::now();
        sessions.on_durable(SeqId(1), &batch(&[op(1, None)]));
        assert_eq!(seqs(&committed(&mut rx[0]).unwrap()), [1]);
        for seq in 2..=4 {
            tokio::time::advance(Duration::from_millis(3)).await;
            sessions.on_durable(SeqId(seq), &batch(&[op(seq, None)]));
            fire(&mut sessions);
        }
        // Group 0 was served at `start`: nothing more for it before start + HOLD.
        while Instant::now() < start + HOLD - Duration::from_millis(1) {
            tokio::time::advance(Duration::from_millis(1)).await;
            fire(&mut sessions);
            assert!(committed(&mut rx[0]).is_none());
        }
        tokio::time::advance(Duration::from_millis(1)).await;
        fire(&mut sessions);
        assert_eq!(seqs(&committed(&mut rx[0]).unwrap()), [2, 3, 4]);
        // Every other group got all four, in at most two events (contiguous).
        for r in &mut rx[1..] {
            let mut got = Vec::new();
            while let Some(ops) = committed(r) {
                got.extend(seqs(&ops));
            }
            assert_eq!(got, [1, 2, 3, 4]);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_ack_is_sent_at_once_with_every_op_before_it() {
        let (mut sessions, mut rx) = live_sessions(16, pacing());
        sessions.on_durable(SeqId(1), &batch(&[op(1, None)]));
        assert!(committed(&mut rx[0]).is_some());
        tokio::time::advance(Duration::from_millis(1)).await;
        // Session 3 (group 3, not due for 29 ms) has op 3 acknowledged: it
        // gets 1..=3 now, as one event.
        sessions.on_durable(SeqId(2), &batch(&[op(2, None)]));
        sessions.on_durable(SeqId(3), &batch(&[op(3, Some(SessionId(3)))]));
        assert_eq!(seqs(&committed(&mut rx[3]).unwrap()), [1, 2, 3]);
        assert!(committed(&mut rx[3]).is_none());
        assert!(committed(&mut rx[11]).is_none(), "its group is still held");
        // Its group's round later gives it nothing twice.
        for _ in 0..HOLD.as_millis() {
            tokio::time::advance(Duration::from_millis(1)).await;
            fire(&mut sessions);
        }
        assert!(committed(&mut rx[3]).is_none());
        assert_eq!(seqs(&committed(&mut rx[11]).unwrap()), [1, 2, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_small_document_delivers_every_commit_at_once() {
        // 4 sessions × 40 µs: a hold far below the timer's resolution.
        let pacing = Pacing {
            per_session: Duration::from_micros(40),
            max: Duration::from_millis(40),
        };
        let (mut sessions, mut rx) = live_sessions(4, pacing);
        for seq in 1..=3 {
            sessions.on_durable(SeqId(seq), &batch(&[op(seq, None)]));
            for r in &mut rx {
                assert_eq!(seqs(&committed(r).unwrap()), [seq]);
            }
            assert_eq!(sessions.next_round(), None);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_cursor_never_overtakes_the_ops_it_refers_to() {
        let (mut sessions, mut rx) = live_sessions(16, pacing());
        sessions.on_durable(SeqId(1), &batch(&[op(1, None)]));
        sessions.on_durable(SeqId(2), &batch(&[op(2, None)]));
        // Session 5 has neither op yet; session 0's cursor is at version 2.
        sessions.set_presence(SessionId(0), 0, 0, DocVersion(2));
        assert_eq!(seqs(&committed(&mut rx[5]).unwrap()), [1, 2]);
        match rx[5].try_recv() {
            Ok(SessionEvent::Presence(PresenceEvent::Users(users))) => {
                assert_eq!(users[0].version, DocVersion(2))
            }
            other => panic!("expected the cursor after the ops, got {other:?}"),
        }
    }
}
