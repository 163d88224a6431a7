import { tableFromArrays, vectorFromArray, Table, Float64, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { buildDesignMatrix } from './design-matrix';

describe('buildDesignMatrix', () => {
  it('maps text targets to class indices in sorted order and keeps features row-major', () => {
    const table = tableFromArrays({
      a: Float64Array.from([1, 2, 3]),
      b: Float64Array.from([10, 20, 30]),
      t: ['pear', 'apple', 'fig']
    });
    const m = buildDesignMatrix(table, { target: 't', features: ['a', 'b'], task: 'classification' });
    expect(m.classes).toEqual(['apple', 'fig', 'pear']);
    expect(Array.from(m.y)).toEqual([2, 0, 1]);
    expect(Array.from(m.x)).toEqual([1, 10, 2, 20, 3, 30]);
    expect(m.rows).toBe(3);
  });

  it('sorts numeric class labels numerically, not as text', () => {
    const table = tableFromArrays({ a: Float64Array.from([0, 0, 0]), t: Int32Array.from([10, 9, 100]) });
    const m = buildDesignMatrix(table, { target: 't', features: ['a'], task: 'classification' });
    expect(m.classes).toEqual(['9', '10', '100']);
    expect(Array.from(m.y)).toEqual([1, 0, 2]);
  });

  it('drops rows without a target and keeps missing features as NaN', () => {
    const table = new Table({
      a: vectorFromArray([1, null, 3, 4], new Float64()),
      t: vectorFromArray([0.5, 1.5, null, 2.5], new Float64())
    });
    const m = buildDesignMatrix(table, { target: 't', features: ['a'], task: 'regression' });
    expect(m.rows).toBe(3);
    expect(m.droppedRows).toBe(1);
    expect(Array.from(m.y)).toEqual([0.5, 1.5, 2.5]);
    expect(Array.from(m.x)).toEqual([1, NaN, 4]);
  });

  it('refuses text features, text regression targets, missing columns and a target used as a feature', () => {
    const table = new Table({
      a: vectorFromArray(['x', 'y'], new Utf8()),
      t: vectorFromArray(['1', 'two'], new Utf8())
    });
    expect(() =>
      buildDesignMatrix(table, { target: 't', features: ['a'], task: 'classification' })
    ).toThrowError(/text/);
    expect(() => buildDesignMatrix(table, { target: 't', features: [], task: 'regression' })).toThrowError(
      /regression needs numbers/
    );
    expect(() =>
      buildDesignMatrix(table, { target: 't', features: ['nope'], task: 'classification' })
    ).toThrowError(/nope/);
    expect(() =>
      buildDesignMatrix(table, { target: 't', features: ['t'], task: 'classification' })
    ).toThrowError(/cannot also be a feature/);
  });
});
