/**
 * Remote ops reach CodeMirror as UTF-16 changes computed by the SDK: an editor state fed only by
 * those changes (and by local edits turned into ops) must always equal the SDK's text, and the
 * local selection must be mapped through remote edits.
 */
import { EditorSelection, EditorState } from '@codemirror/state';
import { DocClient } from '@quire/sdk';
import { describe, expect, it } from 'vitest';
import { FakeServer } from '../../sdk/test/fakeServer.js';
import { rng } from '../../sdk/test/rng.js';
import { changesToOp } from '../src/binding/changes.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

function client(server: FakeServer, userId: string): DocClient {
  const c = new DocClient({
    url: 'ws://fake',
    documentId: 'd',
    userId,
    token: () => `token-${userId}`,
    socketFactory: server.factory(),
    backoffInitialMs: 1,
    backoffMaxMs: 2,
  });
  c.start();
  return c;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await tick();
  expect(cond()).toBe(true);
}

describe('remote changes in the editor', () => {
  it('keep the editor equal to the SDK text under concurrent astral edits', async () => {
    const server = new FakeServer();
    server.text = 'a😀b\n𝄞c';
    server.roles.set('ed', 'write');
    server.roles.set('other', 'write');
    const ed = client(server, 'ed');
    const other = client(server, 'other');
    await until(() => ed.hasState && other.hasState && ed.status === 'connected');
    let state = EditorState.create({ doc: ed.text.toString() });
    ed.on('remote', ({ changes }) => {
      state = state.update({ changes }).state;
    });
    const r = rng(11);
    const pieces = ['x', '😀', '👍🏽', '\n', 'é'];
    for (let i = 0; i < 150; i++) {
      if (r() < 0.5) {
        const len = other.text.length;
        const pos = Math.floor(r() * (len + 1));
        other.applyLocal(r() < 0.7 || pos === len ? [pos, pieces[Math.floor(r() * pieces.length)]] : [pos, { d: 1 }]);
      } else {
        // A local edit in the editor at a code point boundary.
        const cp = Math.floor(r() * (ed.text.length + 1));
        const at = ed.text.cpToUtf16(cp);
        const tr = state.update({ changes: { from: at, insert: pieces[Math.floor(r() * pieces.length)] } });
        ed.applyLocal(changesToOp(tr.changes, ed.text));
        state = tr.state;
      }
      if (r() < 0.3) await tick();
      expect(state.doc.toString()).toBe(ed.text.toString());
    }
    await until(() => server.idle && ed.unconfirmed === 0 && other.unconfirmed === 0 && ed.seq === server.log.length && other.seq === server.log.length);
    expect(state.doc.toString()).toBe(server.text);
    expect(other.text.toString()).toBe(server.text);
  });

  it('map the local cursor so it stays after the text it followed', async () => {
    const server = new FakeServer();
    server.text = 'hello 😀 world';
    server.roles.set('ed', 'write');
    server.roles.set('other', 'write');
    const ed = client(server, 'ed');
    const other = client(server, 'other');
    await until(() => ed.hasState && other.hasState);
    const cursor = 'hello 😀'.length;
    let state = EditorState.create({ doc: ed.text.toString(), selection: EditorSelection.cursor(cursor) });
    ed.on('remote', ({ changes }) => {
      state = state.update({ changes }).state;
    });
    other.applyLocal([0, '👋 ']);
    await until(() => state.doc.toString() === '👋 hello 😀 world');
    expect(state.selection.main.head).toBe(cursor + '👋 '.length);
    expect(state.sliceDoc(0, state.selection.main.head)).toBe('👋 hello 😀');
  });
});
