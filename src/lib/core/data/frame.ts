/**
 * A frame: the columns of an Arrow table unpacked into plain typed arrays, so recipes, expressions,
 * diffs and splits can work column-wise without going through Arrow's per-cell accessors.
 *
 * Missing values have one representation per kind:
 * - numbers (integer, float, date, datetime): `Float64Array`, missing = NaN; dates are epoch milliseconds;
 * - booleans: `Uint8Array` of 0 (false), 1 (true) or `BOOL_NULL`;
 * - strings (categorical, text, identifier): an array of `string | null`.
 *
 * `frameToTable` writes a frame back with the same Arrow conventions as `arrow.ts` (Int32 or Float64 for
 * integers, DateMillisecond, TimestampMillisecond UTC, sorted-dictionary categoricals, `lathe.type`).
 */
import {
  Bool,
  DateMillisecond,
  DateUnit,
  Dictionary,
  Field,
  Float64,
  Int32,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeUnit,
  TimestampMillisecond,
  Type,
  Utf8,
  makeData,
  vectorFromArray,
  type Data,
  type DataType,
  type Date_,
  type Float,
  type Timestamp
} from 'apache-arrow';
import { LatheError } from '../errors';
import type { ColumnSchema, ColumnType } from '../records';
import { columnTypeOfArrowField, LATHE_TYPE_KEY } from './arrow';
import { MAX_CATEGORIES } from './infer';

/** The missing marker of a boolean column. */
export const BOOL_NULL = 2;

export type ColumnData =
  | { kind: 'number'; values: Float64Array }
  | { kind: 'boolean'; values: Uint8Array }
  | { kind: 'string'; values: Array<string | null> };
export type ColumnKind = ColumnData['kind'];

export interface FrameColumn {
  name: string;
  type: ColumnType;
  data: ColumnData;
}

export interface Frame {
  rowCount: number;
  columns: FrameColumn[];
}

export function kindOf(type: ColumnType): ColumnKind {
  switch (type) {
    case 'integer':
    case 'float':
    case 'date':
    case 'datetime':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'categorical':
    case 'text':
    case 'identifier':
      return 'string';
  }
}

/** An all-missing column of `kind` with `n` rows. */
export function emptyColumn(kind: ColumnKind, n: number): ColumnData {
  if (kind === 'number') return { kind, values: new Float64Array(n).fill(Number.NaN) };
  if (kind === 'boolean') return { kind, values: new Uint8Array(n).fill(BOOL_NULL) };
  return { kind, values: new Array<string | null>(n).fill(null) };
}

export function isMissingAt(data: ColumnData, i: number): boolean {
  if (data.kind === 'number') return Number.isNaN(data.values[i] as number);
  if (data.kind === 'boolean') return data.values[i] === BOOL_NULL;
  return data.values[i] == null;
}

export function missingCount(data: ColumnData): number {
  let missing = 0;
  const n = data.values.length;
  for (let i = 0; i < n; i++) if (isMissingAt(data, i)) missing++;
  return missing;
}

/** The Lathe type of an Arrow field: its `lathe.type` metadata, else one read from the Arrow type. */
export function columnTypeOfField(field: Field): ColumnType {
  const type = columnTypeOfArrowField(field);
  if (type) return type;
  throw new LatheError(
    'unsupported_column',
    `Column “${field.name}” has an unsupported Arrow type (${String(field.type)}).`
  );
}

const TWO_32 = 4_294_967_296;

/** Reads 64-bit integers as numbers without a BigInt per cell (exact up to 2^53). */
function int64At(words: Int32Array, index: number, unsigned: boolean): number {
  const hi = words[2 * index + 1] as number;
  return ((words[2 * index] as number) >>> 0) + (unsigned ? hi >>> 0 : hi) * TWO_32;
}

function int64Words(values: BigInt64Array | BigUint64Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

function readNumbers(data: Data, out: Float64Array, at: number): void {
  const type = data.type as DataType;
  const { offset, length } = data;
  const values = data.values as ArrayLike<number | bigint> & { buffer: ArrayBufferLike };
  let scale = 1;
  if (type.typeId === Type.Date) scale = (type as Date_).unit === DateUnit.DAY ? 86_400_000 : 1;
  if (type.typeId === Type.Timestamp) {
    const unit = (type as Timestamp).unit;
    scale =
      unit === TimeUnit.SECOND
        ? 1000
        : unit === TimeUnit.MICROSECOND
          ? 1e-3
          : unit === TimeUnit.NANOSECOND
            ? 1e-6
            : 1;
  }
  const half = type.typeId === Type.Float && (type as Float).precision === Precision.HALF;
  const wide = values instanceof BigInt64Array || values instanceof BigUint64Array;
  const words = wide ? int64Words(values) : undefined;
  const unsigned = values instanceof BigUint64Array;
  const allValid = data.nullCount === 0;
  for (let i = 0; i < length; i++) {
    if (!allValid && !data.getValid(i)) {
      out[at + i] = Number.NaN;
      continue;
    }
    let v: number;
    if (words) v = int64At(words, offset + i, unsigned);
    else if (half) v = readHalf(data, i);
    else v = values[offset + i] as number;
    out[at + i] = v * scale;
  }
}

/** Half floats are stored as raw 16-bit patterns; decode them the slow, rare way. */
function readHalf(data: Data, i: number): number {
  const bits = (data.values as Uint16Array)[data.offset + i] ?? 0;
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Unpacks one column of `table` into a frame column. */
export function readColumn(table: Table, name: string): FrameColumn {
  const index = table.schema.fields.findIndex((f) => f.name === name);
  const field = table.schema.fields[index];
  const vector = table.getChildAt(index);
  if (!field || !vector) throw new LatheError('column_missing', `The dataset has no column “${name}”.`);
  const type = columnTypeOfField(field);
  const n = table.numRows;
  const arrowType = field.type as DataType;
  let at = 0;
  if (arrowType.typeId === Type.Bool) {
    const values = new Uint8Array(n);
    for (const data of vector.data) {
      const bits = data.values as Uint8Array;
      for (let i = 0; i < data.length; i++) {
        const bit = data.offset + i;
        values[at + i] = !data.getValid(i) ? BOOL_NULL : ((bits[bit >> 3] as number) >> (bit & 7)) & 1;
      }
      at += data.length;
    }
    return { name, type, data: { kind: 'boolean', values } };
  }
  if (
    arrowType.typeId === Type.Dictionary ||
    arrowType.typeId === Type.Utf8 ||
    arrowType.typeId === Type.LargeUtf8
  ) {
    const values = new Array<string | null>(n);
    for (const data of vector.data) {
      if (arrowType.typeId === Type.Dictionary) {
        const dictionary = (data.dictionary?.toArray() ?? []) as Array<string | null>;
        const codes = data.values as ArrayLike<number>;
        for (let i = 0; i < data.length; i++) {
          values[at + i] = data.getValid(i) ? (dictionary[codes[data.offset + i] as number] ?? null) : null;
        }
      } else {
        for (let i = 0; i < data.length; i++) values[at + i] = (vector.get(at + i) as string | null) ?? null;
      }
      at += data.length;
    }
    return { name, type: kindOf(type) === 'string' ? type : 'text', data: { kind: 'string', values } };
  }
  if (
    arrowType.typeId === Type.Int ||
    arrowType.typeId === Type.Float ||
    arrowType.typeId === Type.Date ||
    arrowType.typeId === Type.Timestamp
  ) {
    const values = new Float64Array(n);
    for (const data of vector.data) {
      readNumbers(data, values, at);
      at += data.length;
    }
    return { name, type: kindOf(type) === 'number' ? type : 'float', data: { kind: 'number', values } };
  }
  throw new LatheError(
    'unsupported_column',
    `Column “${name}” has an unsupported Arrow type (${String(arrowType)}).`
  );
}

export function tableToFrame(table: Table): Frame {
  return { rowCount: table.numRows, columns: table.schema.fields.map((f) => readColumn(table, f.name)) };
}

/** A copy of `data` holding rows `rows` in that order; a row index of -1 gives a missing value. */
export function takeRows(data: ColumnData, rows: ArrayLike<number>): ColumnData {
  const n = rows.length;
  if (data.kind === 'number') {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const r = rows[i] as number;
      out[i] = r < 0 ? Number.NaN : (data.values[r] as number);
    }
    return { kind: 'number', values: out };
  }
  if (data.kind === 'boolean') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const r = rows[i] as number;
      out[i] = r < 0 ? BOOL_NULL : (data.values[r] as number);
    }
    return { kind: 'boolean', values: out };
  }
  const out = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i] as number;
    out[i] = r < 0 ? null : (data.values[r] ?? null);
  }
  return { kind: 'string', values: out };
}

export function takeFrameRows(frame: Frame, rows: ArrayLike<number>): Frame {
  return {
    rowCount: rows.length,
    columns: frame.columns.map((c) => ({ ...c, data: takeRows(c.data, rows) }))
  };
}

/** The Lathe type for a string column computed from data: categorical when few values repeat, else text. */
export function inferStringType(values: ReadonlyArray<string | null>): 'categorical' | 'text' {
  const distinct = new Set<string>();
  let present = 0;
  for (const v of values) {
    if (v === null) continue;
    present++;
    distinct.add(v);
    if (distinct.size > MAX_CATEGORIES) return 'text';
  }
  return present > 0 && distinct.size < 0.5 * present ? 'categorical' : 'text';
}

/** The record-level schema of a frame column: its type, missing count and number of distinct values. */
export function columnSchemaOf(column: FrameColumn): ColumnSchema {
  const { data } = column;
  const distinct = new Set<string | number>();
  let missing = 0;
  const n = data.values.length;
  for (let i = 0; i < n; i++) {
    const v = data.values[i] as number | string | null;
    if (
      v === null ||
      (typeof v === 'number' && Number.isNaN(v)) ||
      (data.kind === 'boolean' && v === BOOL_NULL)
    ) {
      missing++;
      continue;
    }
    distinct.add(v);
  }
  return { name: column.name, type: column.type, missing, distinct: distinct.size };
}

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

function validityBitmap(
  n: number,
  isValid: (i: number) => boolean
): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (isValid(i)) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
    else nullCount++;
  }
  return { bitmap, nullCount };
}

function columnToData(column: FrameColumn, index: number): { field: Field; data: Data } {
  const metadata = new Map([[LATHE_TYPE_KEY, column.type]]);
  const { data } = column;
  const n = data.values.length;
  if (data.kind === 'number') {
    const values = data.values;
    const { bitmap, nullCount } = validityBitmap(n, (i) => !Number.isNaN(values[i] as number));
    if (column.type === 'date' || column.type === 'datetime') {
      const big = new BigInt64Array(n);
      const words = new Uint32Array(big.buffer);
      for (let i = 0; i < n; i++) {
        const v = values[i] as number;
        if (Number.isNaN(v)) continue;
        const whole = Math.round(v);
        const hi = Math.floor(whole / TWO_32);
        words[2 * i] = whole - hi * TWO_32;
        words[2 * i + 1] = hi;
      }
      if (column.type === 'date') {
        const type = new DateMillisecond();
        return {
          field: new Field(column.name, type, true, metadata),
          data: makeData({ type, length: n, nullCount, nullBitmap: bitmap, data: big })
        };
      }
      const type = new TimestampMillisecond('UTC');
      return {
        field: new Field(column.name, type, true, metadata),
        data: makeData({ type, length: n, nullCount, nullBitmap: bitmap, data: big })
      };
    }
    let fitsInt32 = column.type === 'integer';
    for (let i = 0; fitsInt32 && i < n; i++) {
      const v = values[i] as number;
      if (!Number.isNaN(v) && (v < INT32_MIN || v > INT32_MAX || !Number.isInteger(v))) fitsInt32 = false;
    }
    if (fitsInt32) {
      const type = new Int32();
      const ints = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i] as number;
        if (!Number.isNaN(v)) ints[i] = v;
      }
      return {
        field: new Field(column.name, type, true, metadata),
        data: makeData({ type, length: n, nullCount, nullBitmap: bitmap, data: ints })
      };
    }
    const type = new Float64();
    const floats = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i] as number;
      if (!Number.isNaN(v)) floats[i] = v;
    }
    return {
      field: new Field(column.name, type, true, metadata),
      data: makeData({ type, length: n, nullCount, nullBitmap: bitmap, data: floats })
    };
  }
  if (data.kind === 'boolean') {
    const values = data.values;
    const { bitmap, nullCount } = validityBitmap(n, (i) => values[i] !== BOOL_NULL);
    const bits = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (values[i] === 1) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
    const type = new Bool();
    return {
      field: new Field(column.name, type, true, metadata),
      data: makeData({ type, length: n, nullCount, nullBitmap: bitmap, data: bits })
    };
  }
  const values = data.values;
  if (column.type === 'categorical') {
    const categories = [...new Set(values.filter((v): v is string => v !== null))].sort();
    const codes = new Map(categories.map((v, i) => [v, i]));
    const type = new Dictionary(new Utf8(), new Int32(), index, false);
    const ints = new Int32Array(n);
    const { bitmap, nullCount } = validityBitmap(n, (i) => values[i] != null);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v != null) ints[i] = codes.get(v) ?? 0;
    }
    return {
      field: new Field(column.name, type, true, metadata),
      data: makeData({
        type,
        length: n,
        nullCount,
        nullBitmap: bitmap,
        data: ints,
        dictionary: vectorFromArray(categories, new Utf8())
      })
    };
  }
  const type = new Utf8();
  return {
    field: new Field(column.name, type, true, metadata),
    data: vectorFromArray(values, type).data[0] as Data
  };
}

/** One Arrow table (a single record batch) of the frame, with Lathe's column conventions. */
export function frameToTable(frame: Frame): Table {
  const built = frame.columns.map((c, i) => columnToData(c, i));
  const schema = new Schema(built.map((b) => b.field));
  if (frame.columns.length === 0) return new Table(schema);
  const struct = makeData({
    type: new Struct(schema.fields),
    length: frame.rowCount,
    nullCount: 0,
    children: built.map((b) => b.data)
  });
  return new Table([new RecordBatch(schema, struct)]);
}

/** ISO text of epoch milliseconds: `YYYY-MM-DD` for dates, full ISO for date-times. */
export function formatDate(ms: number, type: 'date' | 'datetime'): string {
  const iso = new Date(ms).toISOString();
  return type === 'date' ? iso.slice(0, 10) : iso;
}

/** The text form of one cell, as a CSV would hold it ('' when missing); parses back with `parseCell`. */
export function cellText(column: FrameColumn, i: number): string {
  const { data } = column;
  if (data.kind === 'number') {
    const v = data.values[i] as number;
    if (Number.isNaN(v)) return '';
    return column.type === 'date' || column.type === 'datetime' ? formatDate(v, column.type) : String(v);
  }
  if (data.kind === 'boolean') {
    const v = data.values[i];
    return v === BOOL_NULL ? '' : v === 1 ? 'true' : 'false';
  }
  return data.values[i] ?? '';
}

/**
 * Column-major text cells and schemas of a table, for `encodeChunks` (which encodes from text). Every
 * value parses back to itself, except text cells that read as missing (`''`, `NA`, …), which become
 * missing just as they would in a CSV.
 */
export function tableToCells(table: Table): { columns: ColumnSchema[]; cells: string[][] } {
  const frame = tableToFrame(table);
  return {
    columns: frame.columns.map(columnSchemaOf),
    cells: frame.columns.map((column) => {
      const out = new Array<string>(frame.rowCount);
      for (let i = 0; i < frame.rowCount; i++) out[i] = cellText(column, i);
      return out;
    })
  };
}

// Row hashing: two 32-bit lanes per row mixed column by column, combined into a 53-bit number key.

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x5bd1e995);
  h ^= h >>> 15;
  return Math.imul(h, 0x27d4eb2d);
}

function finalize(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A 53-bit hash of each row's values in `columns` (string values hashed by content, so categories with
 * different dictionaries compare equal). Equal rows give equal keys; different rows collide with
 * negligible probability.
 */
export function rowHashes(columns: readonly ColumnData[], n: number): Float64Array {
  const a = new Int32Array(n).fill(0x811c9dc5 | 0);
  const b = new Int32Array(n).fill(0x1b873593);
  for (const data of columns) {
    for (let i = 0; i < n; i++) {
      let x: number;
      let y: number;
      if (data.kind === 'number') {
        const v = data.values[i] as number;
        if (Number.isNaN(v)) {
          x = 0x7ff80001;
          y = 0x13;
        } else {
          scratch[0] = v === 0 ? 0 : v;
          x = scratchWords[0] as number;
          y = scratchWords[1] as number;
        }
      } else if (data.kind === 'boolean') {
        x = (data.values[i] as number) + 0x9e37;
        y = x ^ 0x7f4a7c15;
      } else {
        const s = data.values[i];
        if (s == null) {
          x = 0x7ff80002;
          y = 0x29;
        } else {
          x = 0x811c9dc5;
          y = s.length;
          for (let c = 0; c < s.length; c++) {
            const code = s.charCodeAt(c);
            x = Math.imul(x ^ code, 0x01000193);
            y = Math.imul(y ^ code, 0x5bd1e995) ^ (y >>> 13);
          }
        }
      }
      a[i] = mix(a[i] as number, x);
      b[i] = mix(b[i] as number, y ^ x);
    }
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    out[i] = (finalize(a[i] as number) & 0x1fffff) * TWO_32 + finalize(b[i] as number);
  return out;
}

/** Whether row i of `left` equals row j of `right`, column by column (missing equals missing). */
export function rowsEqual(
  left: readonly ColumnData[],
  i: number,
  right: readonly ColumnData[],
  j: number
): boolean {
  for (let c = 0; c < left.length; c++) {
    const l = left[c] as ColumnData;
    const r = right[c] as ColumnData;
    const a = l.values[i] as number | string | null;
    const b = r.values[j] as number | string | null;
    if (a === b) continue;
    if (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b)) continue;
    return false;
  }
  return true;
}
