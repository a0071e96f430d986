/**
 * Conversions between CodeMirror changes (UTF-16 offsets) and protocol ops (code points).
 * Offsets are converted through the SDK's ChunkedText, which mirrors the editor's text, so each
 * conversion costs O(log chunks + chunk size), never a scan of the document.
 */
import type { ChangeSet } from '@codemirror/state';
import { normalize, type ChunkedText, type Op } from '@quire/sdk';

/** The op equivalent to `changes`, whose offsets are against `before` (= the editor text before). */
export function changesToOp(changes: ChangeSet, before: ChunkedText): Op {
  const op: Op = [];
  let last = 0;
  changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    const from = before.utf16ToCp(fromA);
    const to = before.utf16ToCp(toA);
    if (from > last) op.push(from - last);
    if (to > from) op.push({ d: to - from });
    const text = inserted.toString();
    if (text.length > 0) op.push(text);
    last = to;
  });
  return normalize(op);
}
