/**
 * Column-wise readers and statistics shared by profiling, validation and expectations.
 *
 * A column of an Arrow table is read once into one flat typed array, whatever its chunking:
 * - numbers (integer, float, date, date-time; any Arrow int/float/date/timestamp) → `Float64Array`,
 *   NaN where missing (a stored NaN counts as missing too, as in pandas); dates as epoch milliseconds;
 * - booleans and dictionaries → `Int32Array` codes into one list of labels, -1 where missing;
 * - strings (Utf8, LargeUtf8) → a 53-bit hash of each value's UTF-8 bytes in a `Float64Array` (NaN where
 *   missing) and its length in code points; the string itself is decoded only when asked for.
 *
 * Counting distinct strings by their hashes is exact unless two different strings share a 53-bit hash:
 * with a million distinct values the chance that any pair does is about 1 in 18,000.
 *
 * Quantiles interpolate linearly between order statistics (numpy's default, "type 7");
 * standard deviations are sample ones (n − 1 in the denominator), as in pandas.
 */
import {
  DateUnit,
  Precision,
  TimeUnit,
  Type,
  type Data,
  type DataType,
  type Field,
  type Table,
  type Vector
} from 'apache-arrow';
import { LatheError } from '../errors';
import type { ColumnType } from '../records';
import { columnTypeOfArrowField } from './arrow';
import { sortNumbers, type SortScratch } from './sort-numbers';

interface ColumnBase {
  name: string;
  type: ColumnType;
  length: number;
  /** Nulls, plus NaN in number columns. */
  missing: number;
}

export interface NumberColumn extends ColumnBase {
  storage: 'number';
  /** One value per row, NaN where missing; dates and date-times as epoch milliseconds (UTC). */
  values: Float64Array;
}

export interface CodeColumn extends ColumnBase {
  storage: 'codes';
  /** One code per row into `labels`, -1 where missing. */
  codes: Int32Array;
  labels: string[];
}

export interface StringColumn extends ColumnBase {
  storage: 'string';
  /** A 53-bit hash of each value's UTF-8 bytes, NaN where missing: equal strings have equal hashes. */
  hashes: Float64Array;
  /** Length in Unicode code points, -1 where missing. */
  lengths: Int32Array;
  valueAt(row: number): string | null;
}

export type ColumnData = NumberColumn | CodeColumn | StringColumn;

/** A cell as people read it: numbers as numbers, dates as ISO text, categories as their label. */
export type DisplayValue = string | number | boolean | null;

const DAY_MS = 86_400_000;
const TWO_32 = 4_294_967_296;

/** The Lathe type of a field: its `lathe.type` metadata, else one that fits its Arrow type. */
export function columnTypeOf(field: Field): ColumnType {
  return columnTypeOfArrowField(field) ?? 'text';
}

export function isNumericType(type: ColumnType): boolean {
  return type === 'integer' || type === 'float';
}

export function isTemporalType(type: ColumnType): boolean {
  return type === 'date' || type === 'datetime';
}

/** Reads one column of `table` (see the module comment for the representation). */
export function readColumn(table: Table, name: string): ColumnData {
  const index = table.schema.fields.findIndex((f) => f.name === name);
  const field = table.schema.fields[index];
  const vector = index >= 0 ? table.getChildAt(index) : null;
  if (!field || !vector) throw new LatheError('column_missing', `The dataset has no column “${name}”.`);
  const type = columnTypeOf(field);
  const arrowType = field.type as DataType;
  switch (arrowType.typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Timestamp:
    case Type.Decimal:
      return { storage: 'number', name, type, length: vector.length, ...readNumbers(vector) };
    case Type.Bool:
      return { storage: 'codes', name, type, length: vector.length, ...readBooleans(vector) };
    case Type.Dictionary:
      return { storage: 'codes', name, type, length: vector.length, ...readDictionary(vector) };
    case Type.Utf8:
    case Type.LargeUtf8:
      return { storage: 'string', name, type, length: vector.length, ...readUtf8(vector) };
    default:
      return { storage: 'string', name, type, length: vector.length, ...readOther(vector) };
  }
}

/**
 * The validity bitmap of a chunk when it has missing cells, else null. `nullCount` is read once: it is a
 * getter that checks the type every call. A chunk that counts nulls but has no bitmap is all missing.
 */
function validityOf(data: Data): Uint8Array | null {
  return data.nullCount === 0 ? null : (data.nullBitmap ?? ALL_MISSING);
}

const ALL_MISSING = new Uint8Array(0);

/** Whether row `i` of a chunk is present, given its `validityOf`. */
function isValid(validity: Uint8Array | null, offset: number, i: number): boolean {
  if (validity === null) return true;
  const bit = offset + i;
  return ((validity[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
}

/** Milliseconds per stored unit of a date or timestamp type; 1 for plain numbers. */
function msPerUnit(type: DataType): number {
  if (type.typeId === Type.Date)
    return (type as unknown as { unit: DateUnit }).unit === DateUnit.DAY ? DAY_MS : 1;
  if (type.typeId === Type.Timestamp) {
    switch ((type as unknown as { unit: TimeUnit }).unit) {
      case TimeUnit.SECOND:
        return 1000;
      case TimeUnit.MICROSECOND:
        return 1e-3;
      case TimeUnit.NANOSECOND:
        return 1e-6;
      default:
        return 1;
    }
  }
  return 1;
}

function readNumbers(vector: Vector): { values: Float64Array; missing: number } {
  const values = new Float64Array(vector.length);
  let position = 0;
  // One small function per loop: each is compiled once for the arrays it sees, however many chunks.
  for (const data of vector.data) {
    const type = data.type as DataType;
    const scale = msPerUnit(type);
    const raw = data.values as unknown;
    const n = data.length;
    const validity = validityOf(data);
    const halfFloat =
      type.typeId === Type.Float &&
      (type as unknown as { precision: Precision }).precision === Precision.HALF;
    if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
      readWords(values, position, raw, n, scale, validity, data.offset);
    } else if (
      !halfFloat &&
      ArrayBuffer.isView(raw) &&
      !(raw instanceof DataView) &&
      type.typeId !== Type.Decimal &&
      (raw as unknown as ArrayLike<number>).length >= n
    ) {
      // A typed-array copy converts any integer or float width; then scale and blank the missing rows.
      values.set((raw as unknown as Float64Array).subarray(0, n), position);
      if (scale !== 1) scaleRange(values, position, n, scale);
      if (validity !== null) blankMissing(values, position, n, validity, data.offset);
    } else {
      // Half floats, decimals and legacy layouts: slower, through Arrow's own getters.
      for (let i = 0; i < n; i++) values[position + i] = toNumber(vector.get(position + i)) * scale;
    }
    position += n;
  }
  return { values, missing: countNaN(values) };
}

/** 64-bit integers as two 32-bit words each: much faster to combine than BigInt → Number. */
function readWords(
  values: Float64Array,
  position: number,
  raw: BigInt64Array | BigUint64Array,
  n: number,
  scale: number,
  validity: Uint8Array | null,
  offset: number
): void {
  const words =
    raw instanceof BigInt64Array
      ? new Int32Array(raw.buffer, raw.byteOffset, n * 2)
      : new Uint32Array(raw.buffer, raw.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    values[position + i] = isValid(validity, offset, i)
      ? (((words[2 * i] ?? 0) >>> 0) + (words[2 * i + 1] ?? 0) * TWO_32) * scale
      : Number.NaN;
  }
}

function scaleRange(values: Float64Array, position: number, n: number, scale: number): void {
  for (let i = position; i < position + n; i++) values[i] = (values[i] as number) * scale;
}

function blankMissing(
  values: Float64Array,
  position: number,
  n: number,
  validity: Uint8Array,
  offset: number
): void {
  for (let i = 0; i < n; i++) if (!isValid(validity, offset, i)) values[position + i] = Number.NaN;
}

function countNaN(values: Float64Array): number {
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    if (x !== x) missing++; // only NaN differs from itself
  }
  return missing;
}

function toNumber(value: unknown): number {
  if (value === null || value === undefined) return Number.NaN;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.getTime();
  return Number(value);
}

function readBooleans(vector: Vector): { codes: Int32Array; labels: string[]; missing: number } {
  const codes = new Int32Array(vector.length);
  let missing = 0;
  let position = 0;
  for (const data of vector.data) {
    const bits = data.values as Uint8Array;
    const validity = validityOf(data);
    for (let i = 0; i < data.length; i++) {
      if (!isValid(validity, data.offset, i)) {
        codes[position + i] = -1;
        missing++;
        continue;
      }
      const bit = data.offset + i;
      codes[position + i] = ((bits[bit >> 3] ?? 0) >> (bit & 7)) & 1;
    }
    position += data.length;
  }
  return { codes, labels: ['false', 'true'], missing };
}

function readDictionary(vector: Vector): { codes: Int32Array; labels: string[]; missing: number } {
  const codes = new Int32Array(vector.length);
  const labels: string[] = [];
  const codeOf = new Map<string, number>();
  // Chunks usually share one dictionary vector; map each distinct one to global codes once.
  const remaps = new Map<unknown, Int32Array>();
  let missing = 0;
  let position = 0;
  for (const data of vector.data) {
    const dictionary = data.dictionary;
    let remap = remaps.get(dictionary);
    if (!remap) {
      remap = new Int32Array(dictionary?.length ?? 0);
      for (let i = 0; i < remap.length; i++) {
        const value: unknown = dictionary?.get(i);
        if (value === null || value === undefined) {
          remap[i] = -1;
          continue;
        }
        const label = String(value);
        let code = codeOf.get(label);
        if (code === undefined) {
          code = labels.length;
          codeOf.set(label, code);
          labels.push(label);
        }
        remap[i] = code;
      }
      remaps.set(dictionary, remap);
    }
    const indices = data.values as unknown as ArrayLike<number | bigint>;
    const validity = validityOf(data);
    const wide = indices instanceof BigInt64Array || indices instanceof BigUint64Array;
    for (let i = 0; i < data.length; i++) {
      const index = isValid(validity, data.offset, i) ? (indices[i] ?? -1) : -1;
      const local = wide ? Number(index) : (index as number);
      const code = local >= 0 ? (remap[local] ?? -1) : -1;
      codes[position + i] = code;
      if (code < 0) missing++;
    }
    position += data.length;
  }
  return { codes, labels, missing };
}

/** Mixes a 32-bit hash (murmur3's finaliser). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Two independent 32-bit hashes of bytes [start, end), folded into one exact 53-bit integer. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h1 = 0x811c9dc5 ^ (end - start);
  let h2 = 0x9747b28c;
  for (let k = start; k < end; k++) {
    const b = bytes[k] ?? 0;
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return fmix32(h1) * 2_097_152 + (fmix32(h2) >>> 11);
}

const encoder = new TextEncoder();

/** The hash `readColumn` gives a string cell with this value. */
export function hashString(value: string): number {
  const bytes = encoder.encode(value);
  return hashBytes(bytes, 0, bytes.length);
}

function readUtf8(vector: Vector): {
  hashes: Float64Array;
  lengths: Int32Array;
  missing: number;
  valueAt(row: number): string | null;
} {
  const hashes = new Float64Array(vector.length);
  const lengths = new Int32Array(vector.length);
  let missing = 0;
  let position = 0;
  for (const data of vector.data) {
    const offsets = data.valueOffsets as unknown as ArrayLike<number | bigint>;
    const bytes = data.values as Uint8Array;
    const wide = offsets instanceof BigInt64Array;
    const validity = validityOf(data);
    for (let i = 0; i < data.length; i++) {
      if (!isValid(validity, data.offset, i)) {
        hashes[position + i] = Number.NaN;
        lengths[position + i] = -1;
        missing++;
        continue;
      }
      const start = wide ? Number(offsets[i]) : ((offsets[i] as number | undefined) ?? 0);
      const end = wide ? Number(offsets[i + 1]) : ((offsets[i + 1] as number | undefined) ?? 0);
      // `hashBytes` inlined with the length count: one pass over the bytes instead of two.
      let h1 = 0x811c9dc5 ^ (end - start);
      let h2 = 0x9747b28c;
      // Code points: every byte that does not continue a multi-byte sequence starts one.
      let count = 0;
      for (let k = start; k < end; k++) {
        const b = bytes[k] ?? 0;
        h1 = Math.imul(h1 ^ b, 0x01000193);
        h2 = Math.imul(h2 ^ b, 0x5bd1e995);
        h2 ^= h2 >>> 15;
        if ((b & 0xc0) !== 0x80) count++;
      }
      hashes[position + i] = fmix32(h1) * 2_097_152 + (fmix32(h2) >>> 11);
      lengths[position + i] = count;
    }
    position += data.length;
  }
  return {
    hashes,
    lengths,
    missing,
    valueAt: (row) => {
      const value: unknown = vector.get(row);
      return typeof value === 'string' ? value : null;
    }
  };
}

/** Any other Arrow type (lists, structs, binary…): compared by its text form. */
function readOther(vector: Vector): {
  hashes: Float64Array;
  lengths: Int32Array;
  missing: number;
  valueAt(row: number): string | null;
} {
  const hashes = new Float64Array(vector.length);
  const lengths = new Int32Array(vector.length);
  const valueAt = (row: number): string | null => {
    const value: unknown = vector.get(row);
    if (value === null || value === undefined) return null;
    if (typeof value === 'string') return value;
    if (typeof value === 'object' && 'toJSON' in value && typeof value.toJSON === 'function') {
      return JSON.stringify(value);
    }
    return String(value);
  };
  let missing = 0;
  for (let row = 0; row < vector.length; row++) {
    const text = valueAt(row);
    if (text === null) {
      hashes[row] = Number.NaN;
      lengths[row] = -1;
      missing++;
    } else {
      hashes[row] = hashString(text);
      lengths[row] = [...text].length;
    }
  }
  return { hashes, lengths, missing, valueAt };
}

/** The cell of `row` as people read it. */
export function displayValue(column: ColumnData, row: number): DisplayValue {
  switch (column.storage) {
    case 'number':
      return formatNumber(column.type, column.values[row] ?? Number.NaN);
    case 'codes': {
      const code = column.codes[row] ?? -1;
      if (code < 0) return null;
      const label = column.labels[code] ?? null;
      return column.type === 'boolean' ? label === 'true' : label;
    }
    case 'string':
      return column.valueAt(row);
  }
}

/** A number of a column of `type` as people read it: dates as ISO text, NaN as null. */
export function formatNumber(type: ColumnType, value: number): string | number | null {
  if (Number.isNaN(value)) return null;
  if (!Number.isFinite(value) || !isTemporalType(type)) return value;
  const iso = new Date(value).toISOString();
  return type === 'date' && value % DAY_MS === 0 ? iso.slice(0, 10) : iso;
}

/** The same as `formatNumber`, always as text (for value lists and category labels). */
export function numberLabel(type: ColumnType, value: number): string {
  return String(formatNumber(type, value));
}

// ---------------------------------------------------------------------------------------------
// Sorted numbers: quantiles, histograms, counts.

/**
 * The non-missing values in ascending order (±Infinity at the ends), in a new array, or with
 * `scratch` in its memory (valid until the scratch is used again).
 */
export function sortedPresent(column: NumberColumn, scratch?: SortScratch): Float64Array {
  const n = column.length - column.missing;
  const present = scratch ? scratch.values(n) : new Float64Array(n);
  const values = column.values;
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] ?? Number.NaN;
    if (x === x) present[j++] = x; // only NaN differs from itself
  }
  return sortNumbers(present, scratch);
}

/** The finite part of a sorted array (no copy). */
export function finitePart(sorted: Float64Array): Float64Array {
  let start = 0;
  let end = sorted.length;
  while (start < end && sorted[start] === Number.NEGATIVE_INFINITY) start++;
  while (end > start && sorted[end - 1] === Number.POSITIVE_INFINITY) end--;
  return sorted.subarray(start, end);
}

/** Quantile `p` of ascending `sorted` by linear interpolation (numpy's default); NaN when empty. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const a = sorted[lo] ?? Number.NaN;
  if (lo + 1 >= n) return a;
  const b = sorted[lo + 1] ?? Number.NaN;
  return a + (h - lo) * (b - a);
}

/** The first index whose value is ≥ `x` in ascending `sorted`. */
export function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? Number.NaN) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `lowerBound` of ascending `sorted` as a function of `x`, for looking up many values among a few
 * cuts: a grid over the cuts' range gives a first guess, so most values need a step or two.
 */
export function lowerBoundFinder(sorted: readonly number[]): (x: number) => number {
  const m = sorted.length;
  // A NaN among the cuts breaks the order the steps rely on; the search gives what it always gave.
  if (sorted.some((c) => Number.isNaN(c))) return (x) => lowerBound(sorted, x);
  const first = sorted[0] ?? 0;
  const last = sorted[m - 1] ?? 0;
  const cells = m > 0 && Number.isFinite(last - first) && last > first ? 16 * m : 0;
  const perCell = cells > 0 ? cells / (last - first) : 0;
  // guess[c] is the answer at the start of cell c, a step or two from the answer inside it.
  const guess = new Int32Array(cells + 1);
  for (let cell = 0, at = 0; cell <= cells; cell++) {
    const start = first + cell / perCell;
    while (at < m && (sorted[at] as number) < start) at++;
    guess[cell] = at;
  }
  return (x) => {
    let at = x <= first ? 0 : x > last ? m : (guess[Math.floor((x - first) * perCell)] ?? 0);
    while (at > 0 && (sorted[at - 1] as number) >= x) at--;
    while (at < m && (sorted[at] as number) < x) at++;
    return at;
  };
}

/** The first index whose value is > `x` in ascending `sorted`. */
export function upperBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? Number.NaN) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Moments {
  count: number;
  mean: number;
  /** Sample standard deviation (n − 1); NaN with fewer than two values. */
  std: number;
}

/** Mean and sample standard deviation of the finite values in `values` (two passes). */
export function moments(values: ArrayLike<number>): Moments {
  let count = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] ?? Number.NaN;
    if (Number.isFinite(x)) {
      count++;
      sum += x;
    }
  }
  if (count === 0) return { count, mean: Number.NaN, std: Number.NaN };
  const mean = sum / count;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] ?? Number.NaN;
    if (Number.isFinite(x)) squares += (x - mean) * (x - mean);
  }
  return { count, mean, std: count > 1 ? Math.sqrt(squares / (count - 1)) : Number.NaN };
}

export interface BoxStats {
  count: number;
  mean: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

/** Five-number summary and mean of ascending finite `sorted`; null when empty. */
export function boxStats(sorted: Float64Array): BoxStats | null {
  if (sorted.length === 0) return null;
  return {
    count: sorted.length,
    mean: sumOf(sorted) / sorted.length,
    min: sorted[0] ?? Number.NaN,
    q1: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    q3: quantile(sorted, 0.75),
    max: sorted[sorted.length - 1] ?? Number.NaN
  };
}

/** The sum in index order (its own function: V8 then compiles the loop apart from the code after it). */
function sumOf(values: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] ?? 0;
  return sum;
}

export interface Histogram {
  /** `counts.length + 1` ascending bin edges; bins are [edge, next edge), the last one closed. */
  edges: number[];
  counts: number[];
}

/**
 * How many equal-width bins suit `sorted`: Freedman–Diaconis (width 2·IQR·n^(−1/3)), or Sturges
 * (⌈log₂ n⌉ + 1) when the IQR is zero, bounded to [1, maxBins].
 */
export function binCount(sorted: Float64Array, maxBins: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const range = (sorted[n - 1] ?? 0) - (sorted[0] ?? 0);
  if (range === 0) return 1;
  const iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25);
  const bins = iqr > 0 ? Math.ceil(range / ((2 * iqr) / Math.cbrt(n))) : Math.ceil(Math.log2(n)) + 1;
  return Math.max(1, Math.min(maxBins, bins));
}

/**
 * A histogram of ascending finite `sorted`. With `unit` > 0 (1 for integers, a day for dates) every
 * bin spans a whole number of units starting at the minimum, so no bin splits a value; otherwise the
 * bins divide [min, max] evenly (a constant column gets one bin [v − 0.5, v + 0.5], as numpy does).
 */
export function histogram(sorted: Float64Array, maxBins: number, unit = 0): Histogram | null {
  const n = sorted.length;
  if (n === 0) return null;
  const min = sorted[0] ?? 0;
  const max = sorted[n - 1] ?? 0;
  const target = binCount(sorted, maxBins);
  let edges: number[];
  if (unit > 0) {
    const span = Math.round((max - min) / unit) + 1;
    const width = Math.max(1, Math.ceil(span / target));
    const bins = Math.ceil(span / width);
    edges = Array.from({ length: bins + 1 }, (_, i) => min + i * width * unit);
  } else if (max === min) {
    edges = [min - 0.5, max + 0.5];
  } else {
    const width = (max - min) / target;
    edges = Array.from({ length: target + 1 }, (_, i) => (i === target ? max : min + i * width));
  }
  return { edges, counts: countInBins(sorted, edges) };
}

/** Counts of ascending `sorted` in the bins of `edges` (values outside the edges are not counted). */
export function countInBins(sorted: ArrayLike<number>, edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const counts: number[] = [];
  for (let b = 0; b < bins; b++) {
    const from = lowerBound(sorted, edges[b] ?? 0);
    const to = b === bins - 1 ? upperBound(sorted, edges[b + 1] ?? 0) : lowerBound(sorted, edges[b + 1] ?? 0);
    counts.push(Math.max(0, to - from));
  }
  return counts;
}

/** The bin of `x` in `edges` (as `countInBins` counts it), or -1 outside them. */
export function binOf(edges: readonly number[], x: number): number {
  const bins = edges.length - 1;
  if (!(x >= (edges[0] ?? 0)) || !(x <= (edges[bins] ?? 0))) return -1;
  return Math.min(bins - 1, upperBound(edges, x) - 1);
}

// ---------------------------------------------------------------------------------------------
// Value counts.

export interface ValueCount {
  value: string;
  count: number;
}

export interface ValueCounts {
  /** Distinct non-missing values. */
  distinct: number;
  /** The most frequent values, most frequent first (ties: by value). */
  top: ValueCount[];
  /** Non-missing cells not among `top`. */
  otherCount: number;
}

/**
 * Keeps the best `k` items of a stream, best first by `compare` (negative: a is better). Items are
 * buffered and pruned by sorting now and then, so a huge `k` costs one sort, not a quadratic insert.
 */
class TopK<T> {
  private items: T[] = [];
  /** The worst item kept at the last prune: nothing that is not better can make the cut. */
  private floor: T | undefined;
  constructor(
    private readonly k: number,
    private readonly compare: (a: T, b: T) => number
  ) {}
  offer(item: T): void {
    if (this.k <= 0 || (this.floor !== undefined && this.compare(item, this.floor) >= 0)) return;
    this.items.push(item);
    if (this.items.length >= 2 * this.k + 64) this.prune();
  }
  result(): T[] {
    this.prune();
    return this.items;
  }
  private prune(): void {
    this.items.sort(this.compare);
    if (this.items.length > this.k) {
      this.items.length = this.k;
      this.floor = this.items[this.k - 1];
    }
  }
}

/** Counts of each code (missing excluded). */
export function codeCounts(column: CodeColumn): Int32Array {
  const counts = new Int32Array(column.labels.length);
  const codes = column.codes;
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] ?? -1;
    if (code >= 0) counts[code] = (counts[code] ?? 0) + 1;
  }
  return counts;
}

/**
 * Distinct values and the `k` most frequent ones. `sorted` may pass the column's `sortedPresent`
 * when the caller already has it (number columns); `scratch` lends memory for sorting.
 */
export function valueCounts(
  column: ColumnData,
  k: number,
  sorted?: Float64Array,
  scratch?: SortScratch
): ValueCounts {
  const present = column.length - column.missing;
  const byCount = (a: ValueCount, b: ValueCount): number =>
    b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
  if (column.storage === 'codes') {
    const counts = codeCounts(column);
    const top = new TopK<ValueCount>(k, byCount);
    let distinct = 0;
    counts.forEach((count, code) => {
      if (count === 0) return;
      distinct++;
      top.offer({ value: column.labels[code] ?? '', count });
    });
    return finish(top.result(), distinct, present);
  }
  if (column.storage === 'number') {
    const { distinct, top } = topNumbers(sorted ?? sortedPresent(column, scratch), k);
    return finish(
      top.map((t) => ({ value: numberLabel(column.type, t.value), count: t.count })),
      distinct,
      present
    );
  }
  const hashes = scratch ? scratch.values(present) : new Float64Array(present);
  let j = 0;
  for (let i = 0; i < column.hashes.length; i++) {
    const h = column.hashes[i] ?? Number.NaN;
    if (h === h) hashes[j++] = h; // only NaN differs from itself
  }
  // Ties at the cut go by hash: arbitrary, but the same on every run.
  const { distinct, top: kept } = topNumbers(sortNumbers(hashes, scratch), k);
  const rows = firstRows(
    column.hashes,
    kept.map((t) => t.value)
  );
  const items = kept.map((t) => ({
    value: column.valueAt(rows.get(t.value) ?? 0) ?? '',
    count: t.count
  }));
  items.sort(byCount);
  return finish(items, distinct, present);
}

/** The `k` most frequent values of ascending `sorted` (ties: the smaller value first) and the distinct count. */
export function topNumbers(
  sorted: Float64Array,
  k: number
): { distinct: number; top: Array<{ value: number; count: number }> } {
  // Runs come in ascending order, so a later run with the same count as the worst kept is worse (its
  // value is larger): only a larger count gets in, and nothing is done for the runs that do not.
  const heap = new RunHeap();
  let distinct = 0;
  const n = sorted.length;
  for (let i = 0; i < n;) {
    const value = sorted[i] as number;
    let j = i + 1;
    while (j < n && sorted[j] === value) j++;
    const count = j - i;
    distinct++;
    i = j;
    if (heap.size < k) heap.push(value, count);
    else if (k > 0 && count > (heap.counts[0] as number)) heap.replaceWorst(value, count);
  }
  const top = Array.from({ length: heap.size }, (_, i) => ({
    value: heap.values[i] as number,
    count: heap.counts[i] as number
  }));
  top.sort((a, b) => b.count - a.count || a.value - b.value);
  return { distinct, top };
}

/** The runs `topNumbers` keeps: a binary heap in typed arrays, the worst run at the root. */
class RunHeap {
  values = new Float64Array(32);
  counts = new Float64Array(32);
  size = 0;

  push(value: number, count: number): void {
    if (this.size === this.values.length) {
      const values = new Float64Array(2 * this.size);
      const counts = new Float64Array(2 * this.size);
      values.set(this.values);
      counts.set(this.counts);
      this.values = values;
      this.counts = counts;
    }
    let at = this.size++;
    this.values[at] = value;
    this.counts[at] = count;
    while (at > 0 && this.worse(at, (at - 1) >> 1)) {
      this.swap(at, (at - 1) >> 1);
      at = (at - 1) >> 1;
    }
  }

  replaceWorst(value: number, count: number): void {
    this.values[0] = value;
    this.counts[0] = count;
    for (let at = 0; ;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let worst = at;
      if (left < this.size && this.worse(left, worst)) worst = left;
      if (right < this.size && this.worse(right, worst)) worst = right;
      if (worst === at) return;
      this.swap(at, worst);
      at = worst;
    }
  }

  /** Fewer rows, or as many and a larger value. */
  private worse(a: number, b: number): boolean {
    const ca = this.counts[a] as number;
    const cb = this.counts[b] as number;
    return ca < cb || (ca === cb && (this.values[a] as number) > (this.values[b] as number));
  }

  private swap(a: number, b: number): void {
    const value = this.values[a] as number;
    const count = this.counts[a] as number;
    this.values[a] = this.values[b] as number;
    this.counts[a] = this.counts[b] as number;
    this.values[b] = value;
    this.counts[b] = count;
  }
}

function finish(top: ValueCount[], distinct: number, present: number): ValueCounts {
  const shown = top.reduce((sum, t) => sum + t.count, 0);
  return { distinct, top, otherCount: present - shown };
}

/** The first row holding each of `keys` in `values`. */
export function firstRows(values: Float64Array, keys: readonly number[]): Map<number, number> {
  const wanted = new Set(keys);
  const rows = new Map<number, number>();
  // A row's value is looked up only when its low bits match a wanted key's, which most rows' do not.
  const filter = new Uint8Array(FILTER_SIZE);
  for (const key of wanted) filter[(key | 0) & (FILTER_SIZE - 1)] = 1;
  for (let row = 0; row < values.length && rows.size < wanted.size; row++) {
    const v = values[row] ?? Number.NaN;
    if (filter[(v | 0) & (FILTER_SIZE - 1)] === 1 && wanted.has(v) && !rows.has(v)) rows.set(v, row);
  }
  return rows;
}

const FILTER_SIZE = 4096;

/**
 * A number per row that is equal exactly when the cells are equal (NaN where missing): the value for
 * numbers, the code for codes, the hash for strings. Shared with callers that count or match values.
 */
export function rowKeys(column: ColumnData): Float64Array {
  switch (column.storage) {
    case 'number':
      return column.values;
    case 'string':
      return column.hashes;
    case 'codes': {
      const keys = new Float64Array(column.length);
      for (let i = 0; i < keys.length; i++) {
        const code = column.codes[i] ?? -1;
        keys[i] = code < 0 ? Number.NaN : code;
      }
      return keys;
    }
  }
}

export interface Levels {
  /** One level per row, -1 where missing or not among the kept levels. */
  codes: Int32Array;
  /** Labels of the kept levels, most frequent first. */
  labels: string[];
  /** Rows per kept level. */
  counts: number[];
}

/** Up to this many levels, a row's level is found by comparing its key with each level's. */
const FEW_LEVELS = 16;

/** The `k` most frequent values of a column as level codes (for classes and categorical features). */
export function topLevels(column: ColumnData, k: number): Levels {
  const codes = new Int32Array(column.length).fill(-1);
  if (column.storage === 'codes') {
    const counts = codeCounts(column);
    const order = Array.from(counts.keys())
      .filter((c) => (counts[c] ?? 0) > 0)
      .sort((a, b) => (counts[b] ?? 0) - (counts[a] ?? 0) || compare(column.labels[a], column.labels[b]))
      .slice(0, k);
    const remap = new Int32Array(column.labels.length).fill(-1);
    order.forEach((code, level) => (remap[code] = level));
    for (let i = 0; i < codes.length; i++) {
      const code = column.codes[i] ?? -1;
      codes[i] = code >= 0 ? (remap[code] ?? -1) : -1;
    }
    return {
      codes,
      labels: order.map((c) => column.labels[c] ?? ''),
      counts: order.map((c) => counts[c] ?? 0)
    };
  }
  const keys = rowKeys(column);
  const levelOf = new Map<number, number>();
  let top: ValueCount[];
  if (column.storage === 'number') {
    const numbers = topNumbers(sortedPresent(column), k).top;
    numbers.forEach((t, level) => levelOf.set(t.value, level));
    top = numbers.map((t) => ({ value: numberLabel(column.type, t.value), count: t.count }));
  } else {
    top = valueCounts(column, k).top;
    top.forEach((t, level) => levelOf.set(hashString(t.value), level));
  }
  if (levelOf.size <= FEW_LEVELS) {
    // A few levels (classes, mostly) are found faster by comparing than by looking up a Map.
    const levelKeys = Float64Array.from(levelOf.keys());
    const levelCodes = Int32Array.from(levelOf.values());
    for (let i = 0; i < codes.length; i++) {
      const key = keys[i] ?? Number.NaN;
      let at = 0;
      while (at < levelKeys.length && levelKeys[at] !== key) at++;
      codes[i] = at < levelKeys.length ? (levelCodes[at] as number) : -1;
    }
  } else {
    for (let i = 0; i < codes.length; i++) codes[i] = levelOf.get(keys[i] ?? Number.NaN) ?? -1;
  }
  return { codes, labels: top.map((t) => t.value), counts: top.map((t) => t.count) };
}

function compare(a: string | undefined, b: string | undefined): number {
  return (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
}

/**
 * Pearson correlation over the rows where both are finite; NaN when undefined. The same sums in the
 * same order as `correlations` makes for a pair, so the same result, in one pass with no buffers.
 */
export function pearson(x: Float64Array, y: Float64Array, shiftX = 0, shiftY = 0): { r: number; n: number } {
  const rows = Math.min(x.length, y.length);
  const gapsX: number[] = [];
  const gapsY: number[] = [];
  let nx = 0;
  let sumX = 0;
  let squaresX = 0;
  let sumY = 0;
  let squaresY = 0;
  let products = 0;
  for (let start = 0; start < rows; start += BLOCK) {
    const end = Math.min(rows, start + BLOCK);
    let blockNx = 0;
    let blockSumX = 0;
    let blockSquaresX = 0;
    let blockSumY = 0;
    let blockSquaresY = 0;
    let xy = 0;
    for (let t = start; t < end; t++) {
      let dx = (x[t] as number) - shiftX;
      let dy = (y[t] as number) - shiftY;
      // False for NaN and ±Infinity alike.
      if (dx - dx === 0) {
        blockNx++;
        blockSumX += dx;
        blockSquaresX += dx * dx;
      } else {
        dx = 0;
        gapsX.push(t);
      }
      if (dy - dy === 0) {
        blockSumY += dy;
        blockSquaresY += dy * dy;
      } else {
        dy = 0;
        gapsY.push(t);
      }
      xy += dx * dy;
    }
    nx += blockNx;
    sumX += blockSumX;
    squaresX += blockSquaresX;
    sumY += blockSumY;
    squaresY += blockSquaresY;
    products += xy;
  }
  const [lostNx, lostSumX, lostSquaresX] = lostSums(x, shiftX, gapsY);
  const [, lostSumY, lostSquaresY] = lostSums(y, shiftY, gapsX);
  return pairCorrelation(
    nx - lostNx,
    sumX - lostSumX,
    sumY - lostSumY,
    products,
    squaresX - lostSquaresX,
    squaresY - lostSquaresY
  );
}

/** n, Σx, Σx² of shifted `values` over its finite rows among `rows`. */
function lostSums(values: Float64Array, shift: number, rows: readonly number[]): [number, number, number] {
  let n = 0;
  let sum = 0;
  let squares = 0;
  for (const row of rows) {
    const d = (values[row] as number) - shift;
    if (d - d !== 0) continue;
    n++;
    sum += d;
    squares += d * d;
  }
  return [n, sum, squares];
}

/** r from the sums over the `count` shared rows: Σx, Σy, Σxy, Σx², Σy². */
function pairCorrelation(
  count: number,
  sx: number,
  sy: number,
  sxy: number,
  sxx: number,
  syy: number
): { r: number; n: number } {
  const cov = sxy - (sx * sy) / count;
  const vx = sxx - (sx * sx) / count;
  const vy = syy - (sy * sy) / count;
  const r = count >= 2 && vx > 0 && vy > 0 ? Math.max(-1, Math.min(1, cov / Math.sqrt(vx * vy))) : Number.NaN;
  return { r, n: count };
}

const BLOCK = 4096;

/**
 * Pearson correlations of every pair of `columns`, each pair over the rows where both are finite
 * (pandas' pairwise-complete rule); NaN where undefined.
 *
 * Values are shifted by `centres` (roughly the means, so one-pass sums do not cancel) and missing
 * cells zeroed, a block of rows at a time, so Σxy of every pair is one branch-free dot product and
 * memory stays small. The other sums start from each column's own totals and subtract the rows
 * where the partner is missing, which are usually few.
 */
export function correlations(
  columns: readonly Float64Array[],
  centres: readonly number[]
): { r: number[][]; n: number[][] } {
  const k = columns.length;
  const rows = columns.length > 0 ? Math.min(...columns.map((c) => c.length)) : 0;
  const shifted = columns.map(() => new Float64Array(BLOCK));
  const products = new Float64Array(k * k);
  // Per column over its own finite rows: n, Σx, Σx²; and the rows where it is not finite.
  const totals = columns.map(() => new Float64Array(3));
  const gaps: number[][] = columns.map(() => []);
  for (let start = 0; start < rows; start += BLOCK) {
    const size = Math.min(BLOCK, rows - start);
    for (let c = 0; c < k; c++) {
      const values = columns[c] as Float64Array;
      const out = shifted[c] as Float64Array;
      const centre = centres[c] ?? 0;
      const gap = gaps[c] as number[];
      let n = 0;
      let sum = 0;
      let squares = 0;
      for (let t = 0; t < size; t++) {
        const d = (values[start + t] as number) - centre;
        // False for NaN and ±Infinity alike.
        if (d - d === 0) {
          out[t] = d;
          n++;
          sum += d;
          squares += d * d;
        } else {
          out[t] = 0;
          gap.push(start + t);
        }
      }
      const total = totals[c] as Float64Array;
      total[0] = (total[0] as number) + n;
      total[1] = (total[1] as number) + sum;
      total[2] = (total[2] as number) + squares;
    }
    for (let i = 0; i < k; i++) {
      const a = shifted[i] as Float64Array;
      let j = i + 1;
      // Four partners at a time: each sum still runs over t in order (the same result), but the four
      // independent sums keep the processor busy and `a` is read once for them.
      for (; j + 3 < k; j += 4) {
        const b0 = shifted[j] as Float64Array;
        const b1 = shifted[j + 1] as Float64Array;
        const b2 = shifted[j + 2] as Float64Array;
        const b3 = shifted[j + 3] as Float64Array;
        let xy0 = 0;
        let xy1 = 0;
        let xy2 = 0;
        let xy3 = 0;
        for (let t = 0; t < size; t++) {
          const x = a[t] as number;
          xy0 += x * (b0[t] as number);
          xy1 += x * (b1[t] as number);
          xy2 += x * (b2[t] as number);
          xy3 += x * (b3[t] as number);
        }
        products[i * k + j] = (products[i * k + j] as number) + xy0;
        products[i * k + j + 1] = (products[i * k + j + 1] as number) + xy1;
        products[i * k + j + 2] = (products[i * k + j + 2] as number) + xy2;
        products[i * k + j + 3] = (products[i * k + j + 3] as number) + xy3;
      }
      for (; j + 1 < k; j += 2) {
        const b0 = shifted[j] as Float64Array;
        const b1 = shifted[j + 1] as Float64Array;
        let xy0 = 0;
        let xy1 = 0;
        for (let t = 0; t < size; t++) {
          const x = a[t] as number;
          xy0 += x * (b0[t] as number);
          xy1 += x * (b1[t] as number);
        }
        products[i * k + j] = (products[i * k + j] as number) + xy0;
        products[i * k + j + 1] = (products[i * k + j + 1] as number) + xy1;
      }
      for (; j < k; j++) {
        const b = shifted[j] as Float64Array;
        let xy = 0;
        for (let t = 0; t < size; t++) xy += (a[t] as number) * (b[t] as number);
        products[i * k + j] = (products[i * k + j] as number) + xy;
      }
    }
  }
  /** n, Σx, Σx² of column `i` over its finite rows where column `j` is not finite. */
  const lost = (i: number, j: number): [number, number, number] =>
    lostSums(columns[i] as Float64Array, centres[i] ?? 0, gaps[j] as number[]);
  const r = columns.map(() => columns.map(() => Number.NaN));
  const n = columns.map(() => columns.map(() => 0));
  const set = (i: number, j: number, value: number, count: number): void => {
    (r[i] as number[])[j] = value;
    (r[j] as number[])[i] = value;
    (n[i] as number[])[j] = count;
    (n[j] as number[])[i] = count;
  };
  for (let i = 0; i < k; i++) {
    const [ni, si, ssi] = totals[i] as Float64Array as unknown as [number, number, number];
    set(i, i, ni >= 2 && ssi - (si * si) / ni > 0 ? 1 : Number.NaN, ni);
    for (let j = i + 1; j < k; j++) {
      const [, sj, ssj] = totals[j] as Float64Array as unknown as [number, number, number];
      const [liN, liS, liSS] = lost(i, j);
      const [, ljS, ljSS] = lost(j, i);
      const pair = pairCorrelation(
        ni - liN,
        si - liS,
        sj - ljS,
        products[i * k + j] as number,
        ssi - liSS,
        ssj - ljSS
      );
      set(i, j, pair.r, pair.n);
    }
  }
  return { r, n };
}
