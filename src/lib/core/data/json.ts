/**
 * JSON arrays of objects and NDJSON (one object per line), read as a stream: an array is split into
 * its elements by a small scanner that tracks strings and nesting, so only one element is held at a
 * time. Keys become columns (the union over all records; a record without a key is missing there),
 * primitives stay as they are, and nested objects and arrays are kept as JSON text in a text column.
 */
import type { IngestContext, IngestResult, PassState } from './ingest';
import { decodeText } from './ingest';
import { IngestError } from './formats';
import type { TextEncodingName } from './encoding';
import type { RawCell, TableEncoder } from './table-encoder';

/** Where in the text a JSON value starts: 1-based line and column. */
interface Position {
  line: number;
  column: number;
}

/** Splits the text of a JSON array into the texts of its elements, piece by piece. */
export class JsonArraySplitter {
  private readonly fileName: string;
  private started = false;
  private ended = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private element = '';
  private elementStart: Position | undefined;
  private line = 1;
  private column = 0;
  /** After a comma: an element must follow. */
  private expectElement = false;

  constructor(fileName: string) {
    this.fileName = fileName;
  }

  push(text: string, out: Array<{ text: string; at: Position }>): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 0x0a) {
        this.line++;
        this.column = 0;
      } else this.column++;
      if (this.ended) {
        if (!isSpace(ch)) this.fail(`unexpected text after the closing “]”`);
        continue;
      }
      if (!this.started) {
        if (isSpace(ch) || ch === 0xfeff) continue;
        if (ch !== 0x5b) this.fail('expected “[” to start an array of records');
        this.started = true;
        this.depth = 1;
        start = i + 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === 0x5c) this.escaped = true;
        else if (ch === 0x22) this.inString = false;
        continue;
      }
      if (this.depth === 1 && this.elementStart === undefined) {
        if (isSpace(ch)) {
          start = i + 1;
          continue;
        }
        if (ch === 0x5d && !this.expectElement) {
          this.ended = true;
          this.depth = 0;
          continue;
        }
        if (ch === 0x2c || ch === 0x5d) this.fail(`expected a value before “${String.fromCharCode(ch)}”`);
        this.elementStart = { line: this.line, column: this.column };
        this.expectElement = false;
        start = i;
      }
      if (ch === 0x22) this.inString = true;
      else if (ch === 0x7b || ch === 0x5b) this.depth++;
      else if (ch === 0x7d || (ch === 0x5d && this.depth > 1)) this.depth--;
      else if (this.depth === 1 && (ch === 0x2c || ch === 0x5d)) {
        this.element += text.slice(start, i);
        out.push({ text: this.element, at: this.elementStart ?? { line: this.line, column: this.column } });
        this.element = '';
        this.elementStart = undefined;
        start = i + 1;
        if (ch === 0x5d) {
          this.ended = true;
          this.depth = 0;
        } else this.expectElement = true;
      }
    }
    if (this.elementStart !== undefined) this.element += text.slice(start);
  }

  end(): void {
    if (!this.started) this.fail('expected “[” to start an array of records, found the end of the file');
    if (!this.ended) this.fail('the array is not closed: expected “]” before the end of the file');
  }

  private fail(what: string): never {
    throw new IngestError(
      'invalid_json',
      `${this.fileName} is not valid JSON at line ${this.line}, column ${this.column}: ${what}.`,
      { fileName: this.fileName, line: this.line, column: this.column }
    );
  }
}

function isSpace(ch: number): boolean {
  return ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09;
}

/** JSON.parse with a message that names the file, line and column. */
function parseAt(text: string, at: Position, fileName: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = /position (\d+)/.exec(message);
    let line = at.line;
    let column = at.column;
    if (position) {
      const offset = Number(position[1]);
      const before = text.slice(0, offset);
      const breaks = before.split('\n');
      line += breaks.length - 1;
      column = breaks.length > 1 ? (breaks.at(-1)?.length ?? 0) + 1 : at.column + offset;
    }
    throw new IngestError(
      'invalid_json',
      `${fileName} is not valid JSON at line ${line}, column ${column}: ${message.replace(/^JSON\.parse: /, '')}`,
      { fileName, line, column }
    );
  }
}

/** Turns records into rows of cells, growing the column set as keys appear. */
class RecordRows {
  private readonly keys = new Map<string, number>();
  private readonly ctx: IngestContext;
  private readonly state: PassState;
  encoder: TableEncoder | undefined;

  constructor(ctx: IngestContext, state: PassState) {
    this.ctx = ctx;
    this.state = state;
  }

  add(value: unknown, at: Position): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      throw new IngestError(
        'invalid_json',
        `${this.ctx.fileName}: the record at line ${at.line}, column ${at.column} is ${found}; expected an object like {"column": value}.`,
        { fileName: this.ctx.fileName, line: at.line, column: at.column }
      );
    }
    const record = value as Record<string, unknown>;
    // The encoder is made once the first record's keys are known.
    if (!this.encoder) {
      for (const key of Object.keys(record)) this.keys.set(key, this.keys.size);
      this.encoder = this.ctx.newEncoder([...this.keys.keys()], this.state.hints, this.state.canRestart);
    }
    const encoder = this.encoder;
    for (const key of Object.keys(record)) {
      if (!this.keys.has(key)) {
        this.keys.set(key, this.keys.size);
        encoder.addColumn(key, at.line);
      }
    }
    const cells: RawCell[] = new Array<RawCell>(this.keys.size).fill(null);
    for (const [key, v] of Object.entries(record)) {
      const c = this.keys.get(key) ?? 0;
      if (v === null || v === undefined) cells[c] = null;
      else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') cells[c] = v;
      else {
        cells[c] = JSON.stringify(v);
        encoder.setHint(key, 'text');
      }
    }
    encoder.push(cells, at.line);
  }
}

/** Reads a JSON array or NDJSON stream into the encoder. */
export async function readJson(
  ctx: IngestContext,
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  state: PassState,
  format: 'json' | 'ndjson'
): Promise<IngestResult> {
  const text: { encoding?: TextEncodingName; warnings: string[] } = { warnings: [] };
  const rows = new RecordRows(ctx, state);
  const elements: Array<{ text: string; at: Position }> = [];
  const splitter = format === 'json' ? new JsonArraySplitter(ctx.fileName) : undefined;
  let partial = '';
  let line = 0;
  const takeLine = (raw: string): void => {
    line++;
    const trimmed = raw.trim();
    if (trimmed)
      rows.add(parseAt(trimmed, { line, column: raw.indexOf(trimmed[0] ?? '') + 1 }, ctx.fileName), {
        line,
        column: 1
      });
  };
  for await (const piece of decodeText(ctx, ctx.pieces(stream), state, text)) {
    if (splitter) {
      splitter.push(piece, elements);
      for (const e of elements) rows.add(parseAt(e.text, e.at, ctx.fileName), e.at);
      elements.length = 0;
    } else {
      const lines = (partial + piece).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) takeLine(l);
    }
    ctx.progress();
  }
  if (splitter) splitter.end();
  else if (partial) takeLine(partial);
  if (!rows.encoder) {
    throw new IngestError(
      'empty_file',
      `${ctx.fileName} holds no records: expected at least one JSON object.`,
      {
        fileName: ctx.fileName
      }
    );
  }
  return ctx.finish(rows.encoder, format, { warnings: text.warnings, report: { encoding: text.encoding } });
}
