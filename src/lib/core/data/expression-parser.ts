/**
 * Tokenizer and Pratt parser of Lathe's expression language (derived columns and filters).
 * It only builds a syntax tree: nothing is ever evaluated by JavaScript's `eval` or `Function`, and
 * names are looked up later in maps built from the table schema, so `constructor` or `__proto__` are
 * just column names that do not exist.
 *
 * Precedence, lowest first: `or`, `and`, `not`, comparisons (not chainable), `+ -`, `* / %`, unary `-`,
 * `^` (right-associative, so `-2^2` is -4 and `2^3^2` is 512).
 */
import { LatheError } from '../errors';

export type ExpressionErrorCode =
  'expression_syntax' | 'unknown_column' | 'unknown_function' | 'expression_type';

/** Where in the source a node or token is: 0-based offset and length, 1-based line and column. */
export interface SourceSpan {
  offset: number;
  length: number;
  line: number;
  column: number;
}

export class ExpressionError extends LatheError<ExpressionErrorCode> {
  readonly span: SourceSpan;
  constructor(code: ExpressionErrorCode, message: string, span: SourceSpan) {
    super(code, message, { ...span });
    this.name = 'ExpressionError';
    this.span = span;
  }
}

export function spanAt(source: string, offset: number, length: number): SourceSpan {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset, length, line, column: offset - lineStart + 1 };
}

export function formatSpan(span: SourceSpan): string {
  return `${span.line}:${span.column}`;
}

export type BinaryOperator =
  '+' | '-' | '*' | '/' | '%' | '^' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

export type ExpressionNode =
  | { kind: 'number'; value: number; start: number; end: number }
  | { kind: 'string'; value: string; start: number; end: number }
  | { kind: 'boolean'; value: boolean; start: number; end: number }
  | { kind: 'null'; start: number; end: number }
  | { kind: 'column'; name: string; start: number; end: number }
  | { kind: 'unary'; op: '-' | 'not'; operand: ExpressionNode; start: number; end: number }
  | {
      kind: 'binary';
      op: BinaryOperator;
      left: ExpressionNode;
      right: ExpressionNode;
      start: number;
      end: number;
    }
  | { kind: 'call'; name: string; args: ExpressionNode[]; start: number; end: number; nameEnd: number };

type TokenKind = 'number' | 'string' | 'identifier' | 'column' | 'operator' | 'keyword' | 'end';

interface Token {
  kind: TokenKind;
  /** Operator or keyword text, identifier or column name, or the decoded string. */
  text: string;
  value?: number;
  start: number;
  end: number;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false', 'null']);
const OPERATORS = [
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '<',
  '>',
  '(',
  ')',
  ',',
  '!'
];
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['&&', 'and'],
  ['||', 'or'],
  ['!', 'not']
]);
const NUMBER = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['n', '\n'],
  ['t', '\t'],
  ['r', '\r'],
  ['\\', '\\'],
  ["'", "'"],
  ['"', '"']
]);

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const fail = (message: string, offset: number, length = 1): never => {
    const span = spanAt(source, offset, length);
    throw new ExpressionError('expression_syntax', `${message} at ${formatSpan(span)}`, span);
  };
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9.]/.test(ch)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(source);
      if (!m) fail(`Unexpected character '${ch}'`, i);
      const text = (m as RegExpExecArray)[0];
      i += text.length;
      if (i < source.length && /[A-Za-z_]/.test(source[i] as string))
        fail(`Malformed number '${text}${source[i]}'`, start, i - start + 1);
      tokens.push({ kind: 'number', text, value: Number(text), start, end: i });
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      IDENTIFIER.lastIndex = i;
      const text = (IDENTIFIER.exec(source) as RegExpExecArray)[0];
      i += text.length;
      const lower = text.toLowerCase();
      if (KEYWORDS.has(lower)) tokens.push({ kind: 'keyword', text: lower, start, end: i });
      else tokens.push({ kind: 'identifier', text, start, end: i });
      continue;
    }
    if (ch === '"' || ch === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= source.length) fail('Unterminated string', start, source.length - start);
        const c = source[i] as string;
        if (c === ch) break;
        if (c === '\\') {
          const next = source[i + 1];
          const escaped = next === undefined ? undefined : ESCAPES.get(next);
          if (escaped === undefined) fail(`Unknown escape '\\${next ?? ''}' in string`, i, 2);
          value += escaped;
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', text: value, start, end: i });
      continue;
    }
    if (ch === '[' || ch === '`') {
      const close = ch === '[' ? ']' : '`';
      const endAt = source.indexOf(close, i + 1);
      if (endAt < 0) fail(`Unterminated column name (missing '${close}')`, start, source.length - start);
      const name = source.slice(i + 1, endAt);
      if (name.length === 0) fail('Empty column name', start, 2);
      i = endAt + 1;
      tokens.push({ kind: 'column', text: name, start, end: i });
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op) {
      i += op.length;
      const alias = ALIASES.get(op);
      tokens.push(
        alias
          ? { kind: 'keyword', text: alias, start, end: i }
          : { kind: 'operator', text: op, start, end: i }
      );
      continue;
    }
    if (ch === '=') fail("Use '==' to compare values; '=' alone is not an operator", i);
    fail(`Unexpected character '${ch}'`, i);
  }
  tokens.push({ kind: 'end', text: '', start: source.length, end: source.length });
  return tokens;
}

/** Binding power of infix operators; comparisons share one level and cannot be chained. */
const INFIX: ReadonlyMap<string, number> = new Map([
  ['or', 10],
  ['and', 20],
  ['==', 40],
  ['!=', 40],
  ['<', 40],
  ['<=', 40],
  ['>', 40],
  ['>=', 40],
  ['+', 50],
  ['-', 50],
  ['*', 60],
  ['/', 60],
  ['%', 60],
  ['^', 80]
]);
const NOT_POWER = 30;
const NEGATE_POWER = 70;
const COMPARISON_POWER = 40;

function describeToken(token: Token): string {
  if (token.kind === 'end') return 'the end of the expression';
  if (token.kind === 'string') return 'a string';
  if (token.kind === 'number') return `'${token.text}'`;
  return `'${token.text}'`;
}

/** Parses `source` into a syntax tree, or throws an `ExpressionError` naming the position. */
export function parseExpression(source: string): ExpressionNode {
  const tokens = tokenize(source);
  let index = 0;
  const peek = (): Token => tokens[index] as Token;
  const next = (): Token => tokens[index++] as Token;
  const fail = (message: string, token: Token): never => {
    const span = spanAt(source, token.start, Math.max(1, token.end - token.start));
    throw new ExpressionError('expression_syntax', `${message} at ${formatSpan(span)}`, span);
  };
  const expect = (text: string, context: string): Token => {
    const token = peek();
    if (token.kind !== 'operator' || token.text !== text)
      fail(`Expected '${text}' ${context}, found ${describeToken(token)}`, token);
    return next();
  };

  const prefix = (): ExpressionNode => {
    const token = next();
    switch (token.kind) {
      case 'number':
        return { kind: 'number', value: token.value as number, start: token.start, end: token.end };
      case 'string':
        return { kind: 'string', value: token.text, start: token.start, end: token.end };
      case 'column':
        return { kind: 'column', name: token.text, start: token.start, end: token.end };
      case 'identifier': {
        const after = peek();
        if (after.kind === 'operator' && after.text === '(') {
          next();
          const args: ExpressionNode[] = [];
          if (!(peek().kind === 'operator' && peek().text === ')')) {
            for (;;) {
              args.push(expression(0));
              const sep = peek();
              if (sep.kind === 'operator' && sep.text === ',') {
                next();
                continue;
              }
              break;
            }
          }
          const close = expect(')', `to close the call of ${token.text}`);
          return {
            kind: 'call',
            name: token.text,
            args,
            start: token.start,
            end: close.end,
            nameEnd: token.end
          };
        }
        return { kind: 'column', name: token.text, start: token.start, end: token.end };
      }
      case 'keyword':
        if (token.text === 'true' || token.text === 'false') {
          return { kind: 'boolean', value: token.text === 'true', start: token.start, end: token.end };
        }
        if (token.text === 'null') return { kind: 'null', start: token.start, end: token.end };
        if (token.text === 'not') {
          const operand = expression(NOT_POWER);
          return { kind: 'unary', op: 'not', operand, start: token.start, end: operand.end };
        }
        return fail(`Unexpected ${describeToken(token)}`, token);
      case 'operator':
        if (token.text === '(') {
          const inner = expression(0);
          const close = expect(')', 'to close the parenthesis');
          return { ...inner, start: token.start, end: close.end };
        }
        if (token.text === '-') {
          const operand = expression(NEGATE_POWER);
          return { kind: 'unary', op: '-', operand, start: token.start, end: operand.end };
        }
        if (token.text === '+') return expression(NEGATE_POWER);
        return fail(`Unexpected ${describeToken(token)}`, token);
      case 'end':
        return fail(index === 1 ? 'Empty expression' : 'Unexpected end of expression', token);
    }
  };

  const expression = (minPower: number): ExpressionNode => {
    let left = prefix();
    for (;;) {
      const token = peek();
      if (token.kind !== 'operator' && token.kind !== 'keyword') break;
      const power = INFIX.get(token.text);
      if (power === undefined || power <= minPower) break;
      next();
      // `^` is right-associative: its right side may hold another `^`.
      const right = expression(token.text === '^' ? power - 1 : power);
      left = {
        kind: 'binary',
        op: token.text as BinaryOperator,
        left,
        right,
        start: left.start,
        end: right.end
      };
      const after = peek();
      if (
        power === COMPARISON_POWER &&
        INFIX.get(after.text) === COMPARISON_POWER &&
        after.kind === 'operator'
      ) {
        fail("Comparisons cannot be chained; write 'a < b and b < c'", after);
      }
    }
    return left;
  };

  const tree = expression(0);
  const rest = peek();
  if (rest.kind !== 'end') fail(`Unexpected ${describeToken(rest)}`, rest);
  return tree;
}
