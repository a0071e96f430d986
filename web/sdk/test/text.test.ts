import { describe, expect, it } from 'vitest';
import { ChunkedText, CHUNK, countCodePoints, OpRangeError } from '../src/text.js';
import { rng } from './rng.js';

const ALPHABET = ['a', 'b', 'é', '\n', '😀', '𝄞', '👍🏽', '中', ' '];

function randomText(r: () => number, cps: number): string {
  let s = '';
  for (let i = 0; i < cps; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

/** Reference conversions by scanning the whole string (what the chunked index avoids). */
const naive = {
  cpToUtf16: (s: string, cp: number) => [...s].slice(0, cp).join('').length,
  utf16ToCp: (s: string, u: number) => countCodePoints(s.slice(0, u)),
};

describe('ChunkedText', () => {
  it('counts astral characters as one code point', () => {
    const t = new ChunkedText('a😀b𝄞');
    expect(t.length).toBe(4);
    expect(t.utf16Length).toBe(6);
    expect(t.cpToUtf16(2)).toBe(3);
    expect(t.cpToUtf16(4)).toBe(6);
    expect(t.utf16ToCp(3)).toBe(2);
    expect(t.utf16ToCp(4)).toBe(3);
    expect(t.utf16ToCp(5)).toBe(4); // inside 𝄞: counts the whole pair
    expect(t.slice(1, 3)).toBe('😀b');
  });

  it('never splits a surrogate pair across chunks', () => {
    const s = 'a' + '😀'.repeat(3 * CHUNK);
    const t = new ChunkedText(s);
    expect(t.toString()).toBe(s);
    expect(t.length).toBe(1 + 3 * CHUNK);
    for (const cp of [0, 1, 2, CHUNK / 2, CHUNK, CHUNK + 1, 3 * CHUNK]) expect(t.cpToUtf16(cp)).toBe(naive.cpToUtf16(s, cp));
  });

  it('matches a plain string under random edits across chunk splits and merges', () => {
    const r = rng(42);
    let s = randomText(r, 3000);
    const t = new ChunkedText(s);
    for (let step = 0; step < 1500; step++) {
      const len = countCodePoints(s);
      const pos = Math.floor(r() * (len + 1));
      const chars = [...s];
      if (r() < 0.55 || len === 0) {
        const ins = randomText(r, r() < 0.05 ? 2500 : 1 + Math.floor(r() * 5));
        t.insert(pos, ins);
        s = chars.slice(0, pos).join('') + ins + chars.slice(pos).join('');
      } else {
        const n = Math.min(len - pos, r() < 0.05 ? 2000 : 1 + Math.floor(r() * 4));
        t.delete(pos, n);
        s = chars.slice(0, pos).join('') + chars.slice(pos + n).join('');
      }
      expect(t.length).toBe(countCodePoints(s));
      expect(t.utf16Length).toBe(s.length);
      if (step % 25 === 0) {
        expect(t.toString()).toBe(s);
        for (let k = 0; k < 10; k++) {
          const cp = Math.floor(r() * (t.length + 1));
          expect(t.cpToUtf16(cp)).toBe(naive.cpToUtf16(s, cp));
          const u = Math.floor(r() * (s.length + 1));
          expect(t.utf16ToCp(u)).toBe(naive.utf16ToCp(s, u));
        }
      }
    }
    expect(t.toString()).toBe(s);
  });

  it('rejects an op that does not fit and stays unchanged', () => {
    const t = new ChunkedText('abc😀');
    expect(() => t.apply([2, { d: 3 }])).toThrow(OpRangeError);
    expect(() => t.apply([5, 'x'])).toThrow(OpRangeError);
    expect(t.toString()).toBe('abc😀');
    t.apply([3, { d: 1 }, '👍🏽']);
    expect(t.toString()).toBe('abc👍🏽');
  });
});
