import { describe, expect, it } from 'vitest';
import type { ColumnSchema } from '../records';
import { buildTable } from './arrow';
import { diffTables } from './diff';

const schema = (types: Record<string, ColumnSchema['type']>): ColumnSchema[] =>
  Object.entries(types).map(([name, type]) => ({ name, type, missing: 0 }));

const before = buildTable(schema({ id: 'identifier', x: 'float', color: 'categorical', old: 'text' }), [
  ['a', 'b', 'c', 'd'],
  ['1', '2', '3', ''],
  ['red', 'red', 'blue', 'green'],
  ['p', 'q', 'r', 's']
]);
const after = buildTable(schema({ id: 'identifier', x: 'float', color: 'categorical', extra: 'integer' }), [
  ['a', 'b', 'c', 'e', 'f'],
  ['1', '20', '3', '4', '5'],
  ['red', 'red', 'blue', 'yellow', 'yellow'],
  ['1', '2', '3', '4', '5']
]);

describe('diffTables', () => {
  it('reports schema changes', () => {
    const diff = diffTables(before, after);
    expect(diff.schema.added).toEqual([{ name: 'extra', type: 'integer' }]);
    expect(diff.schema.removed).toEqual([{ name: 'old', type: 'text' }]);
    expect(diff.schema.typeChanged).toEqual([]);
    expect(diff.rowCount).toEqual({ before: 4, after: 5 });
  });

  it('matches rows by key: added, removed, changed, unchanged', () => {
    const diff = diffTables(before, after, { key: 'id' });
    expect(diff.rows).toEqual({
      method: 'key',
      key: 'id',
      added: 2,
      removed: 1,
      changed: 1,
      unchanged: 2,
      duplicateKeys: { before: 0, after: 0 },
      comparedColumns: ['id', 'x', 'color']
    });
  });

  it('matches rows as a multiset of row hashes without a key', () => {
    const diff = diffTables(before, after);
    expect(diff.rows).toMatchObject({ method: 'row_hash', added: 3, removed: 2, unchanged: 2 });
    const dup = buildTable(schema({ v: 'integer' }), [['1', '1', '2']]);
    const dupAfter = buildTable(schema({ v: 'integer' }), [['1', '2', '2']]);
    expect(diffTables(dup, dupAfter).rows).toMatchObject({ added: 1, removed: 1, unchanged: 2 });
  });

  it('gives numeric shifts with PSI and KS', () => {
    const diff = diffTables(before, after);
    const x = diff.columns.find((c) => c.name === 'x');
    expect(x).toMatchObject({
      kind: 'numeric',
      before: { count: 3, missing: 1, mean: 2, min: 1, max: 3 },
      after: { count: 5, missing: 0, mean: 6.6, min: 1, max: 20 }
    });
    if (x?.kind !== 'numeric') throw new Error('numeric expected');
    expect(x.before.std).toBeCloseTo(1);
    // CDFs at 3: before 3/3, after 2/5.
    expect(x.ks).toBeCloseTo(0.6, 10);
    expect(x.psi).toBeGreaterThan(0.25);
    const same = diffTables(before, before).columns.find((c) => c.name === 'x');
    expect(same).toMatchObject({ psi: 0, ks: 0 });
  });

  it('gives categorical shifts: shares, new and vanished categories', () => {
    const color = diffTables(before, after).columns.find((c) => c.name === 'color');
    if (color?.kind !== 'categorical') throw new Error('categorical expected');
    expect(color.newCategories).toEqual(['yellow']);
    expect(color.vanishedCategories).toEqual(['green']);
    expect(color.topValues[0]).toEqual({ value: 'red', before: 0.5, after: 0.4 });
    expect(color.topValues.find((v) => v.value === 'yellow')).toEqual({
      value: 'yellow',
      before: 0,
      after: 0.4
    });
    expect(color.psi).toBeGreaterThan(0.25);
  });

  it('reports type changes and is plain JSON', () => {
    const retyped = buildTable(schema({ id: 'identifier', x: 'text', color: 'categorical' }), [
      ['a'],
      ['1'],
      ['red']
    ]);
    const diff = diffTables(before, retyped, { key: 'id' });
    expect(diff.schema.typeChanged).toEqual([{ name: 'x', before: 'float', after: 'text' }]);
    expect(JSON.parse(JSON.stringify(diff))).toEqual(diff);
  });

  it('refuses a key that is not in both versions', () => {
    expect(() => diffTables(before, after, { key: 'old' })).toThrow(
      /key column 'old' is not in the newer version/
    );
  });
});
