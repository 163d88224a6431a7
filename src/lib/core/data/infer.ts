/**
 * Column type inference from the text cells of a CSV, and the matching cell parser.
 *
 * Rules, in order, over the non-missing cells of a column:
 * - boolean when ≥ 95% are true/false/yes/no (any case);
 * - integer or float when ≥ 95% parse as numbers (integer only if every parsed cell is whole);
 * - date when ≥ 95% are ISO `YYYY-MM-DD`; datetime when ≥ 95% are ISO dates or date-times;
 * - otherwise a string column: identifier when every value is distinct and the column is named like
 *   an id or its values look like keys (short, no spaces); categorical when it has ≤ 50 distinct
 *   values and fewer than half as many as cells; text otherwise.
 * An integer column named like an id whose values are all distinct is an identifier too.
 *
 * The cells of a typed column that do not parse become missing and are counted as malformed, with
 * the first few kept as examples: nothing is coerced silently.
 */
import type { ColumnSchema, ColumnType } from '../records';
import { isTrimmed } from './text-cells';

/** Cells that mean "no value", compared trimmed and lower-cased. */
export const MISSING_TOKENS: ReadonlySet<string> = new Set(['', 'na', 'n/a', 'null', '?', 'nan']);

/** Share of non-missing cells that must parse for a column to get a parsed type. */
export const PARSE_THRESHOLD = 0.95;
/** A string column with at most this many distinct values (and under half its cells) is categorical. */
export const MAX_CATEGORIES = 50;
/** How many malformed cells are kept as examples per column. */
export const MALFORMED_EXAMPLES = 5;

/** A cell that could not be read as its column's type. `row` is the 0-based index of the data row. */
export interface MalformedCell {
  row: number;
  column: string;
  value: string;
}

export interface ColumnMalformed {
  column: string;
  type: ColumnType;
  count: number;
  examples: MalformedCell[];
}

export interface InferredSchema {
  /** `missing` counts empty cells, missing tokens and malformed cells. */
  columns: ColumnSchema[];
  /** Only the columns that have malformed cells. */
  malformed: ColumnMalformed[];
}

export type CellValue = number | boolean | string | null;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;
const TRUE_TOKENS = new Set(['true', 'yes']);
const FALSE_TOKENS = new Set(['false', 'no']);
/** The longest missing, true or false token: a longer cell is none of them. */
const LONGEST_TOKEN = Math.max(...[...MISSING_TOKENS, ...TRUE_TOKENS, ...FALSE_TOKENS].map((t) => t.length));
const ID_NAME = /^(?:id|.*[_\s-]id|.*[a-z]Id|uuid|guid|key)$/i;
const MAX_KEY_LENGTH = 64;

export function isMissing(cell: string): boolean {
  return MISSING_TOKENS.has(cell.trim().toLowerCase());
}

export function isIdentifierName(name: string): boolean {
  return ID_NAME.test(name.trim());
}

/** Milliseconds since the epoch of an ISO date (UTC midnight), or null when it is not a real date. */
export function parseIsoDate(text: string): number | null {
  if (!startsLikeDate(text)) return null;
  const m = DATE.exec(text);
  if (!m) return null;
  return utc(Number(m[1]), Number(m[2]), Number(m[3]), 0, 0, 0, 0);
}

/** `parseIsoDate` of the UTF-8 cell `bytes[start, end)`, without decoding it: the CSV fast path's date reader. */
export function parseIsoDateBytes(bytes: Uint8Array, start: number, end: number): number | null {
  if (end - start !== 10 || bytes[start + 4] !== 0x2d || bytes[start + 7] !== 0x2d) return null;
  const year = digitsAt(bytes, start, 4);
  const month = digitsAt(bytes, start + 5, 2);
  const day = digitsAt(bytes, start + 8, 2);
  if (year < 0 || month < 0 || day < 0) return null;
  return utc(year, month, day, 0, 0, 0, 0);
}

/** The number `count` ASCII digits at `at` spell, or -1 when one is not a digit. */
function digitsAt(bytes: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = (bytes[i] ?? 0) - 48;
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Milliseconds since the epoch of an ISO date or date-time. A date-time without an offset is read
 * as UTC, so the same file gives the same values on every machine.
 */
export function parseIsoDateTime(text: string): number | null {
  if (!startsLikeDate(text)) return null;
  const date = parseIsoDate(text);
  if (date !== null) return date;
  const m = DATETIME.exec(text);
  if (!m) return null;
  const fraction = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const local = utc(
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6] ?? 0),
    0
  );
  if (local === null) return null;
  const zone = m[8];
  let offsetMinutes = 0;
  if (zone && zone !== 'Z') {
    const digits = zone.replace(':', '');
    const sign = digits.startsWith('-') ? -1 : 1;
    offsetMinutes = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
  }
  return local + Math.round(fraction) - offsetMinutes * 60_000;
}

/** Both ISO patterns start `dddd-`: most cells are ruled out before a regular expression runs. */
function startsLikeDate(text: string): boolean {
  return (
    text.length >= 10 &&
    text.charCodeAt(4) === 0x2d &&
    isDigit(text.charCodeAt(0)) &&
    isDigit(text.charCodeAt(1)) &&
    isDigit(text.charCodeAt(2)) &&
    isDigit(text.charCodeAt(3))
  );
}

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | null {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  // Date.UTC rolls 2023-02-30 over to March; a rolled-over day is not a real date.
  if (new Date(t).getUTCDate() !== d) return null;
  return t;
}

/**
 * Reads one cell as `type`: a number (dates as epoch milliseconds), a boolean, a string, or null
 * when the cell is missing or malformed. Strings are trimmed except in text columns.
 */
export function parseCell(type: ColumnType, raw: string): CellValue {
  const cell = raw.trim();
  if (MISSING_TOKENS.has(cell.toLowerCase())) return null;
  switch (type) {
    case 'integer':
    case 'float':
      return isFloatText(cell) ? Number(cell) : null;
    case 'boolean': {
      const lower = cell.toLowerCase();
      if (TRUE_TOKENS.has(lower)) return true;
      if (FALSE_TOKENS.has(lower)) return false;
      return null;
    }
    case 'date':
      return parseIsoDate(cell);
    case 'datetime':
      return parseIsoDateTime(cell);
    case 'text':
      return raw;
    case 'categorical':
    case 'identifier':
      return cell;
  }
}

/** Counts of what the cells of one column parse as. */
interface CellCounts {
  present: number;
  integer: number;
  float: number;
  boolean: number;
  date: number;
  datetime: number;
  spaced: number;
  longest: number;
}

function countCells(cells: readonly string[], distinct: Set<string>): CellCounts & { missing: number } {
  const counts = {
    present: 0,
    missing: 0,
    integer: 0,
    float: 0,
    boolean: 0,
    date: 0,
    datetime: 0,
    spaced: 0,
    longest: 0
  };
  for (const raw of cells) {
    const cell = raw.trim();
    // The tokens compared lower-cased are short and start with a letter or ?: a longer cell or a
    // number is none of them, and is not lower-cased (a copy of every text cell, otherwise).
    const short = cell.length <= LONGEST_TOKEN;
    const lower = short && !startsLikeNumber(cell) ? cell.toLowerCase() : cell;
    if (short && MISSING_TOKENS.has(lower)) {
      counts.missing++;
      continue;
    }
    counts.present++;
    distinct.add(cell);
    if (cell.length > counts.longest) counts.longest = cell.length;
    if (hasWhitespace(cell)) counts.spaced++;
    if (isFloatText(cell)) {
      counts.float++;
      if (isIntegerText(cell)) counts.integer++;
    } else if (short && (TRUE_TOKENS.has(lower) || FALSE_TOKENS.has(lower))) {
      counts.boolean++;
    } else if (parseIsoDate(cell) !== null) {
      counts.date++;
      counts.datetime++;
    } else if (parseIsoDateTime(cell) !== null) {
      counts.datetime++;
    }
  }
  return counts;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function startsLikeNumber(cell: string): boolean {
  const c = cell.charCodeAt(0);
  return isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e;
}

/** `/\s/.test(cell)`: JavaScript's whitespace is what `trim` removes. */
function hasWhitespace(cell: string): boolean {
  for (let i = 0; i < cell.length; i++) if (isTrimmed(cell.charCodeAt(i))) return true;
  return false;
}

/**
 * A decimal number as a CSV writes one: `/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/`, without
 * the regular expression (inference runs it on every sampled cell).
 */
export function isFloatText(text: string): boolean {
  const n = text.length;
  let i = 0;
  const sign = text.charCodeAt(0);
  if (sign === 0x2b || sign === 0x2d) i++;
  let whole = 0;
  while (i < n && isDigit(text.charCodeAt(i))) {
    i++;
    whole++;
  }
  let fraction = 0;
  if (i < n && text.charCodeAt(i) === 0x2e) {
    i++;
    while (i < n && isDigit(text.charCodeAt(i))) {
      i++;
      fraction++;
    }
  }
  if (whole === 0 && fraction === 0) return false;
  if (i < n && (text.charCodeAt(i) | 0x20) === 0x65) {
    i++;
    const expSign = text.charCodeAt(i);
    if (expSign === 0x2b || expSign === 0x2d) i++;
    let exponent = 0;
    while (i < n && isDigit(text.charCodeAt(i))) {
      i++;
      exponent++;
    }
    if (exponent === 0) return false;
  }
  return i === n;
}

/** A whole number: `/^[+-]?\d+$/`, without the regular expression. */
export function isIntegerText(text: string): boolean {
  const n = text.length;
  let i = 0;
  const sign = text.charCodeAt(0);
  if (sign === 0x2b || sign === 0x2d) i++;
  if (i === n) return false;
  for (; i < n; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

function chooseType(name: string, counts: CellCounts, distinct: number, stringOnly = false): ColumnType {
  const { present } = counts;
  if (present === 0) return 'text';
  const enough = (n: number): boolean => !stringOnly && n >= PARSE_THRESHOLD * present;
  if (enough(counts.boolean)) return 'boolean';
  if (enough(counts.float)) {
    // Whole numbers only: an integer, unless every value is distinct and the column is named like an id.
    if (counts.integer === counts.float)
      return distinct === present && isIdentifierName(name) ? 'identifier' : 'integer';
    return 'float';
  }
  if (enough(counts.date)) return 'date';
  if (enough(counts.datetime)) return 'datetime';
  if (
    distinct === present &&
    (isIdentifierName(name) || (counts.spaced === 0 && counts.longest <= MAX_KEY_LENGTH))
  ) {
    return 'identifier';
  }
  if (distinct <= MAX_CATEGORIES && distinct < 0.5 * present) return 'categorical';
  return 'text';
}

export interface InferColumnOptions {
  /** Only the string types (identifier, categorical, text): the cells are known not to be numbers, dates or booleans. */
  stringOnly?: boolean;
}

/** Infers one column's type and counts its missing and malformed cells. */
export function inferColumn(
  name: string,
  cells: readonly string[],
  options: InferColumnOptions = {}
): { schema: ColumnSchema; malformed: ColumnMalformed } {
  const distinct = new Set<string>();
  const counts = countCells(cells, distinct);
  const type = chooseType(name, counts, distinct.size, options.stringOnly);
  const malformed: ColumnMalformed = { column: name, type, count: 0, examples: [] };
  // The counts tell how many present cells parse as the type: when all do, none is malformed.
  const parsed =
    type === 'integer' || type === 'float'
      ? counts.float
      : type === 'boolean' || type === 'date' || type === 'datetime'
        ? counts[type]
        : counts.present;
  if (parsed < counts.present) {
    for (let row = 0; row < cells.length; row++) {
      const raw = cells[row] ?? '';
      if (parseCell(type, raw) !== null || isMissing(raw)) continue;
      malformed.count++;
      if (malformed.examples.length < MALFORMED_EXAMPLES)
        malformed.examples.push({ row, column: name, value: raw });
    }
  }
  const schema: ColumnSchema = {
    name,
    type,
    missing: counts.missing + malformed.count,
    distinct: distinct.size
  };
  return { schema, malformed };
}

/** Infers every column from column-major cells (`cells[c][r]` is row r of column c). */
export function inferSchema(
  names: readonly string[],
  cells: ReadonlyArray<readonly string[]>
): InferredSchema {
  const columns: ColumnSchema[] = [];
  const malformed: ColumnMalformed[] = [];
  names.forEach((name, c) => {
    const result = inferColumn(name, cells[c] ?? []);
    columns.push(result.schema);
    if (result.malformed.count > 0) malformed.push(result.malformed);
  });
  return { columns, malformed };
}
