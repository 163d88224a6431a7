import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { buildDesignMatrix } from './design-matrix';
import { splitFromAssignments } from './linear-model';

describe('a stored split', () => {
  it('maps per-table-row assignments onto the matrix rows, skipping rows without a target', () => {
    const table = tableFromArrays({
      x: Float64Array.from([1, 2, 3, 4, 5]),
      y: Float64Array.from([10, Number.NaN, 30, 40, 50])
    });
    const data = buildDesignMatrix(table, { target: 'y', features: ['x'], task: 'regression' });
    expect(Array.from(data.sourceRows)).toEqual([0, 2, 3, 4]);
    // Table rows: 0 train, 1 test (but no target), 2 validation, 3 test, 4 train.
    const split = splitFromAssignments(data, Uint8Array.from([0, 2, 1, 2, 0]));
    expect(Array.from(split.train)).toEqual([0, 3]);
    expect(Array.from(split.test)).toEqual([2]);
  });

  it('refuses a split made for fewer rows', () => {
    const table = tableFromArrays({ x: Float64Array.from([1, 2, 3]), y: Float64Array.from([1, 2, 3]) });
    const data = buildDesignMatrix(table, { target: 'y', features: ['x'], task: 'regression' });
    expect(() => splitFromAssignments(data, Uint8Array.from([0, 2]))).toThrow('does not cover');
  });
});
