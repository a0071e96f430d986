/**
 * The SDK must transform, compose and apply exactly like the server: ShareDB's published
 * text-unicode cases (../shared/ot-conformance) and the engine's own client-op vectors.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyToString, ChunkedText, compose, normalize, transform, type Op } from '../src/index.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const shared = process.env.QUIRE_SHARED_DIR ?? `${repo}../shared`;

function lines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

describe('ot-conformance (ShareDB text-unicode cases)', () => {
  it('transform', () => {
    const cases = lines<{ op: Op; otherOp: Op; side: 'left' | 'right'; result: Op }>(`${shared}/ot-conformance/transform.json`);
    expect(cases.length).toBeGreaterThan(1000);
    for (const c of cases) expect(transform(normalize(c.op), normalize(c.otherOp), c.side)).toEqual(normalize(c.result));
  });

  it('compose', () => {
    const cases = lines<{ op1: Op; op2: Op; result: Op }>(`${shared}/ot-conformance/compose.json`);
    expect(cases.length).toBeGreaterThan(1000);
    for (const c of cases) expect(compose(normalize(c.op1), normalize(c.op2))).toEqual(normalize(c.result));
  });

  it('apply, on plain strings and on the chunked text', () => {
    const cases = lines<{ str: string; op: Op; result: string }>(`${shared}/ot-conformance/apply.json`);
    expect(cases.length).toBeGreaterThan(1000);
    for (const c of cases) {
      const op = normalize(c.op);
      expect(applyToString(c.str, op)).toBe(c.result);
      const t = new ChunkedText(c.str);
      t.apply(op);
      expect(t.toString()).toBe(c.result);
    }
  });
});
