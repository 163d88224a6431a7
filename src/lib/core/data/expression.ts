/**
 * Lathe's expression language for derived columns and filters: parsed by `expression-parser.ts`,
 * type-checked against the table's schema, then compiled to column-wise functions over typed arrays.
 *
 * Semantics, in short:
 * - Types: integer, float, boolean, text, date, datetime (categorical and identifier columns are text).
 * - Missing values propagate: any operation with a missing input gives missing, except `is_null`,
 *   `coalesce`, and `and`/`or`, which follow three-valued logic (`false and null` is false,
 *   `true or null` is true). `if(c, a, b)` is missing where `c` is missing.
 * - Any number that is not finite is missing: division or `%` by zero, `log(0)`, `sqrt(-1)`, overflow.
 * - `%` is a floored modulo (the result has the divisor's sign, as in Python); `/` and `^` give floats.
 * - Comparing a date or datetime with a string literal reads the literal as an ISO date: `day >= '2024-01-01'`.
 * - `weekday` is 0 for Monday to 6 for Sunday (like pandas); date parts are in UTC.
 * - `len` counts Unicode code points; text comparisons use code-unit order.
 */
import type { Table } from 'apache-arrow';
import type { ColumnType } from '../records';
import {
  BOOL_NULL,
  columnTypeOfField,
  inferStringType,
  readColumn,
  type ColumnData,
  type ColumnKind
} from './frame';
import {
  ExpressionError,
  formatSpan,
  parseExpression,
  spanAt,
  type ExpressionErrorCode,
  type ExpressionNode
} from './expression-parser';
import { parseIsoDateTime } from './infer';

export { ExpressionError, type ExpressionErrorCode, type SourceSpan } from './expression-parser';

export type ExpressionType = 'integer' | 'float' | 'boolean' | 'text' | 'date' | 'datetime' | 'null';

export interface ExpressionColumn {
  name: string;
  type: ColumnType;
}

/** What an expression is evaluated over: a row count and the columns it names. */
export interface EvaluationInput {
  rowCount: number;
  column(name: string): ColumnData;
}

export interface CompiledExpression {
  source: string;
  /** The static type of the result; `null` only for expressions that are always missing. */
  type: ExpressionType;
  /** The columns the expression reads, in order of first use. */
  columns: string[];
  evaluate(input: EvaluationInput): ColumnData;
  /** The Lathe type to store a result as: a bare column keeps its type; other text is categorical or text by its values. */
  columnTypeOf(result: ColumnData): ColumnType;
}

export type ExpressionCheck =
  | { ok: true; type: ExpressionType; columns: string[] }
  | {
      ok: false;
      code: ExpressionErrorCode;
      message: string;
      offset: number;
      length: number;
      line: number;
      column: number;
    };

type Run = (input: EvaluationInput) => ColumnData;

interface Checked {
  type: ExpressionType;
  node: ExpressionNode;
  run: Run;
}

export function expressionTypeOf(type: ColumnType): ExpressionType {
  switch (type) {
    case 'categorical':
    case 'identifier':
    case 'text':
      return 'text';
    default:
      return type;
  }
}

function kindOfType(type: ExpressionType): ColumnKind {
  if (type === 'boolean') return 'boolean';
  if (type === 'text') return 'string';
  return 'number';
}

const isNumeric = (t: ExpressionType): boolean => t === 'integer' || t === 'float';
const isTemporal = (t: ExpressionType): boolean => t === 'date' || t === 'datetime';

function article(type: ExpressionType): string {
  if (type === 'integer') return 'an integer';
  if (type === 'text' || type === 'null') return type;
  return `a ${type}`;
}

/** The common type of two branches or arguments, or null when they cannot mix. */
function unify(a: ExpressionType, b: ExpressionType): ExpressionType | null {
  if (a === b) return a;
  if (a === 'null') return b;
  if (b === 'null') return a;
  if (isNumeric(a) && isNumeric(b)) return 'float';
  if (isTemporal(a) && isTemporal(b)) return 'datetime';
  return null;
}

function allNull(kind: ColumnKind, n: number): ColumnData {
  if (kind === 'number') return { kind, values: new Float64Array(n).fill(Number.NaN) };
  if (kind === 'boolean') return { kind, values: new Uint8Array(n).fill(BOOL_NULL) };
  return { kind, values: new Array<string | null>(n).fill(null) };
}

const nums = (d: ColumnData): Float64Array => (d as { values: Float64Array }).values;
const bools = (d: ColumnData): Uint8Array => (d as { values: Uint8Array }).values;
const strs = (d: ColumnData): Array<string | null> => (d as { values: Array<string | null> }).values;

/** Turns every non-finite number into missing (NaN), in place. */
function finite(values: Float64Array): Float64Array {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v - v !== 0) values[i] = Number.NaN;
  }
  return values;
}

function numberResult(values: Float64Array): ColumnData {
  return { kind: 'number', values: finite(values) };
}

/** Optimal-string-alignment distance, case-insensitive: a transposition counts as one edit. */
function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** The closest of `candidates` to `name`, if it is close enough to be a likely typo. */
export function suggestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

// ---- date parts (UTC), from epoch milliseconds without allocating Date objects ----

const DAY_MS = 86_400_000;

/** Year, month (1–12) and day of a count of days since 1970-01-01 (H. Hinnant's civil_from_days). */
function civil(days: number, part: 'year' | 'month' | 'day'): number {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  if (part === 'day') return day;
  if (part === 'month') return month;
  return yoe + era * 400 + (month <= 2 ? 1 : 0);
}

type DatePart = 'year' | 'month' | 'day' | 'weekday' | 'hour';

function datePart(part: DatePart, values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const ms = values[i] as number;
    if (Number.isNaN(ms)) {
      out[i] = Number.NaN;
      continue;
    }
    const days = Math.floor(ms / DAY_MS);
    if (part === 'hour') out[i] = Math.floor((ms - days * DAY_MS) / 3_600_000);
    else if (part === 'weekday') out[i] = (((days + 3) % 7) + 7) % 7;
    else out[i] = civil(days, part);
  }
  return out;
}

function codePoints(s: string): number {
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) count++;
  }
  return count;
}

/** Rounds half away from zero to `digits` decimals (negative digits round to tens, hundreds, …). */
function roundTo(v: number, digits: number): number {
  const f = 10 ** Math.trunc(digits);
  const scaled = Math.round(Math.abs(v) * f * (1 + Number.EPSILON)) / f;
  return v < 0 ? -scaled : scaled;
}

// ---- the checker / compiler ----

class Compiler {
  readonly used: string[] = [];
  private readonly columns: ReadonlyMap<string, ColumnType>;

  constructor(
    private readonly source: string,
    schema: readonly ExpressionColumn[]
  ) {
    this.columns = new Map(schema.map((c) => [c.name, c.type]));
  }

  fail(code: ExpressionErrorCode, message: string, node: { start: number; end: number }, hint = ''): never {
    const span = spanAt(this.source, node.start, Math.max(1, node.end - node.start));
    throw new ExpressionError(code, `${message} at ${formatSpan(span)}${hint}`, span);
  }

  /** Materialises a checked node as `kind`, turning a `null` literal into an all-missing column. */
  as(checked: Checked, kind: ColumnKind): Run {
    if (checked.type === 'null') return (input) => allNull(kind, input.rowCount);
    return checked.run;
  }

  compile(node: ExpressionNode): Checked {
    switch (node.kind) {
      case 'number':
        return {
          type: Number.isInteger(node.value) ? 'integer' : 'float',
          node,
          run: (input) => ({ kind: 'number', values: new Float64Array(input.rowCount).fill(node.value) })
        };
      case 'string':
        return {
          type: 'text',
          node,
          run: (input) => ({
            kind: 'string',
            values: new Array<string | null>(input.rowCount).fill(node.value)
          })
        };
      case 'boolean':
        return {
          type: 'boolean',
          node,
          run: (input) => ({
            kind: 'boolean',
            values: new Uint8Array(input.rowCount).fill(node.value ? 1 : 0)
          })
        };
      case 'null':
        return { type: 'null', node, run: (input) => allNull('number', input.rowCount) };
      case 'column':
        return this.column(node);
      case 'unary':
        return this.unary(node);
      case 'binary':
        return this.binary(node);
      case 'call':
        return this.call(node);
    }
  }

  private column(node: Extract<ExpressionNode, { kind: 'column' }>): Checked {
    const type = this.columns.get(node.name);
    if (type === undefined) {
      const suggestion = suggestName(node.name, this.columns.keys());
      const hint = suggestion
        ? ` — did you mean '${suggestion}'?`
        : FUNCTIONS.has(node.name.toLowerCase())
          ? ` — ${node.name} is a function; call it as ${node.name}(…)`
          : '';
      this.fail('unknown_column', `Unknown column '${node.name}'`, node, hint);
    }
    if (!this.used.includes(node.name)) this.used.push(node.name);
    const name = node.name;
    return { type: expressionTypeOf(type), node, run: (input) => input.column(name) };
  }

  private unary(node: Extract<ExpressionNode, { kind: 'unary' }>): Checked {
    const operand = this.compile(node.operand);
    if (node.op === 'not') {
      if (operand.type !== 'boolean' && operand.type !== 'null') {
        this.fail('expression_type', `not expects a boolean, got ${operand.type}`, node.operand);
      }
      const run = this.as(operand, 'boolean');
      return {
        type: 'boolean',
        node,
        run: (input) => {
          const a = bools(run(input));
          const out = new Uint8Array(a.length);
          for (let i = 0; i < a.length; i++) out[i] = a[i] === BOOL_NULL ? BOOL_NULL : 1 - (a[i] as number);
          return { kind: 'boolean', values: out };
        }
      };
    }
    if (!isNumeric(operand.type) && operand.type !== 'null') {
      this.fail('expression_type', `- expects a number, got ${operand.type}`, node.operand);
    }
    const run = this.as(operand, 'number');
    return {
      type: operand.type === 'null' ? 'null' : operand.type,
      node,
      run: (input) => {
        const a = nums(run(input));
        const out = new Float64Array(a.length);
        for (let i = 0; i < a.length; i++) out[i] = -(a[i] as number);
        return { kind: 'number', values: out };
      }
    };
  }

  /** A string literal compared with a date is read as an ISO date. */
  private dateLiteral(other: Checked, literal: Checked): Checked {
    const node = literal.node;
    if (!isTemporal(other.type) || node.kind !== 'string') return literal;
    const ms = parseIsoDateTime(node.value.trim());
    if (ms === null) {
      this.fail(
        'expression_type',
        `'${node.value}' is not an ISO date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)`,
        node
      );
    }
    return {
      type: other.type,
      node,
      run: (input) => ({ kind: 'number', values: new Float64Array(input.rowCount).fill(ms) })
    };
  }

  private binary(node: Extract<ExpressionNode, { kind: 'binary' }>): Checked {
    let left = this.compile(node.left);
    let right = this.compile(node.right);
    const op = node.op;
    if (op === 'and' || op === 'or') {
      for (const side of [left, right]) {
        if (side.type !== 'boolean' && side.type !== 'null') {
          this.fail('expression_type', `${op} expects booleans, got ${side.type}`, side.node);
        }
      }
      const l = this.as(left, 'boolean');
      const r = this.as(right, 'boolean');
      return { type: 'boolean', node, run: (input) => logic(op, bools(l(input)), bools(r(input))) };
    }
    if (op === '==' || op === '!=' || op === '<' || op === '<=' || op === '>' || op === '>=') {
      left = this.dateLiteral(right, left);
      right = this.dateLiteral(left, right);
      const type = unify(left.type, right.type);
      if (type === null || (type === 'boolean' && op !== '==' && op !== '!=')) {
        this.fail(
          'expression_type',
          type === null
            ? `Cannot compare ${left.type} with ${right.type}`
            : `${op} cannot order booleans; use == or !=`,
          node
        );
      }
      const kind = kindOfType(type);
      const l = this.as(left, kind);
      const r = this.as(right, kind);
      return { type: 'boolean', node, run: (input) => compare(op, l(input), r(input)) };
    }
    // Arithmetic; `+` also joins text.
    if (op === '+' && (left.type === 'text' || right.type === 'text')) {
      for (const side of [left, right]) {
        if (side.type !== 'text' && side.type !== 'null') {
          this.fail('expression_type', `+ joins text only with text, got ${side.type}`, side.node);
        }
      }
      const l = this.as(left, 'string');
      const r = this.as(right, 'string');
      return {
        type: 'text',
        node,
        run: (input) => {
          const a = strs(l(input));
          const b = strs(r(input));
          const out = new Array<string | null>(a.length);
          for (let i = 0; i < a.length; i++) {
            const x = a[i];
            const y = b[i];
            out[i] = x == null || y == null ? null : x + y;
          }
          return { kind: 'string', values: out };
        }
      };
    }
    for (const side of [left, right]) {
      if (!isNumeric(side.type) && side.type !== 'null') {
        this.fail('expression_type', `${op} expects numbers, got ${side.type}`, side.node);
      }
    }
    let type: ExpressionType;
    if (left.type === 'null' || right.type === 'null') type = 'null';
    else if (op === '/' || op === '^') type = 'float';
    else type = left.type === 'integer' && right.type === 'integer' ? 'integer' : 'float';
    const l = this.as(left, 'number');
    const r = this.as(right, 'number');
    return { type, node, run: (input) => numberResult(arithmetic(op, nums(l(input)), nums(r(input)))) };
  }

  private call(node: Extract<ExpressionNode, { kind: 'call' }>): Checked {
    const name = node.name.toLowerCase();
    const spec = FUNCTIONS.get(name);
    const nameSpan = { start: node.start, end: node.nameEnd };
    if (!spec) {
      const suggestion = suggestName(name, FUNCTIONS.keys());
      if (this.columns.has(node.name))
        this.fail('unknown_function', `'${node.name}' is a column, not a function`, nameSpan);
      this.fail(
        'unknown_function',
        `Unknown function '${node.name}'`,
        nameSpan,
        suggestion ? ` — did you mean '${suggestion}'?` : ''
      );
    }
    const [min, max] = spec.arity;
    if (node.args.length < min || node.args.length > max) {
      const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      this.fail(
        'expression_type',
        `${name} takes ${expected} argument${expected === '1' ? '' : 's'}, got ${node.args.length}`,
        node
      );
    }
    const args = node.args.map((a) => this.compile(a));
    return spec.check(this, name, args, node);
  }

  expectArg(fn: string, arg: Checked, accepts: (t: ExpressionType) => boolean, wanted: string): void {
    if (arg.type === 'null' || accepts(arg.type)) return;
    this.fail('expression_type', `${fn} expects ${wanted}, got ${article(arg.type)}`, arg.node);
  }

  unifyArgs(fn: string, args: readonly Checked[], node: ExpressionNode): ExpressionType {
    let type: ExpressionType = 'null';
    for (const arg of args) {
      const next = unify(type, arg.type);
      if (next === null) {
        this.fail(
          'expression_type',
          `${fn} needs arguments of one type, got ${type} and ${arg.type}`,
          arg.node
        );
      }
      type = next;
    }
    if (type === 'null') this.fail('expression_type', `${fn} has only null arguments`, node);
    return type;
  }
}

function logic(op: 'and' | 'or', a: Uint8Array, b: Uint8Array): ColumnData {
  const out = new Uint8Array(a.length);
  const dominant = op === 'and' ? 0 : 1;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    out[i] =
      x === dominant || y === dominant
        ? dominant
        : x === BOOL_NULL || y === BOOL_NULL
          ? BOOL_NULL
          : 1 - dominant;
  }
  return { kind: 'boolean', values: out };
}

type ComparisonOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';

function compare(op: ComparisonOperator, left: ColumnData, right: ColumnData): ColumnData {
  const n = left.values.length;
  const out = new Uint8Array(n);
  if (left.kind === 'number') {
    const a = left.values;
    const b = nums(right);
    for (let i = 0; i < n; i++) {
      const x = a[i] as number;
      const y = b[i] as number;
      if (Number.isNaN(x) || Number.isNaN(y)) out[i] = BOOL_NULL;
      else out[i] = ordered(op, x, y) ? 1 : 0;
    }
  } else if (left.kind === 'boolean') {
    const a = left.values;
    const b = bools(right);
    for (let i = 0; i < n; i++) {
      const x = a[i] as number;
      const y = b[i] as number;
      out[i] = x === BOOL_NULL || y === BOOL_NULL ? BOOL_NULL : (x === y) === (op === '==') ? 1 : 0;
    }
  } else {
    const a = left.values;
    const b = strs(right);
    for (let i = 0; i < n; i++) {
      const x = a[i];
      const y = b[i];
      out[i] = x == null || y == null ? BOOL_NULL : ordered(op, x, y) ? 1 : 0;
    }
  }
  return { kind: 'boolean', values: out };
}

function ordered<T extends number | string>(op: ComparisonOperator, x: T, y: T): boolean {
  switch (op) {
    case '==':
      return x === y;
    case '!=':
      return x !== y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

function arithmetic(op: '+' | '-' | '*' | '/' | '%' | '^', a: Float64Array, b: Float64Array): Float64Array {
  const n = a.length;
  const out = new Float64Array(n);
  switch (op) {
    case '+':
      for (let i = 0; i < n; i++) out[i] = (a[i] as number) + (b[i] as number);
      break;
    case '-':
      for (let i = 0; i < n; i++) out[i] = (a[i] as number) - (b[i] as number);
      break;
    case '*':
      for (let i = 0; i < n; i++) out[i] = (a[i] as number) * (b[i] as number);
      break;
    case '/':
      // x / 0 is Infinity or NaN; `finite` then makes it missing.
      for (let i = 0; i < n; i++) out[i] = (a[i] as number) / (b[i] as number);
      break;
    case '%':
      for (let i = 0; i < n; i++) {
        const d = b[i] as number;
        out[i] = d === 0 ? Number.NaN : ((((a[i] as number) % d) + d) % d) + 0;
      }
      break;
    case '^':
      for (let i = 0; i < n; i++) out[i] = Math.pow(a[i] as number, b[i] as number);
      break;
  }
  return out;
}

function mapNumbers(values: Float64Array, f: (v: number) => number): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f(values[i] as number);
  return finite(out);
}

interface FunctionSpec {
  arity: readonly [number, number];
  check(compiler: Compiler, name: string, args: Checked[], node: ExpressionNode): Checked;
}

function numericUnary(result: 'float' | 'same' | 'integer', f: (v: number) => number): FunctionSpec {
  return {
    arity: [1, 1],
    check(c, name, [x], node) {
      const arg = x as Checked;
      c.expectArg(name, arg, isNumeric, 'a number');
      const run = c.as(arg, 'number');
      const type: ExpressionType = result === 'same' ? (arg.type === 'null' ? 'float' : arg.type) : result;
      return { type, node, run: (input) => ({ kind: 'number', values: mapNumbers(nums(run(input)), f) }) };
    }
  };
}

function datePartSpec(part: DatePart): FunctionSpec {
  return {
    arity: [1, 1],
    check(c, name, [x], node) {
      const arg = x as Checked;
      c.expectArg(name, arg, isTemporal, 'a date or datetime');
      const run = c.as(arg, 'number');
      return {
        type: 'integer',
        node,
        run: (input) => ({ kind: 'number', values: datePart(part, nums(run(input))) })
      };
    }
  };
}

function textUnary(f: (s: string) => string): FunctionSpec {
  return {
    arity: [1, 1],
    check(c, name, [x], node) {
      const arg = x as Checked;
      c.expectArg(name, arg, (t) => t === 'text', 'text');
      const run = c.as(arg, 'string');
      return {
        type: 'text',
        node,
        run: (input) => {
          const values = strs(run(input));
          const out = new Array<string | null>(values.length);
          for (let i = 0; i < values.length; i++) {
            const v = values[i];
            out[i] = v == null ? null : f(v);
          }
          return { kind: 'string', values: out };
        }
      };
    }
  };
}

function textPredicate(f: (s: string, part: string) => boolean): FunctionSpec {
  return {
    arity: [2, 2],
    check(c, name, args, node) {
      for (const arg of args) c.expectArg(name, arg, (t) => t === 'text', 'text');
      const text = c.as(args[0] as Checked, 'string');
      const part = c.as(args[1] as Checked, 'string');
      return {
        type: 'boolean',
        node,
        run: (input) => {
          const a = strs(text(input));
          const b = strs(part(input));
          const out = new Uint8Array(a.length);
          for (let i = 0; i < a.length; i++) {
            const x = a[i];
            const y = b[i];
            out[i] = x == null || y == null ? BOOL_NULL : f(x, y) ? 1 : 0;
          }
          return { kind: 'boolean', values: out };
        }
      };
    }
  };
}

function extremum(which: 'min' | 'max'): FunctionSpec {
  return {
    arity: [2, Infinity],
    check(c, name, args, node) {
      for (const arg of args)
        c.expectArg(name, arg, (t) => isNumeric(t) || isTemporal(t), 'numbers or dates');
      const type = c.unifyArgs(name, args, node);
      const runs = args.map((a) => c.as(a, 'number'));
      return {
        type,
        node,
        run: (input) => {
          const acc = new Float64Array(nums((runs[0] as Run)(input)));
          const pick = which === 'min' ? Math.min : Math.max;
          for (const run of runs.slice(1)) {
            const v = nums(run(input));
            // NaN (missing) wins through Math.min/Math.max, which is the propagation we want.
            for (let i = 0; i < acc.length; i++) acc[i] = pick(acc[i] as number, v[i] as number);
          }
          return { kind: 'number', values: acc };
        }
      };
    }
  };
}

const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  ['log', numericUnary('float', Math.log)],
  ['log1p', numericUnary('float', Math.log1p)],
  ['exp', numericUnary('float', Math.exp)],
  ['sqrt', numericUnary('float', Math.sqrt)],
  ['abs', numericUnary('same', Math.abs)],
  ['floor', numericUnary('integer', Math.floor)],
  ['ceil', numericUnary('integer', Math.ceil)],
  [
    'round',
    {
      arity: [1, 2],
      check(c, name, args, node) {
        for (const arg of args) c.expectArg(name, arg, isNumeric, 'a number');
        const x = c.as(args[0] as Checked, 'number');
        const digitsArg = args[1];
        if (!digitsArg) {
          return {
            type: 'integer',
            node,
            run: (input) => ({ kind: 'number', values: mapNumbers(nums(x(input)), (v) => roundTo(v, 0)) })
          };
        }
        const digits = c.as(digitsArg, 'number');
        return {
          type: 'float',
          node,
          run: (input) => {
            const a = nums(x(input));
            const d = nums(digits(input));
            const out = new Float64Array(a.length);
            for (let i = 0; i < a.length; i++) out[i] = roundTo(a[i] as number, d[i] as number);
            return numberResult(out);
          }
        };
      }
    }
  ],
  [
    'clip',
    {
      arity: [3, 3],
      check(c, name, args, node) {
        for (const arg of args) c.expectArg(name, arg, isNumeric, 'numbers');
        const type = c.unifyArgs(name, args, node);
        const [x, lo, hi] = args.map((a) => c.as(a, 'number')) as [Run, Run, Run];
        return {
          type,
          node,
          run: (input) => {
            const v = nums(x(input));
            const l = nums(lo(input));
            const h = nums(hi(input));
            const out = new Float64Array(v.length);
            for (let i = 0; i < v.length; i++)
              out[i] = Math.min(Math.max(v[i] as number, l[i] as number), h[i] as number);
            return { kind: 'number', values: out };
          }
        };
      }
    }
  ],
  ['min', extremum('min')],
  ['max', extremum('max')],
  [
    'pow',
    {
      arity: [2, 2],
      check(c, name, args, node) {
        for (const arg of args) c.expectArg(name, arg, isNumeric, 'numbers');
        const [a, b] = args.map((x) => c.as(x, 'number')) as [Run, Run];
        return {
          type: 'float',
          node,
          run: (input) => numberResult(arithmetic('^', nums(a(input)), nums(b(input))))
        };
      }
    }
  ],
  [
    'is_null',
    {
      arity: [1, 1],
      check(_c, _name, [x], node) {
        const arg = x as Checked;
        if (arg.type === 'null') {
          return {
            type: 'boolean',
            node,
            run: (input) => ({ kind: 'boolean', values: new Uint8Array(input.rowCount).fill(1) })
          };
        }
        return {
          type: 'boolean',
          node,
          run: (input) => {
            const data = arg.run(input);
            const out = new Uint8Array(input.rowCount);
            if (data.kind === 'number')
              for (let i = 0; i < out.length; i++) out[i] = Number.isNaN(data.values[i] as number) ? 1 : 0;
            else if (data.kind === 'boolean')
              for (let i = 0; i < out.length; i++) out[i] = data.values[i] === BOOL_NULL ? 1 : 0;
            else for (let i = 0; i < out.length; i++) out[i] = data.values[i] == null ? 1 : 0;
            return { kind: 'boolean', values: out };
          }
        };
      }
    }
  ],
  [
    'coalesce',
    {
      arity: [1, Infinity],
      check(c, name, args, node) {
        const type = c.unifyArgs(name, args, node);
        const kind = kindOfType(type);
        const runs = args.filter((a) => a.type !== 'null').map((a) => a.run);
        return {
          type,
          node,
          run: (input) => {
            const columns = runs.map((run) => run(input));
            const n = input.rowCount;
            if (kind === 'number') {
              const out = new Float64Array(n).fill(Number.NaN);
              for (const col of columns) {
                const v = nums(col);
                for (let i = 0; i < n; i++) if (Number.isNaN(out[i] as number)) out[i] = v[i] as number;
              }
              return { kind, values: out };
            }
            if (kind === 'boolean') {
              const out = new Uint8Array(n).fill(BOOL_NULL);
              for (const col of columns) {
                const v = bools(col);
                for (let i = 0; i < n; i++) if (out[i] === BOOL_NULL) out[i] = v[i] as number;
              }
              return { kind, values: out };
            }
            const out = new Array<string | null>(n).fill(null);
            for (const col of columns) {
              const v = strs(col);
              for (let i = 0; i < n; i++) if (out[i] == null) out[i] = v[i] ?? null;
            }
            return { kind, values: out };
          }
        };
      }
    }
  ],
  [
    'if',
    {
      arity: [3, 3],
      check(c, name, args, node) {
        const [cond, a, b] = args as [Checked, Checked, Checked];
        c.expectArg(name, cond, (t) => t === 'boolean', 'a boolean condition first');
        const type = c.unifyArgs(name, [a, b], node);
        const kind = kindOfType(type);
        const when = c.as(cond, 'boolean');
        const then = c.as(a, kind);
        const otherwise = c.as(b, kind);
        return {
          type,
          node,
          run: (input) => {
            const k = bools(when(input));
            const x = then(input);
            const y = otherwise(input);
            const n = input.rowCount;
            if (kind === 'number') {
              const out = new Float64Array(n);
              const xv = nums(x);
              const yv = nums(y);
              for (let i = 0; i < n; i++)
                out[i] = k[i] === 1 ? (xv[i] as number) : k[i] === 0 ? (yv[i] as number) : Number.NaN;
              return { kind, values: out };
            }
            if (kind === 'boolean') {
              const out = new Uint8Array(n);
              const xv = bools(x);
              const yv = bools(y);
              for (let i = 0; i < n; i++)
                out[i] = k[i] === 1 ? (xv[i] as number) : k[i] === 0 ? (yv[i] as number) : BOOL_NULL;
              return { kind, values: out };
            }
            const out = new Array<string | null>(n);
            const xv = strs(x);
            const yv = strs(y);
            for (let i = 0; i < n; i++)
              out[i] = k[i] === 1 ? (xv[i] ?? null) : k[i] === 0 ? (yv[i] ?? null) : null;
            return { kind, values: out };
          }
        };
      }
    }
  ],
  ['year', datePartSpec('year')],
  ['month', datePartSpec('month')],
  ['day', datePartSpec('day')],
  ['weekday', datePartSpec('weekday')],
  ['hour', datePartSpec('hour')],
  [
    'len',
    {
      arity: [1, 1],
      check(c, name, [x], node) {
        const arg = x as Checked;
        c.expectArg(name, arg, (t) => t === 'text', 'text');
        const run = c.as(arg, 'string');
        return {
          type: 'integer',
          node,
          run: (input) => {
            const values = strs(run(input));
            const out = new Float64Array(values.length);
            for (let i = 0; i < values.length; i++) {
              const v = values[i];
              out[i] = v == null ? Number.NaN : codePoints(v);
            }
            return { kind: 'number', values: out };
          }
        };
      }
    }
  ],
  ['lower', textUnary((s) => s.toLowerCase())],
  ['upper', textUnary((s) => s.toUpperCase())],
  ['trim', textUnary((s) => s.trim())],
  ['contains', textPredicate((s, part) => s.includes(part))],
  ['starts_with', textPredicate((s, part) => s.startsWith(part))],
  ['ends_with', textPredicate((s, part) => s.endsWith(part))]
]);

/** The names of the functions the language knows, for the editor's completion list. */
export const EXPRESSION_FUNCTIONS: readonly string[] = [...FUNCTIONS.keys()];

/**
 * Parses and type-checks `source` against `schema`. Throws `ExpressionError` (code
 * `expression_syntax`, `unknown_column`, `unknown_function` or `expression_type`) whose message names
 * the line and column, e.g. "Unknown column 'prcie' at 1:5 — did you mean 'price'?".
 */
export function compileExpression(source: string, schema: readonly ExpressionColumn[]): CompiledExpression {
  const tree = parseExpression(source);
  const compiler = new Compiler(source, schema);
  const checked = compiler.compile(tree);
  const passThrough = tree.kind === 'column' ? schema.find((c) => c.name === tree.name)?.type : undefined;
  const run = checked.run;
  const type = checked.type;
  return {
    source,
    type,
    columns: compiler.used,
    evaluate: (input) => (type === 'null' ? allNull('number', input.rowCount) : run(input)),
    columnTypeOf(result) {
      if (passThrough) return passThrough;
      if (type === 'text') return result.kind === 'string' ? inferStringType(result.values) : 'text';
      if (type === 'null') return 'float';
      return type;
    }
  };
}

/** Checks `source` for the editor without throwing: its type, or the error and where it is. */
export function checkExpression(source: string, schema: readonly ExpressionColumn[]): ExpressionCheck {
  try {
    const compiled = compileExpression(source, schema);
    return { ok: true, type: compiled.type, columns: compiled.columns };
  } catch (err) {
    if (err instanceof ExpressionError)
      return { ok: false, code: err.code, message: err.message, ...err.span };
    throw err;
  }
}

/** Evaluates `source` over an Arrow table, reading only the columns it names. */
export function evaluateExpression(table: Table, source: string): { type: ColumnType; data: ColumnData } {
  const schema = table.schema.fields.map((f) => ({ name: f.name, type: columnTypeOfField(f) }));
  const compiled = compileExpression(source, schema);
  const cache = new Map<string, ColumnData>();
  const data = compiled.evaluate({
    rowCount: table.numRows,
    column(name) {
      let column = cache.get(name);
      if (!column) {
        column = readColumn(table, name).data;
        cache.set(name, column);
      }
      return column;
    }
  });
  return { type: compiled.columnTypeOf(data), data };
}
