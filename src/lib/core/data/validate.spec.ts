import { readFileSync } from 'node:fs';
import { Dictionary, Float64, Int32, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { ColumnSchema } from '../records';
import { buildTable } from './arrow';
import { seededRandom } from '../pipeline/split';
import { inferSchema } from './infer';
import { profileTable } from './profile';
import { validateTable, validationReportSchema, type Finding, type ValidationReport } from './validate';

const schema = (name: string, type: ColumnSchema['type']): ColumnSchema => ({ name, type, missing: 0 });

function table(columns: Array<[string, ColumnSchema['type'], string[]]>): Table {
  return buildTable(
    columns.map(([name, type]) => schema(name, type)),
    columns.map(([, , cells]) => cells)
  );
}

const repeat = (value: string, times: number): string[] => Array.from({ length: times }, () => value);
const range = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));

function find(report: ValidationReport, code: Finding['code'], column?: string): Finding | undefined {
  return report.findings.find((f) => f.code === code && f.column === column);
}

/** The churn fixture, read the way ingest reads a CSV. */
function churn(): { table: Table; malformed: Record<string, number> } {
  const text = readFileSync(new URL('./fixtures/profile/churn.csv', import.meta.url), 'utf8');
  const [header = '', ...lines] = text.trim().split('\n');
  const names = header.split(',');
  const cells = names.map((_, c) => lines.map((line) => line.split(',')[c] ?? ''));
  const inferred = inferSchema(names, cells);
  return {
    table: buildTable(inferred.columns, cells),
    malformed: Object.fromEntries(inferred.malformed.map((m) => [m.column, m.count]))
  };
}

describe('validateTable on the churn fixture', () => {
  const { table: data } = churn();
  const report = validateTable(data, { target: 'churned', malformed: { monthly: 2 } });

  it('finds the planted problems, most severe first', () => {
    expect(find(report, 'missing_values', 'age')).toMatchObject({ severity: 'info', value: 2 });
    expect(find(report, 'outliers_iqr', 'age')).toMatchObject({ value: 1 });
    expect(find(report, 'outliers_zscore', 'age')).toMatchObject({ value: 1 });
    expect(find(report, 'constant_column', 'country')).toMatchObject({ severity: 'warning' });
    expect(find(report, 'type_errors', 'monthly')).toMatchObject({ severity: 'warning', value: 2 });
    expect(find(report, 'likely_leakage', 'cancel_reason')).toMatchObject({
      severity: 'warning',
      value: 1,
      details: { method: 'mapping', rows: 40 }
    });
    // The two copies differ from rows 1 and 2 only in their customer id, which is left out.
    expect(find(report, 'duplicate_rows')).toMatchObject({
      value: 2,
      details: { exampleRows: [38, 39], firstRows: [0, 1] }
    });
    const ranks = report.findings.map((f) => ({ error: 0, warning: 1, info: 2 })[f.severity]);
    expect(ranks).toEqual([...ranks].sort());
    expect(report.counts.warning).toBe(report.findings.filter((f) => f.severity === 'warning').length);
  });

  it('raises nothing about the identifier, the plan or the balanced-enough target', () => {
    const columns = new Set(report.findings.map((f) => f.column));
    expect(columns.has('customer_id')).toBe(false);
    expect(columns.has('plan')).toBe(false);
    expect(find(report, 'class_imbalance', 'churned')).toBeUndefined();
    expect(find(report, 'likely_leakage', 'monthly')).toBeUndefined();
  });

  it('uses a given profile the same way, and its output matches its schema', () => {
    const profile = profileTable(data, { target: 'churned' });
    const again = validateTable(data, { target: 'churned', malformed: { monthly: 2 }, profile });
    expect(again).toEqual(report);
    expect(validationReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
  });

  it('skips ignored columns and flags an identifier used as a feature', () => {
    const roles = { country: 'ignore', customer_id: 'feature', cancel_reason: 'ignore' } as const;
    const withRoles = validateTable(data, { target: 'churned', roles });
    expect(find(withRoles, 'constant_column', 'country')).toBeUndefined();
    expect(find(withRoles, 'likely_leakage', 'cancel_reason')).toBeUndefined();
    expect(find(withRoles, 'identifier_as_feature', 'customer_id')).toMatchObject({ severity: 'warning' });
    // Now the id takes part in row comparison, so no two rows are equal.
    expect(find(withRoles, 'duplicate_rows')).toBeUndefined();
  });
});

describe('validateTable checks', () => {
  it('reports missing shares with severity by share, and all-missing columns', () => {
    const report = validateTable(
      table([
        ['a', 'float', ['1', '', '3', '4', '5', '6', '7', '8', '9', '10']],
        ['b', 'float', ['', '', '3', '4', '5', '6', '7', '8', '9', '10']],
        ['c', 'text', repeat('', 10)]
      ])
    );
    expect(find(report, 'missing_values', 'a')).toMatchObject({
      severity: 'info',
      value: 1,
      details: { share: 0.1 }
    });
    // 20% is the warning threshold.
    expect(find(report, 'missing_values', 'b')).toMatchObject({ severity: 'warning', value: 2 });
    expect(find(report, 'all_missing', 'c')).toMatchObject({ severity: 'warning', value: 10 });
  });

  it('counts IQR and z-score outliers with their bounds', () => {
    // 1…19 and 1000: quartiles 5.75 and 15.25, so the IQR fences are −8.5 and 29.5; z(1000) ≈ 4.25.
    const x = [...range(19, (i) => String(i + 1)), '1000'];
    const report = validateTable(table([['x', 'float', x]]));
    expect(find(report, 'outliers_iqr', 'x')).toMatchObject({
      value: 1,
      details: { lower: -8.5, upper: 29.5 }
    });
    expect(find(report, 'outliers_zscore', 'x')).toMatchObject({ value: 1 });
    // With 1…10 and 100, 100 is an IQR outlier but only 2.9 standard deviations out.
    const small = validateTable(table([['x', 'float', [...range(10, (i) => String(i + 1)), '100']]]));
    expect(find(small, 'outliers_iqr', 'x')?.value).toBe(1);
    expect(find(small, 'outliers_zscore', 'x')).toBeUndefined();
  });

  it('tells constant from near-constant columns', () => {
    const report = validateTable(
      table([
        ['same', 'categorical', repeat('a', 100)],
        ['almost', 'categorical', [...repeat('a', 99), 'b']],
        ['mixed', 'categorical', [...repeat('a', 98), 'b', 'b']]
      ])
    );
    expect(find(report, 'constant_column', 'same')).toMatchObject({ severity: 'warning' });
    expect(find(report, 'near_constant_column', 'almost')).toMatchObject({ severity: 'info', value: 0.99 });
    expect(find(report, 'near_constant_column', 'mixed')).toBeUndefined();
  });

  it('flags categorical columns with too many distinct values', () => {
    const report = validateTable(
      table([
        ['city', 'categorical', range(100, (i) => `city ${i % 60}`)],
        ['region', 'categorical', range(100, (i) => `region ${i % 40}`)]
      ])
    );
    expect(find(report, 'high_cardinality', 'city')).toMatchObject({ value: 60 });
    expect(find(report, 'high_cardinality', 'region')).toBeUndefined();
  });

  it('measures class imbalance and refuses a single-class target', () => {
    const rows = (yes: number, total: number): string[] => range(total, (i) => (i < yes ? 'yes' : 'no'));
    const feature = range(100, (i) => String(i % 13));
    const mild = validateTable(
      table([
        ['f', 'float', feature],
        ['y', 'categorical', rows(10, 100)]
      ]),
      { target: 'y' }
    );
    expect(find(mild, 'class_imbalance', 'y')).toMatchObject({
      severity: 'info',
      value: 9,
      details: { minorityClass: 'yes', minorityShare: 0.1, majorityClass: 'no' }
    });
    const strong = validateTable(
      table([
        ['f', 'float', feature],
        ['y', 'categorical', rows(5, 100)]
      ]),
      { target: 'y' }
    );
    expect(find(strong, 'class_imbalance', 'y')).toMatchObject({ severity: 'warning', value: 19 });
    const single = validateTable(
      table([
        ['f', 'float', feature],
        ['y', 'categorical', rows(0, 100)]
      ]),
      { target: 'y' }
    );
    expect(find(single, 'single_class_target', 'y')).toMatchObject({ severity: 'error' });
    expect(find(single, 'constant_column', 'y')).toMatchObject({ severity: 'error' });
  });

  it('finds a numeric feature that cuts the classes cleanly, but not an honest one', () => {
    const n = 60;
    const label = range(n, (i) => (i % 3 === 0 ? 'a' : 'b'));
    const leak = range(n, (i) => (i % 3 === 0 ? String(100 + i) : String(i)));
    const honest = range(n, (i) => String((i * 7) % 11));
    const report = validateTable(
      table([
        ['leak', 'float', leak],
        ['honest', 'float', honest],
        ['label', 'categorical', label]
      ]),
      { target: 'label' }
    );
    expect(find(report, 'likely_leakage', 'leak')).toMatchObject({
      value: 1,
      details: { method: 'mapping' }
    });
    expect(find(report, 'likely_leakage', 'honest')).toBeUndefined();
  });

  it('does not call a mapping that only memorises rows leakage', () => {
    // Each value appears once: a lookup table "predicts" perfectly but learns nothing.
    const report = validateTable(
      table([
        ['code', 'categorical', range(30, (i) => `k${i}`)],
        ['label', 'categorical', range(30, (i) => (i % 2 ? 'a' : 'b'))]
      ]),
      { target: 'label' }
    );
    expect(find(report, 'likely_leakage', 'code')).toBeUndefined();
  });

  it('finds a feature almost perfectly correlated with a numeric target', () => {
    const y = range(40, (i) => String(i * 1.5 + Math.sin(i)));
    const x = range(40, (i) => String(i * 3 + 1));
    const z = range(40, (i) => String((i * 17) % 23));
    const report = validateTable(
      table([
        ['x', 'float', x],
        ['z', 'float', z],
        ['y', 'float', y]
      ]),
      { target: 'y' }
    );
    const leak = find(report, 'likely_leakage', 'x');
    expect(leak?.details).toMatchObject({ method: 'correlation', rows: 40 });
    expect(leak?.value).toBeGreaterThan(0.98);
    expect(find(report, 'likely_leakage', 'z')).toBeUndefined();
  });

  it('flags an all-unique integer feature as a likely identifier', () => {
    const report = validateTable(
      table([
        ['row', 'integer', range(25, (i) => String(1000 + i))],
        ['x', 'float', range(25, (i) => String(i % 4))]
      ])
    );
    expect(find(report, 'identifier_as_feature', 'row')).toMatchObject({ severity: 'warning', value: 25 });
    expect(find(report, 'identifier_as_feature', 'x')).toBeUndefined();
  });

  it('reports a missing target and an empty table as errors', () => {
    const report = validateTable(table([['x', 'float', []]]), { target: 'y' });
    expect(report.findings.map((f) => [f.code, f.severity])).toEqual([
      ['empty_table', 'error'],
      ['target_not_found', 'error']
    ]);
    expect(report.counts).toEqual({ error: 2, warning: 0, info: 0 });
  });

  it('takes the target from the roles when none is named', () => {
    const report = validateTable(
      table([
        ['x', 'float', ['1', '2']],
        ['y', 'categorical', ['a', 'a']]
      ]),
      {
        roles: { y: 'target' }
      }
    );
    expect(find(report, 'single_class_target', 'y')).toBeDefined();
  });
});

describe('validateTable against straightforward references on random data', () => {
  const random = seededRandom(31);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

  it('counts rows that repeat an earlier one as comparing whole rows would', () => {
    const rows = 6000;
    const a = Array.from({ length: rows }, () => pick([0, -0, 1.5, Number.NaN, null, 2]));
    const b = Array.from({ length: rows }, () => pick([1, 2, 3, null]));
    const c = Array.from({ length: rows }, () => pick(['p', 'q', null]));
    const s = Array.from({ length: rows }, () => pick(['x', 'yy', 'héllo', null]));
    const report = validateTable(
      new Table({
        a: vectorFromArray(a, new Float64()),
        b: vectorFromArray(b, new Int32()),
        c: vectorFromArray(c, new Dictionary(new Utf8(), new Int32())),
        s: vectorFromArray(s, new Utf8())
      })
    );
    // −0 is 0, and NaN is missing like null.
    const cell = (v: number | string | null): string =>
      v === null || (typeof v === 'number' && Number.isNaN(v)) ? 'missing' : String(v === 0 ? 0 : v);
    const first = new Map<string, number>();
    const examples: Array<[number, number]> = [];
    let duplicates = 0;
    for (let r = 0; r < rows; r++) {
      const key = [a[r], b[r], c[r], s[r]].map((v) => cell(v ?? null)).join('|');
      const earlier = first.get(key);
      if (earlier === undefined) first.set(key, r);
      else {
        duplicates++;
        if (examples.length < 5) examples.push([r, earlier]);
      }
    }
    expect(duplicates).toBeGreaterThan(0);
    expect(find(report, 'duplicate_rows')).toMatchObject({
      value: duplicates,
      details: { exampleRows: examples.map(([r]) => r), firstRows: examples.map(([, e]) => e) }
    });
  });

  it('measures how well a feature with few values maps to the classes as counting would', () => {
    const rows = 3000;
    const feature = Array.from({ length: rows }, () => (random() < 0.02 ? null : Math.floor(random() * 10)));
    const label = feature.map((v) =>
      random() < 0.01 ? pick(['a', 'b', 'c']) : v === null || v < 4 ? 'a' : v < 8 ? 'b' : 'c'
    );
    const report = validateTable(
      new Table({
        v: vectorFromArray(feature, new Float64()),
        label: vectorFromArray(label, new Dictionary(new Utf8(), new Int32()))
      }),
      { target: 'label' }
    );
    const table = new Map<number, Map<string, number>>();
    feature.forEach((v, r) => {
      if (v === null) return;
      const perClass = table.get(v) ?? new Map<string, number>();
      perClass.set(label[r] ?? '', (perClass.get(label[r] ?? '') ?? 0) + 1);
      table.set(v, perClass);
    });
    const used = feature.filter((v) => v !== null).length;
    const correct = [...table.values()].reduce((sum, perClass) => sum + Math.max(...perClass.values()), 0);
    expect(find(report, 'likely_leakage', 'v')).toMatchObject({
      value: correct / used,
      details: { method: 'mapping', rows: used }
    });
  });
});
