/**
 * Typed Arrow record batches from inferred columns, their IPC chunks and content hashes, and the
 * way back for the train worker.
 *
 * Column types map to Arrow as: integer → Int32 (Float64 when a value does not fit), float → Float64,
 * boolean → Bool, date → DateMillisecond, datetime → TimestampMillisecond (UTC),
 * categorical → Dictionary<Utf8, Int32>, text and identifier → Utf8; missing cells are nulls. Each
 * field carries its Lathe type in the `lathe.type` metadata so a reader can tell an identifier from text.
 *
 * A categorical column uses one dictionary, its categories sorted, in every chunk: codes mean the same
 * category in every chunk, and the same cells always give the same bytes, hence the same hashes.
 */
import {
  Bool,
  DateMillisecond,
  Dictionary,
  Field,
  Float64,
  Int32,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Type,
  Utf8,
  makeData,
  tableFromIPC,
  vectorFromArray,
  type Data,
  type DataType,
  type Float,
  type Vector
} from 'apache-arrow';
import { LatheError } from '../errors';
import { sha256Hex } from '../hash';
import { COLUMN_TYPES, type ChunkRef, type ColumnSchema, type ColumnType } from '../records';
import { LATHE_TYPE_KEY, ipcStream } from './chunk-writer';
import { parseCell } from './infer';

export { LATHE_TYPE_KEY };

/** One Arrow IPC stream holding a slice of the rows, named by the SHA-256 of its bytes. */
export interface ArrowChunk extends ChunkRef {
  data: ArrayBuffer;
}

export interface EncodeOptions {
  /** Upper bound on rows per chunk. */
  maxRows?: number;
  /** Rough upper bound on a chunk's size, so a chunk of wide rows stays a few MB. */
  targetBytes?: number;
  /** Checked between chunks so a long encode can be cancelled. */
  signal?: AbortSignal;
  /** Called after each chunk with the rows encoded so far. */
  onChunk?(rowsEncoded: number): void;
}

export const DEFAULT_CHUNK_ROWS = 65_536;
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

/** Column-major cells: `cells[c][r]` is the text of row r in column c. */
export type ColumnCells = ReadonlyArray<readonly string[]>;

/** The Arrow field of each column, decided once from all the rows so every chunk has the same schema. */
interface ColumnPlan {
  column: ColumnSchema;
  cells: readonly string[];
  field: Field;
  /** Categorical columns: the sorted categories and their codes. */
  dictionary?: { values: Vector<Utf8>; codes: Map<string, number> };
}

function planColumns(columns: readonly ColumnSchema[], cells: ColumnCells): ColumnPlan[] {
  return columns.map((column, c) => {
    const columnCells = cells[c] ?? [];
    const metadata = new Map([[LATHE_TYPE_KEY, column.type]]);
    if (column.type === 'categorical') {
      const categories = new Set<string>();
      for (const raw of columnCells) {
        const value = parseCell('categorical', raw);
        if (typeof value === 'string') categories.add(value);
      }
      const sorted = [...categories].sort();
      const type = new Dictionary(new Utf8(), new Int32(), c, false);
      return {
        column,
        cells: columnCells,
        field: new Field(column.name, type, true, metadata),
        dictionary: {
          values: vectorFromArray(sorted, new Utf8()),
          codes: new Map(sorted.map((v, i) => [v, i]))
        }
      };
    }
    return {
      column,
      cells: columnCells,
      field: new Field(column.name, arrowType(column.type, columnCells), true, metadata)
    };
  });
}

/** The Arrow type of a non-categorical column; integers that overflow Int32 widen to Float64. */
function arrowType(type: ColumnType, cells: readonly string[]): DataType {
  switch (type) {
    case 'integer':
      return cells.every((raw) => {
        const v = parseCell('integer', raw);
        return v === null || (typeof v === 'number' && v >= INT32_MIN && v <= INT32_MAX);
      })
        ? new Int32()
        : new Float64();
    case 'float':
      return new Float64();
    case 'boolean':
      return new Bool();
    case 'date':
      return new DateMillisecond();
    case 'datetime':
      return new TimestampMillisecond('UTC');
    case 'categorical':
    case 'text':
    case 'identifier':
      return new Utf8();
  }
}

/** Builds the Arrow data of rows [start, end) of one column. */
function columnData(plan: ColumnPlan, start: number, end: number): Data {
  const { field, column, cells } = plan;
  const length = end - start;
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  const valid = (i: number): void => {
    nullBitmap[i >> 3] = (nullBitmap[i >> 3] ?? 0) | (1 << (i & 7));
  };
  const typeId = field.type.typeId;
  if (plan.dictionary) {
    const { values, codes } = plan.dictionary;
    const data = new Int32Array(length);
    for (let i = 0; i < length; i++) {
      const value = parseCell('categorical', cells[start + i] ?? '');
      const code = typeof value === 'string' ? codes.get(value) : undefined;
      if (code === undefined) nullCount++;
      else {
        data[i] = code;
        valid(i);
      }
    }
    return makeData({
      type: field.type as Dictionary<Utf8, Int32>,
      length,
      nullCount,
      nullBitmap,
      data,
      dictionary: values
    });
  }
  if (typeId === Type.Int || typeId === Type.Float || typeId === Type.Date || typeId === Type.Timestamp) {
    const wide = typeId === Type.Date || typeId === Type.Timestamp;
    const numbers = typeId === Type.Int ? new Int32Array(length) : new Float64Array(length);
    const bigints = new BigInt64Array(wide ? length : 0);
    for (let i = 0; i < length; i++) {
      const v = parseCell(column.type, cells[start + i] ?? '');
      if (typeof v !== 'number') {
        nullCount++;
        continue;
      }
      if (wide) bigints[i] = BigInt(Math.round(v));
      else numbers[i] = v;
      valid(i);
    }
    if (field.type instanceof DateMillisecond) {
      return makeData({ type: field.type, length, nullCount, nullBitmap, data: bigints });
    }
    if (field.type instanceof TimestampMillisecond) {
      return makeData({ type: field.type, length, nullCount, nullBitmap, data: bigints });
    }
    if (field.type instanceof Int32)
      return makeData({ type: field.type, length, nullCount, nullBitmap, data: numbers });
    return makeData({ type: field.type as Float64, length, nullCount, nullBitmap, data: numbers });
  }
  // Bool and Utf8: the builders pack bits and offsets for us.
  const values: Array<boolean | string | null> = [];
  for (let i = start; i < end; i++) {
    const v = parseCell(column.type, cells[i] ?? '');
    values.push(typeof v === 'number' ? null : v);
  }
  return vectorFromArray(values, field.type as Bool | Utf8).data[0] as Data;
}

/** A record batch of rows [start, end), built with the planned schema. */
function buildBatch(schema: Schema, plans: ColumnPlan[], start: number, end: number): RecordBatch {
  const children = plans.map((plan) => columnData(plan, start, end));
  const struct = makeData({ type: new Struct(schema.fields), length: end - start, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}

/** Rows per chunk: at most `maxRows`, and few enough that a chunk stays near `targetBytes`. */
function rowsPerChunk(plans: ColumnPlan[], rowCount: number, options: EncodeOptions): number {
  const maxRows = options.maxRows ?? DEFAULT_CHUNK_ROWS;
  const targetBytes = options.targetBytes ?? DEFAULT_CHUNK_BYTES;
  // Estimate from a sample of rows, so the choice depends only on the data (and hashes stay stable).
  const sample = Math.min(rowCount, 1000);
  let bytes = 0;
  for (const plan of plans) {
    const type = plan.field.type.typeId;
    if (type === Type.Utf8) for (let r = 0; r < sample; r++) bytes += (plan.cells[r]?.length ?? 0) + 4;
    else bytes += sample * (type === Type.Bool ? 1 : 8);
  }
  const perRow = sample > 0 ? Math.max(1, bytes / sample) : 1;
  return Math.max(1, Math.min(maxRows, Math.floor(targetBytes / perRow)));
}

/** One table of all the rows, with the same schema and chunking as `encodeChunks`; for tests and previews. */
export function buildTable(
  columns: readonly ColumnSchema[],
  cells: ColumnCells,
  options: EncodeOptions = {}
): Table {
  const plans = planColumns(columns, cells);
  const schema = new Schema(plans.map((p) => p.field));
  const rowCount = cells[0]?.length ?? 0;
  const step = rowsPerChunk(plans, rowCount, options);
  const batches: RecordBatch[] = [];
  for (let start = 0; start < rowCount; start += step) {
    batches.push(buildBatch(schema, plans, start, Math.min(rowCount, start + step)));
  }
  return batches.length > 0 ? new Table(batches) : new Table(schema);
}

/**
 * Encodes the rows as Arrow IPC stream chunks (a few MB or ≤ 64k rows each), hashes every chunk,
 * and names the whole by `contentHash` = SHA-256 over the chunk hashes in order.
 */
export async function encodeChunks(
  columns: readonly ColumnSchema[],
  cells: ColumnCells,
  options: EncodeOptions = {}
): Promise<{ chunks: ArrowChunk[]; contentHash: string }> {
  const plans = planColumns(columns, cells);
  const schema = new Schema(plans.map((p) => p.field));
  const rowCount = cells[0]?.length ?? 0;
  const step = rowsPerChunk(plans, rowCount, options);
  const chunks: ArrowChunk[] = [];
  for (let start = 0; start < rowCount; start += step) {
    options.signal?.throwIfAborted();
    const end = Math.min(rowCount, start + step);
    const data = ipcStream(buildBatch(schema, plans, start, end));
    chunks.push({ hash: await sha256Hex(data), rows: end - start, bytes: data.byteLength, data });
    options.onChunk?.(end);
  }
  return { chunks, contentHash: await contentHashOf(chunks.map((c) => c.hash)) };
}

/** The content name of a dataset version: SHA-256 over its chunk hashes (hex text) in order. */
export async function contentHashOf(chunkHashes: readonly string[]): Promise<string> {
  return sha256Hex(new TextEncoder().encode(chunkHashes.join('')));
}

/** Reads IPC stream chunks back as one table, in order. */
export function readChunks(buffers: readonly ArrayBuffer[]): Table {
  const batches = buffers.flatMap((buffer) => tableFromIPC(new Uint8Array(buffer)).batches);
  const first = batches[0];
  if (!first) throw new LatheError('no_chunks', 'This dataset version has no data chunks.');
  return new Table(batches);
}

/** The Lathe column type recorded in a field's metadata, if any. */
export function latheTypeOf(field: Field): ColumnType | undefined {
  return field.metadata.get(LATHE_TYPE_KEY) as ColumnType | undefined;
}

/** The Lathe type that fits an Arrow type; null for types Lathe does not read (lists, structs, …). */
export function columnTypeOfArrowType(type: DataType): ColumnType | null {
  switch (type.typeId) {
    case Type.Int:
      return 'integer';
    case Type.Float:
    case Type.Decimal:
      return 'float';
    case Type.Bool:
      return 'boolean';
    case Type.Date:
      return 'date';
    case Type.Timestamp:
      return 'datetime';
    case Type.Dictionary:
      return 'categorical';
    case Type.Utf8:
    case Type.LargeUtf8:
      return 'text';
    default:
      return null;
  }
}

/** The Lathe type a field holds: its `lathe.type` metadata when that names a known type, else by its Arrow type. */
export function columnTypeOfArrowField(field: Field): ColumnType | null {
  const declared = latheTypeOf(field);
  if (declared && (COLUMN_TYPES as readonly string[]).includes(declared)) return declared;
  return columnTypeOfArrowType(field.type as DataType);
}

/** The categories of a categorical column in code order (the codes `tableToColumns` returns). */
export function categoriesOf(table: Table, name: string): string[] {
  const vector = table.getChild(name);
  if (!vector || !(vector.type instanceof Dictionary)) {
    throw new LatheError('not_categorical', `Column “${name}” is not categorical.`);
  }
  return dictionaryUnion(vector.data).values;
}

/** Categories in order of first appearance across the chunks' dictionaries, and each chunk's local → global code map. */
function dictionaryUnion(chunks: ReadonlyArray<Data>): { values: string[]; remaps: Int32Array[] } {
  const codes = new Map<string, number>();
  const values: string[] = [];
  const remaps = chunks.map((data) => {
    const dictionary = data.dictionary;
    const remap = new Int32Array(dictionary?.length ?? 0);
    for (let i = 0; i < remap.length; i++) {
      const value = String(dictionary?.get(i));
      let code = codes.get(value);
      if (code === undefined) {
        code = values.length;
        codes.set(value, code);
        values.push(value);
      }
      remap[i] = code;
    }
    return remap;
  });
  return { values, remaps };
}

/**
 * Numeric feature columns for training, one Float32Array per name: numbers as they are, booleans as
 * 1/0, dates as epoch milliseconds (Float32 keeps about 7 digits, so scale them first for fine
 * differences), categories as their codes (see `categoriesOf`); nulls become NaN. Text and identifier
 * columns are refused: they have no numeric meaning.
 */
export function tableToColumns(table: Table, names: readonly string[]): Float32Array[] {
  return names.map((name) => {
    const vector = table.getChild(name);
    if (!vector) throw new LatheError('column_missing', `The dataset has no column “${name}”.`);
    const out = new Float32Array(table.numRows);
    const type = vector.type as DataType;
    if (type.typeId === Type.Utf8) {
      throw new LatheError(
        'not_numeric',
        `Column “${name}” holds text; it cannot be used as a numeric feature.`
      );
    }
    const remaps = type instanceof Dictionary ? dictionaryUnion(vector.data).remaps : undefined;
    // Plain numbers are read straight from the buffers; other types go through `get`.
    // (Half floats are stored as raw 16-bit patterns, so they take the slow path.)
    const direct =
      type.typeId === Type.Int ||
      (type.typeId === Type.Float && (type as Float).precision !== Precision.HALF);
    let offset = 0;
    vector.data.forEach((data, chunk) => {
      const remap = remaps?.[chunk];
      for (let i = 0; i < data.length; i++) {
        if (!data.getValid(i)) {
          out[offset + i] = Number.NaN;
          continue;
        }
        if (remap) {
          const local = (data.values as Int32Array)[data.offset + i] ?? -1;
          out[offset + i] = remap[local] ?? Number.NaN;
          continue;
        }
        if (direct) {
          out[offset + i] = Number((data.values as Float64Array | Int32Array)[data.offset + i]);
          continue;
        }
        const value: unknown = vector.get(offset + i);
        out[offset + i] =
          typeof value === 'boolean' ? Number(value) : typeof value === 'number' ? value : Number.NaN;
      }
      offset += data.length;
    });
    return out;
  });
}
