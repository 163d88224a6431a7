import { describe, expect, it } from 'vitest';
import { meanAbsolutePercentageError, plotSampleIndices, regressionPlotData } from './regression';

describe('mean absolute percentage error', () => {
  it('matches scikit-learn’s docs example, as a fraction', () => {
    // |2.5−3|/3 + |0+0.5|/0.5 + 0/2 + |8−7|/7 = 1/6 + 1 + 0 + 1/7 → / 4 = 0.32738…
    expect(meanAbsolutePercentageError([3, -0.5, 2, 7], [2.5, 0, 2, 8])).toBeCloseTo(0.3273809523809524, 12);
  });

  it('divides by float64 eps for a zero target: huge but finite', () => {
    // 1 / 2.220446049250313e-16 = 2^52
    expect(meanAbsolutePercentageError([0], [1])).toBe(2 ** 52);
  });
});

describe('regression plot data', () => {
  it('keeps every point of a small set with residual = actual − predicted', () => {
    const plot = regressionPlotData([3, -0.5], [2.5, 0]);
    expect(Array.from(plot.residual)).toEqual([0.5, -0.5]);
    expect(Array.from(plot.predicted)).toEqual([2.5, 0]);
  });

  it('samples a large set to 2000 evenly spaced rows, the same every time', () => {
    // ⌊i · 5000 / 2000⌋: 0, 2, 5, 7, … up to ⌊1999 · 2.5⌋ = 4997
    const rows = plotSampleIndices(5000);
    expect(rows).toHaveLength(2000);
    expect(Array.from(rows.subarray(0, 4))).toEqual([0, 2, 5, 7]);
    expect(rows[1999]).toBe(4997);
    const y = Float64Array.from({ length: 5000 }, (_, i) => i);
    expect(Array.from(regressionPlotData(y, y).rows)).toEqual(Array.from(rows));
  });
});
