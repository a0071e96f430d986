/**
 * An in-memory server speaking docs/protocol.md, for unit tests of the client algorithm. It
 * follows the server's rules (transform a stale op over the log with side left, dedup by
 * (user, operationId), buffer between snapshot and snapshotAck, ops/acks in seq order) and can
 * inject faults: dropped connections, lost acks, a pruned log, revoked access.
 */
import { fromClientOp, transform, applyToString } from '../src/index.js';
import { insertedChars } from '../src/ot.js';
import type { ClientMessage, ClientOp, OpEntry, Role, ServerMessage } from '../src/protocol.js';
import type { SocketFactory, SocketLike } from '../src/socket.js';

export class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  open = true;
  live = false;
  userId: string | null = null;
  snapshotSeq = -1;

  constructor(private readonly server: FakeServer) {
    server.later(() => this.onopen?.({}));
  }

  send(data: string): void {
    if (!this.open) return;
    this.server.later(() => this.open && this.server.receive(this, JSON.parse(data) as ClientMessage));
  }

  /** Closed by the client. */
  close(): void {
    this.serverClose();
  }

  deliver(msg: ServerMessage): void {
    if (!this.open) return;
    const data = JSON.stringify(msg);
    // Frames sent before a close still arrive, as on a real socket.
    this.server.later(() => this.onmessage?.({ data }));
  }

  /** Closed by the server (or the network). */
  serverClose(): void {
    if (!this.open) return;
    this.open = false;
    this.server.conns.delete(this);
    this.server.later(() => this.onclose?.({ code: 1006, reason: '' }));
  }
}

export class FakeServer {
  text = '';
  log: OpEntry[] = [];
  /** Entries with seq <= horizon are pruned: a `since` older than that gets a snapshot. */
  horizon = 0;
  /** Operation ids of entries with seq <= registryHorizon are forgotten (never above `horizon`). */
  registryHorizon = 0;
  conns = new Set<FakeSocket>();
  roles = new Map<string, Role>();
  registry = new Map<string, { version: number; seq: number }>();
  joins: { userId: string; since?: { version: number; seq: number } }[] = [];
  submits: ClientOp[] = [];
  duplicates = 0;
  /** Apply the next N submits, then drop the connection instead of acknowledging. */
  loseAcks = 0;
  /** Announced in `joined`, and enforced on submits. */
  maxOpChars = 1 << 20;
  /** Answer the next submits with these errors, one each (e.g. resync_required, bad_op). */
  refuse: ('resync_required' | 'bad_op')[] = [];
  private pendingTasks = 0;

  get version(): number {
    return this.log.length;
  }

  /** The URL of every socket opened. */
  urls: string[] = [];

  factory(): SocketFactory {
    return (url) => {
      this.urls.push(url);
      const s = new FakeSocket(this);
      this.conns.add(s);
      return s;
    };
  }

  later(fn: () => void): void {
    this.pendingTasks++;
    setTimeout(() => {
      this.pendingTasks--;
      fn();
    }, 0);
  }

  get idle(): boolean {
    return this.pendingTasks === 0;
  }

  dropAll(): void {
    for (const c of [...this.conns]) c.serverClose();
  }

  revoke(userId: string): void {
    this.roles.delete(userId);
    for (const c of [...this.conns]) {
      if (c.userId === userId) {
        c.deliver({ type: 'error', code: 'forbidden', message: 'access revoked', retryable: false, fatal: true });
        c.serverClose();
      }
    }
  }

  /** Applies `op` as submitted by its user on a connection that died before the ack went out. */
  submitUnacked(op: ClientOp): void {
    const conn = new FakeSocket(this);
    conn.userId = op.userId;
    conn.open = false;
    this.submit(conn, op);
  }

  receive(conn: FakeSocket, msg: ClientMessage): void {
    switch (msg.type) {
      case 'join': {
        const userId = msg.token.replace(/^token-/, '');
        const role = this.roles.get(userId);
        this.joins.push({ userId, since: msg.since });
        if (!role) {
          conn.deliver({ type: 'error', code: 'forbidden', message: 'no access', retryable: false, fatal: true });
          conn.serverClose();
          return;
        }
        conn.userId = userId;
        conn.deliver({
          type: 'joined',
          documentId: msg.documentId,
          userId,
          username: userId,
          role,
          limits: { maxFrameBytes: 1 << 22, maxOpChars: this.maxOpChars, maxDocumentChars: 1 << 24 },
        });
        const since = msg.since;
        if (since && since.seq >= this.horizon && since.seq <= this.log.length) {
          conn.deliver({ type: 'catchUp', ops: this.log.slice(since.seq), version: this.version, seq: this.log.length });
          this.goLive(conn);
        } else {
          conn.snapshotSeq = this.log.length;
          conn.deliver({ type: 'snapshot', content: this.text, version: this.version, seq: this.log.length });
        }
        return;
      }
      case 'snapshotAck': {
        const buffered = this.log.slice(conn.snapshotSeq);
        if (buffered.length > 0) conn.deliver({ type: 'ops', ops: buffered });
        this.goLive(conn);
        return;
      }
      case 'submit':
        this.submit(conn, msg.op);
        return;
      case 'presence':
        for (const c of this.conns) {
          if (c !== conn && c.live) {
            c.deliver({
              type: 'presence',
              users: [{ userId: conn.userId!, username: conn.userId!, color: '#e91e63', anchor: msg.anchor, head: msg.head, version: msg.version }],
            });
          }
        }
        return;
      case 'ping':
        conn.deliver({ type: 'pong', nonce: msg.nonce });
    }
  }

  private goLive(conn: FakeSocket): void {
    conn.live = true;
    conn.deliver({ type: 'live', seq: this.log.length });
  }

  private submit(conn: FakeSocket, cop: ClientOp): void {
    this.submits.push(cop);
    const err = (code: 'bad_op' | 'forbidden' | 'resync_required' | 'outcome_unknown', message: string) =>
      conn.deliver({ type: 'error', code, message, operationId: cop.operationId, retryable: false });
    const role = this.roles.get(conn.userId!);
    if (role !== 'write' && role !== 'owner') return err('forbidden', 'no write access');
    if (cop.userId !== conn.userId) return err('bad_op', 'wrong userId');
    const key = `${cop.userId}/${cop.operationId}`;
    const seen = cop.baseVersion >= this.registryHorizon ? this.registry.get(key) : undefined;
    if (seen) {
      this.duplicates++;
      conn.deliver({ type: 'ack', operationId: cop.operationId, version: seen.version, seq: seen.seq, duplicate: true });
      return;
    }
    const refusal = this.refuse.shift();
    if (refusal) return err(refusal, `refused: ${refusal}`);
    if (cop.baseVersion < this.registryHorizon) return err('outcome_unknown', 'base below the operation-id horizon');
    if (cop.baseVersion < this.horizon) return err('resync_required', 'base below horizon');
    if (cop.baseVersion > this.version) return err('bad_op', 'base in the future');
    let op = fromClientOp(cop);
    if (insertedChars(op) > this.maxOpChars) return err('bad_op', 'too many inserted characters');
    for (const e of this.log.slice(cop.baseVersion)) op = transform(op, e.op, 'left');
    try {
      this.text = applyToString(this.text, op);
    } catch (e) {
      return err('bad_op', String(e));
    }
    const entry: OpEntry = { seq: this.log.length + 1, version: this.log.length + 1, userId: conn.userId!, operationId: cop.operationId, op };
    this.log.push(entry);
    this.registry.set(key, { version: entry.version, seq: entry.seq });
    for (const c of this.conns) if (c !== conn && c.live) c.deliver({ type: 'ops', ops: [entry] });
    if (this.loseAcks > 0) {
      this.loseAcks--;
      conn.serverClose();
      return;
    }
    conn.deliver({ type: 'ack', operationId: cop.operationId, version: entry.version, seq: entry.seq, duplicate: false });
  }
}
