import { ChangeSet, EditorState } from '@codemirror/state';
import { ChunkedText } from '@quire/sdk';
import { describe, expect, it } from 'vitest';
import { changesToOp, wholeCodePoints } from '../src/binding/changes.js';

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

/** UTF-16 offsets that fall on code point boundaries of `s`. */
function boundaries(s: string): number[] {
  const out = [0];
  let u = 0;
  for (const ch of s) out.push((u += ch.length));
  return out;
}

describe('changesToOp', () => {
  it('turns multi-range CodeMirror changes over astral text into the equivalent code point op', () => {
    const r = rng(7);
    const pieces = ['a', '😀', 'é', '\n', '𝄞', '👍🏽', 'xyz'];
    let state = EditorState.create({ doc: 'ab😀cd\n𝄞e👍🏽f' });
    const mirror = new ChunkedText(state.doc.toString());
    for (let i = 0; i < 300; i++) {
      const b = boundaries(state.doc.toString());
      const picks = [...new Set([0, 1, 2, 3].map(() => b[Math.floor(r() * b.length)]))].sort((x, y) => x - y);
      const specs = [];
      for (let k = 0; k + 1 < picks.length; k += 2) {
        specs.push({ from: picks[k], to: r() < 0.5 ? picks[k] : picks[k + 1], insert: r() < 0.7 ? pieces[Math.floor(r() * pieces.length)] : '' });
      }
      if (specs.length === 0) specs.push({ from: picks[0], to: picks[0], insert: '😀' });
      const changes = ChangeSet.of(specs, state.doc.length);
      const tr = state.update({ changes });
      mirror.apply(changesToOp(tr.changes, mirror));
      state = tr.state;
      expect(mirror.toString()).toBe(state.doc.toString());
    }
  });

  it('refuses local edits that would split a surrogate pair, but not remote ones or whole characters', () => {
    const state = EditorState.create({ doc: 'a😀b', extensions: [wholeCodePoints((tr) => tr.isUserEvent('remote'))] });
    expect(state.update({ changes: { from: 2, insert: 'x' } }).state.doc.toString()).toBe('a😀b');
    expect(state.update({ changes: { from: 1, to: 2 } }).state.doc.toString()).toBe('a😀b');
    expect(state.update({ changes: { from: 0, insert: '\ud83d' } }).state.doc.toString()).toBe('a😀b');
    expect(state.update({ changes: { from: 1, to: 3, insert: '👍🏽' } }).state.doc.toString()).toBe('a👍🏽b');
    expect(state.update({ changes: { from: 2, insert: 'x' }, userEvent: 'remote' }).state.doc.toString()).toBe('a\ud83dx\ude00b');
  });
});
