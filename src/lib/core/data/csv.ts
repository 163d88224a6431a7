/**
 * An incremental CSV reader: feed it decoded text in pieces of any size, get data rows out.
 *
 * It follows RFC 4180 (quoted fields may hold delimiters, doubled quotes and line breaks) and accepts
 * what spreadsheets actually write: CRLF, LF or lone CR line ends, a UTF-8 byte-order mark, and `;`,
 * tab or `|` instead of `,` (sniffed from the first lines). It never holds more than the current row
 * plus the sniffing sample, so the caller decides what to keep.
 */
import { LatheError } from '../errors';
import { ByteBuffer, utf8Text } from './text-cells';

export type CsvErrorCode =
  'empty_file' | 'header_only' | 'unterminated_quote' | 'ragged_row' | 'binary_content' | 'parser_finished';

/** A file that cannot be read as CSV; the message names the line and what was expected there. */
export class CsvError extends LatheError<CsvErrorCode> {
  /** 1-based line of the file where the problem was found, when there is one. */
  readonly line: number | undefined;
  constructor(code: CsvErrorCode, message: string, details: { line?: number; fileName?: string } = {}) {
    super(code, message, details);
    this.name = 'CsvError';
    this.line = details.line;
  }
}

export const CSV_DELIMITERS = [',', ';', '\t', '|'] as const;
export type CsvDelimiter = (typeof CSV_DELIMITERS)[number];

/** One data row and the 1-based file line it starts on (rows with quoted line breaks span several). */
export interface CsvRow {
  line: number;
  fields: string[];
}

export interface CsvParserOptions {
  /** Skip sniffing and use this delimiter. */
  delimiter?: CsvDelimiter;
  /** Named in error messages so a person knows which file is wrong. */
  fileName?: string;
  /**
   * Whether the first record names the columns. `auto` (the default): it does unless every field of
   * it looks like a value (a number, an ISO date or true/false), as in a headerless export; then the
   * columns are called col_1, col_2, …
   */
  header?: boolean | 'auto';
  /**
   * A row with more or fewer fields than the header: `error` (the default) stops the import naming the
   * line; `pad` fills short rows with missing cells and cuts long ones, and counts them in `raggedRows`.
   */
  raggedRows?: 'error' | 'pad';
}

const VALUE_LIKE =
  /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|\d{4}-\d{2}-\d{2}(?:[T ][\d:.+Z-]*)?|true|false)$/i;

/** True when every field of a first record looks like a data value rather than a column name. */
export function looksLikeDataRow(fields: readonly string[]): boolean {
  return fields.length > 0 && fields.every((f) => VALUE_LIKE.test(f.trim()));
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BOM = '\ufeff';

/** Sniff once the sample holds this many line breaks, or this many characters. */
const SNIFF_LINES = 20;
const SNIFF_CHARS = 64 * 1024;
/** How much of the start of a file the binary check looks at. */
export const BINARY_CHECK_LENGTH = 1024;

// Tokenizer states.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** Just saw a quote inside a quoted field: either the closing quote or the first of a doubled pair. */
const QUOTE_IN_QUOTED = 3;
type TokenizerState = typeof FIELD_START | typeof UNQUOTED | typeof QUOTED | typeof QUOTE_IN_QUOTED;

/** A record as a tokenizer holds it, for the header and width rules of `CsvParser`. */
interface RecordFields {
  count: number;
  /** Field `k` as a string. */
  field(k: number): string;
  /** Pads with empty fields or cuts to `width` fields. */
  padTo(width: number): void;
}

/**
 * The fields of one record of text without a string per field: field `k` is `strs[k]` when that is
 * set (a field with doubled quotes, text after a closing quote, or one that began in an earlier
 * piece), else `text.slice(starts[k], ends[k])` of the piece the record was completed in.
 */
class TextFields implements RecordFields {
  count = 0;
  text = '';
  starts = new Int32Array(16);
  ends = new Int32Array(16);
  strs: Array<string | undefined> = [];

  field(k: number): string {
    return this.strs[k] ?? this.text.slice(this.starts[k] ?? 0, this.ends[k] ?? 0);
  }

  padTo(width: number): void {
    for (let k = this.count; k < width; k++) this.strs[k] = '';
    this.count = width;
  }

  /** Slot `k`, growing the arrays as needed. */
  reserve(k: number): void {
    if (k < this.starts.length) return;
    this.starts = grow(this.starts, k + 1);
    this.ends = grow(this.ends, k + 1);
  }
}

const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const NO_BYTES = new Uint8Array(0);

/**
 * The complete records of one piece of UTF-8, without a string per field: what the byte tokenizer
 * hands on. Record `r` (for `from <= r < rows`) has `rowFields[r]` fields starting at flat index
 * `rowStart[r]`; field `k` (flat) is the range `[starts[k], ends[k])` of `scratch.bytes` when
 * `inScratch[k]` is 1 (a field with doubled quotes, text after a closing quote, or one that began in
 * an earlier piece), else of `bytes`, the piece. `lines[r]` is the 1-based line the record starts on.
 * Valid only during the call it is passed to; then reused.
 */
export class CsvByteBatch {
  bytes: Uint8Array = NO_BYTES;
  readonly scratch = new ByteBuffer(1024);
  /** Fields in use (flat). */
  fields = 0;
  starts = new Int32Array(1024);
  ends = new Int32Array(1024);
  inScratch = new Uint8Array(1024);
  /** Records in use; the first `from` are not data (the header). */
  rows = 0;
  from = 0;
  rowStart = new Int32Array(256);
  rowFields = new Int32Array(256);
  lines = new Int32Array(256);

  /** Field `k` of record `r` as a string. */
  field(r: number, k: number): string {
    const at = (this.rowStart[r] ?? 0) + k;
    const source = this.inScratch[at] ? this.scratch.bytes : this.bytes;
    return utf8Text(source, this.starts[at] ?? 0, this.ends[at] ?? 0);
  }

  /** Room for one more field; returns its flat index. */
  addField(): number {
    const k = this.fields++;
    if (k === this.starts.length) {
      this.starts = grow(this.starts, k + 1);
      this.ends = grow(this.ends, k + 1);
      const inScratch = new Uint8Array(this.starts.length);
      inScratch.set(this.inScratch);
      this.inScratch = inScratch;
    }
    return k;
  }

  /** Records fields `[first, this.fields)` as the next record. */
  addRow(first: number, line: number): void {
    const r = this.rows++;
    this.reserveRows(r + 1);
    this.rowStart[r] = first;
    this.rowFields[r] = this.fields - first;
    this.lines[r] = line;
  }

  /** Room for `count` records. */
  reserveRows(count: number): void {
    if (count <= this.rowStart.length) return;
    this.rowStart = grow(this.rowStart, count);
    this.rowFields = grow(this.rowFields, count);
    this.lines = grow(this.lines, count);
  }

  /** Pads record `r` with empty fields or cuts it to `width` fields. */
  padTo(r: number, width: number): void {
    const count = this.rowFields[r] ?? 0;
    if (count > width) {
      this.rowFields[r] = width;
      return;
    }
    // A record's fields are contiguous: copy it to the end, then the empty ones.
    const from = this.rowStart[r] ?? 0;
    const first = this.fields;
    for (let k = 0; k < width; k++) {
      const at = this.addField();
      const old = from + k;
      const keep = k < count;
      this.starts[at] = keep ? (this.starts[old] ?? 0) : 0;
      this.ends[at] = keep ? (this.ends[old] ?? 0) : 0;
      this.inScratch[at] = keep ? (this.inScratch[old] ?? 0) : 0;
    }
    this.rowStart[r] = first;
    this.rowFields[r] = width;
  }
}

/** One record of a batch as `RecordFields`, for the header and width rules. */
class BatchRow implements RecordFields {
  batch: CsvByteBatch | undefined;
  r = 0;

  get count(): number {
    return this.batch?.rowFields[this.r] ?? 0;
  }

  field(k: number): string {
    return this.batch?.field(this.r, k) ?? '';
  }

  padTo(width: number): void {
    this.batch?.padTo(this.r, width);
  }
}

function grow(array: Int32Array, min: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(Math.max(min, array.length * 2));
  grown.set(array);
  return grown;
}

/*
 * The two tokenizers below are one state machine over UTF-16 text and over UTF-8 bytes: every
 * character that matters (quote, delimiter, CR, LF) is ASCII, and UTF-8 never uses ASCII bytes inside
 * a multi-byte character, so the same steps give the same records. The byte one exists because
 * ingest reads bytes: indexing a Uint8Array costs a fraction of `charCodeAt`, and cells can be parsed
 * or copied into Arrow buffers without ever being decoded. A spec holds them to the same output.
 *
 * Blank lines are skipped, as spreadsheets and pandas do. A quote in the middle of an unquoted field,
 * or text after a closing quote, is kept literally rather than rejected: that is what Excel and
 * Python's csv module do with such files. The scanning state lives in locals while a piece is read,
 * which lets the JIT keep the per-character loop tight.
 */

/** Splits text into records with a fixed delimiter; see the comment above. */
class CsvTokenizer {
  private readonly delimiter: number;
  private readonly onRecord: (fields: TextFields, line: number) => void;
  private state: TokenizerState = FIELD_START;
  /** The current field's text from earlier pieces, or before doubled quotes; the rest is a range. */
  private fieldStr: string | undefined;
  private readonly fields = new TextFields();
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  /** The previous character was a CR, so an LF right after it ends no further line. */
  private afterCR = false;

  constructor(delimiter: CsvDelimiter, onRecord: (fields: TextFields, line: number) => void) {
    this.delimiter = delimiter.charCodeAt(0);
    this.onRecord = onRecord;
  }

  /** The line of the quote that opened the field still open at the end of input, if any. */
  get openQuoteLine(): number | undefined {
    return this.state === QUOTED ? this.quoteLine : undefined;
  }

  push(text: string): void {
    const n = text.length;
    const delimiter = this.delimiter;
    this.fields.text = text;
    let state = this.state;
    let line = this.line;
    let afterCR = this.afterCR;
    let start = 0;
    // Where the content of a quoted field ends (its closing quote), while in QUOTE_IN_QUOTED.
    let quoteEnd = 0;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (state === QUOTED) {
        if (c === QUOTE) {
          quoteEnd = i;
          state = QUOTE_IN_QUOTED;
          afterCR = false;
        } else if (c === CR) {
          line++;
          afterCR = true;
        } else if (c === LF) {
          if (!afterCR) line++;
          afterCR = false;
        } else {
          afterCR = false;
          // Fast path: skip ordinary characters inside the quotes.
          while (i + 1 < n) {
            const d = text.charCodeAt(i + 1);
            if (d === QUOTE || d === CR || d === LF) break;
            i++;
          }
        }
        i++;
        continue;
      }
      if (state === QUOTE_IN_QUOTED) {
        afterCR = c === CR;
        if (c === QUOTE) {
          // A doubled quote: keep one and stay inside the quoted field.
          this.fieldStr = (this.fieldStr ?? '') + text.slice(start, quoteEnd) + '"';
          start = i + 1;
          state = QUOTED;
        } else if (c === delimiter) {
          this.endField(text, start, quoteEnd);
          state = FIELD_START;
          start = i + 1;
        } else if (c === CR || c === LF) {
          this.endField(text, start, quoteEnd);
          state = FIELD_START;
          this.line = line;
          this.endRecord();
          line++;
          start = i + 1;
        } else {
          // Text after the closing quote is kept, without the quotes.
          this.fieldStr = (this.fieldStr ?? '') + text.slice(start, quoteEnd);
          start = i;
          state = UNQUOTED;
        }
        i++;
        continue;
      }
      if (c === delimiter) {
        this.endField(text, start, i);
        state = FIELD_START;
        start = i + 1;
        afterCR = false;
      } else if (c === CR || c === LF) {
        const wasCR = afterCR;
        afterCR = c === CR;
        if (c === LF && wasCR) {
          // Second half of a CRLF that already ended the line.
          start = i + 1;
        } else if (state === FIELD_START && this.fields.count === 0) {
          // A blank line: no record.
          line++;
          this.recordLine = line;
          start = i + 1;
        } else {
          this.endField(text, start, i);
          state = FIELD_START;
          this.line = line;
          this.endRecord();
          line++;
          start = i + 1;
        }
      } else if (c === QUOTE && state === FIELD_START) {
        state = QUOTED;
        this.quoteLine = line;
        start = i + 1;
        afterCR = false;
      } else {
        state = UNQUOTED;
        afterCR = false;
        // Fast path: the rest of an unquoted field up to the next delimiter or line end.
        while (i + 1 < n) {
          const d = text.charCodeAt(i + 1);
          if (d === delimiter || d === CR || d === LF) break;
          i++;
        }
      }
      i++;
    }
    // Keep what the next piece continues: the open field's text and the finished fields of the open record.
    if (state === QUOTE_IN_QUOTED) this.fieldStr = (this.fieldStr ?? '') + text.slice(start, quoteEnd);
    else if (state !== FIELD_START) this.fieldStr = (this.fieldStr ?? '') + text.slice(start);
    const { fields } = this;
    for (let k = 0; k < fields.count; k++) fields.strs[k] ??= text.slice(fields.starts[k], fields.ends[k]);
    this.state = state;
    this.line = line;
    this.afterCR = afterCR;
  }

  /** Flushes the last record when the input does not end with a line break. */
  end(): void {
    if (this.state === FIELD_START && this.fields.count === 0) return;
    this.fields.text = '';
    this.endField('', 0, 0);
    this.state = FIELD_START;
    this.endRecord();
  }

  private endField(text: string, start: number, end: number): void {
    const fields = this.fields;
    const k = fields.count++;
    fields.reserve(k);
    fields.starts[k] = start;
    fields.ends[k] = end;
    const prefix = this.fieldStr;
    if (prefix === undefined) fields.strs[k] = undefined;
    else {
      fields.strs[k] = prefix + text.slice(start, end);
      this.fieldStr = undefined;
    }
  }

  /** Hands the record on; `this.line` is the line it ends on. */
  private endRecord(): void {
    const line = this.recordLine;
    this.recordLine = this.line + 1;
    this.onRecord(this.fields, line);
    this.fields.count = 0;
  }
}

/** 1 for the bytes that stop the scan inside quotes: the quote, CR and LF. */
const QUOTED_STOPS = new Uint8Array(256);
QUOTED_STOPS[QUOTE] = 1;
QUOTED_STOPS[CR] = 1;
QUOTED_STOPS[LF] = 1;

/**
 * The first quote, CR or LF at or after `from`, or `n`: four bytes a step (quoted text is long).
 * In each word, a byte that is a quote or below 0x0e is flagged (the SWAR zero-byte test: a borrow
 * can flag a byte only above one truly flagged, so the lowest flag is real), then checked.
 */
function nextQuotedStop(bytes: Uint8Array, view: DataView, from: number, n: number): number {
  let i = from;
  while (i + 4 <= n) {
    const word = view.getInt32(i, true);
    const quotes = word ^ 0x22222222;
    const flags = (((quotes - 0x01010101) & ~quotes) | ((word - 0x0e0e0e0e) & ~word)) & 0x80808080;
    if (flags === 0) {
      i += 4;
      continue;
    }
    i += (31 - Math.clz32(flags & -flags)) >> 3;
    if (QUOTED_STOPS[bytes[i] ?? 0] !== 0) return i;
    i++;
  }
  for (; i < n; i++) if (QUOTED_STOPS[bytes[i] ?? 0] !== 0) return i;
  return n;
}

/**
 * The first delimiter, CR or LF at or after `from`, or `n`: like `nextQuotedStop`, a word at a
 * time, each byte that is the delimiter or below 0x0e flagged and the lowest flag checked.
 */
function nextStop(
  bytes: Uint8Array,
  view: DataView,
  from: number,
  n: number,
  stops: Uint8Array,
  maxStop: number,
  delimiterWord: number
): number {
  let i = from;
  while (i + 4 <= n) {
    const word = view.getInt32(i, true);
    const delimiters = word ^ delimiterWord;
    const flags = (((delimiters - 0x01010101) & ~delimiters) | ((word - 0x0e0e0e0e) & ~word)) & 0x80808080;
    if (flags === 0) {
      i += 4;
      continue;
    }
    i += (31 - Math.clz32(flags & -flags)) >> 3;
    if (stops[bytes[i] ?? 0] !== 0) return i;
    i++;
  }
  for (; i < n; i++) {
    const d = bytes[i] ?? 0;
    if (d <= maxStop && stops[d] !== 0) return i;
  }
  return n;
}

/** How much of the first piece the byte tokenizer reads in a call of its own; see `CsvByteTokenizer.push`. */
const FIRST_CALL_BYTES = 256;

/**
 * Every path of the byte loop, for `primeByteTokenizer`: quoted fields with doubled quotes, text after
 * the closing quote and line breaks inside (LF, CR, CRLF), empty fields, a blank line, CRLF and LF.
 */
const PRIMER = new TextEncoder().encode(
  'id,"a ""b"" c",d\r\n1,"x\ny",\r\n\r\n,"p"q,"r\rs\r\nt"\n22,,"""",long text field\n"u",,v\r\n'
);
let primed = false;

/**
 * Reads `PRIMER` cut in two at every position, once per worker, before the first file. V8 compiles
 * the byte loop while a file's first pieces are read; a path that had not run by then has no type
 * feedback, and the first piece to take it (a quote or CR right at a piece's end, say) throws the
 * compiled loop away to compile it again: six times in a cold 80 MB import (`--trace-deopt`), half a
 * second of compiling on a core the import needed. On this tiny input every path runs first.
 */
function primeByteTokenizer(): void {
  if (primed) return;
  primed = true;
  for (let cut = 1; cut < PRIMER.length; cut++) {
    const tokenizer = new CsvByteTokenizer(',', DISCARD_BATCHES);
    tokenizer.push(PRIMER.subarray(0, cut));
    tokenizer.push(PRIMER.subarray(cut));
    tokenizer.end();
  }
}

/**
 * Where a byte tokenizer hands its batches: its parser, or nothing. An object rather than a closure
 * per parser: V8 inlines the target into the compiled byte loop, and code that inlined a closure is
 * thrown away once that closure is garbage (after every import).
 */
interface BatchTarget {
  acceptBatch(batch: CsvByteBatch): void;
}

const DISCARD_BATCHES: BatchTarget = { acceptBatch: () => undefined };

/** `CsvTokenizer` over UTF-8 bytes, handing on the records of each piece as one batch; see the comment above. */
class CsvByteTokenizer {
  private readonly delimiter: number;
  private readonly target: BatchTarget;
  private state: TokenizerState = FIELD_START;
  /** The current field has bytes from earlier pieces, or before doubled quotes, in `open`. */
  private hasOpen = false;
  private readonly open = new ByteBuffer(256);
  private readonly batch = new CsvByteBatch();
  /** Flat index of the first field of the record being read. */
  private recordFirst = 0;
  private readonly carry = new ByteBuffer(256);
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  /** The previous character was a CR, so an LF right after it ends no further line. */
  private afterCR = false;

  /** 1 for the bytes that end an unquoted field: the delimiter, CR and LF. */
  private readonly stops = new Uint8Array(256);
  /** The largest of them: a byte above it (most text) is ordinary without a look at the table. */
  private readonly maxStop: number;

  constructor(delimiter: CsvDelimiter, target: BatchTarget) {
    this.delimiter = delimiter.charCodeAt(0);
    this.target = target;
    this.stops[this.delimiter] = 1;
    this.stops[CR] = 1;
    this.stops[LF] = 1;
    this.maxStop = Math.max(this.delimiter, CR, LF);
  }

  /** The line of the quote that opened the field still open at the end of input, if any. */
  get openQuoteLine(): number | undefined {
    return this.state === QUOTED ? this.quoteLine : undefined;
  }

  /** Pieces read so far; the first is cut short (see `push`). */
  private pieces = 0;

  push(bytes: Uint8Array): void {
    // The first piece is read in two: a short start, then the rest. V8 compiles the byte loop below
    // on the fly (OSR) while the first long piece is read, before the code after the loop ever ran;
    // without type feedback there, that code sent every later piece back to the interpreter once
    // (seen with `--trace-deopt`). A short first call runs it once. Records do not depend on where
    // pieces are cut.
    if (this.pieces++ === 0 && bytes.length > FIRST_CALL_BYTES) {
      this.push(bytes.subarray(0, FIRST_CALL_BYTES));
      bytes = bytes.subarray(FIRST_CALL_BYTES);
    }
    const n = bytes.length;
    const delimiter = this.delimiter;
    const stops = this.stops;
    const maxStop = this.maxStop;
    const maxSpecial = maxStop > QUOTE ? maxStop : QUOTE;
    const delimiterWord = Math.imul(delimiter, 0x01010101);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const batch = this.batch;
    batch.bytes = bytes;
    let state = this.state;
    let line = this.line;
    let afterCR = this.afterCR;
    let start = 0;
    // Where the content of a quoted field ends (its closing quote), while in QUOTE_IN_QUOTED.
    let quoteEnd = 0;
    // The batch's field and record arrays and counts, and the record being read, in locals: written
    // back before anything else reads them, and read again after anything that may grow them.
    let starts = batch.starts;
    let ends = batch.ends;
    let inScratch = batch.inScratch;
    let fields = batch.fields;
    let rowStart = batch.rowStart;
    let rowFields = batch.rowFields;
    let lines = batch.lines;
    let rows = batch.rows;
    let recordFirst = this.recordFirst;
    let recordLine = this.recordLine;
    let hasOpen = this.hasOpen;
    let i = 0;
    while (i < n) {
      let c = bytes[i] ?? 0;
      /** Where the field that `c` ends stops. */
      let end: number;
      if (state <= UNQUOTED) {
        if (c > maxSpecial || (stops[c] === 0 && (c !== QUOTE || state === UNQUOTED))) {
          // Fast path: an unquoted field, up to the delimiter or line end that ends it, in one step.
          const j = nextStop(bytes, view, i + 1, n, stops, maxStop, delimiterWord);
          if (j === n) {
            state = UNQUOTED;
            afterCR = false;
            i = n;
            break;
          }
          i = j;
          c = bytes[j] ?? 0;
          end = j;
          // A delimiter or a line end; not an LF after a CR, nor a blank line: the field had content.
          afterCR = c === CR;
        } else if (c === delimiter) {
          end = i;
          afterCR = false;
        } else if (c === CR || c === LF) {
          const wasCR = afterCR;
          afterCR = c === CR;
          if (c === LF && wasCR) {
            // Second half of a CRLF that already ended the line.
            start = i + 1;
            i++;
            continue;
          }
          if (state === FIELD_START && fields === recordFirst) {
            // A blank line: no record.
            line++;
            recordLine = line;
            start = i + 1;
            i++;
            continue;
          }
          end = i;
        } else {
          // A quote that opens a field: its content in one go, up to the quote that may close it.
          this.quoteLine = line;
          start = i + 1;
          let j = nextQuotedStop(bytes, view, start, n);
          for (; j < n; j = nextQuotedStop(bytes, view, j + 1, n)) {
            const q = bytes[j] ?? 0;
            if (q === QUOTE) break;
            // A line break inside the quotes; the LF of a CRLF is not another one.
            if (q === CR || bytes[j - 1] !== CR) line++;
          }
          if (j >= n) {
            // The piece ends inside the quotes.
            state = QUOTED;
            afterCR = n > start && bytes[n - 1] === CR;
            i = n;
            break;
          }
          quoteEnd = j;
          afterCR = false;
          c = bytes[j + 1] ?? QUOTE;
          if (j + 1 === n || c === QUOTE || (c !== delimiter && c !== CR && c !== LF)) {
            // A doubled quote, text after the closing quote, or the end of the piece: step by step.
            state = QUOTE_IN_QUOTED;
            i = j + 1;
            continue;
          }
          // The closing quote, then the delimiter or line end that ends the field.
          i = j + 1;
          end = quoteEnd;
          afterCR = c === CR;
        }
      } else if (state === QUOTED) {
        if (c === QUOTE) {
          quoteEnd = i;
          state = QUOTE_IN_QUOTED;
          afterCR = false;
        } else if (c === CR) {
          line++;
          afterCR = true;
        } else if (c === LF) {
          if (!afterCR) line++;
          afterCR = false;
        } else {
          afterCR = false;
          // Fast path: to the next byte that matters inside the quotes.
          i = nextQuotedStop(bytes, view, i + 1, n);
          continue;
        }
        i++;
        continue;
      } else {
        // QUOTE_IN_QUOTED
        if (c === QUOTE) {
          // A doubled quote: keep one and stay inside the quoted field.
          this.open.append(bytes, start, quoteEnd);
          this.open.appendByte(QUOTE);
          hasOpen = true;
          afterCR = false;
          start = i + 1;
          state = QUOTED;
          i++;
          continue;
        }
        if (c !== delimiter && c !== CR && c !== LF) {
          // Text after the closing quote is kept, without the quotes.
          this.open.append(bytes, start, quoteEnd);
          hasOpen = true;
          afterCR = false;
          start = i;
          state = UNQUOTED;
          i++;
          continue;
        }
        end = quoteEnd;
        afterCR = c === CR;
      }
      // `c` ends the field at `end`: a delimiter, or a line end that ends the record too.
      if (hasOpen || fields === starts.length) {
        batch.fields = fields;
        this.hasOpen = hasOpen;
        this.endField(bytes, start, end);
        hasOpen = false;
        fields = batch.fields;
        starts = batch.starts;
        ends = batch.ends;
        inScratch = batch.inScratch;
      } else {
        starts[fields] = start;
        ends[fields] = end;
        inScratch[fields] = 0;
        fields++;
      }
      state = FIELD_START;
      start = i + 1;
      if (c !== delimiter) {
        // The record ends: fields [recordFirst, fields), from the line it started on.
        if (rows === rowStart.length) {
          batch.rows = rows;
          batch.reserveRows(rows + 1);
          rowStart = batch.rowStart;
          rowFields = batch.rowFields;
          lines = batch.lines;
        }
        rowStart[rows] = recordFirst;
        rowFields[rows] = fields - recordFirst;
        lines[rows] = recordLine;
        rows++;
        recordFirst = fields;
        recordLine = line + 1;
        line++;
      }
      i++;
    }
    batch.fields = fields;
    batch.rows = rows;
    this.recordFirst = recordFirst;
    this.recordLine = recordLine;
    this.hasOpen = hasOpen;
    // Keep what the next piece continues: the open field's bytes.
    if (state === QUOTE_IN_QUOTED) {
      this.open.append(bytes, start, quoteEnd);
      this.hasOpen = true;
    } else if (state !== FIELD_START) {
      this.open.append(bytes, start, n);
      this.hasOpen = true;
    }
    this.state = state;
    this.line = line;
    this.afterCR = afterCR;
    this.flush();
  }

  /** Flushes the last record when the input does not end with a line break. */
  end(): void {
    this.batch.bytes = NO_BYTES;
    if (this.state !== FIELD_START || this.batch.fields > this.recordFirst) {
      this.endField(NO_BYTES, 0, 0);
      this.state = FIELD_START;
      this.endRecord(this.line);
    }
    this.flush();
  }

  /**
   * Hands on the complete records, then starts the next batch with the fields of the open record,
   * moved into the scratch buffer (the piece they point into is about to go).
   */
  private flush(): void {
    const batch = this.batch;
    // Padding appends fields; the open record's are the ones before.
    const fields = batch.fields;
    if (batch.rows > 0) this.target.acceptBatch(batch);
    const first = this.recordFirst;
    const count = fields - first;
    const carry = this.carry;
    carry.end = 0;
    for (let k = first; k < fields; k++) {
      const source = batch.inScratch[k] ? batch.scratch.bytes : batch.bytes;
      carry.append(source, batch.starts[k] ?? 0, batch.ends[k] ?? 0);
      // The carried field's length, so the loop below can cut `carry` again.
      batch.ends[k] = (batch.ends[k] ?? 0) - (batch.starts[k] ?? 0);
    }
    batch.scratch.end = 0;
    let at = 0;
    for (let k = 0; k < count; k++) {
      const length = batch.ends[first + k] ?? 0;
      batch.starts[k] = batch.scratch.end;
      batch.scratch.append(carry.bytes, at, at + length);
      batch.ends[k] = batch.scratch.end;
      batch.inScratch[k] = 1;
      at += length;
    }
    batch.fields = count;
    batch.rows = 0;
    batch.from = 0;
    this.recordFirst = 0;
  }

  private endField(bytes: Uint8Array, start: number, end: number): void {
    const batch = this.batch;
    const k = batch.addField();
    if (!this.hasOpen) {
      batch.starts[k] = start;
      batch.ends[k] = end;
      batch.inScratch[k] = 0;
      return;
    }
    const scratch = batch.scratch;
    batch.starts[k] = scratch.end;
    scratch.append(this.open.bytes, 0, this.open.end);
    scratch.append(bytes, start, end);
    batch.ends[k] = scratch.end;
    batch.inScratch[k] = 1;
    this.open.end = 0;
    this.hasOpen = false;
  }

  /** Ends the record being read; `line` is the line it ends on. */
  private endRecord(line: number): void {
    this.batch.addRow(this.recordFirst, this.recordLine);
    this.recordFirst = this.batch.fields;
    this.recordLine = line + 1;
  }
}

/**
 * Picks the delimiter from a sample of the first lines: the candidate whose count per line is the
 * same on most lines (quotes respected), then the one that splits the header into the most fields.
 * A file with no candidate in its header is read as one column.
 */
export function sniffDelimiter(sample: string): CsvDelimiter {
  const text = sample.startsWith(BOM) ? sample.slice(1) : sample;
  return bestDelimiter(CSV_DELIMITERS.map((delimiter) => countPerLine(text, delimiter.charCodeAt(0))));
}

/** The choice of `sniffDelimiter`, from each candidate's delimiters per line (in `CSV_DELIMITERS` order). */
function bestDelimiter(perLine: number[][]): CsvDelimiter {
  let best: { delimiter: CsvDelimiter; consistency: number; fields: number } | undefined;
  for (const [index, delimiter] of CSV_DELIMITERS.entries()) {
    const counts = perLine[index] ?? [];
    const header = counts[0] ?? 0;
    if (header === 0) continue;
    const consistency = counts.filter((c) => c === header).length / counts.length;
    if (
      !best ||
      consistency > best.consistency ||
      (consistency === best.consistency && header > best.fields)
    ) {
      best = { delimiter, consistency, fields: header };
    }
  }
  return best?.delimiter ?? ',';
}

/** Delimiters outside quotes on each complete line of the sample (the last, cut-off line is left out). */
function countPerLine(text: string, delimiter: number): number[] {
  const counts: number[] = [];
  let count = 0;
  let inQuotes = false;
  let blank = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) inQuotes = !inQuotes;
    else if (!inQuotes && (c === LF || c === CR)) {
      if (!blank) counts.push(count);
      count = 0;
      blank = true;
      continue;
    } else if (!inQuotes && c === delimiter) count++;
    blank = false;
  }
  // A sample that is the whole file may end without a line break; then its last line is complete.
  if (counts.length === 0 && !blank) counts.push(count);
  return counts;
}

/** The index in `CSV_DELIMITERS` of each byte that is one, else -1. */
const DELIMITER_INDEX = new Int8Array(256).fill(-1);
CSV_DELIMITERS.forEach((d, index) => (DELIMITER_INDEX[d.charCodeAt(0)] = index));

/**
 * `sniffDelimiter` of the text the UTF-8 bytes spell, in one pass over the bytes for all four
 * candidates (the characters that count are ASCII, so they are the same in bytes and in text).
 */
export function sniffDelimiterBytes(sample: Uint8Array): CsvDelimiter {
  const from = sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf ? 3 : 0;
  const perLine: number[][] = CSV_DELIMITERS.map(() => []);
  const counts = new Int32Array(CSV_DELIMITERS.length);
  let inQuotes = false;
  let blank = true;
  for (let i = from; i < sample.length; i++) {
    const c = sample[i] ?? 0;
    if (c === QUOTE) inQuotes = !inQuotes;
    else if (!inQuotes && (c === LF || c === CR)) {
      if (!blank) counts.forEach((count, d) => perLine[d]?.push(count));
      counts.fill(0);
      blank = true;
      continue;
    } else if (!inQuotes) {
      const d = DELIMITER_INDEX[c] ?? -1;
      if (d >= 0) counts[d] = (counts[d] ?? 0) + 1;
    }
    blank = false;
  }
  // A sample that is the whole file may end without a line break; then its last line is complete.
  if ((perLine[0]?.length ?? 0) === 0 && !blank) counts.forEach((count, d) => perLine[d]?.push(count));
  return bestDelimiter(perLine);
}

/**
 * True when the start of a text looks like binary data rather than a CSV: a NUL character (also
 * what UTF-16 text looks like when read as UTF-8), or more than 10% control or undecodable characters.
 */
export function looksBinary(start: string): boolean {
  const sample = start.slice(0, BINARY_CHECK_LENGTH);
  let suspicious = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0) return true;
    const control = c < 0x20 && c !== 0x09 && c !== LF && c !== CR && c !== 0x0c;
    if (control || c === 0xfffd || c === 0x7f) suspicious++;
  }
  return sample.length > 0 && suspicious / sample.length > 0.1;
}

/**
 * Where data rows go instead of being returned (`CsvParser.sendTo`, with `pushBytes`): for a reader
 * that parses cells straight from the bytes. Each batch holds the data records of one piece, rows
 * `from` to `rows`, each with the header's width of fields (short rows padded with empty fields and
 * long ones cut, with `raggedRows: 'pad'`); the batch is valid only during the call.
 */
export interface CsvByteSink {
  batch(batch: CsvByteBatch): void;
}

/**
 * Reads a CSV file piece by piece: sniffs the delimiter, takes the first record as the header
 * (trimmed; blank or repeated names are made unique, with a warning) and checks every data row
 * has as many fields as the header.
 *
 * ```ts
 * const parser = new CsvParser({ fileName: 'sales.csv' });
 * for await (const text of pieces) for (const row of parser.push(text)) use(row);
 * for (const row of parser.end()) use(row);
 * ```
 *
 * Or UTF-8 bytes with `pushBytes` (valid UTF-8, cut at character boundaries, as `TextDecoder` would
 * cut its output): the same rows as `push` of the decoded text; with `sendTo`, without a string per
 * field. One parser reads either text or bytes, not both.
 */
export class CsvParser {
  private readonly fileName: string | undefined;
  private tokenizer: CsvTokenizer | undefined;
  private byteTokenizer: CsvByteTokenizer | undefined;
  private sample = '';
  private sampleBytes: Uint8Array[] = [];
  private sampleChars = 0;
  private sampleLineBreaks = 0;
  private readingBytes = false;
  private started = false;
  private finished = false;
  private headerFields: string[] | undefined;
  private sniffed: CsvDelimiter | undefined;
  private dataRows = 0;
  private readonly headerMode: boolean | 'auto';
  private readonly raggedMode: 'error' | 'pad';
  private ragged = 0;
  private firstRagged: number | undefined;
  private sink: CsvByteSink | undefined;
  /** Rows completed by the current `push` or `end`, when there is no sink. */
  private completed: CsvRow[] = [];
  /** Problems that did not stop the import, worded for a person. */
  readonly warnings: string[] = [];

  constructor(options: CsvParserOptions = {}) {
    this.fileName = options.fileName;
    this.sniffed = options.delimiter;
    this.headerMode = options.header ?? 'auto';
    this.raggedMode = options.raggedRows ?? 'error';
  }

  /** Rows padded or cut to the header's width (with `raggedRows: 'pad'`). */
  get raggedRows(): number {
    return this.ragged;
  }

  /** False when the first row was data and the columns got generated names. */
  get hasHeader(): boolean {
    return this.headerFromFile;
  }

  private headerFromFile = true;

  /** The column names, once the header has been read. */
  get header(): readonly string[] | undefined {
    return this.headerFields;
  }

  /** The delimiter in use, once it has been sniffed (or the one given). */
  get delimiter(): CsvDelimiter | undefined {
    return this.tokenizer || this.byteTokenizer ? this.sniffed : undefined;
  }

  /** Data rows returned so far. */
  get rowCount(): number {
    return this.dataRows;
  }

  /**
   * Sends the data rows of `pushBytes` to `sink`, as byte ranges, instead of returning them: no
   * string per field. The header is still read here; `pushBytes` and `end` then return no rows.
   */
  sendTo(sink: CsvByteSink): void {
    this.sink = sink;
  }

  /** Adds the next piece of text; returns the data rows it completed. */
  push(text: string): CsvRow[] {
    if (this.finished) throw new CsvError('parser_finished', 'This CSV parser has already been ended.');
    if (!this.started) {
      if (text.length === 0) return [];
      this.started = true;
      if (text.startsWith(BOM)) text = text.slice(1);
    }
    if (this.tokenizer) return this.tokenize(text);
    this.sample += text;
    this.sampleLineBreaks += countLineBreaks(text);
    if (this.sampleLineBreaks < SNIFF_LINES && this.sample.length < SNIFF_CHARS) return [];
    return this.startTokenizing();
  }

  /**
   * Adds the next piece of UTF-8; returns the data rows it completed (none with a sink). The piece is
   * read during the call only: what the parser keeps of it (an open record, the sniffing sample) it
   * copies, so the caller may fill the same buffer again.
   */
  pushBytes(bytes: Uint8Array): CsvRow[] {
    if (this.finished) throw new CsvError('parser_finished', 'This CSV parser has already been ended.');
    if (!this.started) {
      if (bytes.length === 0) return [];
      this.started = true;
      this.readingBytes = true;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    }
    if (this.byteTokenizer) {
      this.byteTokenizer.push(bytes);
      return this.takeCompleted();
    }
    // Counted only as far as the thresholds: a first piece may be megabytes.
    this.sampleChars += utf16Length(bytes, SNIFF_CHARS - this.sampleChars);
    this.sampleLineBreaks += countByte(bytes, LF, SNIFF_LINES - this.sampleLineBreaks);
    if (this.sampleLineBreaks < SNIFF_LINES && this.sampleChars < SNIFF_CHARS) {
      // Kept past this call: a copy, since the caller may reuse the piece's buffer.
      this.sampleBytes.push(bytes.slice());
      return [];
    }
    this.sampleBytes.push(bytes);
    return this.startTokenizing();
  }

  /** Ends the input; returns the last rows. Throws when the file is empty, has no data rows or ends inside a quote. */
  end(): CsvRow[] {
    if (this.finished) return [];
    const rows = this.tokenizer || this.byteTokenizer ? [] : this.startTokenizing();
    this.finished = true;
    const tokenizer = this.tokenizer ?? this.byteTokenizer;
    if (!tokenizer) return rows;
    const openQuote = tokenizer.openQuoteLine;
    if (openQuote !== undefined) {
      throw new CsvError(
        'unterminated_quote',
        `${this.at(openQuote)} opens a quoted field (") that is never closed; expected a closing quote before the end of the file.`,
        { line: openQuote, fileName: this.fileName }
      );
    }
    tokenizer.end();
    rows.push(...this.takeCompleted());
    if (this.ragged > 0) {
      this.warnings.push(
        `${this.ragged} row${this.ragged === 1 ? '' : 's'} of ${this.fileLabel('the file')} had a different number of fields than the header (first on line ${this.firstRagged ?? 0}); short rows were padded with missing cells and long ones cut.`
      );
    }
    if (!this.headerFields) {
      throw new CsvError(
        'empty_file',
        `${this.fileLabel('The file')} is empty: it has no header row and no data.`,
        {
          fileName: this.fileName
        }
      );
    }
    if (this.dataRows === 0) {
      throw new CsvError('header_only', `${this.fileLabel('The file')} has a header row but no data rows.`, {
        fileName: this.fileName
      });
    }
    return rows;
  }

  /** Checks the sample, sniffs the delimiter and reads the sample with the right tokenizer. */
  private startTokenizing(): CsvRow[] {
    let bytes: Uint8Array | undefined;
    if (this.readingBytes) {
      bytes = concatBytes(this.sampleBytes);
      this.sampleBytes = [];
      // The start of the text `push` would have sampled: at most 4 bytes a character, so these
      // bytes hold all that `looksBinary` reads. Sniffing reads the bytes, with the same result.
      this.sample = utf8Decoder.decode(bytes.subarray(0, BINARY_CHECK_LENGTH * 4 + 4));
    }
    if (looksBinary(this.sample)) {
      throw new CsvError(
        'binary_content',
        `${this.fileLabel('This file')} does not look like CSV text: its first kilobyte contains binary data. ` +
          'Spreadsheets (.xlsx) and archives need to be saved as CSV first.',
        { fileName: this.fileName }
      );
    }
    // A first piece may be megabytes; the sample the thresholds above describe is at its start.
    this.sniffed ??= bytes
      ? sniffDelimiterBytes(bytes.subarray(0, SNIFF_CHARS * 4))
      : sniffDelimiter(this.sample);
    const sample = this.sample;
    this.sample = '';
    if (bytes) {
      primeByteTokenizer();
      this.byteTokenizer = new CsvByteTokenizer(this.sniffed, this);
      this.byteTokenizer.push(bytes);
      return this.takeCompleted();
    }
    this.tokenizer = new CsvTokenizer(this.sniffed, (fields, line) => {
      if (this.accept(fields, line)) this.completed.push({ line, fields: fieldsOf(fields) });
    });
    return this.tokenize(sample);
  }

  private tokenize(text: string): CsvRow[] {
    this.tokenizer?.push(text);
    return this.takeCompleted();
  }

  private takeCompleted(): CsvRow[] {
    const rows = this.completed;
    if (rows.length === 0) return [];
    this.completed = [];
    return rows;
  }

  private readonly batchRow = new BatchRow();

  /** The byte tokenizer's batches (see `BatchTarget`): the header and width rules for every record, then on to the sink. */
  acceptBatch(batch: CsvByteBatch): void {
    const row = this.batchRow;
    row.batch = batch;
    const width = this.headerFields?.length ?? -1;
    const { rowFields, rows } = batch;
    for (let r = batch.from; r < rows; r++) {
      // A data row of the header's width needs only counting (`accept` would do just that).
      if (rowFields[r] === width) {
        this.dataRows++;
        continue;
      }
      row.r = r;
      // Only the header is not data, and it is the first record of the file.
      if (!this.accept(row, batch.lines[r] ?? 0)) batch.from = r + 1;
    }
    if (batch.from >= batch.rows) return;
    if (this.sink) {
      this.sink.batch(batch);
      return;
    }
    for (let r = batch.from; r < batch.rows; r++) {
      row.r = r;
      this.completed.push({ line: batch.lines[r] ?? 0, fields: fieldsOf(row) });
    }
  }

  /**
   * Takes the header from the first record and checks the width of the others, padding or cutting
   * them to the header's width. True when the record is a data row.
   */
  private accept(fields: RecordFields, line: number): boolean {
    if (!this.headerFields) {
      const first = fieldsOf(fields);
      if (this.headerMode === false || (this.headerMode === 'auto' && looksLikeDataRow(first))) {
        this.headerFromFile = false;
        this.headerFields = first.map((_, i) => `col_${i + 1}`);
        if (this.headerMode === 'auto') {
          this.warnings.push(
            `The first row of ${this.fileLabel('the file')} looks like data, not column names; the columns are called col_1 to col_${first.length}.`
          );
        }
      } else {
        this.headerFields = this.nameColumns(first);
        return false;
      }
    }
    const width = this.headerFields.length;
    const got = fields.count;
    if (got !== width) {
      if (this.raggedMode !== 'pad') {
        throw new CsvError(
          'ragged_row',
          `${this.at(line)} has ${got} field${got === 1 ? '' : 's'}; the header has ${width}.`,
          { line, fileName: this.fileName }
        );
      }
      this.ragged++;
      this.firstRagged ??= line;
      fields.padTo(width);
    }
    this.dataRows++;
    return true;
  }

  private nameColumns(fields: string[]): string[] {
    const seen = new Set<string>();
    return fields.map((raw, i) => {
      const base = raw.trim() || `column_${i + 1}`;
      if (!raw.trim())
        this.warnings.push(`Column ${i + 1} has no name in the header; it is called “${base}”.`);
      let name = base;
      for (let k = 2; seen.has(name); k++) name = `${base}_${k}`;
      if (name !== base)
        this.warnings.push(`The header names “${base}” more than once; column ${i + 1} is called “${name}”.`);
      seen.add(name);
      return name;
    });
  }

  private at(line: number): string {
    return this.fileName ? `Line ${line} of ${this.fileName}` : `Line ${line}`;
  }

  private fileLabel(fallback: string): string {
    return this.fileName ? `“${this.fileName}”` : fallback;
  }
}

function fieldsOf(fields: RecordFields): string[] {
  const row = new Array<string>(fields.count);
  for (let k = 0; k < fields.count; k++) row[k] = fields.field(k);
  return row;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * How many UTF-16 code units the UTF-8 bytes decode to (one per character, two above U+FFFF), or
 * any number from `limit` up when there are at least that many.
 */
function utf16Length(bytes: Uint8Array, limit: number): number {
  let units = 0;
  for (let i = 0; i < bytes.length && units < limit; i++) {
    const b = bytes[i] ?? 0;
    if ((b & 0xc0) !== 0x80) units++;
    if (b >= 0xf0) units++;
  }
  return units;
}

/** Occurrences of `byte`, counted up to `limit`. */
function countByte(bytes: Uint8Array, byte: number, limit: number): number {
  let count = 0;
  for (let i = bytes.indexOf(byte); i !== -1 && count < limit; i = bytes.indexOf(byte, i + 1)) count++;
  return count;
}

function countLineBreaks(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/** Parses a whole CSV string at once; for tests and small inputs. */
export function parseCsv(
  text: string,
  options: CsvParserOptions = {}
): { header: string[]; rows: string[][]; delimiter: CsvDelimiter; warnings: string[] } {
  const parser = new CsvParser(options);
  const rows = [...parser.push(text), ...parser.end()].map((r) => r.fields);
  return {
    header: [...(parser.header ?? [])],
    rows,
    delimiter: parser.delimiter ?? ',',
    warnings: parser.warnings
  };
}
