import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { createView, readViewRows } from './table-view';

const table = tableFromArrays({
  name: ['b', 'a', 'c', 'a'],
  score: Float64Array.from([2, Number.NaN, 1, 3])
});

describe('table views', () => {
  it('reads pages in table order', () => {
    const view = createView(table, {});
    expect(view.rowCount).toBe(4);
    expect(readViewRows(table, view, 1, 2)).toEqual([
      ['a', null],
      ['c', 1]
    ]);
  });

  it('sorts numbers either way with missing values last and ties in table order', () => {
    const up = createView(table, { sort: { column: 'score', descending: false } });
    expect(readViewRows(table, up, 0, 10).map((r) => r[1])).toEqual([1, 2, 3, null]);
    const down = createView(table, { sort: { column: 'score', descending: true } });
    expect(readViewRows(table, down, 0, 10).map((r) => r[1])).toEqual([3, 2, 1, null]);
    const byName = createView(table, { sort: { column: 'name', descending: false } });
    expect(readViewRows(table, byName, 0, 10)).toEqual([
      ['a', null],
      ['a', 3],
      ['b', 2],
      ['c', 1]
    ]);
  });

  it('keeps only the given rows, and sorts within them', () => {
    const view = createView(table, {
      keep: Uint32Array.from([0, 2]),
      sort: { column: 'score', descending: false }
    });
    expect(view.rowCount).toBe(2);
    expect(readViewRows(table, view, 0, 10)).toEqual([
      ['c', 1],
      ['b', 2]
    ]);
  });

  it('names a missing sort column', () => {
    expect(() => createView(table, { sort: { column: 'nope', descending: false } })).toThrow('nope');
  });
});
