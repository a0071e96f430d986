/**
 * The client algorithm against the in-memory protocol server: convergence under concurrency,
 * reconnects, lost acks, pruned logs, resync, presence and terminal errors.
 */
import { describe, expect, it } from 'vitest';
import { applyToString, DocClient, routedUrl, type ClientError, type DocClientOptions, type Draft, type Op } from '../src/index.js';
import { backoffDelay } from '../src/socket.js';
import { FakeServer } from './fakeServer.js';
import { rng } from './rng.js';

function makeClient(server: FakeServer, userId: string, seed = 1, more: Partial<DocClientOptions> = {}): DocClient {
  let n = 0;
  const c = new DocClient({
    url: 'ws://fake/api/ws',
    documentId: 'doc',
    userId,
    token: () => `token-${userId}`,
    socketFactory: server.factory(),
    backoffInitialMs: 1,
    backoffMaxMs: 5,
    presenceThrottleMs: 1,
    random: rng(seed),
    newOperationId: () => `${userId}-op-${++n}`,
    ...more,
  });
  c.start();
  return c;
}

/** A new page of the draft's user (after a reload) started from it, passed through JSON as when stored. */
function reload(server: FakeServer, draft: Draft): DocClient {
  let n = 0;
  const userId = draft.userId;
  return makeClient(server, userId, 2, { draft: JSON.parse(JSON.stringify(draft)) as Draft, newOperationId: () => `${userId}-reload-op-${++n}` });
}

const tick = () => new Promise((r) => setTimeout(r, 1));

/** A server holding `text` and two connected writers, ann and bob. */
async function twoWriters(text: string): Promise<{ server: FakeServer; a: DocClient; b: DocClient }> {
  const server = new FakeServer();
  server.roles.set('ann', 'write');
  server.roles.set('bob', 'write');
  server.text = text;
  const a = makeClient(server, 'ann');
  const b = makeClient(server, 'bob');
  await settle(server, [a, b]);
  return { server, a, b };
}

/** A server holding `text` and one connected writer, ann, whose errors are collected. */
async function aloneWith(text: string): Promise<{ server: FakeServer; a: DocClient; errors: ClientError[] }> {
  const server = new FakeServer();
  server.roles.set('ann', 'write');
  server.text = text;
  const a = makeClient(server, 'ann');
  await settle(server, [a]);
  const errors: ClientError[] = [];
  a.on('error', (e) => errors.push(e));
  return { server, a, errors };
}

/** Waits until the network is quiet and every client has everything confirmed. */
async function settle(server: FakeServer, clients: DocClient[], maxTicks = 3000): Promise<void> {
  for (let i = 0; i < maxTicks; i++) {
    await tick();
    const quiet = server.idle && clients.every((c) => c.status === 'connected' && c.unconfirmed === 0 && c.seq === server.log.length);
    if (quiet) return;
  }
  throw new Error(
    `did not settle: ${clients.map((c) => `${c.userId}:${c.status}/unconfirmed ${c.unconfirmed}/seq ${c.seq}`).join(', ')} server seq ${server.log.length}`,
  );
}

/** A random local edit, in code points, valid against `text`. */
function randomEdit(r: () => number, length: number): Op {
  const pos = Math.floor(r() * (length + 1));
  const words = ['x', 'yz', '😀', 'é', '𝄞!', '\n'];
  if (length === 0 || r() < 0.6) return [pos, words[Math.floor(r() * words.length)]];
  const n = Math.min(length - pos, 1 + Math.floor(r() * 3));
  return n === 0 ? [pos, 'q'] : [pos, { d: n }];
}

describe('DocClient', () => {
  it('joins, receives the snapshot and edits', async () => {
    const server = new FakeServer();
    server.roles.set('ann', 'owner');
    server.text = 'héllo 😀';
    server.log = [];
    const a = makeClient(server, 'ann');
    const resets: string[] = [];
    a.on('reset', (t) => resets.push(t));
    await settle(server, [a]);
    expect(resets).toEqual(['héllo 😀']);
    a.applyLocal([7, '!']);
    expect(a.text.toString()).toBe('héllo 😀!');
    expect(a.unconfirmed).toBe(1);
    await settle(server, [a]);
    expect(server.text).toBe('héllo 😀!');
    expect(server.submits[0]).toMatchObject({ type: 'insert', position: 7, text: '!', baseVersion: 0, userId: 'ann' });
    // The URL names the document, for routing by document (protocol §2).
    expect(server.urls).toEqual(['ws://fake/api/ws?document=doc']);
  });

  it('names the document in the gateway URL, encoded, keeping the URL\'s own query', () => {
    expect(routedUrl('wss://h/api/ws', 'a b/c')).toBe('wss://h/api/ws?document=a+b%2Fc');
    expect(routedUrl('ws://h:1/api/ws?x=1&document=old', 'd')).toBe('ws://h:1/api/ws?x=1&document=d');
  });

  it('keeps one op in flight and composes queued edits, never into the sent op', async () => {
    const server = new FakeServer();
    server.roles.set('ann', 'owner');
    const a = makeClient(server, 'ann');
    await settle(server, [a]);
    a.applyLocal(['a']);
    a.applyLocal([1, 'b']);
    a.applyLocal([2, 'c']);
    expect(a.unconfirmed).toBe(3);
    await settle(server, [a]);
    expect(server.submits.map((s) => ('text' in s ? s.text : s.type))).toEqual(['a', 'bc']);
    expect(server.text).toBe('abc');
  });

  it('converges with concurrent editors, dropped connections and lost acks', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const r = rng(seed * 7919);
      const server = new FakeServer();
      server.text = 'start';
      const users = ['ann', 'bob', 'cy'];
      for (const u of users) server.roles.set(u, 'write');
      const clients = users.map((u, i) => makeClient(server, u, seed * 10 + i));
      await settle(server, clients);
      const typed = new Map<string, number>(users.map((u) => [u, 0]));
      for (let step = 0; step < 120; step++) {
        const c = clients[Math.floor(r() * clients.length)];
        if (c.hasState) c.applyLocal(randomEdit(r, c.text.length));
        const roll = r();
        if (roll < 0.03) server.dropAll();
        else if (roll < 0.05) server.loseAcks = 1;
        else if (roll < 0.06) server.horizon = server.log.length; // prune the log: rejoin gets a snapshot
        if (r() < 0.5) await tick();
        typed.set(c.userId, (typed.get(c.userId) ?? 0) + 1);
      }
      await settle(server, clients);
      for (const c of clients) expect(c.text.toString()).toBe(server.text);
      // The server log replays to its text, and no operation id was applied twice.
      let replay = 'start';
      for (const e of server.log) replay = applyToString(replay, e.op);
      expect(replay).toBe(server.text);
      const ids = server.log.map((e) => `${e.userId}/${e.operationId}`);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('resends the in-flight op with its original id and base after a lost ack; the server applies it once', async () => {
    const server = new FakeServer();
    server.roles.set('ann', 'write');
    server.roles.set('bob', 'write');
    const a = makeClient(server, 'ann');
    const b = makeClient(server, 'bob');
    await settle(server, [a, b]);
    server.loseAcks = 1;
    a.applyLocal(['A']);
    b.applyLocal(['B']);
    await settle(server, [a, b]);
    expect(a.text.toString()).toBe(server.text);
    expect(b.text.toString()).toBe(server.text);
    expect(server.log.filter((e) => e.userId === 'ann')).toHaveLength(1);
    // ann rejoined with `since`, got her own op back in catchUp and recognised it (no resubmit).
    const annJoins = server.joins.filter((j) => j.userId === 'ann');
    expect(annJoins.length).toBe(2);
    expect(annJoins[1].since).toBeDefined();
    expect(server.submits.filter((s) => s.userId === 'ann')).toHaveLength(1);
  });

  it('a resend that the server already applied is answered as duplicate and applied once', async () => {
    const server = new FakeServer();
    server.roles.set('ann', 'write');
    const a = makeClient(server, 'ann');
    await settle(server, [a]);
    server.loseAcks = 1;
    server.horizon = 0;
    a.applyLocal(['hello']);
    // Prune the log once the op is in, so the rejoin gets a snapshot and must resend to learn its fate.
    for (let i = 0; i < 200 && server.log.length === 0; i++) await tick();
    server.horizon = server.log.length;
    a.applyLocal([5, ' world']);
    await settle(server, [a]);
    expect(server.text).toBe('hello world');
    expect(a.text.toString()).toBe('hello world');
    expect(server.duplicates).toBe(1);
  });

  it('a resend whose fate the server cannot tell (outcome_unknown) is never re-created', async () => {
    for (const applied of [true, false]) {
      const { server, a, errors } = await aloneWith('abc');
      server.loseAcks = 1; // applied, then the connection drops before the ack
      a.applyLocal([2, 'X']);
      if (applied) for (let i = 0; i < 200 && server.submits.length === 0; i++) await tick();
      a.setOffline(true); // if not yet delivered, the submit is lost with the connection
      server.roles.set('bob', 'write');
      const bob = makeClient(server, 'bob');
      await settle(server, [bob]);
      bob.applyLocal([server.text.length, 'Q']);
      await settle(server, [bob]);
      // The log and the operation ids below it are gone: ann's resend cannot be classified.
      server.horizon = server.log.length;
      server.registryHorizon = server.log.length;
      a.applyLocal([3, 'Y']); // after X
      a.setOffline(false);
      await settle(server, [a, bob]);
      const expected = applied ? 'abXYcQ' : 'abYcQ';
      expect(server.text, `applied: ${applied}`).toBe(expected);
      expect(a.text.toString()).toBe(expected);
      expect(server.log.filter((e) => JSON.stringify(e.op).includes('X'))).toHaveLength(applied ? 1 : 0);
      expect(server.submits.filter((op) => op.operationId === 'ann-op-1')).toHaveLength(applied ? 2 : 1);
      expect(errors.map((e) => e.code)).toContain('outcome_unknown');
    }
  });

  it('splits a paste larger than maxOpChars into ops within the limit', async () => {
    const server = new FakeServer();
    server.roles.set('ann', 'write');
    server.maxOpChars = 4;
    server.text = '[]';
    const a = makeClient(server, 'ann');
    await settle(server, [a]);
    a.applyLocal([1, 'abc😀efghij']);
    await settle(server, [a]);
    expect(server.text).toBe('[abc😀efghij]');
    expect(a.text.toString()).toBe(server.text);
    expect(server.log.length).toBeGreaterThanOrEqual(3);
  });

  it('keeps offline edits and sends them on reconnect', async () => {
    const { server, a, b } = await twoWriters('0123456789');
    const statuses: string[] = [];
    a.on('status', (s) => statuses.push(s));
    a.setOffline(true);
    a.applyLocal([0, 'offline1 ']);
    a.applyLocal([9, 'offline2 ']);
    b.applyLocal([10, ' bob']);
    await settle(server, [b]);
    expect(a.unconfirmed).toBe(2);
    a.setOffline(false);
    await settle(server, [a, b]);
    expect(statuses).toEqual(['offline', 'reconnecting', 'connected']);
    expect(server.text).toBe('offline1 offline2 0123456789 bob');
    expect(a.text.toString()).toBe(server.text);
    expect(b.text.toString()).toBe(server.text);
  });

  it('a snapshot on rejoin (log pruned) rebases unconfirmed edits without losing them', async () => {
    const { server, a, b } = await twoWriters('abc');
    a.setOffline(true);
    a.applyLocal([3, 'Z']);
    b.applyLocal([0, 'bob ']);
    await settle(server, [b]);
    server.horizon = server.log.length; // ann's base is now below the horizon
    a.setOffline(false);
    await settle(server, [a, b]);
    expect(server.text).toBe('bob abcZ');
    expect(a.text.toString()).toBe('bob abcZ');
  });

  it('resync_required for the in-flight op: resubmits it as a new op on the current version, no rejoin', async () => {
    const { server, a, b } = await twoWriters('abc');
    server.refuse = ['resync_required'];
    a.applyLocal([3, 'Z']);
    b.applyLocal([0, 'bob ']);
    await settle(server, [a, b]);
    expect(server.text).toBe('bob abcZ');
    expect(a.text.toString()).toBe('bob abcZ');
    const annJoins = server.joins.filter((j) => j.userId === 'ann');
    expect(annJoins).toHaveLength(1);
    expect(server.submits.filter((s) => s.userId === 'ann').map((s) => s.operationId)).toEqual(['ann-op-1', 'ann-op-2']);
  });

  it('transforms remote cursors and keeps them in code points', async () => {
    const { a, b } = await twoWriters('😀😀😀');
    b.setSelection(1, 2);
    for (let i = 0; i < 100 && a.remotePeers.length === 0; i++) await tick();
    expect(a.remotePeers).toEqual([{ key: 'bob', userId: 'bob', username: 'bob', color: '#e91e63', anchor: 1, head: 2 }]);
    a.applyLocal([0, '👍🏽']); // two code points before bob's selection
    expect(a.remotePeers[0]).toMatchObject({ anchor: 3, head: 4 });
  });

  it('a revoked user gets a fatal forbidden and stops reconnecting', async () => {
    const server = new FakeServer();
    server.roles.set('ann', 'write');
    const a = makeClient(server, 'ann');
    await settle(server, [a]);
    const errors: ClientError[] = [];
    a.on('error', (e) => errors.push(e));
    server.revoke('ann');
    for (let i = 0; i < 100 && a.status !== 'closed'; i++) await tick();
    expect(a.status).toBe('closed');
    expect(errors).toEqual([{ code: 'forbidden', message: 'access revoked', fatal: true }]);
    const joins = server.joins.length;
    for (let i = 0; i < 20; i++) await tick();
    expect(server.joins.length).toBe(joins);
  });

  it('an op refused for good is undone locally, later edits are kept', async () => {
    const { server, a, errors } = await aloneWith('abc');
    server.refuse = ['bad_op'];
    a.applyLocal([1, { d: 1 }, 'X']); // in flight, will be refused
    a.applyLocal([3, '😀']); // queued behind it
    expect(a.text.toString()).toBe('aXc😀');
    await settle(server, [a]);
    expect(errors).toEqual([{ code: 'bad_op', message: 'refused: bad_op', fatal: false }]);
    expect(server.text).toBe('abc😀');
    expect(a.text.toString()).toBe('abc😀');
  });

  it('a reader whose op is refused gets the server text back and an error', async () => {
    const server = new FakeServer();
    server.roles.set('rita', 'read');
    server.text = 'read me';
    const a = makeClient(server, 'rita');
    await settle(server, [a]);
    expect(a.role).toBe('read');
    const errors: ClientError[] = [];
    a.on('error', (e) => errors.push(e));
    a.applyLocal([0, 'x']);
    for (let i = 0; i < 100 && errors.length === 0; i++) await tick();
    expect(errors[0]).toMatchObject({ code: 'forbidden', fatal: false });
    expect(a.text.toString()).toBe('read me');
    expect(a.unconfirmed).toBe(0);
  });

  it('abandons a connection attempt that never opens and tries again', async () => {
    let attempts = 0;
    const c = new DocClient({
      url: 'ws://blackhole',
      documentId: 'doc',
      userId: 'ann',
      token: () => 'token-ann',
      deadAfterMs: 10,
      backoffInitialMs: 1,
      backoffMaxMs: 2,
      socketFactory: () => {
        attempts++;
        return { send() {}, close() {}, onopen: null, onmessage: null, onclose: null, onerror: null };
      },
    });
    c.start();
    for (let i = 0; i < 200 && attempts < 3; i++) await tick();
    c.close();
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(c.status).toBe('closed');
  });

  it('backoff caps grow and are jittered over the whole range', () => {
    expect(backoffDelay(0, 100, 3000, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, 3000, () => 1)).toBe(800);
    expect(backoffDelay(40, 100, 3000, () => 1)).toBe(3000);
    expect(backoffDelay(40, 100, 3000, () => 0)).toBe(0);
    const r = rng(9);
    const spread = Array.from({ length: 200 }, () => backoffDelay(5, 100, 3000, r));
    expect(Math.min(...spread)).toBeLessThan(600);
    expect(Math.max(...spread)).toBeGreaterThan(2400);
  });

  it('a fatal error other than access or identity reconnects instead of stopping', async () => {
    const server = new FakeServer();
    server.roles.set('ann', 'write');
    const a = makeClient(server, 'ann');
    await settle(server, [a]);
    for (const c of [...server.conns]) {
      c.deliver({ type: 'error', code: 'unavailable', message: 'idle too long', retryable: true, fatal: true });
      c.serverClose();
    }
    a.applyLocal(['still here']);
    await settle(server, [a]);
    expect(server.text).toBe('still here');
    expect(server.joins.filter((j) => j.userId === 'ann')).toHaveLength(2);
  });
});

describe('DocClient drafts (unconfirmed edits across a reload)', () => {
  it('a client started from a draft shows the edits at once and sends each exactly once', async () => {
    const { server, a, b } = await twoWriters('0123456789');
    a.applyLocal([0, 'one ']); // submitted, then lost with the connection: never reaches the server
    a.setOffline(true);
    a.applyLocal([14, ' two']);
    a.applyLocal([18, ' three']);
    b.applyLocal([5, 'B']);
    await settle(server, [b]);
    const draft = a.draft()!;
    expect(draft).toMatchObject({ documentId: 'doc', userId: 'ann', server: '0123456789', version: 0, seq: 0, fresh: false });
    expect(draft.inflight?.sent).toMatchObject({ operationId: 'ann-op-1', baseVersion: 0, text: 'one ' });
    expect(draft.pending.map((p) => p.edits)).toEqual([2]);
    a.close();

    const a2 = reload(server, draft);
    expect(a2.text.toString()).toBe('one 0123456789 two three');
    expect(a2.unconfirmed).toBe(3);
    await settle(server, [a2, b]);
    expect(server.text).toBe('one 01234B56789 two three');
    expect(a2.text.toString()).toBe(server.text);
    expect(b.text.toString()).toBe(server.text);
    // It rejoined as a reconnect would, and resent the in-flight op with its original id and base.
    expect(server.joins.filter((j) => j.userId === 'ann').at(-1)?.since).toEqual({ version: 0, seq: 0 });
    expect(server.submits.filter((s) => s.userId === 'ann').map((s) => [s.operationId, s.baseVersion])).toEqual([
      ['ann-op-1', 0],
      ['ann-reload-op-1', 2],
    ]);
  });

  it('an edit the server applied before the reload (its ack lost) is recognised by its id, not applied twice', async () => {
    const { server, a } = await aloneWith('abc');
    a.applyLocal([3, ' one']); // in flight
    a.applyLocal([7, ' two']); // queued behind it
    const draft = a.draft()!;
    a.close(); // this submit is lost with the page...
    server.submitUnacked(draft.inflight!.sent); // ...but an earlier copy of it was applied
    expect(server.text).toBe('abc one');
    const a2 = reload(server, draft);
    await settle(server, [a2]);
    expect(server.text).toBe('abc one two');
    expect(a2.text.toString()).toBe(server.text);
    expect(server.log.map((e) => e.operationId)).toEqual(['ann-op-1', 'ann-reload-op-1']);
  });

  it('a draft older than the catch-up horizon converges through a snapshot, nothing lost or doubled', async () => {
    // forgotten: the server no longer knows the in-flight op's id either (outcome_unknown).
    for (const forgotten of [false, true]) {
      const { server, a, b } = await twoWriters('abc');
      a.applyLocal([3, ' one']);
      a.applyLocal([7, ' two']);
      const draft = a.draft()!;
      a.close();
      server.submitUnacked(draft.inflight!.sent);
      b.applyLocal([0, 'bob ']);
      await settle(server, [b]);
      server.horizon = server.log.length; // the draft's seq 0 is pruned: the rejoin gets a snapshot
      if (forgotten) server.registryHorizon = server.log.length;
      const a2 = reload(server, draft);
      const errors: ClientError[] = [];
      a2.on('error', (e) => errors.push(e));
      await settle(server, [a2, b]);
      expect(server.text, `forgotten: ${forgotten}`).toBe('bob abc one two');
      expect(a2.text.toString()).toBe(server.text);
      expect(b.text.toString()).toBe(server.text);
      expect(server.log.filter((e) => e.userId === 'ann')).toHaveLength(2);
      expect(server.duplicates).toBe(forgotten ? 0 : 1);
      expect(errors.map((e) => e.code)).toEqual(forgotten ? ['outcome_unknown'] : []);
    }
  });

  it('draft() is null once everything is confirmed, changes are announced, and another document or user is refused', async () => {
    const { server, a } = await aloneWith('abc');
    expect(a.draft()).toBeNull();
    const seen: number[] = [];
    a.on('draft', () => seen.push(a.unconfirmed));
    a.applyLocal([3, '!']);
    const draft = a.draft()!;
    expect(draft.inflight?.op).toEqual([3, '!']);
    await settle(server, [a]);
    expect(a.draft()).toBeNull();
    expect(seen[0]).toBe(1);
    expect(seen.at(-1)).toBe(0);
    const options = { url: 'ws://fake/api/ws', token: () => 'token-ann', socketFactory: server.factory(), draft };
    expect(() => new DocClient({ ...options, documentId: 'other', userId: 'ann' })).toThrow(/does not belong/);
    expect(() => new DocClient({ ...options, documentId: 'doc', userId: 'bob' })).toThrow(/does not belong/);
    expect(new DocClient({ ...options, documentId: 'doc', userId: 'ann' }).text.toString()).toBe('abc!');
  });

  it("'sent' names each new operation id before its submit goes out, and not a resend", async () => {
    const { server, a } = await aloneWith('abc');
    const sent: [string, number][] = [];
    a.on('sent', (id) => sent.push([id, server.submits.length]));
    a.applyLocal([3, '!']); // submitted, then lost with the connection
    a.setOffline(true);
    a.applyLocal([4, '?']);
    a.setOffline(false); // resends ann-op-1 under its id, then sends the queued edit
    await settle(server, [a]);
    expect(server.text).toBe('abc!?');
    expect(server.submits.map((s) => s.operationId)).toEqual(['ann-op-1', 'ann-op-2']);
    expect(sent).toEqual([
      ['ann-op-1', 0],
      ['ann-op-2', 1],
    ]);
  });
});
