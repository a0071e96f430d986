import { describe, expect, it } from 'vitest';
import { applyToString, diffOp, insertedChars, invert, normalize, splitByInsertSize, type Op } from '../src/ot.js';
import { rng } from './rng.js';

function randomOp(r: () => number, doc: string): Op {
  const len = [...doc].length;
  const op: Op = [];
  let pos = 0;
  const words = ['😀😀😀', 'abcdefg', 'é', '𝄞x𝄞', 'longer inserted text'];
  while (pos < len && r() < 0.8) {
    const skip = Math.floor(r() * (len - pos));
    if (skip > 0) op.push(skip);
    pos += skip;
    if (r() < 0.6) op.push(words[Math.floor(r() * words.length)]);
    if (pos < len && r() < 0.5) {
      const d = 1 + Math.floor(r() * Math.min(3, len - pos));
      if (pos + d <= len) {
        op.push({ d });
        pos += d;
      }
    }
  }
  if (r() < 0.5) op.push('tail😀');
  return normalize(op);
}

describe('op helpers', () => {
  it('normalize never mutates its input', () => {
    const del = { d: 2 };
    const op: Op = [1, del, { d: 3 }];
    expect(normalize(op)).toEqual([1, { d: 5 }]);
    expect(del).toEqual({ d: 2 });
    expect(op).toEqual([1, { d: 2 }, { d: 3 }]);
  });

  it('splitByInsertSize: pieces within the limit that apply to the same text', () => {
    const r = rng(5);
    for (let i = 0; i < 400; i++) {
      const doc = 'Hello 😀 world, 𝄞 and more text here.';
      const op = randomOp(r, doc);
      const max = 1 + Math.floor(r() * 6);
      const pieces = splitByInsertSize(op, max);
      for (const p of pieces) expect(insertedChars(p)).toBeLessThanOrEqual(max);
      expect(pieces.reduce(applyToString, doc), JSON.stringify([op, max, pieces])).toBe(applyToString(doc, op));
    }
  });

  it('invert undoes an op, diffOp turns one text into another', () => {
    const r = rng(8);
    for (let i = 0; i < 300; i++) {
      const doc = 'ab😀cd 𝄞 efg';
      const op = randomOp(r, doc);
      const after = applyToString(doc, op);
      const chars = [...doc];
      expect(applyToString(after, invert(op, (from, to) => chars.slice(from, to).join('')))).toBe(doc);
      expect(applyToString(doc, diffOp(doc, after))).toBe(after);
    }
  });
});
