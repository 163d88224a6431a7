import { describe, expect, it } from 'vitest';
import type { ColumnSchema } from '../records';
import { buildTable } from './arrow';
import { checkExpression, compileExpression, evaluateExpression, ExpressionError } from './expression';
import { parseExpression } from './expression-parser';
import { BOOL_NULL, type ColumnData } from './frame';

const columns: ColumnSchema[] = [
  { name: 'price', type: 'float', missing: 0 },
  { name: 'qty', type: 'integer', missing: 0 },
  { name: 'day', type: 'date', missing: 0 },
  { name: 'at', type: 'datetime', missing: 0 },
  { name: 'species', type: 'categorical', missing: 0 },
  { name: 'note', type: 'text', missing: 0 },
  { name: 'ok', type: 'boolean', missing: 0 },
  { name: 'unit price', type: 'float', missing: 0 }
];
const table = buildTable(columns, [
  ['10', '2.5', '', '-4'],
  ['2', '0', '3', ''],
  ['2024-01-01', '2023-12-31', '', '2024-02-29'],
  ['2024-01-01T13:45:00Z', '2024-03-10T00:00:00Z', '', '1969-12-31T23:00:00Z'],
  ['setosa', 'virginica', 'setosa', ''],
  ['  Hello ', 'héllo wörld', '', 'x'],
  ['yes', 'no', '', 'yes'],
  ['1', '2', '3', '']
]);

/** Evaluated values as plain JS: numbers, booleans, strings, or null. */
function values(data: ColumnData): Array<number | boolean | string | null> {
  if (data.kind === 'number') return Array.from(data.values, (v) => (Number.isNaN(v) ? null : v));
  if (data.kind === 'boolean') return Array.from(data.values, (v) => (v === BOOL_NULL ? null : v === 1));
  return data.values.slice();
}
const run = (source: string) => values(evaluateExpression(table, source).data);
const typeOf = (source: string) => compileExpression(source, columns).type;
function errorOf(source: string): ExpressionError {
  try {
    compileExpression(source, columns);
  } catch (err) {
    if (err instanceof ExpressionError) return err;
    throw err;
  }
  throw new Error(`expected ${source} to fail`);
}

describe('parsing and precedence', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4],
    ['2 ^ -1', 0.5],
    ['10 - 4 - 3', 3],
    ['12 / 4 / 3', 1],
    ['7 % 3 * 2', 2],
    ['-7 % 3', 2],
    ['7 % -3', -2],
    ['1.5e2 + .5', 150.5]
  ])('%s = %d', (source, expected) => {
    expect(run(source)[0]).toBe(expected);
  });

  it('binds not looser than comparisons and and tighter than or', () => {
    expect(run('not 1 > 2')[0]).toBe(true);
    expect(run('true or false and false')[0]).toBe(true);
    expect(run('not false and false')[0]).toBe(false);
    expect(run('1 < 2 && !(2 < 1) || false')[0]).toBe(true);
  });

  it('reads bracketed and backticked column names and keywords in any case', () => {
    expect(run('[unit price] * 2')).toEqual([2, 4, 6, null]);
    expect(run('`unit price` + qty')).toEqual([3, 2, 6, null]);
    expect(run('TRUE AND NOT False')[0]).toBe(true);
  });

  it('keeps positions in the tree', () => {
    const tree = parseExpression('a +\n  log(b)');
    expect(tree.kind).toBe('binary');
    if (tree.kind === 'binary') expect([tree.right.start, tree.right.end]).toEqual([6, 12]);
  });
});

describe('evaluation', () => {
  it('computes arithmetic over columns with missing values propagated', () => {
    expect(run('price * qty')).toEqual([20, 0, null, null]);
    expect(run('price + 1')).toEqual([11, 3.5, null, -3]);
  });

  it('makes division and modulo by zero, log(0) and sqrt(-1) missing', () => {
    expect(run('price / qty')).toEqual([5, null, null, null]);
    expect(run('qty % 0')).toEqual([null, null, null, null]);
    expect(run('log(qty)')).toEqual([Math.log(2), null, Math.log(3), null]);
    expect(run('sqrt(price)')).toEqual([Math.sqrt(10), Math.sqrt(2.5), null, null]);
  });

  it('compares with null results on missing inputs', () => {
    expect(run('price > 2')).toEqual([true, true, null, false]);
    expect(run('species == "setosa"')).toEqual([true, false, true, null]);
    expect(run('ok != true')).toEqual([false, true, null, false]);
  });

  it('uses three-valued logic for and/or', () => {
    expect(run('ok and price > 5')).toEqual([true, false, null, false]);
    expect(run('ok or price > 5')).toEqual([true, false, null, true]);
    expect(run('ok or price < 5')).toEqual([true, true, null, true]);
    expect(run('not ok')).toEqual([false, true, null, false]);
    expect(run('is_null(price) or price > 5')).toEqual([true, false, true, false]);
  });

  it('runs the numeric functions', () => {
    expect(run('abs(price)')).toEqual([10, 2.5, null, 4]);
    expect(run('round(price)')).toEqual([10, 3, null, -4]);
    expect(run('round(-2.5)')[0]).toBe(-3);
    expect(run('round(3.14159, 2)')[0]).toBe(3.14);
    expect(run('round(1234, -2)')[0]).toBe(1200);
    expect(run('floor(price)')).toEqual([10, 2, null, -4]);
    expect(run('ceil(price)')).toEqual([10, 3, null, -4]);
    expect(run('clip(price, 0, 5)')).toEqual([5, 2.5, null, 0]);
    expect(run('min(price, qty)')).toEqual([2, 0, null, null]);
    expect(run('max(price, qty, 4)')).toEqual([10, 4, null, null]);
    expect(run('pow(qty, 2)')).toEqual([4, 0, 9, null]);
    expect(run('exp(0) + log1p(0)')[0]).toBe(1);
  });

  it('runs coalesce, is_null and if', () => {
    expect(run('coalesce(price, qty, 0)')).toEqual([10, 2.5, 3, -4]);
    expect(run('coalesce(note, "none")')).toEqual(['  Hello ', 'héllo wörld', 'none', 'x']);
    expect(run('is_null(species)')).toEqual([false, false, false, true]);
    expect(run('if(price > 5, "big", "small")')).toEqual(['big', 'small', null, 'small']);
    expect(run('if(ok, price, null)')).toEqual([10, null, null, -4]);
  });

  it('takes date parts in UTC, weekday 0 = Monday', () => {
    expect(run('year(day)')).toEqual([2024, 2023, null, 2024]);
    expect(run('month(day)')).toEqual([1, 12, null, 2]);
    expect(run('day(day)')).toEqual([1, 31, null, 29]);
    expect(run('weekday(day)')).toEqual([0, 6, null, 3]);
    expect(run('hour(at)')).toEqual([13, 0, null, 23]);
    expect(run('year(at)')).toEqual([2024, 2024, null, 1969]);
  });

  it('compares dates with ISO literals', () => {
    expect(run('day >= "2024-01-01"')).toEqual([true, false, null, true]);
    expect(run('at < "2024-02-01T00:00:00Z"')).toEqual([true, false, null, true]);
    expect(errorOf('day > "soon"').message).toMatch(/'soon' is not an ISO date .* at 1:7/);
  });

  it('runs the text functions', () => {
    expect(run('len(note)')).toEqual([8, 11, null, 1]);
    expect(run('trim(lower(note))')).toEqual(['hello', 'héllo wörld', null, 'x']);
    expect(run('upper(species)')).toEqual(['SETOSA', 'VIRGINICA', 'SETOSA', null]);
    expect(run('contains(note, "wör")')).toEqual([false, true, null, false]);
    expect(run('starts_with(species, "set")')).toEqual([true, false, true, null]);
    expect(run('species + "!"')).toEqual(['setosa!', 'virginica!', 'setosa!', null]);
  });

  it('infers result types', () => {
    expect(typeOf('qty + 1')).toBe('integer');
    expect(typeOf('qty / 1')).toBe('float');
    expect(typeOf('qty + price')).toBe('float');
    expect(typeOf('round(price)')).toBe('integer');
    expect(typeOf('round(price, 1)')).toBe('float');
    expect(typeOf('price > 1')).toBe('boolean');
    expect(typeOf('lower(species)')).toBe('text');
    expect(typeOf('coalesce(day, at)')).toBe('datetime');
    expect(evaluateExpression(table, 'species').type).toBe('categorical');
    expect(evaluateExpression(table, 'if(qty > 2, "a", "b")').type).toBe('text');
  });

  it('reports the columns an expression reads', () => {
    expect(compileExpression('price * qty + price', columns).columns).toEqual(['price', 'qty']);
  });
});

describe('errors', () => {
  it('names unknown columns with a suggestion and a position', () => {
    const err = errorOf('1 + prcie');
    expect(err.code).toBe('unknown_column');
    expect(err.message).toBe("Unknown column 'prcie' at 1:5 — did you mean 'price'?");
    expect(err.span).toMatchObject({ offset: 4, length: 5, line: 1, column: 5 });
  });

  it('counts lines and columns in multi-line expressions', () => {
    expect(errorOf('price +\n  nope').message).toMatch(/Unknown column 'nope' at 2:3/);
  });

  it('gives type errors in words', () => {
    expect(errorOf('log(species)').message).toBe('log expects a number, got text at 1:5');
    expect(errorOf('price + note').message).toMatch(/\+ joins text only with text, got float at 1:1/);
    expect(errorOf('species and ok').message).toMatch(/and expects booleans, got text/);
    expect(errorOf('day < 3').message).toMatch(/Cannot compare date with integer/);
    expect(errorOf('if(price, 1, 2)').message).toMatch(/if expects a boolean condition first, got a float/);
    expect(errorOf('if(ok, 1, "a")').message).toMatch(/if needs arguments of one type, got integer and text/);
    expect(errorOf('year(price)').message).toMatch(/year expects a date or datetime, got a float/);
    expect(errorOf('round()').message).toMatch(/round takes 1 to 2 arguments, got 0/);
    expect(errorOf('contains(note)').message).toMatch(/contains takes 2 arguments, got 1/);
  });

  it('reports syntax errors with positions', () => {
    expect(errorOf('').message).toMatch(/Empty expression/);
    expect(errorOf('1 +').message).toBe('Unexpected end of expression at 1:4');
    expect(errorOf('(1 + 2').message).toMatch(
      /Expected '\)' to close the parenthesis, found the end of the expression at 1:7/
    );
    expect(errorOf('price = 1').message).toMatch(/Use '==' .* at 1:7/);
    expect(errorOf('1 < 2 < 3').message).toMatch(/cannot be chained/);
    expect(errorOf('"abc').message).toMatch(/Unterminated string at 1:1/);
    expect(errorOf('price @ 2').message).toMatch(/Unexpected character '@' at 1:7/);
    expect(errorOf('1 2').message).toMatch(/Unexpected '2' at 1:3/);
    expect(errorOf('lg(price)').message).toBe("Unknown function 'lg' at 1:1 — did you mean 'log'?");
    expect(errorOf('price(1)').message).toMatch(/'price' is a column, not a function/);
  });

  it('gives no access to JavaScript globals or object internals', () => {
    for (const name of ['constructor', '__proto__', 'globalThis', 'toString', 'hasOwnProperty', 'process']) {
      expect(errorOf(name).code).toBe('unknown_column');
      expect(errorOf(`${name}(1)`).code).toBe('unknown_function');
      expect(errorOf(`[${name}]`).code).toBe('unknown_column');
    }
    expect(errorOf('price.constructor').code).toBe('expression_syntax');
  });

  it('checks without throwing for the editor', () => {
    expect(checkExpression('price * 2', columns)).toEqual({ ok: true, type: 'float', columns: ['price'] });
    expect(checkExpression('sqrt(note)', columns)).toMatchObject({
      ok: false,
      code: 'expression_type',
      line: 1,
      column: 6
    });
  });
});

describe('scale', () => {
  it('evaluates a derived column over 1M rows column-wise', () => {
    const n = 1_000_000;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = i % 100 === 0 ? Number.NaN : i;
    const compiled = compileExpression('if(x > 10, log(x) * 2 + clip(x, 0, 5000), null)', [
      { name: 'x', type: 'float' }
    ]);
    const start = performance.now();
    const out = compiled.evaluate({ rowCount: n, column: () => ({ kind: 'number', values: x }) });
    const elapsed = performance.now() - start;
    expect(out.values.length).toBe(n);
    expect((out.values as Float64Array)[11]).toBeCloseTo(Math.log(11) * 2 + 11);
    expect(Number.isNaN((out.values as Float64Array)[100])).toBe(true);
    expect(elapsed).toBeLessThan(2000);
  });
});
