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

function isValid(data: Data, i: number): boolean {
  if (data.nullCount === 0) return true;
  const bit = data.offset + i;
  return ((data.nullBitmap?.[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0;
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
  let missing = 0;
  let position = 0;
  for (const data of vector.data) {
    const type = data.type as DataType;
    const scale = msPerUnit(type);
    const raw = data.values as unknown;
    const n = data.length;
    const halfFloat =
      type.typeId === Type.Float &&
      (type as unknown as { precision: Precision }).precision === Precision.HALF;
    if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
      // Two 32-bit words per value are much faster to combine than BigInt → Number.
      const signed = raw instanceof BigInt64Array;
      const words = signed
        ? new Int32Array(raw.buffer, raw.byteOffset, n * 2)
        : new Uint32Array(raw.buffer, raw.byteOffset, n * 2);
      for (let i = 0; i < n; i++) {
        values[position + i] = isValid(data, i)
          ? (((words[2 * i] ?? 0) >>> 0) + (words[2 * i + 1] ?? 0) * TWO_32) * scale
          : Number.NaN;
      }
    } else if (!halfFloat && ArrayBuffer.isView(raw) && type.typeId !== Type.Decimal) {
      const typed = raw as unknown as ArrayLike<number>;
      const noNulls = data.nullCount === 0;
      for (let i = 0; i < n; i++) {
        values[position + i] = noNulls || isValid(data, i) ? (typed[i] ?? Number.NaN) * scale : Number.NaN;
      }
    } else {
      // Half floats, decimals and legacy layouts: slower, through Arrow's own getters.
      for (let i = 0; i < n; i++) values[position + i] = toNumber(vector.get(position + i)) * scale;
    }
    position += n;
  }
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) missing++;
  return { values, missing };
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
    for (let i = 0; i < data.length; i++) {
      if (!isValid(data, i)) {
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
    for (let i = 0; i < data.length; i++) {
      const local = isValid(data, i) ? Number(indices[i] ?? -1) : -1;
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
    for (let i = 0; i < data.length; i++) {
      if (!isValid(data, i)) {
        hashes[position + i] = Number.NaN;
        lengths[position + i] = -1;
        missing++;
        continue;
      }
      const start = wide ? Number(offsets[i]) : ((offsets[i] as number | undefined) ?? 0);
      const end = wide ? Number(offsets[i + 1]) : ((offsets[i + 1] as number | undefined) ?? 0);
      hashes[position + i] = hashBytes(bytes, start, end);
      // Code points: every byte that does not continue a multi-byte sequence starts one.
      let count = 0;
      for (let k = start; k < end; k++) if (((bytes[k] ?? 0) & 0xc0) !== 0x80) count++;
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

/** The non-missing values in ascending order (±Infinity at the ends), in a new array. */
export function sortedPresent(column: NumberColumn): Float64Array {
  const present = new Float64Array(column.length - column.missing);
  const values = column.values;
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] ?? Number.NaN;
    if (x === x) present[j++] = x; // only NaN differs from itself
  }
  return present.sort(); // typed-array sort is numeric
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
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i] ?? 0;
  return {
    count: sorted.length,
    mean: sum / sorted.length,
    min: sorted[0] ?? Number.NaN,
    q1: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    q3: quantile(sorted, 0.75),
    max: sorted[sorted.length - 1] ?? Number.NaN
  };
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
 * when the caller already has it (number columns).
 */
export function valueCounts(column: ColumnData, k: number, sorted?: Float64Array): ValueCounts {
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
    const { distinct, top } = topNumbers(sorted ?? sortedPresent(column), k);
    return finish(
      top.map((t) => ({ value: numberLabel(column.type, t.value), count: t.count })),
      distinct,
      present
    );
  }
  const hashes = new Float64Array(present);
  let j = 0;
  for (let i = 0; i < column.hashes.length; i++) {
    const h = column.hashes[i] ?? Number.NaN;
    if (h === h) hashes[j++] = h; // only NaN differs from itself
  }
  hashes.sort();
  // Ties at the cut go by hash: arbitrary, but the same on every run.
  const top = new TopK<{ hash: number; count: number }>(k, (a, b) => b.count - a.count || a.hash - b.hash);
  const distinct = forEachRun(hashes, (hash, count) => top.offer({ hash, count }));
  const kept = top.result();
  const rows = firstRows(
    column.hashes,
    kept.map((t) => t.hash)
  );
  const items = kept.map((t) => ({
    value: column.valueAt(rows.get(t.hash) ?? 0) ?? '',
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
  const top = new TopK<{ value: number; count: number }>(k, (a, b) => b.count - a.count || a.value - b.value);
  const distinct = forEachRun(sorted, (value, count) => top.offer({ value, count }));
  return { distinct, top: top.result() };
}

function finish(top: ValueCount[], distinct: number, present: number): ValueCounts {
  const shown = top.reduce((sum, t) => sum + t.count, 0);
  return { distinct, top, otherCount: present - shown };
}

/** Calls `visit(value, count)` for each run of equal values in ascending `sorted`; returns the runs. */
export function forEachRun(sorted: Float64Array, visit?: (value: number, count: number) => void): number {
  let runs = 0;
  let i = 0;
  const n = sorted.length;
  while (i < n) {
    const value = sorted[i] ?? 0;
    let j = i + 1;
    while (j < n && sorted[j] === value) j++;
    visit?.(value, j - i);
    runs++;
    i = j;
  }
  return runs;
}

/** The first row holding each of `keys` in `values`. */
export function firstRows(values: Float64Array, keys: readonly number[]): Map<number, number> {
  const wanted = new Set(keys);
  const rows = new Map<number, number>();
  for (let row = 0; row < values.length && rows.size < wanted.size; row++) {
    const v = values[row] ?? Number.NaN;
    if (wanted.has(v) && !rows.has(v)) rows.set(v, row);
  }
  return rows;
}

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
  for (let i = 0; i < codes.length; i++) codes[i] = levelOf.get(keys[i] ?? Number.NaN) ?? -1;
  return { codes, labels: top.map((t) => t.value), counts: top.map((t) => t.count) };
}

function compare(a: string | undefined, b: string | undefined): number {
  return (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
}

/** Pearson correlation over the rows where both are finite; NaN when undefined. */
export function pearson(x: Float64Array, y: Float64Array, shiftX = 0, shiftY = 0): { r: number; n: number } {
  const matrix = correlations([x, y], [shiftX, shiftY]);
  return { r: matrix.r[0]?.[1] ?? Number.NaN, n: matrix.n[0]?.[1] ?? 0 };
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
      for (let j = i + 1; j < k; j++) {
        const b = shifted[j] as Float64Array;
        let xy = 0;
        for (let t = 0; t < size; t++) xy += (a[t] as number) * (b[t] as number);
        products[i * k + j] = (products[i * k + j] as number) + xy;
      }
    }
  }
  /** n, Σx, Σx² of column `i` over its finite rows where column `j` is not finite. */
  const lost = (i: number, j: number): [number, number, number] => {
    const values = columns[i] as Float64Array;
    const centre = centres[i] ?? 0;
    let n = 0;
    let sum = 0;
    let squares = 0;
    for (const row of gaps[j] as number[]) {
      const d = (values[row] as number) - centre;
      if (d - d !== 0) continue;
      n++;
      sum += d;
      squares += d * d;
    }
    return [n, sum, squares];
  };
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
      const count = ni - liN;
      const sx = si - liS;
      const sy = sj - ljS;
      const cov = (products[i * k + j] as number) - (sx * sy) / count;
      const vx = ssi - liSS - (sx * sx) / count;
      const vy = ssj - ljSS - (sy * sy) / count;
      const value =
        count >= 2 && vx > 0 && vy > 0 ? Math.max(-1, Math.min(1, cov / Math.sqrt(vx * vy))) : Number.NaN;
      set(i, j, value, count);
    }
  }
  return { r, n };
}

/** A seeded PRNG (mulberry32): the same seed gives the same sample on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_32;
  };
}

// ---------------------------------------------------------------------------------------------
// Distinct counts of a stream of cells: exact while a hash set fits, a HyperLogLog estimate after.

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
const NUMBER_WORDS = new Uint32Array(NUMBER_BITS.buffer);
/** The high and low words of the last `hashNumber64`/`hashString64`, so no array is made per cell. */
const HASH = new Uint32Array(2);

/**
 * 64 mixed bits of a number (0 and −0 are one value, as in a `Set`). Each step is invertible, so two
 * different numbers never share a hash: counting hashes counts numbers exactly.
 */
function hashNumber64(value: number): void {
  NUMBER_BITS[0] = value === 0 ? 0 : value;
  const a = fmix32((NUMBER_WORDS[0] ?? 0) ^ 0x2545f491);
  const b = fmix32((NUMBER_WORDS[1] ?? 0) ^ a);
  const high = fmix32(a ^ Math.imul(b, 0x85ebca6b));
  HASH[0] = high;
  HASH[1] = fmix32(b ^ Math.imul(high, 0xc2b2ae35));
}

/** 64 mixed bits of a string's UTF-16 code units (two independent 32-bit hashes). */
function hashString64(value: string): void {
  let h1 = 0x811c9dc5 ^ value.length;
  let h2 = 0x9747b28c;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  const high = fmix32(h1);
  HASH[0] = high;
  HASH[1] = fmix32(h2 ^ high);
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
    hashNumber64(value);
    this.addHash(HASH[0] ?? 0, HASH[1] ?? 0);
  }

  addString(value: string): void {
    hashString64(value);
    this.addHash(HASH[0] ?? 0, HASH[1] ?? 0);
  }

  /** A value already hashed to 64 well-mixed bits, as two unsigned 32-bit words. */
  addHash(high: number, low: number): void {
    const p = this.precision;
    const index = high >>> (32 - p);
    // The first 1-bit among the 32 − p low bits of `high` and then the 32 bits of `low`.
    const rest = (high << p) >>> 0;
    const rank = rest !== 0 ? Math.clz32(rest) + 1 : 32 - p + (low !== 0 ? Math.clz32(low) : 32) + 1;
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

/**
 * Counts the distinct values of one column as cells stream by (an import, say), in bounded memory:
 * exactly, in an open-addressing set of 64-bit hashes (8 bytes a value), up to `exactLimit` distinct
 * values; then, with the set dropped, by a HyperLogLog sketch of 16 KB. Numbers hash without
 * collisions, so their count is exact; two strings share a hash with a chance of about 1 in 3·10⁹ at
 * 100,000 values. Feed one kind of value per counter: numbers (`addNumber`) or strings (`addString`).
 */
export class DistinctCounter {
  readonly exactLimit: number;
  /** Slot i holds a hash in words 2i (high) and 2i + 1 (low) when `#used[i]` is 1. */
  #keys: Uint32Array | null = new Uint32Array(2 * 1024);
  #used: Uint8Array | null = new Uint8Array(1024);
  #size = 0;
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
    hashNumber64(value);
    this.#add(HASH[0] ?? 0, HASH[1] ?? 0);
  }

  addString(value: string): void {
    hashString64(value);
    this.#add(HASH[0] ?? 0, HASH[1] ?? 0);
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
    const used = this.#used;
    if (!keys || !used) {
      this.#sketch?.addHash(high, low);
      return;
    }
    const mask = used.length - 1;
    // `low` picks the slot: the sketch reads `high`, so the two uses of the hash stay independent.
    for (let slot = low & mask; ; slot = (slot + 1) & mask) {
      if (used[slot] === 0) {
        used[slot] = 1;
        keys[2 * slot] = high;
        keys[2 * slot + 1] = low;
        this.#size++;
        if (this.#size > this.exactLimit) this.#spill();
        else if (this.#size * 2 > used.length) this.#grow();
        return;
      }
      if (keys[2 * slot] === high && keys[2 * slot + 1] === low) return;
    }
  }

  #grow(): void {
    const keys = this.#keys;
    const used = this.#used;
    if (!keys || !used) return;
    this.#keys = new Uint32Array(keys.length * 2);
    this.#used = new Uint8Array(used.length * 2);
    this.#size = 0;
    for (let slot = 0; slot < used.length; slot++) {
      if (used[slot] === 1) this.#add(keys[2 * slot] ?? 0, keys[2 * slot + 1] ?? 0);
    }
  }

  #spill(): void {
    const sketch = new HyperLogLog();
    const keys = this.#keys;
    const used = this.#used;
    if (keys && used) {
      for (let slot = 0; slot < used.length; slot++) {
        if (used[slot] === 1) sketch.addHash(keys[2 * slot] ?? 0, keys[2 * slot + 1] ?? 0);
      }
    }
    this.#sketch = sketch;
    this.#keys = null;
    this.#used = null;
  }
}
