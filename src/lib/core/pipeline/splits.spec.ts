import { describe, expect, it } from 'vitest';
import { buildTable } from '../data/arrow';
import type { ColumnSchema } from '../records';
import { splitIndices } from './split';
import {
  canonicalJson,
  computeSplit,
  rowsWhere,
  splitCacheKey,
  splitHash,
  type SplitResult,
  type SplitSpec
} from './splits';

const n = 200;
const classOf = (i: number): string => (i % 10 < 6 ? 'a' : i % 10 < 9 ? 'b' : 'c'); // 60% / 30% / 10%
const cols: ColumnSchema[] = [
  { name: 'label', type: 'categorical', missing: 0 },
  { name: 'user', type: 'integer', missing: 0 },
  { name: 'day', type: 'date', missing: 0 },
  { name: 'score', type: 'float', missing: 0 }
];
const table = buildTable(cols, [
  Array.from({ length: n }, (_, i) => classOf(i)),
  Array.from({ length: n }, (_, i) => String(Math.floor(i / 7))),
  Array.from(
    { length: n },
    (_, i) => `2024-01-${String((Math.floor(((i * 7) % n) / 8) % 28) + 1).padStart(2, '0')}`
  ),
  Array.from({ length: n }, (_, i) => String(i / 3))
]);

function holdout(result: SplitResult) {
  if (result.kind !== 'holdout') throw new Error('holdout expected');
  return result;
}
function folds(result: SplitResult) {
  if (result.kind !== 'folds') throw new Error('folds expected');
  return result;
}
const count = <T>(values: Iterable<T>, pred: (v: T) => boolean): number => {
  let c = 0;
  for (const v of values) if (pred(v)) c++;
  return c;
};

describe('random split', () => {
  it('covers every row once, with the requested sizes, deterministically', () => {
    const spec: SplitSpec = { kind: 'random', testFraction: 0.2, validationFraction: 0.1, seed: 7 };
    const a = holdout(computeSplit(table, spec));
    expect(a.assignments.length).toBe(n);
    expect(a.counts).toEqual({ train: 140, validation: 20, test: 40 });
    expect(a.assignments).toEqual(holdout(computeSplit(table, spec)).assignments);
    expect(a.assignments).not.toEqual(holdout(computeSplit(table, { ...spec, seed: 8 })).assignments);
  });

  it('picks the same test rows as splitIndices when there is no validation set', () => {
    const a = holdout(computeSplit(table, { kind: 'random', testFraction: 0.25, seed: 3 }));
    const legacy = splitIndices(n, 0.25, 3);
    expect(rowsWhere(a.assignments, 2)).toEqual(legacy.test);
    expect(rowsWhere(a.assignments, 0)).toEqual(legacy.train);
  });
});

describe('stratified split', () => {
  it('keeps every class within one row of the overall proportions', () => {
    const { assignments, counts } = holdout(
      computeSplit(table, {
        kind: 'stratified',
        column: 'label',
        testFraction: 0.2,
        validationFraction: 0.15,
        seed: 1
      })
    );
    expect(counts.test).toBe(40);
    for (const cls of ['a', 'b', 'c']) {
      const rows = Array.from({ length: n }, (_, i) => i).filter((i) => classOf(i) === cls);
      const test = count(rows, (i) => assignments[i] === 2);
      const validation = count(rows, (i) => assignments[i] === 1);
      expect(Math.abs(test - rows.length * 0.2)).toBeLessThanOrEqual(1);
      expect(Math.abs(validation - rows.length * 0.15)).toBeLessThanOrEqual(1);
    }
  });

  it('keeps a row of every class with at least 2 rows in train', () => {
    const small = buildTable(
      [{ name: 'y', type: 'categorical', missing: 0 }],
      [['a', 'a', 'b', 'b', 'c', 'd', 'd', 'd', 'd', 'd']]
    );
    for (let seed = 0; seed < 20; seed++) {
      const { assignments } = holdout(
        computeSplit(small, { kind: 'stratified', column: 'y', testFraction: 0.5, seed })
      );
      const ys = ['a', 'a', 'b', 'b', 'c', 'd', 'd', 'd', 'd', 'd'];
      for (const cls of ['a', 'b', 'c', 'd'])
        expect(ys.some((y, i) => y === cls && assignments[i] === 0)).toBe(true);
    }
  });

  it('refuses a float column', () => {
    expect(() =>
      computeSplit(table, { kind: 'stratified', column: 'score', testFraction: 0.2, seed: 1 })
    ).toThrow(/bin it first/);
  });
});

describe('group split', () => {
  it('never puts one group in two sets', () => {
    const { assignments, counts } = holdout(
      computeSplit(table, {
        kind: 'group',
        column: 'user',
        testFraction: 0.3,
        validationFraction: 0.2,
        seed: 5
      })
    );
    const setOf = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const group = Math.floor(i / 7);
      const seen = setOf.get(group);
      if (seen !== undefined) expect(assignments[i]).toBe(seen);
      setOf.set(group, assignments[i] as number);
    }
    expect(Math.abs(counts.test - 60)).toBeLessThanOrEqual(7);
    expect(Math.abs(counts.validation - 40)).toBeLessThanOrEqual(7);
    expect(counts.train).toBeGreaterThan(0);
  });

  it('refuses a column with one group', () => {
    const one = buildTable([{ name: 'g', type: 'categorical', missing: 0 }], [['x', 'x', 'x']]);
    expect(() => computeSplit(one, { kind: 'group', column: 'g', testFraction: 0.3, seed: 1 })).toThrow(
      /has 1 group; a group split needs at least 2/
    );
  });
});

describe('time split', () => {
  it('puts train strictly before test and keeps ties together', () => {
    const { assignments, counts } = holdout(
      computeSplit(table, { kind: 'time', column: 'day', testFraction: 0.25, validationFraction: 0.1 })
    );
    const days = table.getChild('day')?.toArray() as ArrayLike<number>;
    const span = (set: number) => {
      const ds = Array.from({ length: n }, (_, i) => i)
        .filter((i) => assignments[i] === set)
        .map((i) => Number(days[i]));
      return [Math.min(...ds), Math.max(...ds)];
    };
    const [, trainMax] = span(0);
    const [validationMin, validationMax] = span(1);
    const [testMin] = span(2);
    expect(trainMax).toBeLessThan(validationMin as number);
    expect(validationMax).toBeLessThan(testMin as number);
    expect(Math.abs(counts.test - 50)).toBeLessThanOrEqual(8);
  });

  it('refuses missing times and a single distinct time', () => {
    const gaps = buildTable([{ name: 't', type: 'date', missing: 1 }], [['2024-01-01', '', '2024-01-03']]);
    expect(() => computeSplit(gaps, { kind: 'time', column: 't', testFraction: 0.3 })).toThrow(
      /1 missing values/
    );
    const flat = buildTable([{ name: 't', type: 'date', missing: 0 }], [['2024-01-01', '2024-01-01']]);
    expect(() => computeSplit(flat, { kind: 'time', column: 't', testFraction: 0.5 })).toThrow(
      /too few distinct times/
    );
  });
});

describe('k-fold', () => {
  it('balances fold sizes within one row and is deterministic', () => {
    const a = folds(computeSplit(table, { kind: 'kfold', k: 7, seed: 2 }));
    expect(a.sizes.reduce((x, y) => x + y, 0)).toBe(n);
    expect(Math.max(...a.sizes) - Math.min(...a.sizes)).toBeLessThanOrEqual(1);
    expect(a.folds).toEqual(folds(computeSplit(table, { kind: 'kfold', k: 7, seed: 2 })).folds);
    expect(Math.max(...a.folds)).toBe(6);
  });

  it('stratifies folds per class within one row', () => {
    const { folds: f } = folds(computeSplit(table, { kind: 'kfold', k: 4, seed: 9, stratifyBy: 'label' }));
    for (const cls of ['a', 'b', 'c']) {
      const perFold = [0, 1, 2, 3].map((k) =>
        count(
          Array.from({ length: n }, (_, i) => i),
          (i) => classOf(i) === cls && f[i] === k
        )
      );
      expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1);
    }
  });

  it('refuses more folds than rows', () => {
    const tiny = buildTable([{ name: 'v', type: 'integer', missing: 0 }], [['1', '2', '3']]);
    expect(() => computeSplit(tiny, { kind: 'kfold', k: 5, seed: 1 })).toThrow(
      /Cannot make 5 folds of 3 rows/
    );
  });
});

describe('spec validation and hashing', () => {
  it('names unknown columns and bad fields', () => {
    expect(() => computeSplit(table, { kind: 'group', column: 'usr', testFraction: 0.2, seed: 1 })).toThrow(
      /Cannot group by 'usr': the dataset has no such column/
    );
    expect(() =>
      computeSplit(table, { kind: 'random', testFraction: 0.7, validationFraction: 0.4, seed: 1 })
    ).toThrow(/field 'validationFraction' — test and validation fractions must add up to less than 1/);
    expect(() => computeSplit(table, { kind: 'random', testFraction: 1.5, seed: 1 })).toThrow(
      /field 'testFraction'/
    );
  });

  it('hashes canonical JSON, independent of key order', async () => {
    const a: SplitSpec = { kind: 'random', testFraction: 0.2, seed: 1 };
    const b = { seed: 1, testFraction: 0.2, kind: 'random' } as SplitSpec;
    expect(canonicalJson(b)).toBe('{"kind":"random","seed":1,"testFraction":0.2}');
    expect(await splitHash(a)).toBe(await splitHash(b));
    expect(await splitHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(await splitHash({ ...a, seed: 2 })).not.toBe(await splitHash(a));
    expect(await splitCacheKey(a, 'f'.repeat(64))).not.toBe(await splitCacheKey(a, 'e'.repeat(64)));
  });
});
