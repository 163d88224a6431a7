/**
 * Reading cells straight from UTF-8 bytes, for the CSV fast path of `TableEncoder`: no string per
 * cell, yet exactly what the string rules give (`Number(text)`, `trim()`, the missing tokens of
 * `./infer`). Each reader handles the plain cases and answers "not sure" for anything else; the
 * caller then decodes the cell and takes it through the general path, so the fast path can only be
 * faster, never different. Byte loops, because indexing a Uint8Array costs a fraction of
 * `charCodeAt` on a string in V8.
 */

/** Powers of ten that are exact doubles. */
const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22
];
/** Up to this many digits the mantissa is an exact integer double (< 2^53). */
const MAX_EXACT_DIGITS = 15;

/**
 * `Number(text)` of the cell `bytes[start, end)` when it is a plain decimal: an optional sign,
 * digits, at most one point, at most 15 digits in all. NaN for anything else (exponents, blanks,
 * longer numbers, words), which the caller reads the general way. Exact: the digits form an integer
 * below 2^53 and the power of ten is exact, so the one rounding of the division is the correctly
 * rounded value Number() gives.
 */
export function plainDecimal(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  const sign = bytes[i] ?? 0;
  const negative = sign === 0x2d;
  if (negative || sign === 0x2b) i++;
  const first = i;
  let mantissa = 0;
  // Integer digits, then, after a point, fraction digits: two tight loops.
  for (; i < end; i++) {
    const d = (bytes[i] ?? 0) - 48;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
  }
  let fraction = 0;
  let digits = i - first;
  if (i < end) {
    if (bytes[i] !== 0x2e) return Number.NaN;
    const point = ++i;
    for (; i < end; i++) {
      const d = (bytes[i] ?? 0) - 48;
      if (d < 0 || d > 9) return Number.NaN;
      mantissa = mantissa * 10 + d;
    }
    fraction = end - point;
    digits += fraction;
  }
  if (digits === 0 || digits > MAX_EXACT_DIGITS) return Number.NaN;
  const value = fraction === 0 ? mantissa : mantissa / (POW10[fraction] ?? 1);
  return negative ? -value : value;
}

/** True for the code points `String.prototype.trim` removes (ECMAScript WhiteSpace and LineTerminator). */
export function isTrimmed(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** The code point of the valid UTF-8 sequence that starts at `at`. */
function codePointAt(bytes: Uint8Array, at: number): number {
  const b = bytes[at] ?? 0;
  if (b < 0x80) return b;
  const c1 = (bytes[at + 1] ?? 0) & 0x3f;
  if (b < 0xe0) return ((b & 0x1f) << 6) | c1;
  const c2 = (bytes[at + 2] ?? 0) & 0x3f;
  if (b < 0xf0) return ((b & 0x0f) << 12) | (c1 << 6) | c2;
  return ((b & 0x07) << 18) | (c1 << 12) | (c2 << 6) | ((bytes[at + 3] ?? 0) & 0x3f);
}

/** The cell (valid UTF-8) is its own `trim()`: non-empty with no blank at either end. */
export function isTrimmedRange(bytes: Uint8Array, start: number, end: number): boolean {
  if (end <= start) return false;
  const first = bytes[start] ?? 0;
  if (first < 0x80 ? isTrimmed(first) : isTrimmed(codePointAt(bytes, start))) return false;
  let last = end - 1;
  if ((bytes[last] ?? 0) < 0x80) return !isTrimmed(bytes[last] ?? 0);
  // Back to the first byte of the last character.
  while (last > start && ((bytes[last] ?? 0) & 0xc0) === 0x80) last--;
  return !isTrimmed(codePointAt(bytes, last));
}

const QUESTION = 0x3f;
/** The missing tokens as lower-case ASCII byte strings, by length. */
const MISSING_SHORT = ['na', 'n/a', 'null', '?', 'nan'];

/**
 * Whether the cell is one of the missing tokens (`''`, `na`, `n/a`, `null`, `?`, `nan`, compared
 * trimmed and lower-cased), like `TableEncoder`'s check of a string cell; undefined when it cannot
 * tell without the string (blanks at the ends, non-ASCII at the end).
 */
export function missingRange(bytes: Uint8Array, start: number, end: number): boolean | undefined {
  if (end === start) return true;
  const first = bytes[start] ?? 0;
  // Every token starts with n, N or ?, unless the cell has leading blanks: the string rule's shortcut
  // (a first byte ≥ 0x80 starts a character above U+0020, which it also answers "no" for).
  if (first !== 0x6e && first !== 0x4e && first !== QUESTION && first > 0x20) return false;
  if (first <= 0x20) return undefined;
  const last = bytes[end - 1] ?? 0;
  if (last <= 0x20 || last >= 0x7f) return undefined;
  // No blank at either end, so the trimmed cell is the range. The tokens are ASCII of at most 4
  // characters, and no other character lower-cases to ASCII letters of theirs.
  const length = end - start;
  if (length > 4) return false;
  for (const token of MISSING_SHORT) {
    if (token.length !== length) continue;
    let same = true;
    for (let k = 0; k < length; k++) {
      const b = bytes[start + k] ?? 0;
      const lower = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
      if (lower !== token.charCodeAt(k)) {
        same = false;
        break;
      }
    }
    if (same) return true;
  }
  return false;
}

function wordCode(word: string): number {
  let code = 0;
  for (let i = 0; i < word.length; i++) code = code * 32 + (word.charCodeAt(i) - 0x60);
  return code;
}
const TRUE_WORD = wordCode('true');
const YES_WORD = wordCode('yes');
const FALSE_WORD = wordCode('false');
const NO_WORD = wordCode('no');

/**
 * A boolean cell (`true`/`yes` → 1, `false`/`no` → 0, any case) as `trim().toLowerCase()` reads it;
 * -1 when it is something else or needs the string (blanks, non-ASCII).
 */
export function booleanRange(bytes: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 2 || n > 5) return -1;
  let word = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i] ?? 0;
    // ASCII letters only; `| 0x20` lower-cases them.
    const lower = c | 0x20;
    if (c >= 0x80 || lower < 0x61 || lower > 0x7a) return -1;
    word = word * 32 + (lower - 0x60);
  }
  if (word === TRUE_WORD || word === YES_WORD) return 1;
  if (word === FALSE_WORD || word === NO_WORD) return 0;
  return -1;
}

/**
 * DataViews of the last two byte arrays asked about, made again only when another array comes: the
 * cells of one piece come one after another (now and then one from the scratch buffer of fields
 * that were copied), and making a view costs more than reading a cell through it.
 */
class LastView {
  private bytes: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.bytes.buffer);
  private otherBytes: Uint8Array = this.bytes;
  private otherView = this.view;

  of(bytes: Uint8Array): DataView {
    if (bytes === this.bytes) return this.view;
    const view =
      bytes === this.otherBytes
        ? this.otherView
        : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.otherBytes = this.bytes;
    this.otherView = this.view;
    this.bytes = bytes;
    this.view = view;
    return view;
  }
}

/** A growable byte buffer. */
export class ByteBuffer {
  bytes: Uint8Array;
  end = 0;
  /** `bytes` as a DataView, to read and write four bytes a step; replaced with `bytes`. */
  view: DataView;
  private readonly sources = new LastView();

  constructor(capacity = 64) {
    this.bytes = new Uint8Array(Math.max(16, capacity));
    this.view = new DataView(this.bytes.buffer);
  }

  /** Room for `extra` more bytes. */
  reserve(extra: number): void {
    const need = this.end + extra;
    if (need <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(need, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.end));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  append(source: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    this.reserve(n);
    const bytes = this.bytes;
    const p = this.end;
    this.end = p + n;
    if (n < 4) {
      for (let i = 0; i < n; i++) bytes[p + i] = source[start + i] ?? 0;
    } else if (n < 256) {
      // Cells are short: words through DataViews beat making a subarray view to `set` from. The
      // last word is the last four bytes, overlapping the one before it: no byte-by-byte tail.
      const from = this.sources.of(source);
      const to = this.view;
      const last = n - 4;
      for (let k = 0; k < last; k += 4) to.setInt32(p + k, from.getInt32(start + k, true), true);
      to.setInt32(p + last, from.getInt32(start + last, true), true);
    } else bytes.set(source.subarray(start, end), p);
  }

  appendByte(b: number): void {
    this.reserve(1);
    this.bytes[this.end++] = b;
  }

  /**
   * Appends a string as UTF-8. With `wtf8`, a lone surrogate is written as its own 3-byte form
   * (WTF-8), so that different strings never share bytes (set keys); without, as U+FFFD, the way
   * `TextEncoder` writes it (column values).
   */
  appendString(text: string, wtf8 = false): void {
    this.reserve(text.length * 3);
    const bytes = this.bytes;
    let p = this.end;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) {
        bytes[p++] = c;
        continue;
      }
      if (c < 0x800) {
        bytes[p++] = 0xc0 | (c >> 6);
        bytes[p++] = 0x80 | (c & 0x3f);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const low = i + 1 < n ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
          const code = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          bytes[p++] = 0xf0 | (code >> 18);
          bytes[p++] = 0x80 | ((code >> 12) & 0x3f);
          bytes[p++] = 0x80 | ((code >> 6) & 0x3f);
          bytes[p++] = 0x80 | (code & 0x3f);
          i++;
          continue;
        }
        if (!wtf8) c = 0xfffd;
      }
      bytes[p++] = 0xe0 | (c >> 12);
      bytes[p++] = 0x80 | ((c >> 6) & 0x3f);
      bytes[p++] = 0x80 | (c & 0x3f);
    }
    this.end = p;
  }
}

/**
 * The UTF-8 bytes and offsets of a string column's rows in the current chunk, written as cells
 * arrive: the layout of an Arrow Utf8 vector, with no string kept per cell.
 */
export class Utf8Buffer extends ByteBuffer {
  /** `offsets[i + 1]` is where row i ends; `offsets[0]` is 0. */
  offsets: Int32Array;

  constructor(rows: number) {
    super(rows * 8);
    this.offsets = new Int32Array(rows + 1);
  }

  /** Ends row `i` with what was written since the previous row (nothing: an empty or missing value). */
  endRow(i: number): void {
    this.offsets[i + 1] = this.end;
  }

  /** Empties the buffer into new storage (`offsets` of the same rows; its old values do not matter). */
  refill(bytes: Uint8Array, offsets: Int32Array): void {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offsets = offsets;
    offsets[0] = 0;
    this.end = 0;
  }
}

/**
 * Hash of a byte range, four bytes a step through `view` (the last word is the last four bytes,
 * overlapping the one before when the length is not a multiple of four): a multiply and a shift per
 * word, then MurmurHash3's final mix, so the low bits that pick a slot depend on every byte.
 */
function hashBytes(view: DataView, bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  let h = length;
  let word = 0;
  if (length >= 4) {
    for (let i = start; i + 4 < end; i += 4) {
      h = Math.imul(h ^ view.getInt32(i, true), 0x9e3779b1);
      h ^= h >>> 15;
    }
    word = view.getInt32(end - 4, true);
  } else for (let i = start, shift = 0; i < end; i++, shift += 8) word |= (bytes[i] ?? 0) << shift;
  return finalMix(Math.imul(h ^ word, 0x85ebca6b));
}

/** Whether `length` bytes from `a` at `aStart` and from `b` at `bStart` are the same; four a step. */
function sameBytes(
  aView: DataView,
  a: Uint8Array,
  aStart: number,
  bView: DataView,
  b: Uint8Array,
  bStart: number,
  length: number
): boolean {
  if (length < 4) {
    for (let k = 0; k < length; k++) if (a[aStart + k] !== b[bStart + k]) return false;
    return true;
  }
  const last = length - 4;
  for (let k = 0; k < last; k += 4) {
    if (aView.getInt32(aStart + k, true) !== bView.getInt32(bStart + k, true)) return false;
  }
  return aView.getInt32(aStart + last, true) === bView.getInt32(bStart + last, true);
}

function finalMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The string the valid UTF-8 `bytes[start, end)` spell. A short ASCII cell is built here: a
 * `TextDecoder` call costs several times more than the few characters it would decode.
 */
export function utf8Text(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 32) {
    let text = '';
    let i = start;
    for (; i < end; i++) {
      const b = bytes[i] ?? 0;
      if (b >= 0x80) break;
      text += String.fromCharCode(b);
    }
    if (i === end) return text;
  }
  return utf8Decoder.decode(bytes.subarray(start, end));
}

/**
 * A set of strings in insertion order, keyed by their UTF-8 bytes, that can be asked about a range
 * of bytes without decoding it: the distinct values of a string column, and the categories of a
 * dictionary column (where the index is the category's code). Two strings are the same key exactly
 * when they are equal strings (lone surrogates, which only strings from JSON can hold, get their
 * own bytes: WTF-8).
 */
export class ByteSet {
  /** The values as strings, when kept (`keepValues`). */
  readonly values: string[] = [];
  private readonly keepValues: boolean;
  private count = 0;
  private readonly pool = new ByteBuffer(256);
  private starts = new Int32Array(16);
  private ends = new Int32Array(16);
  private hashes = new Int32Array(16);
  /** Open addressing: index + 1 of the value in each slot, 0 when empty. */
  private slots = new Int32Array(32);
  private readonly scratch = new ByteBuffer(64);
  private readonly views = new LastView();

  constructor(options: { keepValues?: boolean; values?: Iterable<string> } = {}) {
    this.keepValues = options.keepValues ?? false;
    for (const value of options.values ?? []) this.addString(value);
  }

  get size(): number {
    return this.count;
  }

  /** The index of the value with the UTF-8 bytes `bytes[start, end)`, or -1. */
  indexOfBytes(bytes: Uint8Array, start: number, end: number): number {
    const view = this.views.of(bytes);
    return this.find(view, bytes, start, end, hashBytes(view, bytes, start, end));
  }

  /** Adds the value with the UTF-8 bytes `bytes[start, end)` unless it is in already; returns its index. */
  addBytes(bytes: Uint8Array, start: number, end: number, value?: string): number {
    const view = this.views.of(bytes);
    const h = hashBytes(view, bytes, start, end);
    const found = this.find(view, bytes, start, end, h);
    if (found >= 0) return found;
    if (this.keepValues) this.values.push(value ?? utf8Text(bytes, start, end));
    return this.insert(bytes, start, end, h);
  }

  indexOfString(value: string): number {
    const { bytes, end } = this.keyOf(value);
    return this.indexOfBytes(bytes, 0, end);
  }

  addString(value: string): number {
    const { bytes, end } = this.keyOf(value);
    return this.addBytes(bytes, 0, end, value);
  }

  private keyOf(value: string): ByteBuffer {
    const scratch = this.scratch;
    scratch.end = 0;
    scratch.appendString(value, true);
    return scratch;
  }

  private find(view: DataView, bytes: Uint8Array, start: number, end: number, h: number): number {
    const mask = this.slots.length - 1;
    const length = end - start;
    const pool = this.pool;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot] ?? 0;
      if (entry === 0) return -1;
      const index = entry - 1;
      if (this.hashes[index] !== h) continue;
      const at = this.starts[index] ?? 0;
      if ((this.ends[index] ?? 0) - at !== length) continue;
      if (sameBytes(pool.view, pool.bytes, at, view, bytes, start, length)) return index;
    }
  }

  private insert(bytes: Uint8Array, start: number, end: number, h: number): number {
    const index = this.count++;
    if (index === this.hashes.length) {
      this.hashes = grow(this.hashes);
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    this.hashes[index] = h;
    this.starts[index] = this.pool.end;
    this.pool.append(bytes, start, end);
    this.ends[index] = this.pool.end;
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(index, h);
    return index;
  }

  private place(index: number, h: number): void {
    const mask = this.slots.length - 1;
    let slot = h & mask;
    while ((this.slots[slot] ?? 0) !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = index + 1;
  }

  private rehash(capacity: number): void {
    this.slots = new Int32Array(capacity);
    for (let i = 0; i < this.count; i++) this.place(i, this.hashes[i] ?? 0);
  }
}

function grow(array: Int32Array): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(array.length * 2);
  grown.set(array);
  return grown;
}
