/**
 * The document text as the SDK holds it: a list of chunks, with two Fenwick (binary indexed)
 * trees over the chunks' lengths, one in UTF-16 code units and one in Unicode code points.
 *
 * Why: the protocol counts code points, the browser (and CodeMirror) count UTF-16 units.
 * Converting by scanning the text from the start costs O(document) per keystroke (Rustpad's
 * mistake). Here a conversion finds the chunk holding a position by descending the Fenwick tree
 * (O(log chunks)) and then scans only the inside of that one chunk (at most ~2 * CHUNK units), so a
 * keystroke in a 1 MB document touches a couple of kilobytes, whatever the document's size.
 * Applying an op edits one or a few chunks and updates the trees in O(log chunks); only when a
 * chunk splits or empties does the chunk array change shape and the trees get rebuilt (O(chunks),
 * i.e. once every ~CHUNK typed characters at worst).
 *
 * Chunk boundaries always fall between code points, never inside a surrogate pair.
 */
import type { Op } from './ot.js';

/** Target chunk size in UTF-16 units; a chunk that grows past twice this is split. */
export const CHUNK = 1024;

/** Number of code points in a UTF-16 string (a well-formed surrogate pair counts once). */
export function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** UTF-16 offset of the code point offset `cp` inside `s` (clamped to s.length). */
export function cpToUnitIn(s: string, cp: number): number {
  let i = 0;
  while (cp > 0 && i < s.length) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1)) ? 2 : 1;
    cp--;
  }
  return i;
}

/** Code points in s[0, unit); a unit offset inside a surrogate pair counts the whole pair. */
export function unitToCpIn(s: string, unit: number): number {
  let n = 0;
  for (let i = 0; i < unit && i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) i++;
    n++;
  }
  return n;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Raised when an op does not fit the text it is applied to. */
export class OpRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpRangeError';
  }
}

class Fenwick {
  private tree: Float64Array;
  constructor(values: readonly number[]) {
    const n = values.length;
    this.tree = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) this.tree[i + 1] = values[i];
    for (let i = 1; i <= n; i++) {
      const j = i + (i & -i);
      if (j <= n) this.tree[j] += this.tree[i];
    }
  }
  add(index: number, delta: number): void {
    for (let i = index + 1; i < this.tree.length; i += i & -i) this.tree[i] += delta;
  }
  /** Sum of values[0, count). */
  prefix(count: number): number {
    let s = 0;
    for (let i = count; i > 0; i -= i & -i) s += this.tree[i];
    return s;
  }
  /** The number of leading values whose sum is <= target, and target minus that sum. */
  descend(target: number): [number, number] {
    let pos = 0;
    let rem = target;
    let step = 1;
    while (step * 2 < this.tree.length) step *= 2;
    for (; step > 0; step >>= 1) {
      const next = pos + step;
      if (next < this.tree.length && this.tree[next] <= rem) {
        pos = next;
        rem -= this.tree[next];
      }
    }
    return [pos, rem];
  }
}

/** Splits `s` into pieces of about CHUNK units, cutting only between code points. */
function splitIntoChunks(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (s.length - start > CHUNK) {
    let end = start + CHUNK;
    if (isLow(s.charCodeAt(end)) && end > start) end--;
    out.push(s.slice(start, end));
    start = end;
  }
  out.push(s.slice(start));
  return out;
}

export class ChunkedText {
  private chunks: string[];
  private cps: number[];
  private units!: Fenwick;
  private points!: Fenwick;
  private totalUnits = 0;
  private totalPoints = 0;

  constructor(text = '') {
    this.chunks = splitIntoChunks(text);
    this.cps = this.chunks.map(countCodePoints);
    this.rebuild();
  }

  /** Length in code points. */
  get length(): number {
    return this.totalPoints;
  }

  /** Length in UTF-16 units. */
  get utf16Length(): number {
    return this.totalUnits;
  }

  toString(): string {
    return this.chunks.join('');
  }

  /** Chunk index holding code point `cp` and the code point offset inside it. */
  private locateCp(cp: number): [number, number] {
    if (cp < 0 || cp > this.totalPoints) throw new OpRangeError(`position ${cp} outside 0..${this.totalPoints}`);
    const [k, rem] = this.points.descend(cp);
    if (k >= this.chunks.length) return [this.chunks.length - 1, this.cps[this.chunks.length - 1]];
    return [k, rem];
  }

  /** UTF-16 offset of code point offset `cp`. O(log chunks + CHUNK). */
  cpToUtf16(cp: number): number {
    const [k, rem] = this.locateCp(cp);
    return this.units.prefix(k) + cpToUnitIn(this.chunks[k], rem);
  }

  /** Code point offset of UTF-16 offset `unit` (inside a surrogate pair: after the pair). */
  utf16ToCp(unit: number): number {
    if (unit < 0 || unit > this.totalUnits) throw new OpRangeError(`offset ${unit} outside 0..${this.totalUnits}`);
    let [k, rem] = this.units.descend(unit);
    if (k >= this.chunks.length) {
      k = this.chunks.length - 1;
      rem = this.chunks[k].length;
    }
    return this.points.prefix(k) + unitToCpIn(this.chunks[k], rem);
  }

  /** Text between two code point offsets. */
  slice(from: number, to: number): string {
    let [k, rem] = this.locateCp(from);
    let left = to - from;
    let out = '';
    while (left > 0 && k < this.chunks.length) {
      const c = this.chunks[k];
      const start = cpToUnitIn(c, rem);
      const take = Math.min(left, this.cps[k] - rem);
      out += c.slice(start, start + cpToUnitIn(c.slice(start), take));
      left -= take;
      k++;
      rem = 0;
    }
    return out;
  }

  insert(cp: number, text: string): void {
    if (text.length === 0) return;
    const [k, rem] = this.locateCp(cp);
    const c = this.chunks[k];
    const at = cpToUnitIn(c, rem);
    const merged = c.slice(0, at) + text + c.slice(at);
    const added = countCodePoints(text);
    if (merged.length <= 2 * CHUNK) {
      this.chunks[k] = merged;
      this.cps[k] += added;
      this.units.add(k, text.length);
      this.points.add(k, added);
      this.totalUnits += text.length;
      this.totalPoints += added;
    } else {
      const parts = splitIntoChunks(merged);
      this.chunks.splice(k, 1, ...parts);
      this.cps.splice(k, 1, ...parts.map(countCodePoints));
      this.rebuild();
    }
  }

  delete(cp: number, count: number): void {
    if (count <= 0) return;
    if (cp + count > this.totalPoints) throw new OpRangeError(`delete ${cp}+${count} past end ${this.totalPoints}`);
    let [k, rem] = this.locateCp(cp);
    let left = count;
    let emptied = false;
    while (left > 0) {
      if (rem === this.cps[k]) {
        k++;
        rem = 0;
        continue;
      }
      const c = this.chunks[k];
      const start = cpToUnitIn(c, rem);
      const take = Math.min(left, this.cps[k] - rem);
      const end = start + cpToUnitIn(c.slice(start), take);
      this.chunks[k] = c.slice(0, start) + c.slice(end);
      this.cps[k] -= take;
      this.units.add(k, -(end - start));
      this.points.add(k, -take);
      this.totalUnits -= end - start;
      this.totalPoints -= take;
      if (this.chunks[k].length === 0) emptied = true;
      left -= take;
      k++;
      rem = 0;
    }
    if (emptied && this.chunks.length > 1) {
      const keep = this.chunks.map((c) => c.length > 0);
      this.chunks = this.chunks.filter((_, i) => keep[i]);
      this.cps = this.cps.filter((_, i) => keep[i]);
      if (this.chunks.length === 0) {
        this.chunks = [''];
        this.cps = [0];
      }
      this.rebuild();
    }
  }

  /** Applies a normalised code point op in place. Throws OpRangeError (text unchanged) if it does not fit. */
  apply(op: Op): void {
    let need = 0;
    for (const c of op) {
      if (typeof c === 'number') need += c;
      else if (typeof c === 'object') need += c.d;
    }
    if (need > this.totalPoints) throw new OpRangeError(`op spans ${need} code points, text has ${this.totalPoints}`);
    let pos = 0;
    for (const c of op) {
      if (typeof c === 'number') pos += c;
      else if (typeof c === 'string') {
        this.insert(pos, c);
        pos += countCodePoints(c);
      } else this.delete(pos, c.d);
    }
  }

  private rebuild(): void {
    this.units = new Fenwick(this.chunks.map((c) => c.length));
    this.points = new Fenwick(this.cps);
    this.totalUnits = this.chunks.reduce((a, c) => a + c.length, 0);
    this.totalPoints = this.cps.reduce((a, c) => a + c, 0);
  }
}
