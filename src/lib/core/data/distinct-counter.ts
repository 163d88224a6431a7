/**
 * Distinct counts of a stream of cells, in bounded memory: exact while a hash set fits, a HyperLogLog
 * estimate after. The import counts every column's values with it as its chunks fill
 * (`ColumnDistinctCounts`, used by `TableEncoder` on the data worker); nothing here depends on the
 * rest of the data code but the shape of a chunk's column buffers.
 */
import { LatheError } from '../errors';
import type { ColumnBuffers } from './chunk-writer';

/** Distinct values a `DistinctCounter` keeps exactly before it switches to an estimate. */
export const DISTINCT_EXACT_LIMIT = 100_000;
/** log₂ of the HyperLogLog register count: 2¹⁴ registers (16 KB), a relative standard error of 0.81 %. */
export const HLL_PRECISION = 14;
/**
 * Below 5·m distinct values a plain HyperLogLog estimate is biased (up to ~1.5 % near 2.5·m, where it
 * leaves linear counting), so a counter never starts estimating under this many.
 */
const MIN_ESTIMATED_DISTINCT = 5 * 2 ** HLL_PRECISION;

export interface DistinctCount {
  count: number;
  /** Null when `count` is exact; else the estimate's relative standard error (0.0081 is ±0.81 %). */
  relativeError: number | null;
}

/** Scratch space to read a number's 64 bits as two 32-bit words. */
const NUMBER_BITS = new Float64Array(1);
const NUMBER_WORDS = new Int32Array(NUMBER_BITS.buffer);
/** The high and low words of the last `numberBits`/`hashBytes64`, so no array is made per cell. */
const HASH = new Int32Array(2);
/** The bits of every NaN, as one value. */
const NAN_HIGH = 0x7ff80000;
/** Where a double's low and high 32-bit words are in an Int32Array over the same memory. */
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const HIGH_WORD = 1 - LOW_WORD;

/** `values` as pairs of 32-bit words, read without a store and load per number. */
function wordsOf(values: Float64Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

/** The high word of number bits as `numberBits` gives them: −0 as 0, any NaN as one NaN. */
function canonicalHigh(high: number, low: number): number {
  if ((high & 0x7ff00000) === 0x7ff00000 && ((high & 0xfffff) | low) !== 0) return NAN_HIGH;
  return high === -0x80000000 && low === 0 ? 0 : high;
}

/** A number's 64 bits into HASH, high word first: 0 and −0 are one value, and so is every NaN. */
function numberBits(value: number): void {
  if (value !== value) {
    HASH[0] = NAN_HIGH;
    HASH[1] = 0;
    return;
  }
  NUMBER_BITS[0] = value === 0 ? 0 : value;
  HASH[0] = NUMBER_WORDS[1] ?? 0;
  HASH[1] = NUMBER_WORDS[0] ?? 0;
}

/**
 * murmur3's finaliser, as a signed 32-bit integer: hashes stay int32 from end to end, which V8 keeps
 * unboxed (an unsigned result above 2³¹ is a heap number wherever it crosses a call).
 */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** 32 mixed bits of a pair of words; `mixPair(a, b)` and `mixPair(b, a)` are independent hashes. */
function mixPair(a: number, b: number): number {
  return mix32(b ^ Math.imul(a, 0x9e3779b1));
}

/** murmur3's mix of one 32-bit word of input. */
function mixWord(word: number): number {
  const k = Math.imul(word, 0xcc9e2d51);
  return Math.imul((k << 15) | (k >>> 17), 0x1b873593);
}

/**
 * 64 mixed bits of the bytes [start, end) into HASH: two accumulators over the same mixed 4-byte
 * words (murmur3's, and a multiply-xorshift one), so a collision needs both to collide. Four bytes
 * a step, read through `view`; the last word is the last four bytes, overlapping the one before when
 * the length is not a multiple of four (the length is hashed too). This runs on every text cell of
 * an import.
 */
function hashBytes64(view: DataView, bytes: Uint8Array, start: number, end: number): void {
  const length = end - start;
  let h1 = 0x9747b28c ^ length;
  let h2 = Math.imul(0x2545f491 ^ length, 0x9e3779b1);
  let word = 0;
  if (length >= 4) {
    for (let i = start; i + 4 < end; i += 4) {
      const k = mixWord(view.getInt32(i, true));
      h1 ^= k;
      h1 = (Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64) | 0;
      h2 = Math.imul(h2 ^ k, 0x85ebca6b);
      h2 ^= h2 >>> 15;
    }
    word = view.getInt32(end - 4, true);
  } else for (let i = start, shift = 0; i < end; i++, shift += 8) word |= (bytes[i] ?? 0) << shift;
  const k = mixWord(word);
  h1 ^= k;
  h1 = (Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64) | 0;
  h2 = Math.imul(h2 ^ k, 0x85ebca6b);
  h2 ^= h2 >>> 15;
  // Each word is a bijection of (h1, h2), so the 64 bits collide only where h1 and h2 both do.
  HASH[0] = mix32(h1);
  HASH[1] = mix32(h2 ^ h1);
}

/** Scratch for one value's bytes (a string's UTF-8, one cell's copy) and its DataView, for `hashBytes64`. */
let valueBytes = new Uint8Array(256);
let valueView = new DataView(valueBytes.buffer);

function reserveValueBytes(length: number): Uint8Array {
  if (valueBytes.length < length) {
    valueBytes = new Uint8Array(length);
    valueView = new DataView(valueBytes.buffer);
  }
  return valueBytes;
}

/** `hashBytes64` of one cell, copied into the scratch, which has a DataView already (making one costs more). */
function hashCell64(bytes: Uint8Array, start: number, end: number): void {
  const out = reserveValueBytes(end - start);
  for (let i = start; i < end; i++) out[i - start] = bytes[i] ?? 0;
  hashBytes64(valueView, out, 0, end - start);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** 64 mixed bits of a string: those of its UTF-8 bytes, so `addString(s)` and `addBytes` of s's UTF-8 agree. */
function hashString64(value: string): void {
  const n = value.length;
  const out = reserveValueBytes(n * 3);
  let p = 0;
  for (let i = 0; i < n; i++) {
    let c = value.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
      continue;
    }
    if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const low = i + 1 < n ? value.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        const code = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        out[p++] = 0xf0 | (code >> 18);
        out[p++] = 0x80 | ((code >> 12) & 0x3f);
        out[p++] = 0x80 | ((code >> 6) & 0x3f);
        out[p++] = 0x80 | (code & 0x3f);
        i++;
        continue;
      }
      c = 0xfffd;
    }
    out[p++] = 0xe0 | (c >> 12);
    out[p++] = 0x80 | ((c >> 6) & 0x3f);
    out[p++] = 0x80 | (c & 0x3f);
  }
  hashBytes64(valueView, out, 0, p);
}

/** The position of the first 1-bit among the 32 − p low bits of `high` and then the 32 bits of `low`. */
function rankOf(high: number, low: number, p: number): number {
  const rest = high << p;
  return rest !== 0 ? Math.clz32(rest) + 1 : 32 - p + (low !== 0 ? Math.clz32(low) : 32) + 1;
}

/**
 * HyperLogLog (Flajolet et al. 2007) over 64 bits of hash per value: the register of a value is
 * chosen by 14 bits, and it keeps the largest position of the first 1-bit seen in the other 50.
 * The count is the bias-corrected harmonic mean of the registers, or linear counting while many
 * registers are still empty; the relative standard error is 1.04/√m. Estimates between 2.5·m and
 * 5·m carry a known small bias that HyperLogLog++ corrects with tables; `DistinctCounter` only starts
 * estimating above 5·m (81,920), so it never lands there.
 */
export class HyperLogLog {
  readonly precision: number;
  readonly #registers: Uint8Array;

  constructor(precision = HLL_PRECISION) {
    if (!Number.isInteger(precision) || precision < 4 || precision > 18)
      throw new LatheError('invalid_precision', 'HyperLogLog precision must be an integer from 4 to 18.');
    this.precision = precision;
    this.#registers = new Uint8Array(1 << precision);
  }

  /** The relative standard error of this sketch's estimates. */
  get relativeError(): number {
    return 1.04 / Math.sqrt(this.#registers.length);
  }

  /** A number (dates as epoch ms, codes); 0 and −0 are one value. */
  addNumber(value: number): void {
    numberBits(value);
    this.addBits(HASH[0] ?? 0, HASH[1] ?? 0);
  }

  /** A string, as the UTF-8 bytes `addBytes` would be given for it. */
  addString(value: string): void {
    hashString64(value);
    this.addHash(HASH[0] ?? 0, HASH[1] ?? 0);
  }

  /** A string given as its UTF-8 bytes [start, end). */
  addBytes(bytes: Uint8Array, start: number, end: number): void {
    hashCell64(bytes, start, end);
    this.addHash(HASH[0] ?? 0, HASH[1] ?? 0);
  }

  /** A value given by 64 bits that are not yet mixed (a number's), as two 32-bit words. */
  addBits(high: number, low: number): void {
    this.addHash(mixPair(high, low), mixPair(low, high));
  }

  /** `addNumber` of `values[i]` for `from <= i < to` where `present[i]` is 1, in one tight loop. */
  addNumbers(values: Float64Array, present: Uint8Array, from: number, to: number): void {
    const registers = this.#registers;
    const p = this.precision;
    const words = wordsOf(values);
    for (let i = from; i < to; i++) {
      if (present[i] !== 1) continue;
      let bitsLow = words[2 * i + LOW_WORD] ?? 0;
      const bitsHigh = canonicalHigh(words[2 * i + HIGH_WORD] ?? 0, bitsLow);
      // A NaN's low word is dropped with the rest of its payload.
      if (bitsHigh === NAN_HIGH) bitsLow = 0;
      const high = mixPair(bitsHigh, bitsLow);
      const index = high >>> (32 - p);
      const rank = rankOf(high, mixPair(bitsLow, bitsHigh), p);
      if (rank > (registers[index] ?? 0)) registers[index] = rank;
    }
  }

  /** `addBytes` of the strings of an Arrow Utf8 layout (see `DistinctCounter.addUtf8`), in one tight loop. */
  addUtf8(bytes: Uint8Array, offsets: Int32Array, present: Uint8Array, from: number, to: number): void {
    const registers = this.#registers;
    const p = this.precision;
    const view = viewOf(bytes);
    for (let i = from; i < to; i++) {
      if (present[i] !== 1) continue;
      hashBytes64(view, bytes, offsets[i] ?? 0, offsets[i + 1] ?? 0);
      const high = HASH[0] ?? 0;
      const index = high >>> (32 - p);
      const rank = rankOf(high, HASH[1] ?? 0, p);
      if (rank > (registers[index] ?? 0)) registers[index] = rank;
    }
  }

  /** A value already hashed to 64 well-mixed bits, as two 32-bit words (signed or unsigned). */
  addHash(high: number, low: number): void {
    const p = this.precision;
    const index = high >>> (32 - p);
    const rank = rankOf(high, low, p);
    if (rank > (this.#registers[index] ?? 0)) this.#registers[index] = rank;
  }

  estimate(): number {
    const m = this.#registers.length;
    let sum = 0;
    let zeros = 0;
    for (let j = 0; j < m; j++) {
      const r = this.#registers[j] ?? 0;
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / m);
    const raw = (alpha * m * m) / sum;
    return Math.round(raw <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : raw);
  }
}

/** Slots of a new exact set; it doubles when more than 7/9 full (linear probing stays within a cache line or two). */
const INITIAL_SLOTS = 1024;

/** The slot a key starts probing from: the top bits of a multiplicative hash of both words. */
function slotOf(high: number, low: number, shift: number): number {
  return Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b) >>> shift;
}

/** Puts a non-zero key into an open-addressing table of (high, low) pairs; false when it is there already. */
function insertKey(keys: Int32Array, shift: number, high: number, low: number): boolean {
  const mask = (keys.length >> 1) - 1;
  for (let slot = slotOf(high, low, shift); ; slot = (slot + 1) & mask) {
    const at = slot << 1;
    const h = keys[at] ?? 0;
    const l = keys[at + 1] ?? 0;
    if (h === high && l === low) return false;
    if ((h | l) === 0) {
      keys[at] = high;
      keys[at + 1] = low;
      return true;
    }
  }
}

/**
 * Counts the distinct values of one column as cells stream by (an import, say), in bounded memory:
 * exactly, in an open-addressing set of 64-bit keys (8 bytes a slot; about 1 MB at 100,000 values),
 * up to `exactLimit` distinct values; then, with the set dropped, by a HyperLogLog sketch of 16 KB.
 * A number's key is its own bits, so numbers are counted exactly; a string's is a 64-bit hash of its
 * UTF-8, and two strings share one with a chance of about 1 in 3·10⁹ at 100,000 values. Feed one
 * kind of value per counter: numbers (`addNumber`, `addNumbers`) or strings (`addString`, or
 * `addBytes`/`addUtf8` with their UTF-8, which count alike).
 */
export class DistinctCounter {
  readonly exactLimit: number;
  /** Slot i holds a key in words 2i (high) and 2i + 1 (low); both 0 is an empty slot. */
  #keys: Int32Array | null = new Int32Array(2 * INITIAL_SLOTS);
  /** 32 − log₂ of the slot count, for `slotOf`. */
  #shift = 32 - Math.log2(INITIAL_SLOTS);
  /** The key 0:0 (the number 0, or a string that hashes to it), which no slot can hold, was seen. */
  #zero = false;
  #size = 0;
  /** The keys are numbers' bits, not yet mixed; strings' keys are hashes already. */
  #numbers = false;
  #sketch: HyperLogLog | null = null;

  /** `exactLimit` below 81,920 is raised to it, where the estimate's error bound holds. */
  constructor(exactLimit = DISTINCT_EXACT_LIMIT) {
    this.exactLimit = Math.max(exactLimit, MIN_ESTIMATED_DISTINCT);
  }

  /** Whether the count is still exact. */
  get exact(): boolean {
    return this.#sketch === null;
  }

  addNumber(value: number): void {
    this.#numbers = true;
    numberBits(value);
    this.#add(HASH[0] ?? 0, HASH[1] ?? 0);
  }

  /** The numbers `values[i]` for `i < length` where `present[i]` is 1 (a column and its validity). */
  addNumbers(values: Float64Array, present: Uint8Array, length: number): void {
    this.#numbers = true;
    const words = wordsOf(values);
    let keys = this.#keys;
    let shift = this.#shift;
    let stop = keys ? this.#resizeAt(keys) : 0;
    let size = this.#size;
    const sizeBefore = size;
    // One flat loop, the set's state in locals until it must grow or spill: an inner loop would be
    // compiled on its own (OSR), and leaving it sent V8 back to the interpreter once a chunk.
    for (let i = 0; i < length; i++) {
      if (present[i] !== 1) continue;
      if (!keys) {
        this.#sketch?.addNumbers(values, present, i, length);
        return;
      }
      let low = words[2 * i + LOW_WORD] ?? 0;
      const high = canonicalHigh(words[2 * i + HIGH_WORD] ?? 0, low);
      if (high === NAN_HIGH) low = 0;
      if ((high | low) === 0) {
        if (this.#zero) continue;
        this.#zero = true;
      } else if (!insertKey(keys, shift, high, low)) continue;
      if (++size < stop) continue;
      this.#size = size;
      this.#resize(size - sizeBefore, i + 1, length - i - 1);
      keys = this.#keys;
      shift = this.#shift;
      stop = keys ? this.#resizeAt(keys) : 0;
    }
    this.#size = size;
  }

  /** A string, as the UTF-8 bytes `addBytes` would be given for it. */
  addString(value: string): void {
    hashString64(value);
    this.#add(HASH[0] ?? 0, HASH[1] ?? 0);
  }

  /** A string given as its UTF-8 bytes [start, end), without decoding it. */
  addBytes(bytes: Uint8Array, start: number, end: number): void {
    hashCell64(bytes, start, end);
    this.#add(HASH[0] ?? 0, HASH[1] ?? 0);
  }

  /**
   * The strings `bytes[offsets[i], offsets[i + 1])` for `i < length` where `present[i]` is 1: an
   * Arrow Utf8 column's layout. One flat loop, as `addNumbers`.
   */
  addUtf8(bytes: Uint8Array, offsets: Int32Array, present: Uint8Array, length: number): void {
    const view = viewOf(bytes);
    let keys = this.#keys;
    let shift = this.#shift;
    let stop = keys ? this.#resizeAt(keys) : 0;
    let size = this.#size;
    const sizeBefore = size;
    for (let i = 0; i < length; i++) {
      if (present[i] !== 1) continue;
      if (!keys) {
        this.#sketch?.addUtf8(bytes, offsets, present, i, length);
        return;
      }
      hashBytes64(view, bytes, offsets[i] ?? 0, offsets[i + 1] ?? 0);
      const high = HASH[0] ?? 0;
      const low = HASH[1] ?? 0;
      if ((high | low) === 0) {
        if (this.#zero) continue;
        this.#zero = true;
      } else if (!insertKey(keys, shift, high, low)) continue;
      if (++size < stop) continue;
      this.#size = size;
      this.#resize(size - sizeBefore, i + 1, length - i - 1);
      keys = this.#keys;
      shift = this.#shift;
      stop = keys ? this.#resizeAt(keys) : 0;
    }
    this.#size = size;
  }

  result(): DistinctCount {
    if (!this.#sketch) return { count: this.#size, relativeError: null };
    // The set held more than `exactLimit` values when it was dropped, so the count is at least that.
    return {
      count: Math.max(this.exactLimit + 1, this.#sketch.estimate()),
      relativeError: this.#sketch.relativeError
    };
  }

  #add(high: number, low: number): void {
    const keys = this.#keys;
    if (!keys) {
      if (this.#numbers) this.#sketch?.addBits(high, low);
      else this.#sketch?.addHash(high, low);
      return;
    }
    if ((high | low) === 0) {
      if (this.#zero) return;
      this.#zero = true;
    } else if (!insertKey(keys, this.#shift, high, low)) return;
    this.#size++;
    if (this.#size >= this.#resizeAt(keys)) this.#resize(0, 1, 0);
  }

  /** The size at which the set must grow (more than 7/9 of its slots used) or spill (past the limit). */
  #resizeAt(keys: Int32Array): number {
    return Math.min(Math.floor((keys.length * 7) / 18) + 1, this.exactLimit + 1);
  }

  /**
   * Spills past the limit, else grows: at least twice, and enough for the values still to come in
   * this batch (`remaining`) if new ones keep coming at the rate they did (`added` of `seen`) — one
   * step, not many, for a key column. (Out of the loops: the rate is a fraction, which optimised
   * integer code would deoptimise on.)
   */
  #resize(added: number, seen: number, remaining: number): void {
    if (this.#size > this.exactLimit) {
      this.#spill();
      return;
    }
    const keys = this.#keys;
    if (!keys) return;
    const expected = this.#size + Math.ceil((added / Math.max(seen, 1)) * remaining);
    const target = Math.min(expected, this.exactLimit + 1);
    let length = keys.length * 2;
    while (target * 18 > length * 7) length *= 2;
    this.#grow(keys, length);
  }

  #grow(keys: Int32Array, length: number): void {
    const grown = new Int32Array(length);
    this.#shift -= Math.log2(length / keys.length);
    for (let k = 0; k < keys.length; k += 2) {
      const high = keys[k] ?? 0;
      const low = keys[k + 1] ?? 0;
      if ((high | low) !== 0) insertKey(grown, this.#shift, high, low);
    }
    this.#keys = grown;
  }

  #spill(): void {
    const sketch = new HyperLogLog();
    const add = this.#numbers ? sketch.addBits.bind(sketch) : sketch.addHash.bind(sketch);
    const keys = this.#keys;
    if (keys) {
      for (let k = 0; k < keys.length; k += 2) {
        const high = keys[k] ?? 0;
        const low = keys[k + 1] ?? 0;
        if ((high | low) !== 0) add(high, low);
      }
    }
    if (this.#zero) add(0, 0);
    this.#sketch = sketch;
    this.#keys = null;
  }
}

/**
 * Each column's distinct count over the chunks it is given, in a non-dictionary storage (a
 * dictionary counts its own categories); `reset` starts one again from given values, for a
 * categorical column that turned text.
 */
export class ColumnDistinctCounts {
  private counters: Array<DistinctCounter | undefined> = [];

  /** The first `length` rows of each column of a chunk. */
  add(columns: readonly ColumnBuffers[], length: number): void {
    columns.forEach((column, index) => {
      if (column.storage === 'dict') return;
      let counter = this.counters[index];
      if (!counter) {
        counter = new DistinctCounter();
        this.counters[index] = counter;
      }
      if (column.utf8) counter.addUtf8(column.utf8.bytes, column.utf8.offsets, column.valid, length);
      else if (column.nums) counter.addNumbers(column.nums, column.valid, length);
    });
  }

  reset(index: number, values: Iterable<string>): void {
    const counter = new DistinctCounter();
    for (const value of values) counter.addString(value);
    this.counters[index] = counter;
  }

  /** Distinct counts by column index; null for a column never counted. */
  result(): Array<DistinctCount | null> {
    return this.counters.map((counter) => counter?.result() ?? null);
  }
}
