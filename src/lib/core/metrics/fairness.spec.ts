import { describe, expect, it } from 'vitest';
import { metricsBySlice } from './fairness';

describe('metrics by slice', () => {
  it('computes per-group rates and fairlearn’s disparities', () => {
    // group a: true 1 0 1 0, pred 1 0 0 1 → selected 2/4, TPR 1/2, FPR 1/2, accuracy 2/4
    // group b: true 1 1 0 0, pred 1 1 1 0 → selected 3/4, TPR 2/2, FPR 1/2, accuracy 3/4
    // demographic parity difference .75 − .5 = .25; equalized odds max(1 − .5, .5 − .5) = .5
    const r = metricsBySlice(
      [1, 0, 1, 0, 1, 1, 0, 0],
      [1, 0, 0, 1, 1, 1, 1, 0],
      ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b']
    );
    expect(r.groups).toEqual([
      {
        group: 'a',
        count: 4,
        selectionRate: 0.5,
        truePositiveRate: 0.5,
        falsePositiveRate: 0.5,
        accuracy: 0.5
      },
      {
        group: 'b',
        count: 4,
        selectionRate: 0.75,
        truePositiveRate: 1,
        falsePositiveRate: 0.5,
        accuracy: 0.75
      }
    ]);
    expect(r.demographicParityDifference).toBe(0.25);
    expect(r.equalizedOddsDifference).toBe(0.5);
  });

  it('gives TPR 0 to a group without positives, as fairlearn’s normalized confusion matrix does', () => {
    // group c has only a negative: TPR 0/0 → 0, which widens the TPR range to 1 − 0
    const r = metricsBySlice([1, 0], [1, 0], ['d', 'c']);
    expect(r.groups[1]).toMatchObject({ group: 'c', truePositiveRate: 0, falsePositiveRate: 0 });
    expect(r.equalizedOddsDifference).toBe(1);
  });

  it('binarizes multiclass labels around the chosen positive class', () => {
    // positive class 2: g selects rows 0 and 1 of 3 → 2/3; accuracy still compares the raw classes (1/3)
    const r = metricsBySlice([2, 1, 0], [2, 2, 1], ['g', 'g', 'g'], { positiveClass: 2 });
    expect(r.groups[0]?.selectionRate).toBeCloseTo(2 / 3, 12);
    expect(r.groups[0]?.accuracy).toBeCloseTo(1 / 3, 12);
    expect(r.demographicParityDifference).toBe(0);
  });
});
