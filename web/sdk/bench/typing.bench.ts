/**
 * Per-keystroke cost of the SDK in a small and a 1 MB document: a local insert (UTF-16 → code
 * point conversion, apply, queue) and a remote op (transform over a pending edit, conversion to
 * UTF-16 changes, apply). Run with `npm --prefix web run bench`; the two sizes should cost about
 * the same, since nothing per keystroke is proportional to the document.
 */
import { bench, describe } from 'vitest';
import { DocClient } from '../src/index.js';
import type { SocketLike } from '../src/socket.js';

/** A socket that never connects: the client stays offline and queues local edits. */
const silent = (): SocketLike => ({ send() {}, close() {}, onopen: null, onmessage: null, onclose: null, onerror: null });

function loaded(chars: number): DocClient {
  const c = new DocClient({ url: 'ws://bench', documentId: 'd', userId: 'u', token: () => 't', socketFactory: silent });
  const line = 'The quick brown fox jumps over the lazy dog 😀 — 𝄞 mixed astral text.\n';
  (c as unknown as { onSnapshot(content: string, v: number, s: number): void }).onSnapshot(line.repeat(Math.ceil(chars / line.length)), 0, 0);
  return c;
}

for (const size of [1_000, 1_000_000]) {
  describe(`document of ${size.toLocaleString('en')} chars`, () => {
    const c = loaded(size);
    let i = 0;
    bench('local keystroke: utf16→cp, apply, queue', () => {
      const at = c.text.utf16ToCp(Math.floor(c.text.utf16Length / 2) + (i++ % 50));
      c.applyLocal([at, 'x']);
    });
    bench('cp→utf16 conversion at a random place', () => {
      c.text.cpToUtf16((i++ * 7919) % c.text.length);
    });
  });
}
