import { Float64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { ColumnSchema } from '../records';
import { buildTable } from './arrow';
import {
  checkExpectations,
  expectationReportSchema,
  expectationSchema,
  isRiskyPattern,
  type Expectation,
  type ExpectationResult
} from './expectations';

const schema = (name: string, type: ColumnSchema['type']): ColumnSchema => ({ name, type, missing: 0 });

const data = buildTable(
  [
    schema('age', 'integer'),
    schema('plan', 'categorical'),
    schema('email', 'text'),
    schema('day', 'date'),
    schema('ok', 'boolean'),
    schema('code', 'identifier')
  ],
  [
    ['34', '', '17', '45', '130', '34'],
    ['basic', 'pro', 'basic', 'gold', '', 'pro'],
    ['a@x.org', 'b@y.com', 'not an email', '', 'c@z.net', 'd@x.org'],
    ['2024-01-01', '2024-02-15', '2023-12-31', '2024-03-01', '', '2024-01-01'],
    ['yes', 'no', 'yes', 'yes', 'no', ''],
    ['k1', 'k2', 'k3', 'k2', 'k5', 'k2']
  ]
);

function one(expectation: Expectation, table: Table = data): ExpectationResult {
  const report = checkExpectations(table, [expectation]);
  const result = report.results[0];
  if (!result) throw new Error('no result');
  return result;
}

describe('checkExpectations', () => {
  it('not_null counts missing cells', () => {
    expect(one({ kind: 'not_null', column: 'age' })).toEqual({
      expectation: { kind: 'not_null', column: 'age' },
      passed: false,
      observed: { missing: 1, share: 1 / 6 },
      failingRows: 1,
      examples: [{ row: 1, value: null }]
    });
    expect(one({ kind: 'not_null', column: 'code' }).passed).toBe(true);
  });

  it('not_null treats NaN as missing', () => {
    const t = new Table({ x: vectorFromArray([1, Number.NaN, 2], new Float64()) });
    expect(one({ kind: 'not_null', column: 'x' }, t)).toMatchObject({ passed: false, failingRows: 1 });
  });

  it('range checks inclusive bounds, skipping missing cells', () => {
    const result = one({ kind: 'range', column: 'age', min: 18, max: 120 });
    expect(result).toMatchObject({
      passed: false,
      observed: { min: 17, max: 130 },
      failingRows: 2,
      examples: [
        { row: 2, value: 17 },
        { row: 4, value: 130 }
      ]
    });
    expect(one({ kind: 'range', column: 'age', min: 17, max: 130 }).passed).toBe(true);
    expect(one({ kind: 'range', column: 'age', min: 0 }).passed).toBe(true);
  });

  it('range compares dates as epoch milliseconds and shows them as ISO dates', () => {
    const result = one({ kind: 'range', column: 'day', min: Date.UTC(2024, 0, 1) });
    expect(result).toMatchObject({
      failingRows: 1,
      examples: [{ row: 2, value: '2023-12-31' }],
      observed: { min: '2023-12-31', max: '2024-03-01' }
    });
  });

  it('range reports what it cannot check instead of throwing', () => {
    expect(one({ kind: 'range', column: 'plan', min: 1 }).error).toMatch(/not a number/);
    expect(one({ kind: 'range', column: 'age' }).error).toMatch(/minimum or a maximum/);
    expect(one({ kind: 'range', column: 'age', min: 5, max: 1 }).error).toMatch(/above its maximum/);
    expect(one({ kind: 'not_null', column: 'nope' })).toMatchObject({
      passed: false,
      error: expect.stringMatching(/no column/)
    });
  });

  it('allowed_set works on categories, text, numbers, dates and booleans', () => {
    expect(one({ kind: 'allowed_set', column: 'plan', values: ['basic', 'pro'] })).toMatchObject({
      passed: false,
      failingRows: 1,
      examples: [{ row: 3, value: 'gold' }],
      observed: { unexpectedShare: 0.2 }
    });
    expect(one({ kind: 'allowed_set', column: 'code', values: ['k1', 'k2', 'k3'] })).toMatchObject({
      failingRows: 1,
      examples: [{ row: 4, value: 'k5' }]
    });
    expect(one({ kind: 'allowed_set', column: 'age', values: [34, '17', 45, 130] }).passed).toBe(true);
    expect(
      one({
        kind: 'allowed_set',
        column: 'day',
        values: ['2024-01-01', '2024-02-15', '2023-12-31', '2024-03-01']
      }).passed
    ).toBe(true);
    expect(one({ kind: 'allowed_set', column: 'ok', values: [true] })).toMatchObject({
      failingRows: 2,
      examples: [
        { row: 1, value: false },
        { row: 4, value: false }
      ]
    });
  });

  it('unique fails every row whose value repeats', () => {
    expect(one({ kind: 'unique', column: 'code' })).toMatchObject({
      passed: false,
      failingRows: 3,
      observed: { distinct: 4, duplicatedValues: 1 },
      examples: [
        { row: 1, value: 'k2' },
        { row: 3, value: 'k2' },
        { row: 5, value: 'k2' }
      ]
    });
    // The missing cell is not a duplicate.
    expect(one({ kind: 'unique', column: 'email' }).passed).toBe(true);
  });

  it('regex matches anywhere, tests categories once each, and skips missing cells', () => {
    expect(one({ kind: 'regex', column: 'email', pattern: '^[^@\\s]+@[^@\\s]+\\.[a-z]+$' })).toMatchObject({
      passed: false,
      failingRows: 1,
      examples: [{ row: 2, value: 'not an email' }],
      observed: { checkedRows: 6 }
    });
    expect(one({ kind: 'regex', column: 'plan', pattern: 'o' })).toMatchObject({ failingRows: 2 });
    expect(one({ kind: 'regex', column: 'plan', pattern: 'GOLD|PRO|BASIC', flags: 'i' }).passed).toBe(true);
    expect(one({ kind: 'regex', column: 'day', pattern: '^2024-' })).toMatchObject({ failingRows: 1 });
  });

  it('regex reports compile errors and refuses catastrophic patterns', () => {
    expect(one({ kind: 'regex', column: 'email', pattern: '(unclosed' }).error).toMatch(/does not compile/);
    const risky = one({ kind: 'regex', column: 'email', pattern: '^(a+)+$' });
    expect(risky).toMatchObject({ passed: false, failingRows: 0 });
    expect(risky.error).toMatch(/repeats a group/);
    expect(
      expectationSchema.safeParse({ kind: 'regex', column: 'x', pattern: 'a'.repeat(1001) }).success
    ).toBe(false);
    expect(
      expectationSchema.safeParse({ kind: 'regex', column: 'x', pattern: 'a', flags: 'g' }).success
    ).toBe(false);
  });

  it('regex stops at its time budget', () => {
    const rows = 2000;
    const t = new Table({
      s: vectorFromArray(
        Array.from({ length: rows }, (_, i) => `v${i}`),
        new Utf8()
      )
    });
    let clock = 0;
    const report = checkExpectations(t, [{ kind: 'regex', column: 's', pattern: '^v\\d+$' }], {
      regexBudgetMs: 100,
      now: () => (clock += 60) // 60 "ms" per clock read; the check reads it every 256 rows
    });
    const result = report.results[0];
    expect(result?.passed).toBe(false);
    expect(result?.error).toMatch(/took longer than 100 ms; 512 of 2,000 rows were checked/);
    expect(result?.failingRows).toBe(0);
  });

  it('row_count checks the number of rows', () => {
    expect(one({ kind: 'row_count', min: 6, max: 6 })).toMatchObject({ passed: true, observed: { rows: 6 } });
    expect(one({ kind: 'row_count', min: 10 }).passed).toBe(false);
    expect(one({ kind: 'row_count' }).error).toMatch(/minimum or a maximum/);
  });

  it('sums passes and failures and stays plain JSON', () => {
    const report = checkExpectations(data, [
      { kind: 'not_null', column: 'code' },
      { kind: 'unique', column: 'code' },
      { kind: 'row_count', max: 100 }
    ]);
    expect([report.passed, report.failed]).toEqual([2, 1]);
    expect(expectationReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
  });
});

describe('isRiskyPattern', () => {
  it('refuses nested repetition whose parts are all repeatable', () => {
    for (const p of ['(a+)+', '(a*)*', '(\\w+\\s?)*$', '(?:x+x+)+y', '((a+))+', '(.+)*'])
      expect(isRiskyPattern(p)).toBe(true);
  });

  it('lets common safe patterns through', () => {
    for (const p of [
      '^[\\w.+-]+@([\\w-]+\\.)+[\\w-]+$',
      '^\\d{3}-\\d{4}$',
      '(\\d{3}-?)+',
      '(ab|cd)*',
      '^[a-z]+$',
      '(\\+)+',
      '[(a+)+]'
    ])
      expect(isRiskyPattern(p)).toBe(false);
  });
});
