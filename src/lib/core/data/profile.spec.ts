import { Dictionary, Float64, Int32, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { ColumnSchema } from '../records';
import { buildTable } from './arrow';
import { wideTable } from './fixtures/profile/wide-table';
import { seededRandom } from '../pipeline/split';
import { binOf, quantile } from './column-stats';
import {
  BOX_SAMPLE,
  datasetProfileSchema,
  profileTable,
  type ColumnProfile,
  type DatasetProfile
} from './profile';
import { validateTable } from './validate';

const schema = (name: string, type: ColumnSchema['type']): ColumnSchema => ({ name, type, missing: 0 });

/** A table from column-major text cells, typed as given (through the same builder ingest uses). */
function table(columns: Array<[string, ColumnSchema['type'], string[]]>): Table {
  return buildTable(
    columns.map(([name, type]) => schema(name, type)),
    columns.map(([, , cells]) => cells)
  );
}

function column<K extends ColumnProfile['kind']>(
  profile: DatasetProfile,
  name: string,
  kind: K
): Extract<ColumnProfile, { kind: K }> {
  const found = profile.columns.find((c) => c.name === name);
  if (!found || found.kind !== kind) throw new Error(`no ${kind} column ${name}`);
  return found as Extract<ColumnProfile, { kind: K }>;
}

describe('profileTable: numeric columns', () => {
  const profile = profileTable(
    table([
      ['x', 'float', ['1', '2', '2', '3', '4', '100', '']],
      ['n', 'integer', ['0', '0', '-1', '3', '3', '3', '5']],
      ['empty', 'float', ['', '', '', '', '', '', '']],
      ['same', 'float', ['5', '5', '5', '5', '5', '5', '5']]
    ])
  );

  it('computes quartiles by linear interpolation and the sample standard deviation', () => {
    const x = column(profile, 'x', 'numeric');
    expect(x).toMatchObject({ count: 7, missing: 1, distinct: 5, mostCommon: { value: '2', count: 2 } });
    const stats = x.stats;
    expect(stats).toMatchObject({
      count: 6,
      min: 1,
      q1: 2,
      median: 2.5,
      q3: 3.75,
      max: 100,
      zeros: 0,
      infinite: 0
    });
    // numpy: x.mean(), x.std(ddof=1)
    expect(stats?.mean).toBeCloseTo(18.666666666666668, 12);
    expect(stats?.std).toBeCloseTo(39.85808157283372, 10);
    expect(stats?.histogram.counts.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('counts zeros and negatives and bins integers by whole numbers', () => {
    const stats = column(profile, 'n', 'numeric').stats;
    expect(stats).toMatchObject({ zeros: 2, negatives: 1, min: -1, max: 5, median: 3 });
    const edges = stats?.histogram.edges ?? [];
    expect(edges.every((e) => Number.isInteger(e))).toBe(true);
    expect(stats?.histogram.counts.reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('gives an all-missing column null statistics and a constant one zero spread', () => {
    expect(column(profile, 'empty', 'numeric')).toMatchObject({
      missing: 7,
      distinct: 0,
      mostCommon: null,
      stats: null
    });
    const same = column(profile, 'same', 'numeric');
    expect(same.distinct).toBe(1);
    expect(same.stats).toMatchObject({ std: 0, min: 5, max: 5, q1: 5, q3: 5 });
    expect(same.stats?.histogram).toEqual({ edges: [4.5, 5.5], counts: [7] });
  });

  it('handles a single row', () => {
    const one = profileTable(table([['x', 'float', ['2.5']]]));
    expect(column(one, 'x', 'numeric').stats).toMatchObject({
      count: 1,
      mean: 2.5,
      std: null,
      q1: 2.5,
      q3: 2.5
    });
  });

  it('counts NaN as missing and keeps infinities out of the statistics', () => {
    const t = new Table({
      x: vectorFromArray(
        [1, Number.NaN, 3, Number.POSITIVE_INFINITY, null, Number.NEGATIVE_INFINITY],
        new Float64()
      )
    });
    const x = column(profileTable(t), 'x', 'numeric');
    expect(x).toMatchObject({ missing: 2, distinct: 4 });
    expect(x.stats).toMatchObject({ count: 2, mean: 2, min: 1, max: 3, infinite: 2 });
  });
});

describe('profileTable: other columns', () => {
  const profile = profileTable(
    table([
      ['species', 'categorical', ['b', 'a', 'b', 'c', '', 'b', 'a']],
      ['ok', 'boolean', ['yes', 'no', 'yes', 'yes', '', 'no', 'yes']],
      ['note', 'text', ['héllo', 'ab', 'ab', '', 'xyz🙂', '', '']],
      [
        'day',
        'date',
        ['2024-01-01', '2024-01-03', '2024-01-03', '', '2024-01-10', '2024-01-02', '2024-01-01']
      ]
    ]),
    { maxTopValues: 2 }
  );

  it('lists top values of dictionary columns, most frequent first, with the rest counted', () => {
    const species = column(profile, 'species', 'categorical');
    expect(species).toMatchObject({ missing: 1, distinct: 3 });
    expect(species.topValues).toEqual({
      values: [
        { value: 'b', count: 3 },
        { value: 'a', count: 2 }
      ],
      otherCount: 1
    });
    const ok = column(profile, 'ok', 'categorical');
    expect(ok.topValues.values).toEqual([
      { value: 'true', count: 4 },
      { value: 'false', count: 2 }
    ]);
  });

  it('measures text lengths in code points', () => {
    const note = column(profile, 'note', 'text');
    expect(note).toMatchObject({ missing: 3, distinct: 3, mostCommon: { value: 'ab', count: 2 } });
    // Lengths 5, 2, 2, 4.
    expect(note.length).toEqual({ min: 2, mean: 3.25, median: 3, max: 5 });
  });

  it('gives dates their range and whole-day bins', () => {
    const day = column(profile, 'day', 'temporal');
    expect(day.min).toBe(Date.UTC(2024, 0, 1));
    expect(day.max).toBe(Date.UTC(2024, 0, 10));
    expect(day.mostCommon).toEqual({ value: '2024-01-01', count: 2 });
    const edges = day.histogram?.edges ?? [];
    expect(edges.every((e) => (e - Date.UTC(2024, 0, 1)) % 86_400_000 === 0)).toBe(true);
    expect(day.histogram?.counts.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('gives the same profile however the table is chunked', () => {
    const columns: Array<[string, ColumnSchema['type'], string[]]> = [
      ['x', 'float', ['1', '', '2.5', '4', '4', '-3', '7']],
      ['c', 'categorical', ['b', 'a', 'b', 'c', '', 'b', 'a']],
      ['t', 'text', ['héllo', 'ab', 'ab', '', 'xyz🙂', '', 'q']],
      [
        'd',
        'datetime',
        ['2024-01-01T10:00:00Z', '', '2024-01-03T00:00:00Z', '2024-01-01T10:00:00Z', '', '', '']
      ]
    ];
    const whole = buildTable(
      columns.map(([name, type]) => schema(name, type)),
      columns.map(([, , cells]) => cells)
    );
    const chunked = buildTable(
      columns.map(([name, type]) => schema(name, type)),
      columns.map(([, , cells]) => cells),
      { maxRows: 3 }
    );
    expect(chunked.batches.length).toBe(3);
    expect(profileTable(chunked, { target: 'c' })).toEqual(profileTable(whole, { target: 'c' }));
  });

  it('is plain JSON that its schema accepts', () => {
    const copy: unknown = JSON.parse(JSON.stringify(profile));
    expect(copy).toEqual(profile);
    expect(datasetProfileSchema.parse(copy)).toEqual(profile);
  });
});

describe('profileTable: correlations and target plots', () => {
  const x = ['1', '2', '3', '4', '5', '6', '7', '8'];
  const y = ['2', '4', '6', '8', '10', '12', '14', '16'];
  const noisy = ['1', '3', '2', '5', '4', '6', '8', '7'];
  const flat = ['3', '3', '3', '3', '3', '3', '3', '3'];
  const group = ['a', 'a', 'a', 'b', 'b', 'b', 'b', 'a'];

  it('builds a Pearson matrix over numeric columns, the target first, with null where undefined', () => {
    const profile = profileTable(
      table([
        ['x', 'float', x],
        ['y', 'float', y],
        ['noisy', 'float', noisy],
        ['flat', 'float', flat]
      ]),
      { target: 'y', correlationColumns: 3 }
    );
    const correlation = profile.correlation;
    expect(correlation?.columns).toEqual(['y', 'x', 'noisy']);
    expect(correlation?.omitted).toEqual(['flat']);
    expect(correlation?.matrix[0]?.[1]).toBeCloseTo(1, 12);
    // numpy.corrcoef(x, noisy)[0, 1]
    expect(correlation?.matrix[1]?.[2]).toBeCloseTo(0.9285714285714287, 12);
    expect(correlation?.matrix[0]?.[0]).toBe(1);
    const withFlat = profileTable(
      table([
        ['x', 'float', x],
        ['flat', 'float', flat]
      ])
    );
    expect(withFlat.correlation?.matrix).toEqual([
      [1, null],
      [null, null]
    ]);
  });

  it('plots numeric features per class and categorical ones as a contingency table', () => {
    const profile = profileTable(
      table([
        ['x', 'float', x],
        ['group', 'categorical', group],
        ['label', 'categorical', ['no', 'no', 'no', 'yes', 'yes', 'yes', 'yes', 'no']]
      ]),
      { target: 'label' }
    );
    expect(profile.target?.task).toBe('classification');
    expect(profile.target?.classes).toEqual([
      { value: 'no', count: 4 },
      { value: 'yes', count: 4 }
    ]);
    const [histograms, contingency] = profile.target?.plots ?? [];
    expect(histograms?.kind).toBe('class_histograms');
    if (histograms?.kind === 'class_histograms') {
      expect(histograms.classes.map((c) => c.value)).toEqual(['no', 'yes']);
      // "no" is x = 1, 2, 3, 8: quartiles by interpolation.
      expect(histograms.classes[0]?.box).toEqual({
        count: 4,
        mean: 3.5,
        min: 1,
        q1: 1.75,
        median: 2.5,
        q3: 4.25,
        max: 8
      });
      for (const c of histograms.classes) expect(c.counts.reduce((a, b) => a + b, 0)).toBe(4);
    }
    expect(contingency).toEqual({
      kind: 'contingency',
      feature: 'group',
      featureValues: ['a', 'b'],
      classes: ['no', 'yes'],
      counts: [
        [4, 0],
        [0, 4]
      ],
      truncated: false
    });
  });

  it('samples numeric pairs for a scatter, reproducibly, and boxes the target per category', () => {
    const rows = 5000;
    const xs = Array.from({ length: rows }, (_, i) => String(i % 100));
    const ys = Array.from({ length: rows }, (_, i) => String((i % 100) * 2 + (i % 7)));
    const gs = Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? 'p' : 'q'));
    const t = table([
      ['x', 'integer', xs],
      ['g', 'categorical', gs],
      ['y', 'float', ys]
    ]);
    const first = profileTable(t, { target: 'y', seed: 7 });
    const again = profileTable(t, { target: 'y', seed: 7 });
    expect(first.target?.task).toBe('regression');
    const scatter = first.target?.plots.find((p) => p.kind === 'scatter');
    expect(scatter?.kind === 'scatter' && scatter.x.length).toBe(2000);
    expect(scatter?.kind === 'scatter' && scatter.total).toBe(rows);
    expect(again.target?.plots).toEqual(first.target?.plots);
    const other = profileTable(t, { target: 'y', seed: 8 }).target?.plots.find((p) => p.kind === 'scatter');
    expect(other).not.toEqual(scatter);
    const box = first.target?.plots.find((p) => p.kind === 'category_box');
    expect(box?.kind === 'category_box' && box.categories.map((c) => [c.value, c.box?.count])).toEqual([
      ['q', 3333],
      ['p', 1667]
    ]);
  });

  it('refuses a target the table does not have', () => {
    expect(() => profileTable(table([['x', 'float', x]]), { target: 'nope' })).toThrow(/no target column/);
  });
});

describe('profileTable at scale', () => {
  // The 1,000,000 × 20 timing lives in `npm run bench` (bench/profile.bench.ts); this checks the results.
  it('profiles 100,000 rows × 20 columns with exact counts', { timeout: 60_000 }, () => {
    const big = wideTable(100_000);
    expect(big.numCols).toBe(20);
    const profile = profileTable(big);
    const withTarget = profileTable(big, { target: 'label' });
    const report = validateTable(big, { target: 'label', profile });
    expect(report.rows).toBe(100_000);
    expect(profile.columns).toHaveLength(20);
    expect(withTarget.target?.plots.length).toBeGreaterThan(10);
    expect(column(profile, 'id', 'categorical').distinct).toBe(100_000);
  });
});

describe('profileTable against straightforward references on random data', () => {
  const random = seededRandom(99);
  const rows = 24_000;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const classes = Array.from({ length: rows }, () => pick(['low', 'mid', 'mid', 'high']));
  const x = Array.from({ length: rows }, (_, r) =>
    random() < 0.05
      ? pick([null, Number.NaN, Number.POSITIVE_INFINITY, -0, 0])
      : (random() - 0.5) * 40 + (classes[r] === 'high' ? 15 : 0)
  );
  const n = Array.from({ length: rows }, () =>
    random() < 0.03 ? null : Math.floor(random() * random() * 90) - 20
  );
  const y = Array.from({ length: rows }, (_, r) => ((x[r] ?? 0) || 0) * 0.5 + random() * 10);
  const t = new Table({
    x: vectorFromArray(x, new Float64()),
    n: vectorFromArray(n, new Int32()),
    cls: vectorFromArray(classes, new Dictionary(new Utf8(), new Int32())),
    y: vectorFromArray(y, new Float64())
  });

  const sortedFinite = (cells: ReadonlyArray<number | null>): number[] =>
    cells.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  const box = (sorted: readonly number[]) => ({
    count: sorted.length,
    min: sorted[0],
    q1: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    q3: quantile(sorted, 0.75),
    max: sorted[sorted.length - 1]
  });
  const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

  it('gives each numeric column its exact statistics', () => {
    const profile = profileTable(t);
    for (const [name, cells] of [
      ['x', x],
      ['n', n]
    ] as const) {
      const found = column(profile, name, 'numeric');
      const present = cells.filter((v): v is number => v !== null && !Number.isNaN(v));
      const finite = sortedFinite(cells);
      const counts = new Map<number, number>();
      for (const v of present) counts.set(v, (counts.get(v) ?? 0) + 1);
      const [top] = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      expect(found).toMatchObject({ missing: rows - present.length, distinct: counts.size });
      expect(found.mostCommon).toEqual({ value: String(top?.[0]), count: top?.[1] });
      const stats = found.stats;
      expect(stats).toMatchObject({
        ...box(finite),
        zeros: finite.filter((v) => v === 0).length,
        negatives: finite.filter((v) => v < 0).length,
        infinite: present.length - finite.length
      });
      const m = mean(finite);
      expect(stats?.mean).toBeCloseTo(m, 10);
      expect(stats?.std).toBeCloseTo(
        Math.sqrt(finite.reduce((s, v) => s + (v - m) ** 2, 0) / (finite.length - 1)),
        10
      );
      const edges = stats?.histogram.edges ?? [];
      const expected = edges.slice(1).map(() => 0);
      for (const v of finite) expected[binOf(edges, v)]! += 1;
      expect(stats?.histogram.counts).toEqual(expected);
    }
  });

  it('draws per-class histograms and boxes as filtering each class would', () => {
    const profile = profileTable(t, { target: 'cls' });
    const labels = profile.target?.classes?.map((c) => c.value) ?? [];
    expect([...labels].sort()).toEqual(['high', 'low', 'mid']);
    for (const [name, cells] of [
      ['x', x],
      ['n', n]
    ] as const) {
      const plot = profile.target?.plots.find((p) => p.kind === 'class_histograms' && p.feature === name);
      if (plot?.kind !== 'class_histograms') throw new Error(`no class histograms of ${name}`);
      for (const drawn of plot.classes) {
        const group = sortedFinite(cells.filter((_, r) => classes[r] === drawn.value));
        // Every class has fewer than BOX_SAMPLE rows here, so its quartiles are exact.
        expect(group.length).toBeLessThan(BOX_SAMPLE);
        expect(drawn.box).toMatchObject(box(group));
        expect(drawn.box?.mean).toBeCloseTo(mean(group), 10);
        const counts = plot.edges.slice(1).map(() => 0);
        for (const v of group) counts[binOf(plot.edges, v)]! += 1;
        expect(drawn.counts).toEqual(counts);
      }
    }
  });

  it('boxes a numeric target per category and samples its scatter from the rows where both are finite', () => {
    const profile = profileTable(t, { target: 'y' });
    const boxes = profile.target?.plots.find((p) => p.kind === 'category_box');
    if (boxes?.kind !== 'category_box') throw new Error('no category box');
    for (const category of boxes.categories) {
      const group = sortedFinite(y.filter((_, r) => classes[r] === category.value));
      expect(category.box).toMatchObject(box(group));
    }
    const scatter = profile.target?.plots.find((p) => p.kind === 'scatter' && p.feature === 'x');
    if (scatter?.kind !== 'scatter') throw new Error('no scatter');
    const both = x.filter((v, r) => v !== null && Number.isFinite(v) && Number.isFinite(y[r]));
    expect(scatter.total).toBe(both.length);
    expect(scatter.x).toHaveLength(2000);
    const pairs = new Set(x.map((v, r) => `${v}:${y[r]}`));
    scatter.x.forEach((v, i) => expect(pairs.has(`${v}:${scatter.y[i]}`)).toBe(true));
  });
});
