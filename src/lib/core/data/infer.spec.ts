import { describe, expect, it } from 'vitest';
import {
  inferColumn,
  inferSchema,
  isFloatText,
  isIntegerText,
  isMissing,
  parseCell,
  parseIsoDateTime
} from './infer';

const typeOf = (name: string, cells: string[]): string => inferColumn(name, cells).schema.type;
const repeat = (values: string[], times: number): string[] =>
  Array.from({ length: times }, () => values).flat();

describe('inferColumn', () => {
  it('recognises each type', () => {
    expect(typeOf('count', ['1', '-2', '+3', '40'])).toBe('integer');
    expect(typeOf('x', ['1.5', '2', '-3e2', '.5'])).toBe('float');
    expect(typeOf('flag', ['true', 'FALSE', 'Yes', 'no'])).toBe('boolean');
    expect(typeOf('day', ['2024-01-31', '2023-12-01'])).toBe('date');
    expect(typeOf('at', ['2024-01-31T10:00:00Z', '2024-02-01 08:30', '2024-03-01'])).toBe('datetime');
    expect(typeOf('species', repeat(['setosa', 'versicolor', 'virginica'], 10))).toBe('categorical');
    expect(typeOf('comment', ['great product', 'would not buy again', 'meh, fine'])).toBe('text');
  });

  it('calls all-distinct keys and id-named integer columns identifiers', () => {
    expect(typeOf('order', ['A-100', 'A-101', 'B-7'])).toBe('identifier');
    expect(typeOf('customer_id', ['17', '3', '99'])).toBe('identifier');
    expect(typeOf('id', ['1', '2', '3'])).toBe('identifier');
    // Distinct integers without an id-like name stay numbers; repeated ids are not identifiers.
    expect(typeOf('year', ['2001', '2002', '2003'])).toBe('integer');
    expect(typeOf('user_id', ['1', '1', '2'])).toBe('integer');
  });

  it('does not call a column with many distinct values or few rows per value categorical', () => {
    expect(typeOf('city', repeat(['a b', 'c d'], 1))).toBe('text');
    const many = Array.from({ length: 200 }, (_, i) => `city ${i % 60}`);
    expect(typeOf('city', many)).toBe('text');
  });

  it('treats empty, NA, n/a, null and ? as missing', () => {
    for (const cell of ['', '  ', 'NA', 'na', 'N/A', 'n/a', 'NULL', 'null', '?'])
      expect(isMissing(cell)).toBe(true);
    expect(isMissing('0')).toBe(false);
    const { schema, malformed } = inferColumn('v', ['1', '', 'NA', 'n/a', 'null', '?', '2']);
    expect(schema).toEqual({ name: 'v', type: 'integer', missing: 5, distinct: 2 });
    expect(malformed.count).toBe(0);
  });

  it('keeps a numeric column numeric when ≥ 95% parse, counting the rest as malformed', () => {
    const cells = Array.from({ length: 30 }, (_, i) => `${i}.5`);
    cells[14] = '1,04';
    const { schema, malformed } = inferColumn('price', cells);
    expect(schema.type).toBe('float');
    expect(schema.missing).toBe(1);
    expect(malformed).toEqual({
      column: 'price',
      type: 'float',
      count: 1,
      examples: [{ row: 14, column: 'price', value: '1,04' }]
    });
  });

  it('does not coerce a column where fewer than 95% parse', () => {
    const cells = Array.from({ length: 10 }, (_, i) => String(i));
    cells[3] = 'ten';
    const { schema, malformed } = inferColumn('n', cells);
    expect(schema.type).not.toBe('integer');
    expect(schema.type).not.toBe('float');
    expect(malformed.count).toBe(0);
  });

  it('keeps at most five malformed examples but counts them all', () => {
    const cells = [...repeat(['1'], 200), ...repeat(['x'], 8)];
    const { malformed } = inferColumn('n', cells);
    expect(malformed.count).toBe(8);
    expect(malformed.examples).toHaveLength(5);
    expect(malformed.examples[0]).toEqual({ row: 200, column: 'n', value: 'x' });
  });

  it('rejects impossible dates instead of rolling them over', () => {
    expect(parseCell('date', '2023-02-30')).toBeNull();
    expect(parseCell('date', '2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoDateTime('2024-01-01T01:00:00+01:00')).toBe(Date.UTC(2024, 0, 1, 0, 0, 0));
    expect(parseIsoDateTime('2024-01-01T00:00:00.250Z')).toBe(Date.UTC(2024, 0, 1) + 250);
  });

  it('calls an all-missing column text with every cell missing', () => {
    expect(inferColumn('empty', ['', 'NA']).schema).toEqual({
      name: 'empty',
      type: 'text',
      missing: 2,
      distinct: 0
    });
  });
});

describe('inferSchema', () => {
  it('returns a schema per column and only the columns with malformed cells', () => {
    const names = ['a', 'b'];
    const cells = [
      ['1', '2'],
      ['x y', 'z w']
    ];
    const result = inferSchema(names, cells);
    expect(result.columns.map((c) => c.type)).toEqual(['integer', 'text']);
    expect(result.malformed).toEqual([]);
  });
});

describe('parseCell', () => {
  it('parses by type and gives null for missing or malformed cells', () => {
    expect(parseCell('integer', ' 42 ')).toBe(42);
    expect(parseCell('float', '1,04')).toBeNull();
    expect(parseCell('boolean', 'YES')).toBe(true);
    expect(parseCell('boolean', 'maybe')).toBeNull();
    expect(parseCell('categorical', ' red ')).toBe('red');
    expect(parseCell('text', ' keep  spaces ')).toBe(' keep  spaces ');
    expect(parseCell('text', 'NA')).toBeNull();
  });
});

describe('the number checks of inference', () => {
  it('accept exactly what their patterns accept', () => {
    const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
    const INTEGER = /^[+-]?\d+$/;
    const pieces = ['0', '7', '.', '+', '-', 'e', 'E', 'x', ' ', '١', '1e', '.5', '5.', 'e+', 'E-3'];
    let seed = 11;
    const next = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let n = 0; n < 50_000; n++) {
      let text = '';
      const parts = Math.floor(next() * 6);
      for (let k = 0; k < parts; k++) text += pieces[Math.floor(next() * pieces.length)] ?? '';
      expect(isFloatText(text), JSON.stringify(text)).toBe(FLOAT.test(text));
      expect(isIntegerText(text), JSON.stringify(text)).toBe(INTEGER.test(text));
    }
  });
});
