import { describe, expect, it } from 'vitest';
import { accuracy, argmaxRows, binaryToTwoColumns, logLoss } from './classification';
import { meanAbsoluteError, meanSquaredError, r2Score, rootMeanSquaredError } from './regression';

describe('classification metrics', () => {
  it('accuracy is the share of exact hits', () => {
    expect(accuracy([0, 1, 1, 0], [0, 1, 0, 0])).toBe(0.75);
    expect(accuracy(Int32Array.from([2]), Float32Array.from([2]))).toBe(1);
  });

  it('log loss matches hand-computed values', () => {
    // −(ln 0.8 + ln 0.6) / 2
    expect(logLoss([1, 0], [0.2, 0.8, 0.6, 0.4], 2)).toBeCloseTo(0.366984588, 8);
    // three classes: −ln 0.7
    expect(logLoss([2], [0.1, 0.2, 0.7], 3)).toBeCloseTo(0.356674944, 8);
  });

  it('log loss clips a confident mistake to a large finite value', () => {
    expect(logLoss([0], [0, 1], 2)).toBeCloseTo(-Math.log(1e-15), 6);
    expect(Number.isFinite(logLoss([1], [0, 1], 2))).toBe(true);
  });

  it('argmax picks the most likely class per row, the first on ties', () => {
    expect(Array.from(argmaxRows([0.1, 0.7, 0.2, 0.5, 0.5, 0], 3))).toEqual([1, 0]);
  });

  it('turns sigmoid outputs into two-class probabilities', () => {
    expect(Array.from(binaryToTwoColumns([0.25, 1]))).toEqual([0.75, 0.25, 0, 1]);
  });

  it('refuses mismatched or empty inputs and out-of-range labels', () => {
    expect(() => accuracy([1, 2], [1])).toThrow(RangeError);
    expect(() => accuracy([], [])).toThrow(RangeError);
    expect(() => logLoss([0], [1], 2)).toThrow(RangeError);
    expect(() => logLoss([3], [0.5, 0.5], 2)).toThrow(/out of range/);
  });
});

describe('regression metrics', () => {
  // scikit-learn's documented example: y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0.0, 2, 8].
  const yTrue = [3, -0.5, 2, 7];
  const yPred = [2.5, 0.0, 2, 8];

  it('match hand-computed values', () => {
    expect(meanSquaredError(yTrue, yPred)).toBeCloseTo(0.375, 12);
    expect(rootMeanSquaredError(yTrue, yPred)).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(meanAbsoluteError(yTrue, yPred)).toBeCloseTo(0.5, 12);
    // SS_res = 1.5, SS_tot = 29.1875 → 1 − 1.5 / 29.1875
    expect(r2Score(yTrue, yPred)).toBeCloseTo(0.948608137, 8);
  });

  it('r2 of a constant target is 1 for a perfect fit and 0 otherwise, never NaN', () => {
    expect(r2Score([1, 1], [1, 1])).toBe(1);
    expect(r2Score([1, 1], [0, 2])).toBe(0);
  });

  it('a worse prediction than the mean gives a negative r2', () => {
    expect(r2Score([1, 2, 3], [3, 2, 1])).toBeCloseTo(-3, 12);
  });
});
