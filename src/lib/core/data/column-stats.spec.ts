import {
  Bool,
  Dictionary,
  Float64,
  Int32,
  Int64,
  Table,
  Utf8,
  Vector,
  makeData,
  tableFromArrays,
  vectorFromArray,
  type Data,
  type DataType
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { ColumnSchema } from '../records';
import { buildTable } from './arrow';
import { DistinctCounter, HyperLogLog } from './distinct-counter';
import {
  correlations,
  firstRows,
  hashString,
  histogram,
  lowerBound,
  lowerBoundFinder,
  moments,
  quantile,
  readColumn,
  sortedPresent,
  topLevels,
  topNumbers,
  valueCounts,
  type NumberColumn,
  type StringColumn
} from './column-stats';
import { seededRandom } from '../pipeline/split';

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

describe('fast paths against straightforward references on random data', () => {
  const random = seededRandom(2024);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

  /** Chunks of random sizes, some of them slices (so bitmaps and values start at an offset). */
  function chunked<T>(cells: readonly T[], type: DataType): Vector {
    const whole = vectorFromArray(cells as T[], type);
    const parts: Data[] = [];
    for (let start = 0; start < cells.length;) {
      const size = Math.min(cells.length - start, 1 + Math.floor(random() * 3000));
      parts.push(...whole.slice(start, start + size).data);
      start += size;
    }
    return new Vector(parts);
  }

  it('reads numbers, codes and strings as Arrow reads each cell', () => {
    const rows = 9000;
    const numbers = Array.from({ length: rows }, () =>
      random() < 0.1 ? null : pick([0, -0, Number.NaN, Number.POSITIVE_INFINITY, (random() - 0.5) * 1e6])
    );
    const ints = Array.from({ length: rows }, () =>
      random() < 0.1 ? null : Math.floor(random() * 200) - 100
    );
    const bigs = Array.from({ length: rows }, () =>
      random() < 0.1 ? null : BigInt(Math.floor((random() - 0.5) * 2 ** 50))
    );
    const words = ['', 'a', 'héllo', 'xyz🙂', 'mañana', 'b'];
    const strings = Array.from({ length: rows }, () =>
      random() < 0.1 ? null : `${pick(words)}${pick(words)}`
    );
    const bools = Array.from({ length: rows }, () => (random() < 0.1 ? null : random() < 0.5));
    const categories = Array.from({ length: rows }, () => (random() < 0.1 ? null : pick(['p', 'q', 'r'])));
    const table = new Table({
      f: chunked(numbers, new Float64()),
      i: chunked(ints, new Int32()),
      b: chunked(bigs, new Int64()),
      s: chunked(strings, new Utf8()),
      t: chunked(bools, new Bool()),
      c: chunked(categories, new Dictionary(new Utf8(), new Int32()))
    });
    expect(table.getChild('f')?.data.length).toBeGreaterThan(2);
    const asNumber = (cell: unknown): number => (cell === null ? Number.NaN : Number(cell));
    for (const name of ['f', 'i', 'b'] as const) {
      const column = readColumn(table, name) as NumberColumn;
      const vector = table.getChild(name) as Vector;
      const expected = Array.from({ length: rows }, (_, r) => asNumber(vector.get(r)));
      expect(Array.from(column.values)).toEqual(expected);
      expect(column.missing).toBe(expected.filter((x) => Number.isNaN(x)).length);
    }
    const s = readColumn(table, 's') as StringColumn;
    strings.forEach((cell, r) => {
      expect(s.hashes[r]).toEqual(cell === null ? Number.NaN : hashString(cell));
      expect(s.lengths[r]).toBe(cell === null ? -1 : [...cell].length);
    });
    for (const [name, cells] of [
      ['t', bools],
      ['c', categories]
    ] as const) {
      const column = readColumn(table, name);
      if (column.storage !== 'codes') throw new Error(`${name} is not codes`);
      const labels = Array.from(column.codes, (code) => (code < 0 ? null : column.labels[code]));
      expect(labels).toEqual(cells.map((cell) => (cell === null ? null : String(cell))));
      expect(column.missing).toBe(cells.filter((cell) => cell === null).length);
    }
  });

  /** Counts by a Map, most frequent first, ties by the smaller key. */
  function referenceTop(
    keys: readonly number[],
    k: number
  ): { distinct: number; top: Array<{ value: number; count: number }> } {
    const counts = new Map<number, number>();
    for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
    const all = [...counts].map(([value, count]) => ({ value, count }));
    all.sort((a, b) => b.count - a.count || a.value - b.value);
    return { distinct: counts.size, top: all.slice(0, k) };
  }

  it('finds the most frequent numbers and the distinct count', () => {
    for (const [size, spread] of [
      [5000, 40],
      [20_000, 3000],
      [20_000, 1e9],
      [300, 7]
    ] as const) {
      const values = Array.from({ length: size }, () => Math.floor(random() * random() * spread) / 4);
      const sorted = Float64Array.from(values).sort();
      for (const k of [0, 1, 5, 20, 10_000]) {
        expect(topNumbers(sorted, k)).toEqual(referenceTop(values, k));
      }
    }
  });

  it('counts strings and their levels like a Map of the values would', () => {
    const size = 12_000;
    const cells = Array.from({ length: size }, () =>
      random() < 0.05 ? null : `v${Math.floor(random() * random() * 400)}`
    );
    const table = new Table({ s: chunked(cells, new Utf8()) });
    const column = readColumn(table, 's');
    const counts = new Map<string, number>();
    for (const cell of cells) if (cell !== null) counts.set(cell, (counts.get(cell) ?? 0) + 1);
    // Ties at the cut are broken by hash, so compare only up to the last count that is not tied.
    const found = valueCounts(column, 15);
    expect(found.distinct).toBe(counts.size);
    for (const { value, count } of found.top) expect(counts.get(value)).toBe(count);
    const byCount = [...counts.values()].sort((a, b) => b - a);
    expect(found.top.map((t) => t.count)).toEqual(byCount.slice(0, 15));
    for (const k of [3, 40]) {
      const levels = topLevels(column, k);
      expect(levels.counts).toEqual(byCount.slice(0, k));
      cells.forEach((cell, r) => {
        const level = levels.codes[r] ?? -1;
        expect(level < 0 ? null : levels.labels[level]).toBe(
          cell !== null && levels.labels.includes(cell) ? cell : null
        );
      });
    }
  });

  it('gives number levels by value, with few levels or many', () => {
    const values = Array.from({ length: 8000 }, () =>
      random() < 0.05 ? Number.NaN : Math.floor(random() * 60) - 30
    );
    const table = new Table({ x: vectorFromArray(Float64Array.from(values)) });
    for (const k of [4, 50]) {
      const levels = topLevels(readColumn(table, 'x'), k);
      const { top } = referenceTop(
        values.filter((x) => !Number.isNaN(x)),
        k
      );
      expect(levels.counts).toEqual(top.map((t) => t.count));
      values.forEach((x, r) => {
        const expected = top.findIndex((t) => t.value === x);
        expect(levels.codes[r]).toBe(expected);
      });
    }
  });

  it('finds the lower bound among cuts as a binary search does', () => {
    const cutSets: number[][] = [
      [],
      [5],
      [1, 1, 1, 2, 3, 3, 10],
      Array.from({ length: 19 }, (_, i) => i * i - 40),
      [Number.NEGATIVE_INFINITY, -1, 0, 0, 2, Number.POSITIVE_INFINITY],
      [1, Number.NaN, 3, 2],
      Float64Array.from({ length: 30 }, () => random() * 100)
        .sort()
        .map((x) => Math.round(x)) as unknown as number[]
    ].map((cuts) => Array.from(cuts));
    const probes = [
      ...Array.from({ length: 2000 }, () => (random() - 0.3) * 150),
      ...Array.from({ length: 200 }, () => Math.round((random() - 0.3) * 120)),
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      -0
    ];
    for (const cuts of cutSets) {
      const find = lowerBoundFinder(cuts);
      for (const x of [...probes, ...cuts]) expect(find(x)).toBe(lowerBound(cuts, x));
    }
  });

  it('correlates many columns as a two-pass formula over the shared finite rows does', () => {
    const rows = 10_000;
    const base = Array.from({ length: rows }, () => random());
    const columns = Array.from({ length: 7 }, (_, c) =>
      Float64Array.from(base, (b, r) =>
        r % (c + 5) === 0 ? pick([Number.NaN, Number.POSITIVE_INFINITY]) : b * (c - 3) + random() * (c + 1)
      )
    );
    const { r, n } = correlations(
      columns,
      columns.map(() => 0.4)
    );
    for (let i = 0; i < columns.length; i++) {
      for (let j = i + 1; j < columns.length; j++) {
        const x = columns[i] as Float64Array;
        const y = columns[j] as Float64Array;
        const both = Array.from(x.keys()).filter((row) => Number.isFinite(x[row]) && Number.isFinite(y[row]));
        const mx = both.reduce((s, row) => s + (x[row] ?? 0), 0) / both.length;
        const my = both.reduce((s, row) => s + (y[row] ?? 0), 0) / both.length;
        let cov = 0;
        let vx = 0;
        let vy = 0;
        for (const row of both) {
          cov += ((x[row] ?? 0) - mx) * ((y[row] ?? 0) - my);
          vx += ((x[row] ?? 0) - mx) ** 2;
          vy += ((y[row] ?? 0) - my) ** 2;
        }
        expect(n[i]?.[j]).toBe(both.length);
        expect(r[i]?.[j]).toBeCloseTo(cov / Math.sqrt(vx * vy), 10);
        expect(r[j]?.[i]).toBe(r[i]?.[j]);
      }
    }
  });

  it('finds the first row of each key', () => {
    const values = Float64Array.from({ length: 20_000 }, () =>
      random() < 0.1 ? Number.NaN : Math.floor(random() * 5000) * 2 ** 21 + 17
    );
    const keys = [values[19_999] ?? 0, values[3] ?? 0, 12345, values[7000] ?? 0];
    const rows = firstRows(values, keys);
    for (const key of keys) {
      // A Set's equality: NaN matches NaN.
      const first = values.findIndex((v) => v === key || (Number.isNaN(v) && Number.isNaN(key)));
      expect(rows.get(key)).toBe(first < 0 ? undefined : first);
    }
  });
});
