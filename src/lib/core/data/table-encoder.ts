/**
 * Rows in, typed Arrow IPC chunks out, with bounded memory: the streaming half of every importer.
 *
 * The first rows (`sampleRows`, or fewer when they hold `sampleBytes` of text) are kept as they came
 * and the column types are inferred from them with the rules of `./infer`. From then on each row is
 * parsed straight into typed buffers and a chunk is written whenever `rowsPerChunk` rows are in; only
 * the current chunk's rows and the finished chunks' IPC bytes are held. As a chunk is written, its
 * SHA-256 is started (WebCrypto works on another thread meanwhile) and each column's values are
 * added to its distinct count (`DistinctCounter`: exact up to 100,000 values, estimated past that,
 * strings by their UTF-8 bytes; a categorical column's count is its dictionary's size).
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
  Float64,
  Schema,
  type Field,
  TimestampMillisecond,
  Utf8,
  makeData,
  tableFromIPC,
  type Data,
  type DataType
} from 'apache-arrow';
import { sha256Hex } from '../hash';
import type { ColumnSchema, ColumnType } from '../records';
import { DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_ROWS, contentHashOf, type ArrowChunk } from './arrow';
import {
  LocalChunkWriter,
  bitmapOf,
  fieldOf,
  serialize,
  type ChunkWriter,
  type ColumnBuffers,
  type Storage,
  type WrittenChunk
} from './chunk-writer';
import type { CsvByteBatch } from './csv';
import {
  MALFORMED_EXAMPLES,
  MISSING_TOKENS,
  PARSE_THRESHOLD,
  inferColumn,
  parseIsoDate,
  parseIsoDateBytes,
  parseIsoDateTime
} from './infer';
import { ColumnDistinctCounts, type DistinctCount } from './distinct-counter';
import {
  ByteSet,
  Utf8Buffer,
  booleanRange,
  isTrimmedRange,
  missingRange,
  plainDecimal,
  utf8Text
} from './text-cells';

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
  /** Writes the full chunks (a `LocalChunkWriter` unless given); the encoder closes it. */
  writer?: ChunkWriter;
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
 * Chunks the parser may run ahead of the writer (see `TableEncoder.settle`). One is enough to keep
 * both workers busy; each more is a chunk the import waits for after the last row (the writer is the
 * slower of the two), and a set of buffers more in flight: 4 made 80 MB imports 10–15% slower.
 */
export const MAX_PENDING_CHUNKS = 1;

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;

interface ColumnState {
  name: string;
  type: ColumnType;
  storage: Storage;
  present: number;
  missing: number;
  malformed: number;
  examples: MalformedCellReport[];
  /** Numbers, booleans (0/1), dates (ms) and dictionary codes of the current chunk's rows. */
  nums: Float64Array;
  valid: Uint8Array;
  /** The current chunk's values as UTF-8 (utf8 storage). */
  utf8: Utf8Buffer | undefined;
  /** The categories (dict storage); a category's index is its code. */
  dict: ByteSet | undefined;
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

/**
 * `MISSING_TOKENS` (compared trimmed and lower-cased), without allocating for the usual cell; the
 * rule for string cells, which the byte reader `missingRange` follows.
 */
export function isMissingText(text: string): boolean {
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
  /**
   * Finished chunks' IPC bytes, each with its SHA-256 under way: WebCrypto hashes on another thread
   * while the file is read. Widening rewrites a chunk, and hashes it again.
   */
  private emitted: EmittedChunk[] = [];
  /** Chunks before this index have been written (see `settle`). */
  private settled = 0;
  private readonly writer: ChunkWriter;
  readonly warnings: string[] = [];

  constructor(names: readonly string[], options: TableEncoderOptions) {
    this.options = options;
    this.names = [...names];
    this.sample = this.names.map(() => []);
    this.writer = options.writer ?? new LocalChunkWriter();
  }

  /** Chunks handed to the writer and not yet known to be written. */
  get pending(): number {
    return this.emitted.length - this.settled;
  }

  /**
   * Waits until at most `maxPending` chunks are being written, so a writer slower than the parser
   * (on another worker) cannot pile up chunks in memory. Rejects with a failed write's error.
   */
  async settle(maxPending = MAX_PENDING_CHUNKS): Promise<void> {
    while (this.pending > maxPending) {
      const next = this.emitted[this.settled];
      if (next) await next.written;
      this.settled++;
    }
  }

  /** Frees the writer; called after `finish`, or when the import stops without finishing. */
  close(): void {
    this.writer.close();
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
    // The chunks already written lack it; `finish` adds it to them as missing.
    this.columns.push(state);
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

  /** Writes the last chunk, waits for every chunk to be written and names the whole. */
  async finish(): Promise<EncodedTable> {
    if (this.sample) this.endSample();
    if (this.rowsInChunk > 0) this.emitChunk();
    const written = await Promise.all(this.emitted.map((e) => e.written));
    this.settled = this.emitted.length;
    const distinct = this.distinct.result();
    this.relabelIdentifiers(distinct);
    const fields = this.columns.map((s, i) => fieldOf(s.name, s.type, s.storage, i));
    const storages = this.columns.map((s) => s.storage);
    const chunks: ArrowChunk[] = [];
    for (let i = 0; i < written.length; i++) {
      const emitted = this.emitted[i];
      let chunk = written[i];
      if (!emitted || !chunk) continue;
      if (!sameLayout(emitted.layout, this.columns)) {
        chunk = await rewrite(chunk.data, emitted.layout, fields, storages);
      }
      const { data } = chunk;
      const start = this.chunkStarts[i] ?? 0;
      const end = this.chunkStarts[i + 1] ?? this.rows;
      chunks.push({ hash: chunk.hash, rows: end - start, bytes: data.byteLength, data });
    }
    this.emitted = [];
    this.settled = 0;
    const columns: ColumnSchema[] = this.columns.map((s, i) => {
      const schema: ColumnSchema = { name: s.name, type: s.type, missing: s.missing + s.malformed };
      if (s.storage === 'dict') {
        // A categorical column's distinct count is its dictionary's size.
        schema.distinct = s.dict?.size ?? 0;
      } else {
        const { count, relativeError } = distinct[i] ?? { count: 0, relativeError: null };
        // An estimate can overshoot; there are never more distinct values than present ones.
        schema.distinct = Math.min(count, s.present);
        if (relativeError !== null) schema.distinctError = relativeError;
      }
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
      nums: new Float64Array(this.chunkRows),
      valid: new Uint8Array(this.chunkRows),
      utf8: storage === 'utf8' ? new Utf8Buffer(this.chunkRows) : undefined,
      dict: storage === 'dict' ? new ByteSet({ keepValues: true }) : undefined,
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
        for (const value of [...categories].sort()) state.dict.addString(value);
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
    // The sample is a chunk of its own: the chunk writer starts on it while the rows after it are
    // parsed, rather than waiting for a whole chunk's worth (in a cold worker, half a second).
    if (this.rowsInChunk > 0) this.emitChunk();
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

  /**
   * The data records of a CSV batch (see `CsvByteBatch`), a field per column: what `push` does with
   * the same cells as strings. Once the types are known the cells are read straight from the bytes,
   * a column at a time (`encodeSegment`).
   */
  pushBatch(batch: CsvByteBatch): void {
    let r = batch.from;
    const n = batch.rows;
    for (; r < n && this.sample; r++) {
      const count = batch.rowFields[r] ?? 0;
      const cells = new Array<RawCell>(count);
      for (let k = 0; k < count; k++) cells[k] = batch.field(r, k);
      this.push(cells, batch.lines[r] ?? 0);
    }
    while (r < n) {
      // Segments end where chunks do.
      const count = Math.min(n - r, this.chunkRows - this.rowsInChunk);
      this.encodeSegment(batch, r, count);
      r += count;
      if (this.rowsInChunk >= this.chunkRows) this.emitChunk();
    }
  }

  private segmentNext = new Int32Array(0);

  /**
   * Records `[r0, r0 + count)` of a batch, all in the current chunk. Each column runs through its
   * cells in a tight loop of its own (`fastColumn`) up to the first cell that needs more than the
   * plain path: a malformed cell, a widening, a new category. The earliest such record is then done
   * cell by cell for the columns that stopped there, in column order, and the loops go on. So every
   * event with effects beyond its own column (malformed reports, a restart, widening warnings) still
   * happens in the file's order, as it would row by row: the fast loops change nothing but their
   * own column's buffers and counts.
   */
  private encodeSegment(batch: CsvByteBatch, r0: number, count: number): void {
    const columns = this.columns.length;
    if (this.segmentNext.length < columns) this.segmentNext = new Int32Array(columns);
    const next = this.segmentNext.fill(0, 0, columns);
    const base = this.rows;
    const i0 = this.rowsInChunk;
    this.rows += count;
    for (;;) {
      let stop = count;
      for (let c = 0; c < columns; c++) {
        const at = this.fastColumn(c, batch, r0, i0, next[c] ?? 0, count);
        next[c] = at;
        if (at < stop) stop = at;
      }
      if (stop === count) break;
      const r = r0 + stop;
      const line = batch.lines[r] ?? 0;
      const first = batch.rowStart[r] ?? 0;
      // As when rows are pushed one by one: the chunk holds the rows before this one.
      this.rowsInChunk = i0 + stop;
      for (let c = 0; c < columns; c++) {
        const state = this.columns[c];
        if (!state || next[c] !== stop) continue;
        const k = first + c;
        const source = batch.inScratch[k] ? batch.scratch.bytes : batch.bytes;
        this.setBytes(
          state,
          c,
          i0 + stop,
          source,
          batch.starts[k] ?? 0,
          batch.ends[k] ?? 0,
          base + stop,
          line
        );
        next[c] = stop + 1;
      }
    }
    this.rowsInChunk = i0 + count;
  }

  /**
   * Column `c` of records `[r0 + from, r0 + count)` while every cell is plain; returns where it
   * stopped (`count` when it got through). Reads like `setBytes`, which takes over where this stops.
   */
  private fastColumn(
    c: number,
    batch: CsvByteBatch,
    r0: number,
    i0: number,
    from: number,
    count: number
  ): number {
    const state = this.columns[c];
    if (!state) return count;
    // A function per storage: each stays small enough for the JIT to inline its helpers, and sees one kind of cell.
    switch (state.storage) {
      case 'int32':
      case 'float64':
        return fastNumbers(state, c, batch, r0, i0, from, count);
      case 'utf8':
        return fastUtf8(state, c, batch, r0, i0, from, count);
      case 'dict':
        return fastDict(state, c, batch, r0, i0, from, count);
      case 'bool':
      case 'date':
      case 'timestamp':
        return fastBooleansOrDates(state, c, batch, r0, i0, from, count);
    }
  }

  /**
   * The UTF-8 cell `bytes[start, end)`: the plain cases of each storage here, exactly as `setCell`
   * would read the decoded cell; anything else (blanks, exponents, new categories, malformed cells)
   * is decoded and goes to `setCell`.
   */
  private setBytes(
    state: ColumnState,
    index: number,
    i: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    row: number,
    line: number
  ): void {
    switch (state.storage) {
      case 'int32':
      case 'float64': {
        if (start === end) return this.missingCell(state, i);
        // A cell that starts with a digit, sign or point is not a missing token; NaN: not plain.
        const v = plainDecimal(bytes, start, end);
        if (Number.isNaN(v)) break;
        if (state.storage === 'int32' && (v < INT32_MIN || v > INT32_MAX || !Number.isInteger(v))) {
          this.widen(index, Number.isInteger(v) ? state.type : 'float', 'float64');
        }
        return this.setNumber(state, i, v);
      }
      case 'utf8': {
        const missing = missingRange(bytes, start, end);
        if (missing === true) return this.missingCell(state, i);
        if (missing === undefined || (state.type !== 'text' && !isTrimmedRange(bytes, start, end))) break;
        const utf8 = state.utf8;
        if (!utf8) break;
        utf8.append(bytes, start, end);
        utf8.endRow(i);
        state.valid[i] = 1;
        state.present++;
        return;
      }
      case 'dict': {
        const missing = missingRange(bytes, start, end);
        if (missing === true) return this.missingCell(state, i);
        if (missing === undefined || !isTrimmedRange(bytes, start, end)) break;
        const code = state.dict?.indexOfBytes(bytes, start, end) ?? -1;
        if (code < 0) break;
        return this.setNumber(state, i, code);
      }
      case 'bool': {
        const missing = missingRange(bytes, start, end);
        if (missing === true) return this.missingCell(state, i);
        const v = missing === false ? booleanRange(bytes, start, end) : -1;
        if (v < 0) break;
        return this.setNumber(state, i, v);
      }
      case 'date':
      case 'timestamp': {
        const missing = missingRange(bytes, start, end);
        if (missing === true) return this.missingCell(state, i);
        // A plain YYYY-MM-DD is UTC midnight, which fits a date column as it is.
        const v = missing === false ? parseIsoDateBytes(bytes, start, end) : null;
        if (v === null) break;
        return this.setNumber(state, i, v);
      }
    }
    this.setCell(state, index, i, utf8Text(bytes, start, end), row, line);
  }

  private missingCell(state: ColumnState, i: number): void {
    state.valid[i] = 0;
    state.missing++;
    state.utf8?.endRow(i);
  }

  /** A parsed value of a number-backed storage (numbers, booleans, dates, dictionary codes). */
  private setNumber(state: ColumnState, i: number, v: number): void {
    state.nums[i] = v;
    state.valid[i] = 1;
    state.present++;
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
    if (cell === null || cell === undefined || (typeof cell === 'number' && Number.isNaN(cell))) {
      return this.missingCell(state, i);
    }
    const text = typeof cell === 'string' ? cell : undefined;
    if (text !== undefined && isMissingText(text)) return this.missingCell(state, i);
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
        let code = dict.indexOfString(value);
        if (code < 0) {
          if (dict.size >= MAX_STREAM_CATEGORIES) {
            this.widen(index, 'text', 'utf8');
            state.utf8?.appendString(value);
            state.utf8?.endRow(i);
            break;
          }
          code = dict.addString(value);
        }
        state.nums[i] = code;
        break;
      }
      case 'utf8': {
        const value = text ?? cellText(cell);
        state.utf8?.appendString(state.type === 'text' ? value : value.trim());
        state.utf8?.endRow(i);
        break;
      }
    }
    state.valid[i] = 1;
    state.present++;
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
      const utf8 = new Utf8Buffer(this.chunkRows);
      for (let i = 0; i < this.rowsInChunk; i++) {
        if (state.valid[i]) utf8.appendString(values[state.nums[i] ?? 0] ?? '');
        utf8.endRow(i);
      }
      state.utf8 = utf8;
      state.dict = undefined;
      // The chunks written so far hold these categories; this chunk's rows are counted when it is.
      this.distinct.reset(index, values);
      this.warnings.push(
        `Column “${state.name}” has more than ${MAX_STREAM_CATEGORIES} distinct values; it is stored as text rather than as categories.`
      );
    }
    // The chunks already written keep the old storage until `finish` converts them: int32 → float64
    // and date → timestamp keep their numbers, categories become their text.
  }

  /** After the whole file: an identifier column that turned out to repeat a value is text. */
  private relabelIdentifiers(distinct: ReadonlyArray<DistinctCount | null>): void {
    this.columns.forEach((state, index) => {
      // Past the exact limit a repeat cannot be told from an estimate's error: it stays an identifier.
      const count = distinct[index] ?? { count: 0, relativeError: null };
      if (state.type !== 'identifier' || count.relativeError !== null || count.count === state.present)
        return;
      state.type = 'text';
    });
  }

  private emitChunk(): void {
    const length = this.rowsInChunk;
    const columns = this.columns.map((state) => this.handOver(state));
    // Counted here rather than by the writer: on two workers the writer is the slower of the two.
    this.distinct.add(columns, length);
    const written = this.writer.write(columns, length);
    // The writer gives the buffers back once it has written them: the next chunks fill them again.
    // Awaited in `settle` or `finish`; an import that stops before (a restart, a bad row) never does.
    written.then(
      (chunk) => this.pool.give(chunk.spent ?? []),
      () => undefined
    );
    this.emitted.push({ written, layout: this.columns.map(layoutOf) });
    this.chunkStarts.push(this.emittedRows);
    this.emittedRows += length;
    this.rowsInChunk = 0;
  }

  /** Buffers handed to the writer and back, for the next chunks. */
  private readonly pool = new BufferPool();
  private readonly distinct = new ColumnDistinctCounts();

  /**
   * A column's buffers for the writer, which owns them from here (no copy: a fresh buffer per chunk
   * costs a page fault per 4 KB touched); the column goes on in buffers from the pool, emptied.
   */
  private handOver(state: ColumnState): ColumnBuffers {
    const rows = this.chunkRows;
    const column: ColumnBuffers = {
      name: state.name,
      type: state.type,
      storage: state.storage,
      valid: state.valid
    };
    state.valid = new Uint8Array(this.pool.take(rows), 0, rows).fill(0);
    if (state.storage === 'utf8' && state.utf8) {
      const utf8 = state.utf8;
      column.utf8 = { bytes: utf8.bytes, offsets: utf8.offsets };
      utf8.refill(
        new Uint8Array(this.pool.take(utf8.bytes.byteLength)),
        new Int32Array(this.pool.take((rows + 1) * 4), 0, rows + 1)
      );
    } else {
      column.nums = state.nums;
      // Zeros, as a new buffer's: the values under missing rows are written too, and must not
      // depend on which earlier chunk the buffer held.
      state.nums = new Float64Array(this.pool.take(rows * 8), 0, rows).fill(0);
    }
    if (state.storage === 'dict') column.dictionary = [...(state.dict?.values ?? [])];
    return column;
  }
}

/**
 * ArrayBuffers to fill again: `take` gives the smallest one of at least the size asked, or a new one.
 * Holds at most `limit` buffers; more are left to the garbage collector.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(private readonly limit = 256) {}

  take(bytes: number): ArrayBuffer {
    let best = -1;
    for (let k = 0; k < this.free.length; k++) {
      const size = this.free[k]?.byteLength ?? 0;
      if (size >= bytes && (best < 0 || size < (this.free[best]?.byteLength ?? 0))) best = k;
    }
    if (best < 0) return new ArrayBuffer(bytes);
    const [buffer] = this.free.splice(best, 1);
    return buffer ?? new ArrayBuffer(bytes);
  }

  give(buffers: readonly ArrayBuffer[]): void {
    for (const buffer of buffers) {
      // A buffer transferred away since (detached) has no bytes left to give.
      if (buffer.byteLength > 0 && this.free.length < this.limit) this.free.push(buffer);
    }
  }
}

/** How a column was written: its storage and its Lathe type. */
function layoutOf(state: ColumnState): string {
  return `${state.storage} ${state.type}`;
}

function sameLayout(layout: readonly string[], columns: readonly ColumnState[]): boolean {
  return layout.length === columns.length && columns.every((state, c) => layout[c] === layoutOf(state));
}

/**
 * A chunk written before some of its columns changed (widened, relabelled, or added after it) in the
 * final schema: old values converted losslessly, columns it lacks missing.
 */
async function rewrite(
  bytes: ArrayBuffer,
  layout: readonly string[],
  fields: Field[],
  storages: readonly Storage[]
): Promise<WrittenChunk> {
  const batch = tableFromIPC(bytes).batches[0];
  const length = batch?.numRows ?? 0;
  const children = fields.map((field, c) => {
    const old = c < layout.length ? batch?.data.children[c] : undefined;
    const was = layout[c]?.split(' ')[0];
    const storage = storages[c];
    const data =
      !old || !storage ? nullData(length) : was === storage ? old : convertData(old, storage, length);
    return data.type.typeId === field.type.typeId ? withType(data, field.type) : data;
  });
  const rewritten = serialize(new Schema(fields), children, length);
  return { data: rewritten, hash: await sha256Hex(rewritten) };
}

/*
 * The loops of `TableEncoder.fastColumn`, one per storage: column `c` of records
 * `[r0 + from, r0 + count)` of a batch into rows `i0 + from…` of the chunk, while every cell is
 * plain; each returns where it stopped (`count` when it got through) and adds to the column's counts.
 */

function fastNumbers(
  state: ColumnState,
  c: number,
  batch: CsvByteBatch,
  r0: number,
  i0: number,
  from: number,
  count: number
): number {
  const { starts, ends, inScratch, rowStart, bytes } = batch;
  const scratch = batch.scratch.bytes;
  const { nums, valid } = state;
  const int32 = state.storage === 'int32';
  let present = 0;
  let missing = 0;
  let r = from;
  for (; r < count; r++) {
    const k = (rowStart[r0 + r] ?? 0) + c;
    const start = starts[k] ?? 0;
    const end = ends[k] ?? 0;
    const i = i0 + r;
    if (start === end) {
      valid[i] = 0;
      missing++;
      continue;
    }
    const v = plainDecimal(inScratch[k] ? scratch : bytes, start, end);
    if (v !== v) break;
    if (int32 && (v < INT32_MIN || v > INT32_MAX || !Number.isInteger(v))) break;
    nums[i] = v;
    valid[i] = 1;
    present++;
  }
  state.present += present;
  state.missing += missing;
  return r;
}

function fastUtf8(
  state: ColumnState,
  c: number,
  batch: CsvByteBatch,
  r0: number,
  i0: number,
  from: number,
  count: number
): number {
  const utf8 = state.utf8;
  if (!utf8) return from;
  const { starts, ends, inScratch, rowStart, bytes } = batch;
  const scratch = batch.scratch.bytes;
  const valid = state.valid;
  const text = state.type === 'text';
  let present = 0;
  let missing = 0;
  let r = from;
  for (; r < count; r++) {
    const k = (rowStart[r0 + r] ?? 0) + c;
    const start = starts[k] ?? 0;
    const end = ends[k] ?? 0;
    const source = inScratch[k] ? scratch : bytes;
    const i = i0 + r;
    const isMissing = missingRange(source, start, end);
    if (isMissing === true) {
      valid[i] = 0;
      missing++;
      utf8.endRow(i);
      continue;
    }
    if (isMissing === undefined || (!text && !isTrimmedRange(source, start, end))) break;
    utf8.append(source, start, end);
    utf8.endRow(i);
    valid[i] = 1;
    present++;
  }
  state.present += present;
  state.missing += missing;
  return r;
}

function fastDict(
  state: ColumnState,
  c: number,
  batch: CsvByteBatch,
  r0: number,
  i0: number,
  from: number,
  count: number
): number {
  const dict = state.dict;
  if (!dict) return from;
  const { starts, ends, inScratch, rowStart, bytes } = batch;
  const scratch = batch.scratch.bytes;
  const { nums, valid } = state;
  let present = 0;
  let missing = 0;
  let r = from;
  for (; r < count; r++) {
    const k = (rowStart[r0 + r] ?? 0) + c;
    const start = starts[k] ?? 0;
    const end = ends[k] ?? 0;
    const source = inScratch[k] ? scratch : bytes;
    const i = i0 + r;
    const isMissing = missingRange(source, start, end);
    if (isMissing === true) {
      valid[i] = 0;
      missing++;
      continue;
    }
    if (isMissing === undefined || !isTrimmedRange(source, start, end)) break;
    const code = dict.indexOfBytes(source, start, end);
    if (code < 0) break;
    nums[i] = code;
    valid[i] = 1;
    present++;
  }
  state.present += present;
  state.missing += missing;
  return r;
}

function fastBooleansOrDates(
  state: ColumnState,
  c: number,
  batch: CsvByteBatch,
  r0: number,
  i0: number,
  from: number,
  count: number
): number {
  const { starts, ends, inScratch, rowStart, bytes } = batch;
  const scratch = batch.scratch.bytes;
  const { nums, valid } = state;
  const bool = state.storage === 'bool';
  let present = 0;
  let missing = 0;
  let r = from;
  for (; r < count; r++) {
    const k = (rowStart[r0 + r] ?? 0) + c;
    const start = starts[k] ?? 0;
    const end = ends[k] ?? 0;
    const source = inScratch[k] ? scratch : bytes;
    const i = i0 + r;
    const isMissing = missingRange(source, start, end);
    if (isMissing === true) {
      valid[i] = 0;
      missing++;
      continue;
    }
    if (isMissing === undefined) break;
    let v: number;
    if (bool) {
      v = booleanRange(source, start, end);
      if (v < 0) break;
    } else {
      // A plain YYYY-MM-DD is UTC midnight, which fits a date column as it is.
      const date = parseIsoDateBytes(source, start, end);
      if (date === null) break;
      v = date;
    }
    nums[i] = v;
    valid[i] = 1;
    present++;
  }
  state.present += present;
  state.missing += missing;
  return r;
}

/** A chunk handed to the writer, and the layout of its columns then. */
interface EmittedChunk {
  written: Promise<WrittenChunk>;
  layout: string[];
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
