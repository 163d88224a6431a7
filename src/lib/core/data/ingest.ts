/**
 * A file → typed Arrow chunks, content hashes, a typed preview and a report of what was odd.
 *
 * `ingestSource` decides the format (`./formats`: magic bytes, then the name) and hands the bytes to
 * the reader for it: CSV/TSV here, JSON and NDJSON in `./json`, Arrow IPC in `./arrow-ipc`, Parquet in
 * `./parquet`, a ZIP of image folders in `./images`. Every reader streams rows into one
 * `TableEncoder`, which infers types from the first rows and writes chunks as it goes, so memory holds
 * the current chunk and the finished chunks' bytes, never the file as text nor its cells as strings.
 *
 * Text is decoded as UTF-8, UTF-16 LE/BE (by byte-order mark or NUL pattern) or, when the start of
 * the file is not valid UTF-8, Latin-1 (Windows-1252); any encoding but UTF-8 is named in a warning.
 *
 * When a column or the encoding must change after rows were already written (see `TableEncoder`), and
 * the source can be read again, the import starts over with what it learned; at most once per column.
 */
import { LatheError } from '../errors';
import type { ColumnSchema } from '../records';
import { DEFAULT_CHUNK_ROWS, type ArrowChunk } from './arrow';
import type { ChunkWriter } from './chunk-writer';
import { CsvParser, type CsvByteBatch, type CsvByteSink, type CsvDelimiter } from './csv';
import { ENCODING_SAMPLE_BYTES, detectEncoding, encodingLabel, type TextEncodingName } from './encoding';
import { detectFormat, type DatasetFormat } from './formats';
import {
  MAX_PENDING_CHUNKS,
  SAMPLE_ROWS,
  TableEncoder,
  TableRestartError,
  type ColumnHint,
  type ColumnMalformedReport,
  type EncodedTable,
  type MalformedCellReport
} from './table-encoder';

export type { ColumnMalformedReport, MalformedCellReport };

export interface IngestProgress {
  /** `reading` while the file is parsed (and chunks written), then `encoding` while chunks are hashed. */
  phase: 'reading' | 'encoding';
  bytesRead: number;
  /** The file's size as given in the options, for a progress bar. */
  totalBytes: number;
  rowsRead: number;
  /** Rows written to Arrow chunks so far. */
  rowsEncoded: number;
  /** Milliseconds since the import started: with `bytesRead / totalBytes`, enough for "time left". */
  elapsedMs: number;
  /** 1 on the first pass; 2… when the import restarted to read a column as text or another encoding. */
  pass: number;
}

export interface IngestOptions {
  fileName: string;
  fileSize: number;
  /** Called as the file is read (at most every `progressIntervalMs`, and once at the end). */
  onProgress?(progress: IngestProgress): void;
  signal?: AbortSignal;
  progressIntervalMs?: number;
  /** Upper bound on rows per Arrow chunk; defaults to 64k. */
  chunkRows?: number;
  /** Rows the column types are inferred from; defaults to 10k. */
  sampleRows?: number;
  /** CSV: `auto` (default) detects a headerless file; see `CsvParserOptions.header`. */
  header?: boolean | 'auto';
  /** CSV: what to do with rows of the wrong width; see `CsvParserOptions.raggedRows`. */
  raggedRows?: 'error' | 'pad';
  /** CSV: skip sniffing. */
  delimiter?: CsvDelimiter;
  /** Text formats: skip encoding detection. */
  encoding?: TextEncodingName;
  /** Makes the writer of each table's chunks (one per pass); a `LocalChunkWriter` when not given. */
  chunkWriter?: () => ChunkWriter;
  /** CSV: the import's working objects (parser, encoder) are put here, for `warmUpIngest` to keep. */
  retain?: unknown[];
}

export interface IngestReport {
  /** Per column with malformed cells: how many, and the first few. */
  malformed: ColumnMalformedReport[];
  /** Things a person should know that did not stop the import. */
  warnings: string[];
  /** Text formats: the encoding the file was read in. */
  encoding?: TextEncodingName;
  /** CSV with `raggedRows: 'pad'`: rows padded or cut to the header's width. */
  raggedRows?: number;
  /** How many times the import started over (a column read as text, a different encoding). */
  restarts?: number;
}

export type PreviewRow = Record<string, string | number | boolean | null>;

/** A content-addressed file that belongs to a dataset but is not a table chunk (an image). */
export interface ContentBlob {
  hash: string;
  bytes: number;
  mime: string;
  data: ArrayBuffer;
}

export interface IngestResult {
  columns: ColumnSchema[];
  rowCount: number;
  chunks: ArrowChunk[];
  /** SHA-256 over the chunk hashes in order: the content name of the version. */
  contentHash: string;
  /** The first rows, typed (dates stay ISO text). */
  preview: PreviewRow[];
  report: IngestReport;
  /** How the file was read; `DatasetVersion.source.format`. */
  format: DatasetFormat;
  /** Image datasets: the images, named by the hashes in the `image_hash` column. Store them with the chunks. */
  blobs?: ContentBlob[];
}

export const PREVIEW_ROWS = 50;

/** The import was cancelled by the person (or the page went away). */
export class IngestCancelledError extends LatheError<'cancelled'> {
  constructor(fileName: string) {
    super('cancelled', `The import of ${fileName} was cancelled.`, { fileName });
    this.name = 'IngestCancelledError';
  }
}

/** A file to import: its bytes as a stream (which may be asked for again) and, for Parquet, random access. */
export interface IngestSource {
  name: string;
  size: number;
  stream(): ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  /** Bytes [start, end); required for Parquet, whose index is at the end of the file. */
  read?(start: number, end: number): Promise<ArrayBuffer>;
}

/** A `File` or `Blob` as an import source; it can be re-read and read at random. */
export function blobSource(blob: Blob, name?: string): IngestSource {
  const fileName = name ?? ((blob as Partial<File>).name || 'the file');
  return {
    name: fileName,
    size: blob.size,
    stream: () => blob.stream(),
    read: async (start, end) => blob.slice(start, end).arrayBuffer()
  };
}

/** Progress and cancellation shared by every reader. */
export class IngestContext {
  readonly fileName: string;
  readonly options: IngestOptions;
  bytesRead = 0;
  pass = 1;
  private readonly started = Date.now();
  private lastProgress = -Infinity;
  encoder: TableEncoder | undefined;

  constructor(options: IngestOptions) {
    this.options = options;
    this.fileName = options.fileName;
  }

  checkCancelled(): void {
    if (this.options.signal?.aborted) throw new IngestCancelledError(this.fileName);
  }

  progress(force = false, phase: IngestProgress['phase'] = 'reading'): void {
    const { onProgress, progressIntervalMs = 100 } = this.options;
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - this.lastProgress < progressIntervalMs) return;
    this.lastProgress = now;
    onProgress({
      phase,
      bytesRead: this.bytesRead,
      totalBytes: this.options.fileSize,
      rowsRead: this.encoder?.rowCount ?? 0,
      rowsEncoded: this.encoder?.rowsEncoded ?? 0,
      elapsedMs: now - this.started,
      pass: this.pass
    });
  }

  /**
   * Waits while the encoder's chunk writer is more than `MAX_PENDING_CHUNKS` behind: a writer on
   * another worker may be slower than the reader, and the source is not read faster than it writes.
   */
  async keepUp(): Promise<void> {
    if (this.encoder && this.encoder.pending > MAX_PENDING_CHUNKS) await this.encoder.settle();
  }

  /**
   * Pieces of the byte stream, counting bytes, checking for cancellation, keeping up with the writer.
   * With `recycle`, see `readPieces`: each piece is good only until the one after it has been read.
   */
  async *pieces(
    stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
    recycle = false
  ): AsyncGenerator<Uint8Array> {
    this.bytesRead = 0;
    for await (const bytes of readPieces(stream, this.options.signal, recycle)) {
      this.checkCancelled();
      this.bytesRead += bytes.byteLength;
      yield bytes;
      await this.keepUp();
    }
    this.checkCancelled();
  }

  newEncoder(
    names: readonly string[],
    hints: ReadonlyMap<string, ColumnHint>,
    canRestart: boolean
  ): TableEncoder {
    // A restarted pass drops the encoder of the one before.
    this.closeEncoder();
    this.encoder = new TableEncoder(names, {
      ...(this.options.chunkWriter ? { writer: this.options.chunkWriter() } : {}),
      fileName: this.fileName,
      hints,
      canRestart,
      // Numbers always, defaults included: an options object whose fields change representation
      // between imports (a number in the warm-up, undefined later) sends compiled code back to the
      // interpreter.
      maxChunkRows: this.options.chunkRows ?? DEFAULT_CHUNK_ROWS,
      sampleRows: this.options.sampleRows ?? SAMPLE_ROWS
    });
    return this.encoder;
  }

  /** Frees the current encoder's chunk writer. */
  closeEncoder(): void {
    this.encoder?.close();
  }

  /** Runs the import, freeing the chunk writer however it ends. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      this.closeEncoder();
    }
  }

  /** Finishes the encoder into a result: hashes, preview, warnings about empty and malformed columns. */
  async finish(
    encoder: TableEncoder,
    format: DatasetFormat,
    extra: { warnings?: string[]; report?: Partial<IngestReport> } = {}
  ): Promise<IngestResult> {
    this.checkCancelled();
    this.progress(true, 'reading');
    const table = await encoder.finish();
    this.checkCancelled();
    this.progress(true, 'encoding');
    return {
      columns: table.columns,
      rowCount: table.rowCount,
      chunks: table.chunks,
      contentHash: table.contentHash,
      preview: await previewOf(table),
      report: {
        ...extra.report,
        malformed: table.malformed,
        warnings: [...(extra.warnings ?? []), ...table.warnings, ...columnWarnings(table)]
      },
      format
    };
  }
}

function columnWarnings(table: EncodedTable): string[] {
  const warnings: string[] = [];
  for (const column of table.columns) {
    if (column.missing === table.rowCount && table.rowCount > 0) {
      warnings.push(`Column “${column.name}” is empty in every row.`);
    }
  }
  for (const m of table.malformed) {
    const first = m.examples[0];
    const example = first ? ` (e.g. “${first.value}” on line ${first.line})` : '';
    warnings.push(
      `Column “${m.column}”: ${m.count} value${m.count === 1 ? '' : 's'} could not be read as ${m.type}${example} and ${m.count === 1 ? 'is' : 'are'} treated as missing.`
    );
  }
  return warnings;
}

/** The first rows of the first chunk, as plain values (dates as ISO text). */
async function previewOf(table: EncodedTable): Promise<PreviewRow[]> {
  const first = table.chunks[0];
  if (!first) return [];
  const { tableFromIPC } = await import('apache-arrow');
  const arrow = tableFromIPC(new Uint8Array(first.data));
  const rows: PreviewRow[] = [];
  const n = Math.min(PREVIEW_ROWS, arrow.numRows);
  const vectors = table.columns.map((c) => arrow.getChild(c.name));
  for (let r = 0; r < n; r++) {
    const row: PreviewRow = {};
    table.columns.forEach((column, c) => {
      const value: unknown = vectors[c]?.get(r);
      if (value === null || value === undefined) row[column.name] = null;
      else if (column.type === 'date' || column.type === 'datetime') {
        const iso = new Date(Number(value instanceof Date ? value.getTime() : value)).toISOString();
        row[column.name] = column.type === 'date' ? iso.slice(0, 10) : iso;
      } else if (typeof value === 'bigint') row[column.name] = Number(value);
      else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') {
        row[column.name] = value;
      } else row[column.name] = String(value);
    });
    rows.push(row);
  }
  return rows;
}

/** Something a reader learned that needs the file read again from the start. */
export class RestartRequest extends Error {
  readonly hints: Map<string, ColumnHint> | undefined;
  readonly encoding: TextEncodingName | undefined;
  constructor(reason: string, change: { hints?: Map<string, ColumnHint>; encoding?: TextEncodingName }) {
    super(reason);
    this.name = 'RestartRequest';
    this.hints = change.hints;
    this.encoding = change.encoding;
  }
}

export interface PassState {
  hints: Map<string, ColumnHint>;
  encoding: TextEncodingName | undefined;
  canRestart: boolean;
}

/** Runs a reader, starting it over when it asks to; each restart narrows something, so this ends. */
export async function withRestarts(
  ctx: IngestContext,
  canRestart: boolean,
  encoding: TextEncodingName | undefined,
  run: (state: PassState) => Promise<IngestResult>
): Promise<IngestResult> {
  const state: PassState = { hints: new Map(), encoding, canRestart };
  const reasons: string[] = [];
  for (;;) {
    try {
      const result = await run(state);
      if (reasons.length > 0) {
        result.report.restarts = reasons.length;
        result.report.warnings.unshift(...reasons.map((r) => `${r} The file was read again.`));
      }
      return result;
    } catch (err) {
      if (!(err instanceof TableRestartError || err instanceof RestartRequest) || reasons.length > 64)
        throw err;
      reasons.push(err.message);
      if (err.hints) {
        for (const [name, hint] of err.hints) state.hints.set(name, hint);
      }
      if (err instanceof RestartRequest && err.encoding) state.encoding = err.encoding;
      ctx.pass++;
    }
  }
}

/** Reads the first `size` bytes of a stream (or all of it) and returns them with the rest, unconsumed. */
export async function peek(
  pieces: AsyncIterable<Uint8Array>,
  size: number
): Promise<{ head: Uint8Array; ended: boolean; rest: AsyncIterable<Uint8Array> }> {
  const iterator = pieces[Symbol.asyncIterator]();
  const parts: Uint8Array[] = [];
  let length = 0;
  let ended = false;
  while (length < size) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    parts.push(next.value);
    length += next.value.byteLength;
  }
  const head = concat(parts, length);
  const rest: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      let finished = ended;
      try {
        if (head.byteLength > 0) yield head;
        while (!finished) {
          const next = await iterator.next();
          if (next.done) finished = true;
          else yield next.value;
        }
      } finally {
        // Stopped early (an error, a restart): let the source close its file.
        if (!finished) await iterator.return?.();
      }
    }
  };
  return { head, ended, rest };
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Detects (or takes) the encoding of a text stream and words a warning when it is not UTF-8. */
async function openText(
  ctx: IngestContext,
  pieces: AsyncIterable<Uint8Array>,
  state: PassState,
  out: { encoding?: TextEncodingName; warnings: string[] }
): Promise<{ encoding: TextEncodingName; rest: AsyncIterable<Uint8Array> }> {
  const { head, ended, rest } = await peek(pieces, ENCODING_SAMPLE_BYTES);
  const encoding = state.encoding ?? detectEncoding(head, ended).encoding;
  out.encoding = encoding;
  if (encoding !== 'utf-8') {
    out.warnings.push(
      encoding === 'windows-1252'
        ? `${ctx.fileName} is not valid UTF-8; it was read as ${encodingLabel(encoding)}. Check accented characters in the preview, or save it as UTF-8.`
        : `${ctx.fileName} is encoded as ${encodingLabel(encoding)}; it was converted to UTF-8.`
    );
  }
  return { encoding, rest };
}

function notUtf8(ctx: IngestContext): RestartRequest {
  return new RestartRequest(
    `${ctx.fileName} has bytes that are not UTF-8 after the first ${ENCODING_SAMPLE_BYTES / 1024} KB.`,
    { encoding: 'windows-1252' }
  );
}

function replacedWarning(ctx: IngestContext): string {
  return `${ctx.fileName} is not entirely valid UTF-8; unreadable characters were replaced by “\ufffd”. Save it as UTF-8 to keep them.`;
}

/** Text pieces in an encoding, decoded; for `decodeText` and the non-UTF-8 side of `decodeUtf8`. */
async function* decodeWith(
  ctx: IngestContext,
  rest: AsyncIterable<Uint8Array>,
  state: PassState,
  encoding: TextEncodingName,
  out: { warnings: string[] }
): AsyncGenerator<string> {
  let decoder = new TextDecoder(encoding, { fatal: encoding === 'utf-8', ignoreBOM: false });
  let replaced = false;
  const decode = (bytes: Uint8Array | undefined): string => {
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    } catch {
      if (state.canRestart) throw notUtf8(ctx);
      replaced = true;
      decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    }
  };
  for await (const bytes of rest) {
    const text = decode(bytes);
    if (text) yield text;
  }
  const tail = decode(undefined);
  if (tail) yield tail;
  if (replaced) out.warnings.push(replacedWarning(ctx));
}

/**
 * Decodes text pieces in the detected (or given) encoding. Bytes that are not UTF-8 after the start
 * of the file was: a restart as Latin-1 when the source can be re-read, else U+FFFD and a warning.
 */
export async function* decodeText(
  ctx: IngestContext,
  pieces: AsyncIterable<Uint8Array>,
  state: PassState,
  out: { encoding?: TextEncodingName; warnings: string[] }
): AsyncGenerator<string> {
  const { encoding, rest } = await openText(ctx, pieces, state, out);
  yield* decodeWith(ctx, rest, state, encoding, out);
}

/**
 * The text of `decodeText` as UTF-8 bytes, cut where `decodeText` cuts it, without decoding UTF-8:
 * the bytes are passed through once they are known to be valid (a piece of ASCII is valid as it
 * is; any other piece is checked by a fatal `TextDecoder`, the very check `decodeText` makes, so
 * the same piece restarts the import or, when it cannot restart, starts the U+FFFD replacement).
 * A character cut by the end of a piece is held back for the next, and a leading byte-order mark
 * is dropped, as the decoder does. Other encodings are decoded and encoded as UTF-8.
 */
export async function* decodeUtf8(
  ctx: IngestContext,
  pieces: AsyncIterable<Uint8Array>,
  state: PassState,
  out: { encoding?: TextEncodingName; warnings: string[] }
): AsyncGenerator<Uint8Array> {
  const { encoding, rest } = await openText(ctx, pieces, state, out);
  if (encoding !== 'utf-8') {
    const encoder = new TextEncoder();
    for await (const text of decodeWith(ctx, rest, state, encoding, out)) yield encoder.encode(text);
    return;
  }
  let checker: TextDecoder | undefined;
  /** The checker holds the start of a character from the previous piece. */
  let pending = false;
  let held: Uint8Array | undefined;
  let first = true;
  let replacing: TextDecoder | undefined;
  const encoder = new TextEncoder();
  for await (const piece of rest) {
    if (!replacing && (pending || !isAscii(piece))) {
      checker ??= new TextDecoder('utf-8', { fatal: true });
      try {
        checker.decode(piece, { stream: true });
      } catch {
        if (state.canRestart) throw notUtf8(ctx);
        // As `decodeText`: a fresh lenient decoder from this piece on; what the checker held is lost.
        replacing = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
        held = undefined;
      }
    }
    if (replacing) {
      const text = replacing.decode(piece, { stream: true });
      if (text) yield encoder.encode(text);
      continue;
    }
    let bytes = held ? concat([held, piece], held.byteLength + piece.byteLength) : piece;
    if (first && bytes.byteLength > 0) {
      first = false;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    }
    const cut = incompleteTail(bytes);
    held = cut > 0 ? bytes.slice(bytes.byteLength - cut) : undefined;
    pending = cut > 0;
    const body = cut > 0 ? bytes.subarray(0, bytes.byteLength - cut) : bytes;
    if (body.byteLength > 0) yield body;
  }
  if (replacing) {
    const text = replacing.decode();
    if (text) yield encoder.encode(text);
  } else if (checker) {
    try {
      // A character cut off by the end of the file.
      checker.decode();
    } catch {
      if (state.canRestart) throw notUtf8(ctx);
      replacing = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    }
  }
  if (replacing) out.warnings.push(replacedWarning(ctx));
}

/** True when every byte is below 0x80. */
function isAscii(bytes: Uint8Array): boolean {
  return (orOfWords(bytes) & 0x80808080) === 0;
}

/**
 * The bitwise or of the bytes, four at a time through a DataView (the last few first). Nothing but
 * the return follows the long loop: V8 compiles a long loop on the fly (OSR) before the code after
 * it has ever run, and a check there without type feedback sent every later piece back to the
 * interpreter (`--trace-deopt` showed one deoptimisation a piece).
 */
function orOfWords(bytes: Uint8Array): number {
  const n = bytes.length;
  const whole = n & ~3;
  let acc = 0;
  for (let i = whole; i < n; i++) acc |= (bytes[i] ?? 0) << (8 * (i & 3));
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  for (let i = 0; i < whole; i += 4) acc |= view.getInt32(i, true);
  return acc;
}

/** How many bytes at the end of valid UTF-8 start a character that the next piece finishes (0–3). */
function incompleteTail(bytes: Uint8Array): number {
  const n = bytes.byteLength;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const b = bytes[n - k] ?? 0;
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0x80) return 0;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return length > k ? k : 0;
  }
  return 0;
}

/**
 * A CSV pass's parser batches into its encoder, made with the first batch (the header is known by
 * then). A class rather than a closure per import: V8 inlines the sink into the parser's compiled
 * loop, and code that inlined a closure is thrown away once that closure is garbage.
 */
class EncoderSink implements CsvByteSink {
  encoder: TableEncoder | undefined;

  constructor(
    private readonly ctx: IngestContext,
    private readonly parser: CsvParser,
    private readonly state: PassState
  ) {}

  batch(batch: CsvByteBatch): void {
    this.encoder ??= this.ctx.newEncoder(this.parser.header ?? [], this.state.hints, this.state.canRestart);
    this.encoder.pushBatch(batch);
  }
}

/** Reads CSV or TSV from a stream into the encoder. */
async function readCsv(
  ctx: IngestContext,
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  state: PassState,
  format: 'csv' | 'tsv'
): Promise<IngestResult> {
  const { options } = ctx;
  const parser = new CsvParser({
    fileName: ctx.fileName,
    delimiter: options.delimiter ?? (format === 'tsv' ? '\t' : undefined),
    header: options.header,
    raggedRows: options.raggedRows
  });
  const text: { encoding?: TextEncodingName; warnings: string[] } = { warnings: [] };
  // Rows go from the tokenizer to the encoder as byte ranges: no string per cell.
  const sink = new EncoderSink(ctx, parser, state);
  options.retain?.push(sink);
  parser.sendTo(sink);
  // The parser copies what it keeps of a piece, so the pieces can be read into two recycled buffers.
  for await (const piece of decodeUtf8(ctx, ctx.pieces(stream, true), state, text)) {
    parser.pushBytes(piece);
    ctx.progress();
  }
  parser.end();
  const encoder = sink.encoder ?? ctx.newEncoder(parser.header ?? [], state.hints, state.canRestart);
  const report: Partial<IngestReport> = { encoding: text.encoding };
  if (options.raggedRows === 'pad') report.raggedRows = parser.raggedRows;
  return ctx.finish(encoder, format, { warnings: [...text.warnings, ...parser.warnings], report });
}

/**
 * Reads a CSV byte stream into typed Arrow chunks. Throws `CsvError` (from `./csv`) for files that are
 * not usable CSV and `IngestCancelledError` when `signal` aborts. A plain stream cannot be read twice,
 * so a column that turns out not to be typed keeps its type with its bad cells reported missing.
 */
export async function ingestCsv(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: IngestOptions
): Promise<IngestResult> {
  const ctx = new IngestContext(options);
  ctx.checkCancelled();
  return ctx.run(() =>
    withRestarts(ctx, false, options.encoding, (state) => readCsv(ctx, stream, state, 'csv'))
  );
}

/** Imports any supported file: see the module comment. Throws `IngestError`, `CsvError` or `IngestCancelledError`. */
export async function ingestSource(
  source: IngestSource,
  options: Omit<IngestOptions, 'fileName' | 'fileSize'> &
    Partial<Pick<IngestOptions, 'fileName' | 'fileSize'>> = {}
): Promise<IngestResult> {
  const opts: IngestOptions = {
    ...options,
    fileName: options.fileName ?? source.name,
    fileSize: options.fileSize ?? source.size
  };
  const ctx = new IngestContext(opts);
  ctx.checkCancelled();
  return ctx.run(() => ingestWith(ctx, source));
}

/** How much of a file its format is told from. */
const HEAD_BYTES = 4096;

async function ingestWith(ctx: IngestContext, source: IngestSource): Promise<IngestResult> {
  const opts = ctx.options;
  // A source that reads at random gives its first bytes without a stream, so every reader opens its
  // own (CSV's reads into recycled buffers); another source is peeked, and the first pass reads on
  // from there. Later passes open the source again.
  let head: Uint8Array;
  let firstStream: AsyncIterable<Uint8Array> | undefined;
  if (source.read) {
    head = new Uint8Array(await source.read(0, Math.min(HEAD_BYTES, source.size)));
  } else {
    const first = await peek(readPieces(source.stream(), opts.signal), HEAD_BYTES);
    head = first.head;
    firstStream = first.rest;
  }
  const detected = detectFormat(head, opts.fileName);
  const notes = detected.note ? [detected.note] : [];
  const addNotes = (result: IngestResult): IngestResult => {
    result.report.warnings.unshift(...notes);
    return result;
  };
  const open = (): ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> => {
    const stream = firstStream ?? source.stream();
    firstStream = undefined;
    return stream;
  };
  switch (detected.format) {
    case 'csv':
    case 'tsv': {
      const format = detected.format;
      return addNotes(
        await withRestarts(ctx, true, opts.encoding, (state) => readCsv(ctx, open(), state, format))
      );
    }
    case 'json':
    case 'ndjson': {
      const { readJson } = await import('./json');
      const format = detected.format;
      return addNotes(
        await withRestarts(ctx, true, opts.encoding, (state) => readJson(ctx, open(), state, format))
      );
    }
    case 'arrow': {
      const { readArrowIpc } = await import('./arrow-ipc');
      return addNotes(await readArrowIpc(ctx, open()));
    }
    case 'parquet': {
      const { readParquet } = await import('./parquet');
      return addNotes(await readParquet(ctx, source));
    }
    case 'images': {
      const { readImageZip } = await import('./images');
      return addNotes(await readImageZip(ctx, open()));
    }
  }
}

/** How much a recycled piece holds (see `readPieces`). */
export const RECYCLED_PIECE_BYTES = 1 << 20;

/**
 * Pieces of a byte stream; a ReadableStream is read with a reader since not every browser makes it
 * async-iterable.
 *
 * With `recycle`, a byte stream (a `Blob`'s, in browsers and in Node) is read into two buffers of
 * `RECYCLED_PIECE_BYTES` in turn, each filled before it is handed on: a piece is good until the one
 * after it has been read (then its view is detached, so a stale read sees no bytes rather than
 * others). A fresh buffer per piece, as the default reader gives, costs a page fault per 4 KB touched,
 * which in a browser took as long as parsing the bytes. Other streams are read as they come.
 */
export async function* readPieces(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
  recycle = false
): AsyncGenerator<Uint8Array> {
  if (!isReadableStream(stream)) {
    yield* stream;
    return;
  }
  const byob = recycle ? byobReader(stream) : undefined;
  const reader = byob ?? stream.getReader();
  let done = false;
  const cancel = (): void => {
    // Wake a pending read so cancellation does not wait for the next piece of a slow source.
    reader.cancel(signal?.reason).catch(() => undefined);
  };
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    if (!byob) {
      const plain = reader as ReadableStreamDefaultReader<Uint8Array>;
      for (;;) {
        const piece = await plain.read();
        done = piece.done;
        if (piece.done) return;
        yield piece.value;
      }
    }
    let next = new ArrayBuffer(RECYCLED_PIECE_BYTES);
    let spare = new ArrayBuffer(RECYCLED_PIECE_BYTES);
    while (!done) {
      let buffer = next;
      let filled = 0;
      while (filled < buffer.byteLength) {
        const piece = await byob.read(new Uint8Array(buffer, filled));
        // The read took the buffer over and gives it back in `value` (none when cancelled).
        if (piece.value) {
          buffer = piece.value.buffer as ArrayBuffer;
          filled += piece.value.byteLength;
        }
        if (piece.done) {
          done = true;
          break;
        }
      }
      if (filled > 0) yield new Uint8Array(buffer, 0, filled);
      next = spare;
      spare = buffer;
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    // Stopped early (bad row, cancellation): let the source close its file handle.
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** A reader into buffers of our own, where the stream is a byte stream. */
function byobReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return stream.getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream: only a default reader reads it.
    return undefined;
  }
}

function isReadableStream(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>
): stream is ReadableStream<Uint8Array> {
  return typeof (stream as Partial<ReadableStream<Uint8Array>>).getReader === 'function';
}

/** A file of a dropped folder: the `File` and its path inside the folder (`webkitRelativePath`). */
export interface FolderFile {
  file: Blob;
  path: string;
}

/** Imports a dropped folder of class sub-folders of images; see `./images`. */
export async function ingestImageFolder(
  files: readonly FolderFile[],
  options: Omit<IngestOptions, 'fileName' | 'fileSize'> &
    Partial<Pick<IngestOptions, 'fileName' | 'fileSize'>> = {}
): Promise<IngestResult> {
  const root = files[0]?.path.split('/')[0] ?? 'the folder';
  const opts: IngestOptions = {
    ...options,
    fileName: options.fileName ?? root,
    fileSize: options.fileSize ?? files.reduce((sum, f) => sum + f.file.size, 0)
  };
  const ctx = new IngestContext(opts);
  ctx.checkCancelled();
  const { readImageFolder } = await import('./images');
  return ctx.run(() =>
    readImageFolder(
      ctx,
      files.map((f) => ({ path: f.path, read: () => f.file.arrayBuffer() }))
    )
  );
}

/**
 * A CSV with a column of every type, missing and malformed cells, quoted text with delimiters,
 * doubled quotes and line breaks, long and non-ASCII text, and rows with every cell quoted: what
 * `warmUpIngest` imports.
 */
function warmUpCsv(rows: number): string {
  const lines = ['n,x,key,cat,flag,day,when,note,city,score'];
  for (let r = 0; r < rows; r++) {
    const odd = r % 13 === 5;
    const cells = [
      odd ? '' : String(r % 50),
      r % 40 === 5 ? '"1,04"' : odd ? 'n/a' : r % 7 === 0 ? String(r) : `${r}.${r % 10}5`,
      `K${r}`,
      `c${r % 3}`,
      r % 2 === 0 ? 'true' : 'false',
      odd ? 'NA' : `2024-01-${String((r % 28) + 1).padStart(2, '0')}`,
      `2024-02-03T10:${String(r % 60).padStart(2, '0')}:00Z`,
      r % 4 === 0
        ? `"a, ""b""\nc ${r}"`
        : r % 4 === 2
          ? `Zürich café: a note longer than most (${r})`
          : `plain ${r}`,
      `city_${r % 11}`,
      `${r % 2 ? '-' : ''}${(r % 997) / 8}`
    ];
    // Every third row quotes each of its cells, as some writers do.
    lines.push((r % 3 === 1 ? cells.map((c) => (c.startsWith('"') ? c : `"${c}"`)) : cells).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** One import of `warmUpIngest`: `warmUpCsv(rows)` in chunks of `chunkRows`, types from `sampleRows`. */
export interface WarmUpStage {
  rows: number;
  chunkRows: number;
  sampleRows: number;
}

/**
 * What `warmUpIngest` imports: a few kilobytes in tiny chunks, which runs every branch; then about
 * 10 MB with a full-size type sample, on which V8 compiles the loops (about 0.3 s of one core, once).
 */
export const WARM_UP_STAGES: readonly WarmUpStage[] = [
  { rows: 200, chunkRows: 32, sampleRows: 40 },
  { rows: 120_000, chunkRows: 8000, sampleRows: SAMPLE_ROWS }
];

/**
 * The last warm-up import's working objects (its parser, encoder and what they hold, a few MB). V8
 * throws away code compiled for a class of objects once no object of that class is left, which an
 * idle worker's garbage collection finds within seconds of an import; kept, they keep the warm-up's
 * code for the first file, however long a person takes to choose it.
 */
const warmUpObjects: unknown[] = [];

/**
 * Imports `warmUpCsv` once per stage, the chunks written by `chunkWriter` (the chunk worker's, so that
 * it warms up too), for the data worker to run when the studio asks, before any file. V8 compiles an
 * import's loops while its first pieces are read; a branch that had not run by then (the code after
 * a loop, a malformed cell, a missing one, a long or non-ASCII text) has no type feedback, so the
 * first file to take it sends the compiled code back to the interpreter, to be compiled again, on a
 * core the import needed (`--trace-deopt`). `signal` stops it (`IngestCancelledError`).
 */
export async function warmUpIngest(
  chunkWriter?: () => ChunkWriter,
  { stages = WARM_UP_STAGES, signal }: { stages?: readonly WarmUpStage[]; signal?: AbortSignal } = {}
): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  for (const { rows, chunkRows, sampleRows } of stages) {
    warmUpObjects.length = 0;
    results.push(
      await ingestSource(blobSource(new Blob([warmUpCsv(rows)]), 'warm-up.csv'), {
        sampleRows,
        chunkRows,
        retain: warmUpObjects,
        ...(chunkWriter ? { chunkWriter } : {}),
        ...(signal ? { signal } : {})
      })
    );
  }
  return results;
}
