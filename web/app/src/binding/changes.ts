/**
 * Conversions between CodeMirror changes (UTF-16 offsets) and protocol ops (code points).
 * Offsets are converted through the SDK's ChunkedText, which mirrors the editor's text, so each
 * conversion costs O(log chunks + chunk size), never a scan of the document.
 */
import { EditorState, type ChangeSet, type Text, type Transaction } from '@codemirror/state';
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

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** True if `pos` falls between the two halves of a surrogate pair of `doc`. */
function splitsPair(doc: Text, pos: number): boolean {
  if (pos <= 0 || pos >= doc.length) return false;
  const two = doc.sliceString(pos - 1, pos + 1);
  return isHigh(two.charCodeAt(0)) && isLow(two.charCodeAt(1));
}

/** True if `s` holds a surrogate half without its partner (not a code point sequence). */
function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isHigh(c) && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) i++;
    else if (isHigh(c) || isLow(c)) return true;
  }
  return false;
}

/**
 * Drops local transactions that would cut a character in half (a change boundary inside a
 * surrogate pair, or inserted text with a lone surrogate). The protocol counts code points, so
 * such an edit has no code point form; CodeMirror's own commands never produce one, but a
 * programmatic or IME edit could, and letting it through would desynchronise the editor from
 * the SDK's text.
 */
export const wholeCodePoints = (isRemote: (tr: Transaction) => boolean) =>
  EditorState.transactionFilter.of((tr) => {
    if (!tr.docChanged || isRemote(tr)) return tr;
    let broken = false;
    tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
      if (splitsPair(tr.startState.doc, fromA) || splitsPair(tr.startState.doc, toA) || hasLoneSurrogate(inserted.toString())) broken = true;
    });
    return broken ? [] : tr;
  });
