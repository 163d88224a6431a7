/**
 * CSV file → typed Arrow chunks, content hashes, a typed preview and a report of what was odd.
 *
 * The input is read and decoded piece by piece (never as one string). In this first slice the cells
 * are then held as strings until the column types are known, so memory grows with the file; a
 * later change infers types from a sample and encodes batches as it goes, with bounded memory.
 */
import { LatheError } from '../errors';
import type { ColumnSchema } from '../records';
import { encodeChunks, type ArrowChunk } from './arrow';
import { CsvParser, type CsvRow } from './csv';
import { inferSchema, parseCell, type ColumnMalformed, type MalformedCell } from './infer';

export interface IngestProgress {
  /** `reading` while the file is parsed, then `encoding` while typed Arrow chunks are built and hashed. */
  phase: 'reading' | 'encoding';
  bytesRead: number;
  /** The file's size as given in the options, for a progress bar. */
  totalBytes: number;
  rowsRead: number;
  /** Rows written to Arrow chunks so far (0 while reading). */
  rowsEncoded: number;
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
}

/** A malformed cell with the 1-based line of the file it is on. */
export interface MalformedCellReport extends MalformedCell {
  line: number;
}

export interface ColumnMalformedReport extends Omit<ColumnMalformed, 'examples'> {
  examples: MalformedCellReport[];
}

export interface IngestReport {
  /** Per column with malformed cells: how many, and the first few. */
  malformed: ColumnMalformedReport[];
  /** Things a person should know that did not stop the import. */
  warnings: string[];
}

export type PreviewRow = Record<string, string | number | boolean | null>;

export interface IngestResult {
  columns: ColumnSchema[];
  rowCount: number;
  chunks: ArrowChunk[];
  /** SHA-256 over the chunk hashes in order: the content name of the version. */
  contentHash: string;
  /** The first rows, typed (dates stay ISO text). */
  preview: PreviewRow[];
  report: IngestReport;
}

export const PREVIEW_ROWS = 50;

/** The import was cancelled by the person (or the page went away). */
export class IngestCancelledError extends LatheError<'cancelled'> {
  constructor(fileName: string) {
    super('cancelled', `The import of ${fileName} was cancelled.`, { fileName });
    this.name = 'IngestCancelledError';
  }
}

/**
 * Reads a CSV byte stream into typed Arrow chunks. Throws `CsvError` (from `./csv`) for files that are
 * not usable CSV and `IngestCancelledError` when `signal` aborts.
 */
export async function ingestCsv(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: IngestOptions
): Promise<IngestResult> {
  const { fileName, signal } = options;
  const checkCancelled = (): void => {
    if (signal?.aborted) throw new IngestCancelledError(fileName);
  };
  checkCancelled();

  const parser = new CsvParser({ fileName });
  // Cells are kept column-major: one array per column is what inference and Arrow want.
  let cells: string[][] | undefined;
  const lines: number[] = [];
  const take = (rows: CsvRow[]): void => {
    if (rows.length === 0) return;
    cells ??= (parser.header ?? []).map(() => []);
    for (const row of rows) {
      lines.push(row.line);
      row.fields.forEach((value, c) => cells?.[c]?.push(value));
    }
  };

  // fatal: false so a stray Latin-1 byte becomes U+FFFD instead of failing the whole file; it is reported below.
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });
  let bytesRead = 0;
  let replaced = false;
  const interval = options.progressIntervalMs ?? 100;
  let lastProgress = -Infinity;
  const report = (force: boolean, phase: IngestProgress['phase'] = 'reading', rowsEncoded = 0): void => {
    const now = Date.now();
    if (!options.onProgress || (!force && now - lastProgress < interval)) return;
    lastProgress = now;
    options.onProgress({ phase, bytesRead, totalBytes: options.fileSize, rowsRead: parser.rowCount, rowsEncoded });
  };
  const decode = (text: string): void => {
    if (!replaced && text.includes('\ufffd')) replaced = true;
    take(parser.push(text));
  };

  for await (const bytes of readPieces(stream, signal)) {
    checkCancelled();
    bytesRead += bytes.byteLength;
    decode(decoder.decode(bytes, { stream: true }));
    report(false);
  }
  checkCancelled();
  decode(decoder.decode());
  take(parser.end());
  report(true);

  const header = [...(parser.header ?? [])];
  const columnCells = cells ?? header.map(() => []);
  const schema = inferSchema(header, columnCells);
  const { chunks, contentHash } = await encodeChunks(schema.columns, columnCells, {
    maxRows: options.chunkRows,
    signal,
    onChunk: (rowsEncoded) => report(rowsEncoded === parser.rowCount, 'encoding', rowsEncoded)
  }).catch((err: unknown) => {
    if (signal?.aborted) throw new IngestCancelledError(fileName);
    throw err;
  });

  const warnings = [...parser.warnings];
  if (replaced) {
    warnings.push(
      `${fileName} is not entirely valid UTF-8; unreadable characters were replaced by “\ufffd”. Save it as UTF-8 to keep them.`
    );
  }
  for (const column of schema.columns) {
    if (column.missing === parser.rowCount) warnings.push(`Column “${column.name}” is empty in every row.`);
  }
  const malformed = schema.malformed.map((m) => ({
    ...m,
    examples: m.examples.map((e) => ({ ...e, line: lines[e.row] ?? 0 }))
  }));
  for (const m of malformed) {
    const first = m.examples[0];
    const example = first ? ` (e.g. “${first.value}” on line ${first.line})` : '';
    warnings.push(
      `Column “${m.column}”: ${m.count} value${m.count === 1 ? '' : 's'} could not be read as ${m.type}${example} and ${m.count === 1 ? 'is' : 'are'} treated as missing.`
    );
  }

  return {
    columns: schema.columns,
    rowCount: parser.rowCount,
    chunks,
    contentHash,
    preview: previewRows(schema.columns, columnCells),
    report: { malformed, warnings }
  };
}

function previewRows(columns: readonly ColumnSchema[], cells: ReadonlyArray<readonly string[]>): PreviewRow[] {
  const count = Math.min(PREVIEW_ROWS, cells[0]?.length ?? 0);
  const rows: PreviewRow[] = [];
  for (let r = 0; r < count; r++) {
    const row: PreviewRow = {};
    columns.forEach((column, c) => {
      const raw = cells[c]?.[r] ?? '';
      const value = parseCell(column.type, raw);
      // Dates stay as their ISO text: readable, and structured-cloneable like the rest.
      row[column.name] = (column.type === 'date' || column.type === 'datetime') && value !== null ? raw.trim() : value;
    });
    rows.push(row);
  }
  return rows;
}

/** Pieces of a byte stream; a ReadableStream is read with a reader since not every browser makes it async-iterable. */
async function* readPieces(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined
): AsyncGenerator<Uint8Array> {
  if (!isReadableStream(stream)) {
    yield* stream;
    return;
  }
  const reader = stream.getReader();
  let done = false;
  const cancel = (): void => {
    // Wake a pending read so cancellation does not wait for the next piece of a slow source.
    reader.cancel(signal?.reason).catch(() => undefined);
  };
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const piece = await reader.read();
      done = piece.done;
      if (piece.done) return;
      yield piece.value;
    }
  } finally {
    signal?.removeEventListener('abort', cancel);
    // Stopped early (bad row, cancellation): let the source close its file handle.
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

function isReadableStream(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>
): stream is ReadableStream<Uint8Array> {
  return typeof (stream as Partial<ReadableStream<Uint8Array>>).getReader === 'function';
}
