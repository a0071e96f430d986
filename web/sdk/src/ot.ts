/**
 * The op model, delegated to ShareDB's `ot-text-unicode` type so that the SDK transforms and
 * composes exactly like the server (docs/architecture.md: "OT semantics = ot-text-unicode").
 * Ops here are always normalised and use the numeric delete form `{d: n}`.
 */
import { type as textType } from 'ot-text-unicode';
import type { ClientOpBody } from './protocol.js';
import { countCodePoints } from './text.js';

export type Component = number | string | { d: number };
export type Op = Component[];
export type Side = 'left' | 'right';

/**
 * Normalises (merges, drops empty and trailing skips) and turns `{d: "text"}` into `{d: n}`.
 * Delete components are copied first: the type's normalize merges adjacent deletes by mutating
 * the first one, which must never be an object the caller still holds.
 */
export function normalize(op: readonly unknown[]): Op {
  const copied = (op as Op).map((c) => {
    if (typeof c !== 'object' || c === null) return c;
    const d = (c as { d: unknown }).d;
    return { d: typeof d === 'string' ? countCodePoints(d) : (d as number) };
  });
  return textType.normalize(copied) as Op;
}

/** `op` rewritten to apply after `other`; side `left` puts op's insert first on a tie. */
export function transform(op: Op, other: Op, side: Side): Op {
  return normalize(textType.transform(op, other, side));
}

/** One op equivalent to `a` then `b`. */
export function compose(a: Op, b: Op): Op {
  return normalize(textType.compose(a, b));
}

/** Applies an op to a plain string (tests and small texts; the SDK itself uses ChunkedText). */
export function applyToString(text: string, op: Op): string {
  return textType.apply(text, op) as string;
}

/** Where a cursor at `pos` ends up after `op` (a cursor at an insert point stays before it). */
export function transformPosition(pos: number, op: Op): number {
  return textType.transformPosition(pos, op);
}

export function isNoop(op: Op): boolean {
  return op.length === 0;
}

/** Code points inserted by the op. */
export function insertedChars(op: Op): number {
  let n = 0;
  for (const c of op) if (typeof c === 'string') n += countCodePoints(c);
  return n;
}

/**
 * The client-op form to submit (docs/protocol.md §1). Pure inserts and pure deletes use their
 * named forms; anything else is sent as `compound` with exactly our components, so the server
 * holds the very same component list we transform locally (a `replace` could be expanded by the
 * server with its insert and delete in the other order, which transforms differently on ties).
 */
export function toClientOp(op: Op): ClientOpBody {
  const [a, b, c] = op;
  const skip = typeof a === 'number' ? a : 0;
  const rest = typeof a === 'number' ? [b, c] : [a, b];
  const restLen = op.length - (typeof a === 'number' ? 1 : 0);
  if (restLen === 1 && typeof rest[0] === 'string') return { type: 'insert', position: skip, text: rest[0] };
  if (restLen === 1 && typeof rest[0] === 'object') return { type: 'delete', position: skip, length: rest[0].d };
  return { type: 'compound', components: op };
}

/** The component form of a client op, as the server expands it (replace = skip, delete, insert). */
export function fromClientOp(op: ClientOpBody): Op {
  switch (op.type) {
    case 'insert':
      return normalize([op.position, op.text]);
    case 'delete':
      return normalize([op.position, { d: op.length }]);
    case 'replace':
      return normalize([op.position, { d: op.length }, op.text]);
    case 'compound':
      return normalize(op.components);
  }
}

/**
 * Splits `op` into ops that each insert at most `max` code points and, applied in order, do
 * what `op` does (a paste larger than the server's `maxOpChars` goes out in several ops).
 * The first op keeps every skip and delete plus as much inserted text as fits; the rest of the
 * inserted text follows in order, left to right, each at the position where it belongs once
 * the earlier pieces are in.
 */
export function splitByInsertSize(op: Op, max: number): Op[] {
  if (insertedChars(op) <= max) return [op];
  const first: Op = [];
  /** Text still to insert, at a position of the document after `first`. */
  const deferred: { at: number; text: string }[] = [];
  let budget = max;
  let post = 0; // position in the document after `first`
  for (const c of op) {
    if (typeof c === 'number') {
      first.push(c);
      post += c;
    } else if (typeof c === 'object') {
      first.push(c);
    } else {
      const chars = [...c];
      const now = chars.slice(0, budget).join('');
      budget -= Math.min(budget, chars.length);
      if (now) first.push(now);
      post += countCodePoints(now);
      const later = chars.slice(countCodePoints(now));
      for (let i = 0; i < later.length; i += max) deferred.push({ at: post, text: later.slice(i, i + max).join('') });
    }
  }
  const out = [normalize(first)].filter((o) => !isNoop(o));
  let shift = 0; // code points inserted by earlier deferred pieces, all at or before this one
  for (const d of deferred) {
    out.push(normalize([d.at + shift, d.text]));
    shift += countCodePoints(d.text);
  }
  return out;
}

/**
 * The op undoing `op`, given the text `op` applies to (read through `slice`, in code points):
 * its inserts become deletes and its deletes re-insert the text they removed. Used only when
 * the server refuses an op for good, to take that one edit back.
 */
export function invert(op: Op, slice: (from: number, to: number) => string): Op {
  const out: Op = [];
  let pos = 0;
  for (const c of op) {
    if (typeof c === 'number') {
      out.push(c);
      pos += c;
    } else if (typeof c === 'string') {
      out.push({ d: countCodePoints(c) });
    } else {
      out.push(slice(pos, pos + c.d));
      pos += c.d;
    }
  }
  return normalize(out);
}

/**
 * The op that turns `from` into `to`, as one replacement of the span between their common
 * prefix and common suffix. Used only on resync, to rebase unconfirmed local edits onto a fresh
 * snapshot as if the server's unseen changes were one remote op.
 */
export function diffOp(from: string, to: string): Op {
  let p = 0;
  const max = Math.min(from.length, to.length);
  while (p < max && from.charCodeAt(p) === to.charCodeAt(p)) p++;
  if (p > 0 && p < max && isLowSurrogate(from.charCodeAt(p))) p--;
  let s = 0;
  while (s < max - p && from.charCodeAt(from.length - 1 - s) === to.charCodeAt(to.length - 1 - s)) s++;
  if (s > 0 && isLowSurrogate(from.charCodeAt(from.length - s))) s--;
  const deleted = from.slice(p, from.length - s);
  const inserted = to.slice(p, to.length - s);
  const op: Op = [countCodePoints(from.slice(0, p))];
  if (deleted.length > 0) op.push({ d: countCodePoints(deleted) });
  if (inserted.length > 0) op.push(inserted);
  return normalize(op);
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
