import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { splitIndices } from '../pipeline/split';
import { readTarget, sortLabels, splitFromAssignments, splitRows } from './training-data';

describe('readTarget', () => {
  it('maps text labels to class indices in sorted order, numeric labels numerically', () => {
    const table = tableFromArrays({ label: ['b', 'a', 'c', 'a'], n: Int32Array.from([10, 9, 100, 9]) });
    const text = readTarget(table, 'label', 'classification', false);
    expect(text.classes).toEqual(['a', 'b', 'c']);
    expect(Array.from(text.values)).toEqual([1, 0, 2, 0]);
    expect(readTarget(table, 'n', 'classification', false).classes).toEqual(['9', '10', '100']);
    expect(sortLabels([true, false])).toEqual(['false', 'true']);
  });

  it('refuses rows without a target unless told to drop them, then keeps their table rows', () => {
    const table = tableFromArrays({ y: Float64Array.from([10, Number.NaN, 30, 40, 50]) });
    expect(() => readTarget(table, 'y', 'regression', false)).toThrow(/1 of 5 rows have no value/);
    const target = readTarget(table, 'y', 'regression', true);
    expect(Array.from(target.tableRows)).toEqual([0, 2, 3, 4]);
    expect(target.droppedRows).toBe(1);
  });

  it('refuses a text regression target and a missing column', () => {
    const table = tableFromArrays({ y: ['1', 'x'] });
    expect(() => readTarget(table, 'y', 'regression', false)).toThrow(/holds text/);
    expect(() => readTarget(table, 'nope', 'regression', false)).toThrow(/not in this dataset/);
  });
});

describe('splits', () => {
  it('keeps the rows of runs made before validation splits', () => {
    const old = splitIndices(50, 0.2, 7);
    const now = splitRows(50, 0.2, 0, 7);
    expect(Array.from(now.test)).toEqual(Array.from(old.test));
    expect(Array.from(now.train)).toEqual(Array.from(old.train));
    expect(now.validation.length).toBe(0);
  });

  it('holds out validation rows disjoint from train and test', () => {
    const split = splitRows(100, 0.2, 0.1, 3);
    expect([split.train.length, split.validation.length, split.test.length]).toEqual([70, 10, 20]);
    const all = new Set([...split.train, ...split.validation, ...split.test]);
    expect(all.size).toBe(100);
  });

  it('maps a stored split onto the kept rows, skipping rows without a target', () => {
    // Table rows: 0 train, 1 (no target), 2 validation, 3 test, 4 train.
    const split = splitFromAssignments(Uint32Array.from([0, 2, 3, 4]), Uint8Array.from([0, 2, 1, 2, 0]));
    expect(Array.from(split.train)).toEqual([0, 3]);
    expect(Array.from(split.validation)).toEqual([1]);
    expect(Array.from(split.test)).toEqual([2]);
    expect(() => splitFromAssignments(Uint32Array.from([0, 1, 2]), Uint8Array.from([0, 2]))).toThrow(
      'does not cover'
    );
  });
});
