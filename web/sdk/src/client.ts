/**
 * One realtime connection to one document: the client algorithm of docs/protocol.md §5.
 *
 * State, in the protocol's terms:
 * - `server`: the text at the last server state applied (`version`, `seq`); only ops and acks
 *   from the server change it. It is what `since` names on reconnect, and the base of a resync.
 * - `inflight`: at most one submitted, unacknowledged op. `sent` is the exact frame that went
 *   out (resent unchanged, same operationId and baseVersion, after a reconnect); `current` is
 *   the same op transformed over every remote op applied since, so it applies to `server`.
 * - `pending`: local edits not yet sent, in order. New edits compose into the last pending
 *   entry (never into the in-flight op, which the server already has: ShareDB #327).
 * - `text`: what the user sees = server ∘ inflight ∘ pending.
 *
 * A remote op R is transformed over the local ops with the local side left (R side right),
 * and the local ops over R with side left, exactly as the server orders a stale incoming op.
 *
 * Resync (a `snapshot` where we already hold a state, e.g. after a long disconnection or a fatal
 * `resync_required` for a connection that fell behind): the server's unseen
 * changes are taken as one remote op, diff(server, snapshot), and the local edits are rebased
 * over it like over any remote op, so nothing typed is thrown away (ShareDB #355/#470). If an op
 * was in flight at that moment its fate is unknown, so it is first resent as is: an ack means it
 * is applied (it becomes part of `server`), an error means it never was (it goes back to the
 * front of `pending`); then a fresh snapshot is requested and the rebase runs. (This takes one
 * extra rejoin where the protocol's rule 5 holds the snapshot instead; the outcome is the same.)
 *
 * Draft: `draft()` is that state as plain data (for localStorage), and a client started with
 * it resumes exactly as after a reconnect: it joins with `since`, resends the in-flight op with
 * its original id and base (so an op the server applied before a reload is recognised, never
 * applied twice) and then the pending edits.
 */
import { ChunkedText } from './text.js';
import { compose, diffOp, insertedChars, invert, isNoop, normalize, splitByInsertSize, toClientOp, transform, transformPosition, type Op } from './ot.js';
import {
  PROTOCOL_VERSION,
  type ClientMessage,
  type ClientOp,
  type ErrorCode,
  type Limits,
  type OpEntry,
  type PresenceUser,
  type Role,
  type ServerMessage,
} from './protocol.js';
import { backoffDelay, browserSocketFactory, type SocketFactory, type SocketLike } from './socket.js';
import { Emitter } from './emitter.js';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'closed';

/** A change in UTF-16 offsets of the text before the op (CodeMirror's ChangeSpec shape). */
export interface Utf16Change {
  from: number;
  to: number;
  insert: string;
}

export interface RemotePeer {
  /** Identifies the session: a user may be present in several tabs. */
  key: string;
  userId: string;
  username: string;
  color: string;
  anchor: number;
  head: number;
}

export interface ClientError {
  code: ErrorCode | 'protocol';
  message: string;
  fatal: boolean;
}

export interface JoinInfo {
  userId: string;
  username: string;
  role: Role;
  limits: Limits;
}

export interface DocClientEvents {
  status: ConnectionStatus;
  /** The whole text was replaced: the first snapshot, or at start() the text restored from a draft. */
  reset: string;
  /** A remote op was applied to `text`; `changes` are against the text before it. */
  remote: { op: Op; changes: Utf16Change[] };
  presence: RemotePeer[];
  joined: JoinInfo;
  error: ClientError;
  /** Number of local edits not yet acknowledged by the server. */
  unconfirmed: number;
  /**
   * What draft() returns may have changed: a local edit, an op sent or confirmed, a remote op
   * rebasing unconfirmed edits. Cheap to emit; read draft() (which copies the text) lazily.
   */
  draft: void;
  /**
   * An op went out under a new operation id (not a resend): a draft stored before this does not
   * know the id, and restoring it would send the same edit again as a new op.
   */
  sent: string;
}

/** Local edits as one op: `edits` edits composed together. */
export interface DraftEdit {
  op: Op;
  edits: number;
}

/** The submitted, unacknowledged op. */
export interface DraftInFlight extends DraftEdit {
  /** The frame exactly as it went out; resent unchanged (same operationId and baseVersion). */
  sent: ClientOp;
}

/**
 * A client's unconfirmed state as plain JSON-safe data: the confirmed text and the local edits
 * on top of it. Start a DocClient with it (option `draft`) to resume after a reload.
 */
export interface Draft {
  documentId: string;
  userId: string;
  /** The confirmed text: the server's state at `version` / `seq`, unless `fresh`. */
  server: string;
  version: number;
  seq: number;
  /** `server` already holds an op confirmed outside the log (a resync): rejoin without `since`. */
  fresh: boolean;
  /** `op` is the sent op transformed over the remote ops applied since: it applies to `server`. */
  inflight: DraftInFlight | null;
  /** In order, the first applying after `inflight`. They have no operation id yet: never sent. */
  pending: DraftEdit[];
}

export interface DocClientOptions {
  /** WebSocket URL of the gateway, e.g. ws://host/api/ws. The client adds `?document=<documentId>` (protocol §2). */
  url: string;
  documentId: string;
  userId: string;
  /** Called at every join, so a refreshed token is picked up. */
  token: () => string;
  clientName?: string;
  socketFactory?: SocketFactory;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  heartbeatMs?: number;
  /** Silence after which the connection is considered dead (protocol §7: 30 s). */
  deadAfterMs?: number;
  presenceThrottleMs?: number;
  random?: () => number;
  newOperationId?: () => string;
  /** Start from this draft (of an earlier page) instead of empty; throws if it is another document's or user's. */
  draft?: Draft;
}

interface InFlight {
  sent: ClientOp;
  current: Op;
  edits: number;
}

interface Pending extends DraftEdit {
  /** Code points inserted by `op`, kept so the maxOpChars check does not recount per keystroke. */
  chars: number;
}

const DEFAULT_LIMITS: Limits = { maxFrameBytes: 4 * 1024 * 1024, maxOpChars: 1_048_576, maxDocumentChars: 16_777_216 };
/** Fatal errors after which reconnecting cannot help (protocol §5 rule 7); other fatal errors reconnect. */
const STOP: ReadonlySet<string> = new Set(['unauthorized', 'forbidden', 'not_found']);

function peerKey(userId: string, sessionId: number | undefined): string {
  return sessionId === undefined ? userId : `${userId}#${sessionId}`;
}

export class DocClient extends Emitter<DocClientEvents> {
  readonly documentId: string;
  readonly userId: string;
  /** The text the user sees. Read it; change it only through applyLocal. */
  text = new ChunkedText();
  version = 0;
  seq = 0;
  role: Role | null = null;
  limits: Limits = DEFAULT_LIMITS;
  status: ConnectionStatus = 'connecting';
  /** True once a first snapshot has been applied. */
  hasState = false;

  private server = new ChunkedText();
  private inflight: InFlight | null = null;
  private pending: Pending[] = [];
  private peers = new Map<string, RemotePeer>();
  private socket: SocketLike | null = null;
  private live = false;
  private closed = false;
  private offline = false;
  /** Rejoin without `since` next time. */
  private fresh = false;
  /** A snapshot arrived while an op was in flight: resolving that op's fate first. */
  private limbo = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private resendTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private presenceTimer: ReturnType<typeof setTimeout> | null = null;
  private openTimer: ReturnType<typeof setTimeout> | null = null;
  private lastHeard = 0;
  private selection: { anchor: number; head: number } | null = null;
  private readonly opt: Required<Omit<DocClientOptions, 'clientName' | 'draft'>> & { clientName?: string };

  constructor(options: DocClientOptions) {
    super();
    this.documentId = options.documentId;
    this.userId = options.userId;
    this.opt = {
      socketFactory: browserSocketFactory,
      backoffInitialMs: 100,
      backoffMaxMs: 10_000,
      heartbeatMs: 15_000,
      deadAfterMs: 30_000,
      presenceThrottleMs: 40,
      random: Math.random,
      newOperationId: () => crypto.randomUUID(),
      ...options,
    };
    if (options.draft) this.restore(options.draft);
  }

  /** Opens the connection. */
  start(): void {
    if (this.hasState) this.emit('reset', this.text.toString()); // restored from a draft
    this.connect();
  }

  /** Everything the server has not confirmed, or null when there is nothing (copies the text: do not call per keystroke). */
  draft(): Draft | null {
    if (!this.hasState || this.unconfirmed === 0) return null;
    const f = this.inflight;
    return {
      documentId: this.documentId,
      userId: this.userId,
      server: this.server.toString(),
      version: this.version,
      seq: this.seq,
      fresh: this.fresh,
      inflight: f && { sent: f.sent, op: f.current, edits: f.edits },
      pending: this.pending.map((p) => ({ op: p.op, edits: p.edits })),
    };
  }

  /** Closes for good (leaving the editor). */
  close(): void {
    this.closed = true;
    this.clearTimers();
    this.socket?.close(1000, 'closed');
    this.socket = null;
    this.live = false;
    this.clearPeers();
    this.setStatus('closed');
  }

  /** The browser went offline / online: stop trying, or reconnect at once. */
  setOffline(offline: boolean): void {
    if (this.closed || offline === this.offline) return;
    this.offline = offline;
    if (offline) {
      this.clearTimers();
      const s = this.socket;
      this.socket = null;
      s?.close(1000, 'offline');
      this.live = false;
      this.limbo = false;
      this.clearPeers();
      this.setStatus('offline');
    } else {
      this.attempt = 0;
      this.connect();
    }
  }

  /**
   * Takes the state of a draft as if this client had held it and lost its connection: the next
   * join is a reconnect (`since`, or fresh), and the reconnect path resends the edits.
   */
  private restore(d: Draft): void {
    if (d.documentId !== this.documentId || d.userId !== this.userId) {
      throw new Error(`draft of ${d.userId} for document ${d.documentId} does not belong to ${this.userId} on ${this.documentId}`);
    }
    const text = new ChunkedText(d.server);
    const inflight = d.inflight && { sent: d.inflight.sent, current: normalize(d.inflight.op), edits: d.inflight.edits };
    const pending = d.pending.map((p) => {
      const op = normalize(p.op);
      return { op, edits: p.edits, chars: insertedChars(op) };
    });
    // Applied before anything is taken, so a draft that does not fit its text throws, changing nothing.
    if (inflight) text.apply(inflight.current);
    for (const p of pending) text.apply(p.op);
    this.server = new ChunkedText(d.server);
    this.text = text;
    this.version = d.version;
    this.seq = d.seq;
    this.fresh = d.fresh;
    this.inflight = inflight;
    this.pending = pending;
    this.hasState = true;
  }

  /** Local edits made but not yet acknowledged. */
  get unconfirmed(): number {
    return (this.inflight?.edits ?? 0) + this.pending.reduce((n, p) => n + p.edits, 0);
  }

  get remotePeers(): RemotePeer[] {
    return [...this.peers.values()];
  }

  /** A local edit (code points, against `text`). Throws OpRangeError, changing nothing, if it does not fit. */
  applyLocal(raw: Op): void {
    const op = normalize(raw);
    if (isNoop(op)) return;
    this.text.apply(op);
    for (const p of this.peers.values()) this.movePeer(p, op);
    for (const piece of splitByInsertSize(op, this.limits.maxOpChars)) {
      const last = this.pending[this.pending.length - 1];
      const chars = insertedChars(piece);
      if (last && last.chars + chars <= this.limits.maxOpChars) {
        last.op = compose(last.op, piece);
        last.edits++;
        last.chars += chars;
      } else {
        this.pending.push({ op: piece, edits: 1, chars });
      }
    }
    this.emit('unconfirmed', this.unconfirmed);
    this.emit('draft', undefined);
    this.sendNext();
  }

  /** My selection in code points against `text`; sent to others, throttled. */
  setSelection(anchor: number, head: number): void {
    this.selection = { anchor, head };
    if (this.presenceTimer === null && this.live) {
      this.presenceTimer = setTimeout(() => {
        this.presenceTimer = null;
        this.sendPresence();
      }, this.opt.presenceThrottleMs);
    }
  }

  // ---- connection ----

  private connect(): void {
    if (this.closed || this.offline) return;
    this.clearTimers();
    this.setStatus(this.hasState || this.attempt > 0 ? 'reconnecting' : 'connecting');
    const socket = this.opt.socketFactory(routedUrl(this.opt.url, this.opt.documentId));
    this.socket = socket;
    // A connection attempt that neither opens nor fails (a black-holed network) is abandoned.
    this.openTimer = setTimeout(() => this.socket === socket && this.dropConnection(), this.opt.deadAfterMs);
    socket.onopen = () => {
      if (this.socket !== socket) return;
      if (this.openTimer !== null) clearTimeout(this.openTimer);
      this.openTimer = null;
      this.lastHeard = Date.now();
      const since = this.hasState && !this.fresh ? { version: this.version, seq: this.seq } : undefined;
      this.send({
        type: 'join',
        protocol: PROTOCOL_VERSION,
        token: this.opt.token(),
        documentId: this.documentId,
        ...(since ? { since } : {}),
        ...(this.opt.clientName ? { clientName: this.opt.clientName } : {}),
      });
      this.heartbeat = setInterval(() => this.beat(), this.opt.heartbeatMs);
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.lastHeard = Date.now();
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(ev.data)) as ServerMessage;
      } catch {
        this.fail('protocol', 'server sent invalid JSON');
        return;
      }
      this.handle(msg);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.disconnected();
    };
    socket.onerror = () => {
      /* onclose follows */
    };
  }

  private beat(): void {
    if (Date.now() - this.lastHeard > this.opt.deadAfterMs) {
      this.dropConnection();
      return;
    }
    this.send({ type: 'ping' });
  }

  /** Abandons the current socket and reconnects (with `since` unless `fresh`). */
  private dropConnection(): void {
    const s = this.socket;
    this.socket = null;
    s?.close(4000, 'reconnect');
    this.disconnected();
  }

  private disconnected(): void {
    this.live = false;
    this.limbo = false;
    this.clearPeers();
    this.clearTimers();
    if (this.closed || this.offline) return;
    const delay = this.fresh ? 0 : backoffDelay(this.attempt, this.opt.backoffInitialMs, this.opt.backoffMaxMs, this.opt.random);
    this.attempt++;
    this.setStatus('reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Other users' cursors are stale while we are not connected; the next join brings them back. */
  private clearPeers(): void {
    if (this.peers.size === 0) return;
    this.peers.clear();
    this.emit('presence', []);
  }

  private clearTimers(): void {
    for (const t of [this.reconnectTimer, this.resendTimer, this.presenceTimer, this.openTimer]) if (t !== null) clearTimeout(t);
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.reconnectTimer = this.resendTimer = this.presenceTimer = this.openTimer = this.heartbeat = null;
  }

  private send(msg: ClientMessage): void {
    this.socket?.send(JSON.stringify(msg));
  }

  private setStatus(s: ConnectionStatus): void {
    if (this.status === s) return;
    this.status = s;
    this.emit('status', s);
  }

  // ---- incoming ----

  private handle(msg: ServerMessage): void {
    switch (msg.type) {
      case 'joined':
        this.role = msg.role;
        this.limits = msg.limits ?? DEFAULT_LIMITS;
        this.emit('joined', { userId: msg.userId, username: msg.username, role: msg.role, limits: this.limits });
        return;
      case 'snapshot':
        this.onSnapshot(msg.content, msg.version, msg.seq);
        return;
      case 'catchUp':
        for (const e of msg.ops) if (!this.onEntry(e)) return;
        return;
      case 'live':
        this.onLive();
        return;
      case 'ops':
        if (this.limbo) return;
        for (const e of msg.ops) if (!this.onEntry(e)) return;
        return;
      case 'ack':
        this.onAck(msg.operationId, msg.version, msg.seq);
        return;
      case 'presence':
        this.onPresence(msg.users, msg.left, msg.sessionId);
        return;
      case 'error':
        this.onError(msg.code, msg.message, msg.operationId, msg.retryable, msg.fatal === true);
        return;
      case 'pong':
        return;
      default:
        this.fail('protocol', `unknown message type ${(msg as { type: string }).type}`);
    }
  }

  private onSnapshot(content: string, version: number, seq: number): void {
    if (!this.hasState) {
      this.text = new ChunkedText(content);
      this.server = new ChunkedText(content);
      this.hasState = true;
      this.emit('reset', content);
    } else if (this.inflight) {
      this.limbo = true;
      this.send({ type: 'snapshotAck', seq });
      return;
    } else {
      this.applyRemote(diffOp(this.server.toString(), content));
      this.server = new ChunkedText(content);
    }
    this.fresh = false;
    this.version = version;
    this.seq = seq;
    this.send({ type: 'snapshotAck', seq });
  }

  private onLive(): void {
    if (this.live) return; // a repeated `live` changes nothing (rule 1)
    this.live = true;
    this.attempt = 0;
    this.setStatus('connected');
    if (this.inflight) this.send({ type: 'submit', op: this.inflight.sent });
    else this.sendNext();
    if (this.selection) this.sendPresence();
  }

  /** Applies one log entry; false if the stream is broken and we are reconnecting. */
  private onEntry(e: OpEntry): boolean {
    if (e.seq <= this.seq) return true;
    if (e.seq !== this.seq + 1) {
      this.dropConnection();
      return false;
    }
    if (this.inflight && e.userId === this.userId && e.operationId === this.inflight.sent.operationId) {
      this.confirmInflight(e.version, e.seq);
      return true;
    }
    const op = normalize(e.op);
    this.server.apply(op);
    this.version = e.version;
    this.seq = e.seq;
    this.applyRemote(op);
    return true;
  }

  private onAck(operationId: string, version: number, seq: number): void {
    const inflight = this.inflight;
    if (!inflight || operationId !== inflight.sent.operationId) return;
    if (this.limbo) {
      // Applied at some point: it is part of the server's text; fetch a fresh snapshot to rebase on.
      // (An `outcome_unknown` answer takes the same path, see onError.)
      this.server.apply(inflight.current);
      this.inflight = null;
      this.rejoinFresh();
    } else if (seq === this.seq + 1) {
      this.confirmInflight(version, seq);
    } else if (seq <= this.seq) {
      return; // a duplicate answer for something our state already holds (rule 1)
    } else {
      this.dropConnection();
    }
  }

  private confirmInflight(version: number, seq: number): void {
    this.server.apply(this.inflight!.current);
    this.inflight = null;
    this.version = version;
    this.seq = seq;
    this.emit('unconfirmed', this.unconfirmed);
    this.emit('draft', undefined);
    this.sendNext();
  }

  private onError(code: ErrorCode, message: string, operationId: string | undefined, retryable: boolean, fatal: boolean): void {
    const mine = this.inflight && operationId === this.inflight.sent.operationId ? this.inflight : null;
    if (mine && retryable) {
      // Not applied, try again later with the same id and base (rule 6).
      const sent = mine.sent;
      this.resendTimer = setTimeout(() => {
        this.resendTimer = null;
        if (this.live && this.inflight?.sent === sent) this.send({ type: 'submit', op: sent });
      }, backoffDelay(this.attempt++, this.opt.backoffInitialMs, this.opt.backoffMaxMs, this.opt.random));
      return;
    }
    if (mine && this.limbo && code === 'outcome_unknown') {
      // Its base is older than the ids the server remembers: applied long ago or never, nobody
      // can tell. Never re-create it (it could be applied twice): rebase as if it were applied,
      // and the fresh snapshot's difference removes it again if it was not (protocol rule 6).
      this.server.apply(mine.current);
      this.inflight = null;
      this.rejoinFresh();
    } else if (mine && this.limbo) {
      // The resend after a snapshot was refused: it was never applied; rebase it with the rest.
      this.requeue(mine);
      this.rejoinFresh();
    } else if (mine && code === 'resync_required') {
      // Its base is older than the server's history: it goes out again as a new op on the
      // current version, which `current` is already transformed to (rule 6, no rejoin).
      this.requeue(mine);
      this.sendNext();
      return;
    } else if (mine) {
      this.undoInflight(mine);
      if (code === 'forbidden') this.role = 'read';
    }
    if (fatal && STOP.has(code)) {
      this.emit('error', { code, message, fatal: true });
      this.close();
      return;
    }
    // Any other fatal error: the server closes the socket and we reconnect with backoff
    // (rule 7); a connection that fell behind rejoins for a snapshot.
    if (fatal && code === 'resync_required') this.rejoinFresh();
    this.emit('error', { code, message, fatal: false });
  }

  /** The in-flight op was not applied: it becomes the first pending edit again. */
  private requeue(f: InFlight): void {
    this.pending.unshift({ op: f.current, edits: f.edits, chars: insertedChars(f.current) });
    this.inflight = null;
    this.emit('draft', undefined);
  }

  /**
   * The server refused our op for good (it changed nothing there): take that one edit back
   * locally. The undo is built against `server` (which the in-flight op applies to), then moved
   * over the queued edits like a remote op, so later local edits survive.
   */
  private undoInflight(f: InFlight): void {
    this.inflight = null;
    const undo = invert(f.current, (from, to) => this.server.slice(from, to));
    this.server.apply(f.current); // momentarily: the state `undo` and the pending ops start from
    try {
      this.applyRemote(undo);
    } finally {
      this.server.apply(undo);
    }
    this.emit('unconfirmed', this.unconfirmed);
    this.emit('draft', undefined);
    this.sendNext();
  }

  private onPresence(users: PresenceUser[] | undefined, left: string | undefined, leftSession: number | undefined): void {
    if (left !== undefined) this.peers.delete(peerKey(left, leftSession));
    for (const u of users ?? []) {
      // Our own sessions are not drawn (the server does not echo this one; other tabs of the
      // same user would only show as a second copy of "me").
      if (u.userId === this.userId) continue;
      const max = this.text.length;
      const key = peerKey(u.userId, u.sessionId);
      this.peers.set(key, {
        key,
        userId: u.userId,
        username: u.username,
        color: u.color,
        anchor: Math.min(Math.max(0, u.anchor), max),
        head: Math.min(Math.max(0, u.head), max),
      });
    }
    this.emit('presence', this.remotePeers);
  }

  private fail(code: 'protocol', message: string): void {
    this.emit('error', { code, message, fatal: false });
  }

  private rejoinFresh(): void {
    this.fresh = true;
    this.emit('draft', undefined);
    this.dropConnection();
  }

  // ---- ops ----

  /** Transforms a remote op over the local ops (local side left) and applies it to `text`. */
  private applyRemote(remote: Op): void {
    let r = remote;
    if (this.inflight) {
      const r2 = transform(r, this.inflight.current, 'right');
      this.inflight.current = transform(this.inflight.current, r, 'left');
      r = r2;
    }
    for (const p of this.pending) {
      const r2 = transform(r, p.op, 'right');
      p.op = transform(p.op, r, 'left');
      p.chars = insertedChars(p.op);
      r = r2;
    }
    if (this.inflight || this.pending.length > 0) this.emit('draft', undefined); // the unconfirmed edits have a new base
    if (isNoop(r)) return;
    const changes = this.utf16Changes(r);
    this.text.apply(r);
    for (const p of this.peers.values()) this.movePeer(p, r);
    this.emit('remote', { op: r, changes });
    if (this.peers.size > 0) this.emit('presence', this.remotePeers);
  }

  /** The op as UTF-16 changes against the current `text` (O(components · log chunks)). */
  private utf16Changes(op: Op): Utf16Change[] {
    const out: Utf16Change[] = [];
    let pos = 0;
    const push = (from: number, to: number, insert: string) => {
      const last = out[out.length - 1];
      if (last && last.to === from) {
        last.to = to;
        last.insert += insert;
      } else out.push({ from, to, insert });
    };
    for (const c of op) {
      if (typeof c === 'number') pos += c;
      else if (typeof c === 'string') {
        const at = this.text.cpToUtf16(pos);
        push(at, at, c);
      } else {
        push(this.text.cpToUtf16(pos), this.text.cpToUtf16(pos + c.d), '');
        pos += c.d;
      }
    }
    return out;
  }

  private movePeer(p: RemotePeer, op: Op): void {
    p.anchor = transformPosition(p.anchor, op);
    p.head = transformPosition(p.head, op);
  }

  private sendNext(): void {
    if (!this.live || this.inflight || this.limbo || this.pending.length === 0) return;
    while (this.pending.length > 0) {
      const p = this.pending.shift()!;
      if (isNoop(p.op)) continue;
      const sent: ClientOp = {
        ...toClientOp(p.op),
        operationId: this.opt.newOperationId(),
        userId: this.userId,
        baseVersion: this.version,
      };
      this.inflight = { sent, current: p.op, edits: p.edits };
      this.emit('sent', sent.operationId);
      this.send({ type: 'submit', op: sent });
      break;
    }
    // The op sent has an id a draft must keep (or queued edits that came to nothing were dropped).
    this.emit('draft', undefined);
  }

  private sendPresence(): void {
    if (!this.live || !this.selection) return;
    this.send({ type: 'presence', anchor: this.selection.anchor, head: this.selection.head, version: this.version });
  }
}

/**
 * The gateway URL naming the document (protocol §2), so a load balancer in front of several
 * server instances can send every client of a document to the same instance.
 */
export function routedUrl(url: string, documentId: string): string {
  const routed = new URL(url);
  routed.searchParams.set('document', documentId);
  return routed.toString();
}
