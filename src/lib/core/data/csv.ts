/**
 * An incremental CSV reader: feed it decoded text in pieces of any size, get data rows out.
 *
 * It follows RFC 4180 (quoted fields may hold delimiters, doubled quotes and line breaks) and accepts
 * what spreadsheets actually write: CRLF, LF or lone CR line ends, a UTF-8 byte-order mark, and `;`,
 * tab or `|` instead of `,` (sniffed from the first lines). It never holds more than the current row
 * plus the sniffing sample, so the caller decides what to keep.
 */
import { LatheError } from '../errors';

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

/**
 * Splits text into records with a fixed delimiter. Blank lines are skipped, as spreadsheets and
 * pandas do. A quote in the middle of an unquoted field, or text after a closing quote, is kept
 * literally rather than rejected: that is what Excel and Python's csv module do with such files.
 */
class CsvTokenizer {
  private readonly delimiter: number;
  private state: TokenizerState = FIELD_START;
  /** The current field's text from earlier pieces; the rest is sliced from the current piece. */
  private field = '';
  private record: string[] = [];
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  /** The previous character was a CR, so an LF right after it ends no further line. */
  private afterCR = false;

  constructor(delimiter: CsvDelimiter) {
    this.delimiter = delimiter.charCodeAt(0);
  }

  /** The line of the quote that opened the field still open at the end of input, if any. */
  get openQuoteLine(): number | undefined {
    return this.state === QUOTED ? this.quoteLine : undefined;
  }

  push(text: string, out: CsvRow[]): void {
    const n = text.length;
    const delimiter = this.delimiter;
    let start = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      const afterCR = this.afterCR;
      this.afterCR = c === CR;
      switch (this.state) {
        case QUOTED:
          if (c === QUOTE) {
            this.field += text.slice(start, i);
            start = i + 1;
            this.state = QUOTE_IN_QUOTED;
          } else if (c === CR || (c === LF && !afterCR)) {
            this.line++;
          } else {
            // Fast path: skip ordinary characters inside the quotes.
            while (i + 1 < n) {
              const d = text.charCodeAt(i + 1);
              if (d === QUOTE || d === CR || d === LF) break;
              i++;
            }
          }
          break;
        case QUOTE_IN_QUOTED:
          if (c === QUOTE) {
            // A doubled quote: keep one and stay inside the quoted field.
            this.field += '"';
            start = i + 1;
            this.state = QUOTED;
          } else if (c === delimiter) {
            this.endField(text, start, i);
            start = i + 1;
          } else if (c === CR || c === LF) {
            this.endField(text, start, i);
            this.endRecord(out);
            this.line++;
            start = i + 1;
          } else {
            this.state = UNQUOTED;
          }
          break;
        default:
          if (c === delimiter) {
            this.endField(text, start, i);
            start = i + 1;
          } else if (c === CR || c === LF) {
            if (c === LF && afterCR) {
              // Second half of a CRLF that already ended the line.
              start = i + 1;
              break;
            }
            if (this.state === FIELD_START && this.record.length === 0) {
              // A blank line: no record.
              this.line++;
              this.recordLine = this.line;
              start = i + 1;
              break;
            }
            this.endField(text, start, i);
            this.endRecord(out);
            this.line++;
            start = i + 1;
          } else if (c === QUOTE && this.state === FIELD_START) {
            this.state = QUOTED;
            this.quoteLine = this.line;
            start = i + 1;
          } else {
            this.state = UNQUOTED;
            // Fast path: the rest of an unquoted field up to the next delimiter or line end.
            while (i + 1 < n) {
              const d = text.charCodeAt(i + 1);
              if (d === delimiter || d === CR || d === LF) break;
              i++;
            }
            this.afterCR = false;
          }
      }
    }
    if (start < n) this.field += text.slice(start);
  }

  /** Flushes the last record when the input does not end with a line break. */
  end(out: CsvRow[]): void {
    if (this.state === FIELD_START && this.record.length === 0) return;
    this.endField('', 0, 0);
    this.endRecord(out);
  }

  private endField(text: string, start: number, end: number): void {
    this.record.push(this.field + text.slice(start, end));
    this.field = '';
    this.state = FIELD_START;
  }

  private endRecord(out: CsvRow[]): void {
    out.push({ line: this.recordLine, fields: this.record });
    this.record = [];
    this.recordLine = this.line + 1;
  }
}

/**
 * Picks the delimiter from a sample of the first lines: the candidate whose count per line is the
 * same on most lines (quotes respected), then the one that splits the header into the most fields.
 * A file with no candidate in its header is read as one column.
 */
export function sniffDelimiter(sample: string): CsvDelimiter {
  const text = sample.startsWith(BOM) ? sample.slice(1) : sample;
  let best: { delimiter: CsvDelimiter; consistency: number; fields: number } | undefined;
  for (const delimiter of CSV_DELIMITERS) {
    const counts = countPerLine(text, delimiter.charCodeAt(0));
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
 * Reads a CSV file piece by piece: sniffs the delimiter, takes the first record as the header
 * (trimmed; blank or repeated names are made unique, with a warning) and checks every data row
 * has as many fields as the header.
 *
 * ```ts
 * const parser = new CsvParser({ fileName: 'sales.csv' });
 * for await (const text of pieces) for (const row of parser.push(text)) use(row);
 * for (const row of parser.end()) use(row);
 * ```
 */
export class CsvParser {
  private readonly fileName: string | undefined;
  private tokenizer: CsvTokenizer | undefined;
  private sample = '';
  private sampleLineBreaks = 0;
  private started = false;
  private finished = false;
  private headerFields: string[] | undefined;
  private sniffed: CsvDelimiter | undefined;
  private dataRows = 0;
  private readonly headerMode: boolean | 'auto';
  private readonly raggedMode: 'error' | 'pad';
  private ragged = 0;
  private firstRagged: number | undefined;
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
    return this.tokenizer ? this.sniffed : undefined;
  }

  /** Data rows returned so far. */
  get rowCount(): number {
    return this.dataRows;
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

  /** Ends the input; returns the last rows. Throws when the file is empty, has no data rows or ends inside a quote. */
  end(): CsvRow[] {
    if (this.finished) return [];
    const rows = this.tokenizer ? [] : this.startTokenizing();
    this.finished = true;
    const tokenizer = this.tokenizer;
    if (!tokenizer) return rows;
    const openQuote = tokenizer.openQuoteLine;
    if (openQuote !== undefined) {
      throw new CsvError(
        'unterminated_quote',
        `${this.at(openQuote)} opens a quoted field (") that is never closed; expected a closing quote before the end of the file.`,
        { line: openQuote, fileName: this.fileName }
      );
    }
    const tail: CsvRow[] = [];
    tokenizer.end(tail);
    rows.push(...this.accept(tail));
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

  private startTokenizing(): CsvRow[] {
    if (looksBinary(this.sample)) {
      throw new CsvError(
        'binary_content',
        `${this.fileLabel('This file')} does not look like CSV text: its first kilobyte contains binary data. ` +
          'Spreadsheets (.xlsx) and archives need to be saved as CSV first.',
        { fileName: this.fileName }
      );
    }
    this.sniffed ??= sniffDelimiter(this.sample);
    this.tokenizer = new CsvTokenizer(this.sniffed);
    const sample = this.sample;
    this.sample = '';
    return this.tokenize(sample);
  }

  private tokenize(text: string): CsvRow[] {
    const records: CsvRow[] = [];
    this.tokenizer?.push(text, records);
    return this.accept(records);
  }

  /** Takes the header from the first record and checks the width of the others. */
  private accept(records: CsvRow[]): CsvRow[] {
    let from = 0;
    if (!this.headerFields) {
      const first = records[0];
      if (!first) return records;
      if (this.headerMode === false || (this.headerMode === 'auto' && looksLikeDataRow(first.fields))) {
        this.headerFromFile = false;
        this.headerFields = first.fields.map((_, i) => `col_${i + 1}`);
        if (this.headerMode === 'auto') {
          this.warnings.push(
            `The first row of ${this.fileLabel('the file')} looks like data, not column names; the columns are called col_1 to col_${first.fields.length}.`
          );
        }
      } else {
        this.headerFields = this.nameColumns(first.fields);
        from = 1;
      }
    }
    const width = this.headerFields.length;
    for (let i = from; i < records.length; i++) {
      const record = records[i];
      if (record && record.fields.length !== width) {
        const got = record.fields.length;
        if (this.raggedMode === 'pad') {
          this.ragged++;
          this.firstRagged ??= record.line;
          if (got > width) record.fields.length = width;
          else while (record.fields.length < width) record.fields.push('');
          continue;
        }
        throw new CsvError(
          'ragged_row',
          `${this.at(record.line)} has ${got} field${got === 1 ? '' : 's'}; the header has ${width}.`,
          { line: record.line, fileName: this.fileName }
        );
      }
    }
    const rows = from === 0 ? records : records.slice(from);
    this.dataRows += rows.length;
    return rows;
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
