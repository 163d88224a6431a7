/**
 * Rows in, typed Arrow IPC chunks out, with bounded memory: the streaming half of every importer.
 *
 * The first rows (`sampleRows`, or fewer when they hold `sampleBytes` of text) are kept as they came
 * and the column types are inferred from them with the rules of `./infer`. From then on each row is
 * parsed straight into typed buffers and a chunk is written whenever `rowsPerChunk` rows are in; only
 * the current chunk's rows and the finished chunks' IPC bytes are held.
 *
 * A later cell that does not fit its column's type:
 * - integer column, a number with a fraction → the column becomes float; integers outside Int32 →
 *   stored as Float64 (still an integer column); date column, a date-time → datetime; categorical
 *   column with more than `MAX_STREAM_CATEGORIES` categories → text. These widen in place: the
 *   chunks already written are re-encoded for that column only, losing nothing.
 * - anything else that does not parse (numeric `n/a`, `1,04`, a word in a date column) is a malformed
 *   cell: missing, counted, the first few listed with row and line. A typed column keeps its type
 *   while, at every point of the file, at most 5% (the inference threshold) of its non-missing cells
 *   so far were malformed. Past that, when the source can be read again, the import restarts with
 *   that column read as a string column (`TableRestartError`); otherwise it stays typed, and the
 *   report says how many cells were lost.
 * A key first seen after the sample (NDJSON) adds a text column, missing in the rows before it.
 */
import {
  Bool,
  DateMillisecond,
  Dictionary,
  Field,
  Float64,
  Int32,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
  makeData,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  type Data,
  type DataType,
  type Vector
} from 'apache-arrow';
import { sha256Hex } from '../hash';
import type { ColumnSchema, ColumnType } from '../records';
import {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_CHUNK_ROWS,
  LATHE_TYPE_KEY,
  contentHashOf,
  type ArrowChunk
} from './arrow';
import {
  MALFORMED_EXAMPLES,
  MISSING_TOKENS,
  PARSE_THRESHOLD,
  inferColumn,
  parseIsoDate,
  parseIsoDateTime
} from './infer';

/** A cell as a source gives it: text from CSV, JSON primitives, native values from Arrow and Parquet. */
export type RawCell = string | number | boolean | bigint | Date | null | undefined;

/** A type decided before sampling: the source's own schema, or `string` after a restart. */
export type ColumnHint = ColumnType | 'string';

export interface TableEncoderOptions {
  fileName: string;
  /** Rows the types are inferred from (10k). */
  sampleRows?: number;
  /** Stop sampling earlier once the sample holds this much text (4 MiB). */
  sampleBytes?: number;
  /** Upper bound on rows per chunk (64k). */
  maxChunkRows?: number;
  /** Rough upper bound on a chunk's size (4 MiB). */
  targetChunkBytes?: number;
  /** Types by column name that skip inference. */
  hints?: ReadonlyMap<string, ColumnHint>;
  /** The source can be read again, so a column that turns out not to be typed restarts the import. */
  canRestart?: boolean;
}

/** A malformed cell: `row` is the 0-based data row, `line` the 1-based line (or record number). */
export interface MalformedCellReport {
  row: number;
  line: number;
  column: string;
  value: string;
}

export interface ColumnMalformedReport {
  column: string;
  type: ColumnType;
  count: number;
  examples: MalformedCellReport[];
}

export interface EncodedTable {
  columns: ColumnSchema[];
  rowCount: number;
  chunks: ArrowChunk[];
  contentHash: string;
  malformed: ColumnMalformedReport[];
  warnings: string[];
}

/** Thrown by `push` when a column must be re-read as a string column; the caller starts again with `hints`. */
export class TableRestartError extends Error {
  readonly hints: Map<string, ColumnHint>;
  constructor(hints: Map<string, ColumnHint>, reason: string) {
    super(reason);
    this.name = 'TableRestartError';
    this.hints = hints;
  }
}

export const SAMPLE_ROWS = 10_000;
export const SAMPLE_BYTES = 4 * 1024 * 1024;
/** A categorical column with more categories than this is stored as text. */
export const MAX_STREAM_CATEGORIES = 1000;
/**
 * Distinct values are counted exactly up to this many per column; past it `distinct` is left out
 * (the profile counts them properly). Identifier columns are tracked further, to catch a repeat.
 */
export const DISTINCT_LIMIT = 10_000;
export const IDENTIFIER_DISTINCT_LIMIT = 100_000;

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

type Storage = 'int32' | 'float64' | 'bool' | 'date' | 'timestamp' | 'dict' | 'utf8';

interface ColumnState {
  name: string;
  type: ColumnType;
  storage: Storage;
  present: number;
  missing: number;
  malformed: number;
  examples: MalformedCellReport[];
  distinct: Set<string | number> | undefined;
  /** Numbers, booleans (0/1), dates (ms) and dictionary codes of the current chunk's rows. */
  nums: Float64Array;
  valid: Uint8Array;
  /** Strings of the current chunk's rows (utf8 storage). */
  strs: Array<string | null>;
  dict: { codes: Map<string, number>; values: string[] } | undefined;
  /** A malformed rate past the threshold was seen but the source cannot be re-read. */
  overThreshold: boolean;
}

function storageOf(type: ColumnType): Storage {
  switch (type) {
    case 'integer':
      return 'int32';
    case 'float':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'date':
      return 'date';
    case 'datetime':
      return 'timestamp';
    case 'categorical':
      return 'dict';
    case 'text':
    case 'identifier':
      return 'utf8';
  }
}

/** `0x1f`, `0b1`, `0o7` (what Number() accepts and a CSV does not mean) start with 0 or a blank. */
function mayHaveRadixPrefix(text: string): boolean {
  const first = text.charCodeAt(0);
  return text.length > 2 && (first === 48 || first <= 32);
}

/** `MISSING_TOKENS` (compared trimmed and lower-cased), without allocating for the usual cell. */
function isMissingText(text: string): boolean {
  if (text.length === 0) return true;
  const first = text.charCodeAt(0);
  // Every missing token starts with n, N or ?, unless the cell has leading blanks.
  if (first !== 0x6e && first !== 0x4e && first !== 0x3f && first > 0x20) return false;
  return MISSING_TOKENS.has(text.trim().toLowerCase());
}

/** A cell as text, for inference and for string columns. */
export function cellText(cell: RawCell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number') return Number.isNaN(cell) ? '' : String(cell);
  if (typeof cell === 'boolean') return cell ? 'true' : 'false';
  if (typeof cell === 'bigint') return cell.toString();
  return Number.isNaN(cell.getTime()) ? '' : cell.toISOString();
}

/**
 * Builds a table chunk by chunk. `push` rows (one cell per column, in `names` order), then `finish`.
 * Throws `TableRestartError` from `push` when a restart is needed (see the module comment).
 */
export class TableEncoder {
  private readonly options: TableEncoderOptions;
  private readonly names: string[];
  private sample: RawCell[][] | undefined;
  private sampleLines: number[] = [];
  private sampleBytes = 0;
  private columns: ColumnState[] = [];
  private chunkRows = 0;
  private rowsInChunk = 0;
  private rows = 0;
  private emittedRows = 0;
  private chunkStarts: number[] = [];
  /** Finished chunks' IPC bytes; hashed at the end, since widening may rewrite them. */
  private emitted: Uint8Array[] = [];
  readonly warnings: string[] = [];

  constructor(names: readonly string[], options: TableEncoderOptions) {
    this.options = options;
    this.names = [...names];
    this.sample = this.names.map(() => []);
  }

  /** Rows pushed so far. */
  get rowCount(): number {
    return this.rows;
  }

  /** Rows already written into chunks. */
  get rowsEncoded(): number {
    return this.emittedRows;
  }

  get columnNames(): readonly string[] {
    return this.names;
  }

  /** Sets a column's type before the sample ends (a JSON key that holds nested values is text). */
  setHint(name: string, hint: ColumnHint): void {
    if (!this.sample) return;
    this.localHints.set(name, hint);
  }

  private readonly localHints = new Map<string, ColumnHint>();

  /** Adds a column (a key first seen in a later NDJSON record); earlier rows are missing in it. */
  addColumn(name: string, line: number): void {
    this.names.push(name);
    if (this.sample) {
      this.sample.push(new Array<RawCell>(this.sampleLines.length).fill(null));
      return;
    }
    this.warnings.push(
      `“${name}” first appears on line ${line} of ${this.options.fileName}, after the rows the types were inferred from; it is read as text and is missing in the ${this.rows} rows before.`
    );
    const state = this.newColumn(name, 'text');
    state.missing = this.rows;
    this.columns.push(state);
    const index = this.columns.length - 1;
    this.rewriteEmitted(index, (_old, length) => nullData(length));
  }

  push(cells: readonly RawCell[], line: number): void {
    this.rows++;
    if (this.sample) {
      for (let c = 0; c < this.names.length; c++) {
        const cell = cells[c];
        this.sample[c]?.push(cell);
        if (typeof cell === 'string') this.sampleBytes += cell.length;
        else this.sampleBytes += 8;
      }
      this.sampleLines.push(line);
      const rowsLimit = this.options.sampleRows ?? SAMPLE_ROWS;
      const bytesLimit = this.options.sampleBytes ?? SAMPLE_BYTES;
      if (this.sampleLines.length >= rowsLimit || this.sampleBytes >= bytesLimit) this.endSample();
      return;
    }
    this.encodeRow(cells, this.rows - 1, line);
  }

  /** Writes the last chunk, hashes every chunk and names the whole. */
  async finish(): Promise<EncodedTable> {
    if (this.sample) this.endSample();
    if (this.rowsInChunk > 0) this.emitChunk();
    this.relabelIdentifiers();
    const chunks: ArrowChunk[] = [];
    for (let i = 0; i < this.emitted.length; i++) {
      const bytes = this.emitted[i] ?? new Uint8Array();
      const data =
        bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
          ? (bytes.buffer as ArrayBuffer)
          : (bytes.slice().buffer as ArrayBuffer);
      const start = this.chunkStarts[i] ?? 0;
      const end = this.chunkStarts[i + 1] ?? this.rows;
      chunks.push({ hash: await sha256Hex(data), rows: end - start, bytes: data.byteLength, data });
    }
    this.emitted = [];
    const columns: ColumnSchema[] = this.columns.map((s) => {
      const schema: ColumnSchema = { name: s.name, type: s.type, missing: s.missing + s.malformed };
      if (s.distinct) schema.distinct = s.distinct.size;
      else if (s.dict) schema.distinct = s.dict.values.length;
      return schema;
    });
    const malformed = this.columns
      .filter((s) => s.malformed > 0)
      .map((s) => ({ column: s.name, type: s.type, count: s.malformed, examples: s.examples }));
    for (const s of this.columns) {
      if (s.overThreshold) {
        this.warnings.push(
          `Column “${s.name}”: more than ${Math.round((1 - PARSE_THRESHOLD) * 100)}% of its values could not be read as ${s.type}; they are missing. Re-import the file to read the column as text.`
        );
      }
    }
    return {
      columns,
      rowCount: this.rows,
      chunks,
      contentHash: await contentHashOf(chunks.map((c) => c.hash)),
      malformed,
      warnings: this.warnings
    };
  }

  private newColumn(name: string, type: ColumnType): ColumnState {
    const storage = storageOf(type);
    return {
      name,
      type,
      storage,
      present: 0,
      missing: 0,
      malformed: 0,
      examples: [],
      // A categorical column's distinct count is its dictionary's size.
      distinct: storage === 'dict' ? undefined : new Set(),
      nums: new Float64Array(this.chunkRows),
      valid: new Uint8Array(this.chunkRows),
      strs: [],
      dict: storage === 'dict' ? { codes: new Map(), values: [] } : undefined,
      overThreshold: false
    };
  }

  private endSample(): void {
    const sample = this.sample ?? [];
    const lines = this.sampleLines;
    this.sample = undefined;
    this.sampleLines = [];
    const hints = this.options.hints;
    const types = this.names.map((name, c): ColumnType => {
      const hint = hints?.get(name) ?? this.localHints.get(name);
      if (hint && hint !== 'string') return hint;
      const cells = (sample[c] ?? []).map(cellText);
      return inferColumn(name, cells, { stringOnly: hint === 'string' }).schema.type;
    });
    this.chunkRows = this.planChunkRows(types, sample, lines.length);
    this.columns = this.names.map((name, c) => {
      const type = types[c] ?? 'text';
      const state = this.newColumn(name, type);
      if (type === 'categorical' && state.dict) {
        // Sorted sample categories first, so codes depend on the data only; later ones append.
        const categories = new Set<string>();
        for (const cell of sample[c] ?? []) {
          const text = cellText(cell).trim();
          if (!isMissingText(text)) categories.add(text);
        }
        for (const value of [...categories].sort()) {
          state.dict.codes.set(value, state.dict.values.length);
          state.dict.values.push(value);
        }
      }
      return state;
    });
    const row: RawCell[] = new Array<RawCell>(this.names.length);
    // Inference already held the sample as a whole to the 95% rule; the running check starts after it.
    this.replaying = true;
    for (let r = 0; r < lines.length; r++) {
      for (let c = 0; c < this.names.length; c++) row[c] = sample[c]?.[r];
      this.encodeRow(row, r, lines[r] ?? 0);
    }
    this.replaying = false;
  }

  private replaying = false;

  /** Rows per chunk from the sample's width (same rule as `encodeChunks`), so it depends on the data only. */
  private planChunkRows(types: ColumnType[], sample: RawCell[][], sampleRows: number): number {
    const maxRows = this.options.maxChunkRows ?? DEFAULT_CHUNK_ROWS;
    const targetBytes = this.options.targetChunkBytes ?? DEFAULT_CHUNK_BYTES;
    const n = Math.min(sampleRows, 1000);
    let bytes = 0;
    types.forEach((type, c) => {
      const storage = storageOf(type);
      if (storage === 'utf8') for (let r = 0; r < n; r++) bytes += cellText(sample[c]?.[r]).length + 4;
      else bytes += n * (storage === 'bool' ? 1 : 8);
    });
    const perRow = n > 0 ? Math.max(1, bytes / n) : 1;
    return Math.max(1, Math.min(maxRows, Math.floor(targetBytes / perRow)));
  }

  private encodeRow(cells: readonly RawCell[], row: number, line: number): void {
    const i = this.rowsInChunk;
    for (let c = 0; c < this.columns.length; c++) {
      const state = this.columns[c];
      if (state) this.setCell(state, c, i, cells[c], row, line);
    }
    this.rowsInChunk++;
    if (this.rowsInChunk >= this.chunkRows) this.emitChunk();
  }

  private setCell(
    state: ColumnState,
    index: number,
    i: number,
    cell: RawCell,
    row: number,
    line: number
  ): void {
    state.valid[i] = 0;
    if (state.storage === 'utf8') state.strs[i] = null;
    if (cell === null || cell === undefined || (typeof cell === 'number' && Number.isNaN(cell))) {
      state.missing++;
      return;
    }
    const text = typeof cell === 'string' ? cell : undefined;
    if (text !== undefined && isMissingText(text)) {
      state.missing++;
      return;
    }
    switch (state.storage) {
      case 'int32':
      case 'float64': {
        let v: number;
        if (typeof cell === 'number') v = cell;
        else if (typeof cell === 'bigint') v = Number(cell);
        else if (text !== undefined) {
          // Number() trims and parses like FLOAT except for radix prefixes (0x1f) and "Infinity",
          // which are not numbers in a CSV; the regex runs only in that rare case.
          v = Number(text);
          if (!Number.isFinite(v) || (mayHaveRadixPrefix(text) && !FLOAT.test(text.trim()))) v = Number.NaN;
        } else v = Number.NaN;
        if (Number.isNaN(v) || !Number.isFinite(v)) return this.malformedCell(state, cell, row, line);
        if (state.storage === 'int32' && (v < INT32_MIN || v > INT32_MAX || !Number.isInteger(v))) {
          this.widen(index, Number.isInteger(v) ? state.type : 'float', 'float64');
        }
        state.nums[i] = v;
        break;
      }
      case 'bool': {
        let v: boolean | undefined;
        if (typeof cell === 'boolean') v = cell;
        else if (text !== undefined) {
          const lower = text.trim().toLowerCase();
          v =
            lower === 'true' || lower === 'yes'
              ? true
              : lower === 'false' || lower === 'no'
                ? false
                : undefined;
        }
        if (v === undefined) return this.malformedCell(state, cell, row, line);
        state.nums[i] = v ? 1 : 0;
        break;
      }
      case 'date':
      case 'timestamp': {
        let v: number | null = null;
        if (cell instanceof Date) v = Number.isNaN(cell.getTime()) ? null : cell.getTime();
        else if (typeof cell === 'number') v = cell;
        else if (typeof cell === 'bigint') v = Number(cell);
        else if (text !== undefined) {
          const trimmed = text.trim();
          v = parseIsoDate(trimmed);
          if (v === null) {
            v = parseIsoDateTime(trimmed);
            if (v !== null && state.storage === 'date') this.widen(index, 'datetime', 'timestamp');
          }
        }
        if (v === null) return this.malformedCell(state, cell, row, line);
        if (state.storage === 'date' && v % 86_400_000 !== 0) this.widen(index, 'datetime', 'timestamp');
        state.nums[i] = v;
        break;
      }
      case 'dict': {
        const dict = state.dict;
        const value = (text ?? cellText(cell)).trim();
        if (!dict) break;
        let code = dict.codes.get(value);
        if (code === undefined) {
          if (dict.values.length >= MAX_STREAM_CATEGORIES) {
            this.widen(index, 'text', 'utf8');
            state.strs[i] = value;
            break;
          }
          code = dict.values.length;
          dict.codes.set(value, code);
          dict.values.push(value);
        }
        state.nums[i] = code;
        break;
      }
      case 'utf8':
        state.strs[i] = state.type === 'text' ? (text ?? cellText(cell)) : (text ?? cellText(cell)).trim();
        break;
    }
    state.valid[i] = 1;
    state.present++;
    if (state.distinct) {
      state.distinct.add(state.storage === 'utf8' ? (state.strs[i] ?? '') : (state.nums[i] ?? 0));
      if (state.distinct.size > (state.type === 'identifier' ? IDENTIFIER_DISTINCT_LIMIT : DISTINCT_LIMIT)) {
        state.distinct = undefined;
      }
    }
  }

  private malformedCell(state: ColumnState, cell: RawCell, row: number, line: number): void {
    state.malformed++;
    if (state.examples.length < MALFORMED_EXAMPLES) {
      state.examples.push({ row, line, column: state.name, value: cellText(cell) });
    }
    if (!this.replaying && state.malformed > (1 - PARSE_THRESHOLD) * (state.present + state.malformed)) {
      if (this.options.canRestart) {
        const hints = new Map(this.options.hints ?? []);
        hints.set(state.name, 'string');
        throw new TableRestartError(
          hints,
          `Column “${state.name}” of ${this.options.fileName} has too many values that are not ${state.type} (line ${line}: “${cellText(cell)}”).`
        );
      }
      state.overThreshold = true;
    }
  }

  /** Changes a column's type mid-file; the chunks already written are rewritten for that column. */
  private widen(index: number, type: ColumnType, storage: Storage): void {
    const state = this.columns[index];
    if (!state) return;
    const from = state.storage;
    state.type = type;
    if (from === storage) return;
    state.storage = storage;
    if (from === 'dict' && storage === 'utf8') {
      const values = state.dict?.values ?? [];
      for (let i = 0; i < this.rowsInChunk; i++) {
        state.strs[i] = state.valid[i] ? (values[state.nums[i] ?? 0] ?? null) : null;
      }
      state.dict = undefined;
      state.distinct = new Set(values);
      this.warnings.push(
        `Column “${state.name}” has more than ${MAX_STREAM_CATEGORIES} distinct values; it is stored as text rather than as categories.`
      );
    }
    // int32 → float64 and date → timestamp keep their numbers; only the Arrow type changes.
    this.rewriteEmitted(index, (old, length) => convertData(old, storage, length));
  }

  /** After the whole file: an identifier column that turned out to repeat a value is text. */
  private relabelIdentifiers(): void {
    this.columns.forEach((state, index) => {
      if (state.type !== 'identifier' || !state.distinct || state.distinct.size === state.present) return;
      state.type = 'text';
      this.rewriteEmitted(index, (old, length) => old ?? nullData(length));
    });
  }

  private fieldOf(state: ColumnState, index: number): Field {
    const metadata = new Map([[LATHE_TYPE_KEY, state.type]]);
    return new Field(state.name, arrowTypeOf(state.storage, index), true, metadata);
  }

  private schema(): Schema {
    return new Schema(this.columns.map((s, i) => this.fieldOf(s, i)));
  }

  private emitChunk(): void {
    const length = this.rowsInChunk;
    const schema = this.schema();
    const children = this.columns.map((state, c) => chunkData(state, schema.fields[c]?.type, length));
    this.emitted.push(serialize(schema, children, length));
    this.chunkStarts.push(this.emittedRows);
    this.emittedRows += length;
    this.rowsInChunk = 0;
    for (const state of this.columns) {
      state.valid.fill(0);
      state.strs = [];
    }
  }

  /** Re-encodes one column of every chunk already written, with the current schema. */
  private rewriteEmitted(index: number, convert: (old: Data | undefined, length: number) => Data): void {
    if (this.emitted.length === 0) return;
    const schema = this.schema();
    this.emitted = this.emitted.map((bytes) => {
      const batch = tableFromIPC(bytes).batches[0];
      const length = batch?.numRows ?? 0;
      const children = schema.fields.map((field, c) => {
        const old = batch?.data.children[c];
        if (c === index) {
          const data = convert(old, length);
          return data.type.typeId === field.type.typeId ? withType(data, field.type) : data;
        }
        return old ? withType(old, field.type) : nullData(length);
      });
      return serialize(schema, children, length);
    });
  }
}

function arrowTypeOf(storage: Storage, index: number): DataType {
  switch (storage) {
    case 'int32':
      return new Int32();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'date':
      return new DateMillisecond();
    case 'timestamp':
      return new TimestampMillisecond('UTC');
    case 'dict':
      return new Dictionary(new Utf8(), new Int32(), index, false);
    case 'utf8':
      return new Utf8();
  }
}

function serialize(schema: Schema, children: Data[], length: number): Uint8Array {
  const struct = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return tableToIPC(new Table([new RecordBatch(schema, struct)]), 'stream');
}

function bitmapOf(valid: Uint8Array, length: number): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (valid[i]) nullBitmap[i >> 3] = (nullBitmap[i >> 3] ?? 0) | (1 << (i & 7));
    else nullCount++;
  }
  return { nullBitmap, nullCount };
}

function chunkData(state: ColumnState, type: DataType | undefined, length: number): Data {
  const { nullBitmap, nullCount } = bitmapOf(state.valid, length);
  switch (state.storage) {
    case 'int32':
      return makeData({
        type: type as Int32,
        length,
        nullCount,
        nullBitmap,
        data: Int32Array.from(state.nums.subarray(0, length))
      });
    case 'float64':
      return makeData({
        type: type as Float64,
        length,
        nullCount,
        nullBitmap,
        data: state.nums.slice(0, length)
      });
    case 'bool': {
      const bits = new Uint8Array((length + 7) >> 3);
      for (let i = 0; i < length; i++) if (state.nums[i]) bits[i >> 3] = (bits[i >> 3] ?? 0) | (1 << (i & 7));
      return makeData({ type: type as Bool, length, nullCount, nullBitmap, data: bits });
    }
    case 'date':
    case 'timestamp': {
      const data = new BigInt64Array(length);
      for (let i = 0; i < length; i++) if (state.valid[i]) data[i] = BigInt(Math.round(state.nums[i] ?? 0));
      if (state.storage === 'date')
        return makeData({ type: type as DateMillisecond, length, nullCount, nullBitmap, data });
      return makeData({ type: type as TimestampMillisecond, length, nullCount, nullBitmap, data });
    }
    case 'dict': {
      const codes = Int32Array.from(state.nums.subarray(0, length));
      const dictionary = vectorFromArray(state.dict?.values ?? [], new Utf8()) as Vector<Utf8>;
      return makeData({
        type: type as Dictionary<Utf8, Int32>,
        length,
        nullCount,
        nullBitmap,
        data: codes,
        dictionary
      });
    }
    case 'utf8':
      return utf8Data(state.strs, length, nullBitmap, nullCount);
  }
}

const encoder = new TextEncoder();

/** Utf8 data built directly: offsets and one byte buffer, no per-value builder objects. */
function utf8Data(
  strs: ReadonlyArray<string | null>,
  length: number,
  nullBitmap: Uint8Array,
  nullCount: number
): Data<Utf8> {
  const valueOffsets = new Int32Array(length + 1);
  let capacity = 0;
  for (let i = 0; i < length; i++) capacity += (strs[i]?.length ?? 0) * 3;
  let bytes = new Uint8Array(Math.max(8, capacity));
  let end = 0;
  for (let i = 0; i < length; i++) {
    const s = strs[i];
    if (s) {
      if (end + s.length * 3 > bytes.length) {
        const grown = new Uint8Array((end + s.length * 3) * 2);
        grown.set(bytes.subarray(0, end));
        bytes = grown;
      }
      end += encoder.encodeInto(s, bytes.subarray(end)).written;
    }
    valueOffsets[i + 1] = end;
  }
  return makeData({
    type: new Utf8(),
    length,
    nullCount,
    nullBitmap,
    valueOffsets,
    data: bytes.subarray(0, end)
  });
}

function nullData(length: number): Data<Utf8> {
  return makeData({
    type: new Utf8(),
    length,
    nullCount: length,
    nullBitmap: new Uint8Array((length + 7) >> 3),
    valueOffsets: new Int32Array(length + 1),
    data: new Uint8Array(0)
  });
}

/** Same buffers under a new type object (a new `lathe.type` tag does not change the data). */
function withType(data: Data, type: DataType): Data {
  return data.clone(type);
}

/** Old column data as the new storage: lossless number widening, or dictionary codes to their text. */
function convertData(old: Data | undefined, storage: Storage, length: number): Data {
  if (!old) return nullData(length);
  const valid = new Uint8Array(length);
  for (let i = 0; i < length; i++) valid[i] = old.getValid(i) ? 1 : 0;
  const { nullBitmap, nullCount } = bitmapOf(valid, length);
  if (storage === 'float64') {
    const values = old.values as Int32Array;
    const data = new Float64Array(length);
    for (let i = 0; i < length; i++) data[i] = values[old.offset + i] ?? 0;
    return makeData({ type: new Float64(), length, nullCount, nullBitmap, data });
  }
  if (storage === 'timestamp') {
    const data = new BigInt64Array(length);
    const values = old.values as unknown as BigInt64Array | Int32Array;
    if (values instanceof BigInt64Array) data.set(values.subarray(old.offset, old.offset + length));
    else for (let i = 0; i < length; i++) data[i] = BigInt(values[old.offset + i] ?? 0);
    return makeData({ type: new TimestampMillisecond('UTC'), length, nullCount, nullBitmap, data });
  }
  if (storage === 'utf8') {
    const dictionary = old.dictionary;
    const codes = old.values as Int32Array;
    const strs: Array<string | null> = [];
    for (let i = 0; i < length; i++) {
      strs.push(valid[i] ? String(dictionary?.get(codes[old.offset + i] ?? 0) ?? '') : null);
    }
    return utf8Data(strs, length, nullBitmap, nullCount);
  }
  return old;
}
