import {
  Bool,
  Dictionary,
  Float64,
  Int32,
  Table,
  Utf8,
  Vector,
  makeData,
  tableFromArrays,
  vectorFromArray,
  type Data
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { ColumnSchema } from '../records';
import { buildTable } from './arrow';
import {
  correlations,
  DistinctCounter,
  HyperLogLog,
  hashString,
  histogram,
  moments,
  quantile,
  readColumn,
  sortedPresent,
  topLevels,
  valueCounts,
  type NumberColumn,
  type StringColumn
} from './column-stats';

const schema = (name: string, type: ColumnSchema['type']): ColumnSchema => ({ name, type, missing: 0 });

describe('quantile and moments', () => {
  it('interpolates linearly between order statistics, like numpy', () => {
    const sorted = [1, 2, 3, 4];
    expect(quantile(sorted, 0.25)).toBe(1.75);
    expect(quantile(sorted, 0.5)).toBe(2.5);
    expect(quantile(sorted, 0.75)).toBe(3.25);
    expect(quantile(sorted, 0)).toBe(1);
    expect(quantile(sorted, 1)).toBe(4);
    expect(quantile([7], 0.25)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('uses the sample standard deviation and skips non-finite values', () => {
    const { count, mean, std } = moments([2, 4, 4, 4, 5, 5, 7, 9, Number.NaN, Number.POSITIVE_INFINITY]);
    expect(count).toBe(8);
    expect(mean).toBe(5);
    expect(std).toBeCloseTo(2.138089935299395, 12); // sqrt(32 / 7)
    expect(moments([3]).std).toBeNaN();
  });
});

describe('histogram', () => {
  const zeroToNine = Float64Array.from({ length: 10 }, (_, i) => i);

  it('picks Freedman–Diaconis bins and closes the last one', () => {
    // IQR = 6.75 − 2.25 = 4.5, width = 2·4.5/∛10 ≈ 4.18, so ⌈9 / 4.18⌉ = 3 bins.
    expect(histogram(zeroToNine, 50)).toEqual({ edges: [0, 3, 6, 9], counts: [3, 3, 4] });
  });

  it('keeps whole numbers in one bin for integer columns', () => {
    expect(histogram(zeroToNine, 50, 1)).toEqual({ edges: [0, 4, 8, 12], counts: [4, 4, 2] });
  });

  it('respects the bin cap and gives a constant column one bin around its value', () => {
    expect(histogram(zeroToNine, 2)?.counts).toEqual([5, 5]);
    expect(histogram(Float64Array.of(5, 5, 5), 50)).toEqual({ edges: [4.5, 5.5], counts: [3] });
    expect(histogram(new Float64Array(0), 50)).toBeNull();
  });
});

describe('readColumn', () => {
  it('reads numbers with nulls, NaN as missing, and keeps infinities', () => {
    const table = tableFromArrays({ x: Float64Array.of(1, Number.NaN, Number.POSITIVE_INFINITY, -2) });
    const column = readColumn(table, 'x') as NumberColumn;
    expect(column.storage).toBe('number');
    expect(column.type).toBe('float');
    expect(column.missing).toBe(1);
    expect(Array.from(sortedPresent(column))).toEqual([-2, 1, Number.POSITIVE_INFINITY]);
  });

  it('reads sliced tables at the right offsets', () => {
    const table = buildTable(
      [schema('n', 'integer'), schema('b', 'boolean'), schema('c', 'categorical'), schema('t', 'text')],
      [
        ['1', '2', '', '4', '5'],
        ['yes', 'no', 'yes', '', 'no'],
        ['x', 'y', 'x', 'z', ''],
        ['aa', 'b', '', 'dddd', 'e']
      ]
    ).slice(1, 4);
    const n = readColumn(table, 'n') as NumberColumn;
    expect(Array.from(n.values)).toEqual([2, Number.NaN, 4]);
    const b = readColumn(table, 'b');
    expect(b.storage === 'codes' && Array.from(b.codes, (c) => b.labels[c] ?? null)).toEqual([
      'false',
      'true',
      null
    ]);
    const c = readColumn(table, 'c');
    expect(c.storage === 'codes' && Array.from(c.codes, (code) => c.labels[code] ?? null)).toEqual([
      'y',
      'x',
      'z'
    ]);
    const t = readColumn(table, 't') as StringColumn;
    expect(Array.from(t.lengths)).toEqual([1, -1, 4]);
    expect(t.valueAt(2)).toBe('dddd');
    expect(t.missing).toBe(1);
  });

  it('merges dictionaries that differ between chunks by label', () => {
    const type = new Dictionary(new Utf8(), new Int32(), 0);
    const chunk = (codes: number[], dictionary: string[]): Data =>
      makeData({
        type,
        length: codes.length,
        data: Int32Array.from(codes),
        dictionary: vectorFromArray(dictionary, new Utf8())
      });
    const table = new Table({ c: new Vector([chunk([0, 1, 0], ['a', 'b']), chunk([0, 1], ['c', 'b'])]) });
    const column = readColumn(table, 'c');
    expect(column.storage).toBe('codes');
    expect(valueCounts(column, 10).top).toEqual([
      { value: 'a', count: 2 },
      { value: 'b', count: 2 },
      { value: 'c', count: 1 }
    ]);
  });

  it('hashes string cells the same way as hashString, code points for lengths', () => {
    const table = new Table({
      s: vectorFromArray(['héllo', 'xyz🙂', null, 'héllo'], new Utf8()),
      n: vectorFromArray([1, 2, 3, 4], new Int32()),
      f: vectorFromArray([true, null, false, true], new Bool()),
      g: vectorFromArray([0.5, 1.5, null, 2.5], new Float64())
    });
    const s = readColumn(table, 's') as StringColumn;
    expect(s.hashes[0]).toBe(hashString('héllo'));
    expect(s.hashes[0]).toBe(s.hashes[3]);
    expect(s.hashes[0]).not.toBe(s.hashes[1]);
    expect(Array.from(s.lengths)).toEqual([5, 4, -1, 5]);
    expect(Number.isSafeInteger(s.hashes[1])).toBe(true);
    expect(readColumn(table, 'f').missing).toBe(1);
    expect(() => readColumn(table, 'nope')).toThrow(/no column/);
  });
});

describe('valueCounts and topLevels', () => {
  it('counts numbers, ties broken by the smaller value', () => {
    const table = tableFromArrays({ x: Float64Array.of(3, 1, 3, 1, 2, Number.NaN) });
    const counts = valueCounts(readColumn(table, 'x'), 2);
    expect(counts).toEqual({
      distinct: 3,
      top: [
        { value: '1', count: 2 },
        { value: '3', count: 2 }
      ],
      otherCount: 1
    });
  });

  it('turns the most frequent values into level codes', () => {
    const table = new Table({ s: vectorFromArray(['b', 'a', 'b', null, 'c', 'b', 'a'], new Utf8()) });
    const levels = topLevels(readColumn(table, 's'), 2);
    expect(levels.labels).toEqual(['b', 'a']);
    expect(levels.counts).toEqual([3, 2]);
    expect(Array.from(levels.codes)).toEqual([0, 1, 0, -1, -1, 0, 1]);
  });
});

describe('correlations', () => {
  it('uses the rows where both columns are finite (pairwise complete)', () => {
    const x = Float64Array.of(1, 2, 3, 4, Number.NaN);
    const y = Float64Array.of(1, 3, 2, Number.NaN, 5);
    const z = Float64Array.of(2, 4, 6, 8, 10);
    const { r, n } = correlations([x, y, z], [0, 0, 0]);
    // x, y over rows 0–2: cov = 1, var x = 2, var y = 2, so r = 0.5.
    expect(r[0]?.[1]).toBeCloseTo(0.5, 12);
    expect(n[0]?.[1]).toBe(3);
    expect(r[0]?.[2]).toBeCloseTo(1, 12);
    expect(n[0]?.[2]).toBe(4);
    // y, z over rows 0, 1, 2, 4: numpy.corrcoef([1,3,2,5], [2,4,6,10])[0,1].
    expect(r[1]?.[2]).toBeCloseTo(0.8857142857142857, 12);
    expect(r[2]?.[2]).toBe(1);
  });

  it('is NaN for a constant column and agrees across block boundaries', () => {
    const size = 10_000;
    const a = Float64Array.from({ length: size }, (_, i) => Math.sin(i));
    const b = Float64Array.from({ length: size }, (_, i) =>
      i % 97 === 0 ? Number.NaN : Math.sin(i) * 3 + Math.cos(i)
    );
    const c = new Float64Array(size).fill(4);
    const { r } = correlations([a, b, c], [0.1, -0.2, 4]);
    let sx = 0;
    let sy = 0;
    let m = 0;
    for (let i = 0; i < size; i++) {
      if (Number.isNaN(b[i])) continue;
      sx += a[i] ?? 0;
      sy += b[i] ?? 0;
      m++;
    }
    let cov = 0;
    let vx = 0;
    let vy = 0;
    for (let i = 0; i < size; i++) {
      if (Number.isNaN(b[i])) continue;
      const dx = (a[i] ?? 0) - sx / m;
      const dy = (b[i] ?? 0) - sy / m;
      cov += dx * dy;
      vx += dx * dx;
      vy += dy * dy;
    }
    expect(r[0]?.[1]).toBeCloseTo(cov / Math.sqrt(vx * vy), 10);
    expect(r[0]?.[2]).toBeNaN();
    expect(r[2]?.[2]).toBeNaN();
  });
});

describe('distinct counts in bounded memory', () => {
  /** Within four standard errors: the hashes are fixed, so this is deterministic, not a flaky bound. */
  function expectClose(estimate: number, truth: number, relativeError: number): void {
    expect(Math.abs(estimate - truth) / truth).toBeLessThan(4 * relativeError);
  }

  it('HyperLogLog estimates large counts of numbers and strings within its error bound', () => {
    const numbers = new HyperLogLog();
    for (let i = 0; i < 1_000_000; i++) numbers.addNumber(i * 0.5 - 1234);
    expect(numbers.relativeError).toBeCloseTo(0.0081, 4);
    expectClose(numbers.estimate(), 1_000_000, numbers.relativeError);

    const strings = new HyperLogLog();
    for (let i = 0; i < 300_000; i++) strings.addString(`user-${i.toString(36)}@example.com`);
    expectClose(strings.estimate(), 300_000, strings.relativeError);
  });

  it('HyperLogLog ignores repeats and is near exact for small counts (linear counting)', () => {
    const once = new HyperLogLog();
    const thrice = new HyperLogLog();
    for (let i = 0; i < 2000; i++) {
      once.addNumber(i);
      for (let k = 0; k < 3; k++) thrice.addNumber(i);
    }
    expect(thrice.estimate()).toBe(once.estimate());
    expectClose(once.estimate(), 2000, 0.005);
    expect(new HyperLogLog().estimate()).toBe(0);
  });

  it('counts exactly up to its limit, treating 0 and −0 as one value', () => {
    const counter = new DistinctCounter();
    for (let i = 0; i < 300_000; i++) counter.addNumber(i % 100_000);
    counter.addNumber(-0);
    expect(counter.exact).toBe(true);
    expect(counter.result()).toEqual({ count: 100_000, relativeError: null });

    const words = new DistinctCounter();
    for (const w of ['a', 'b', 'a', 'c', 'b']) words.addString(w);
    expect(words.result()).toEqual({ count: 3, relativeError: null });
    // A limit so low that the estimate would be biased is raised to where it is not.
    expect(new DistinctCounter(10).exactLimit).toBe(81_920);
  });

  it('switches to an estimate past its limit, and says so with the error bound', () => {
    const counter = new DistinctCounter(100_000);
    for (let i = 0; i < 400_000; i++) counter.addString(`k${i}`);
    // Values seen before the switch still count once when seen again after it.
    for (let i = 0; i < 400_000; i += 2) counter.addString(`k${i}`);
    expect(counter.exact).toBe(false);
    const { count, relativeError } = counter.result();
    expect(relativeError).toBeCloseTo(0.0081, 4);
    expectClose(count, 400_000, relativeError ?? 0);
  });
});
