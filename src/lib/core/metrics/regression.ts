/** Regression metrics on plain arrays (see classification.ts for why not tensors). */

function assertSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length)
    throw new RangeError(`length mismatch: ${a.length} targets, ${b.length} predictions`);
  if (a.length === 0) throw new RangeError('no samples');
}

export function meanSquaredError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  assertSameLength(yTrue, yPred);
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const d = (yTrue[i] ?? 0) - (yPred[i] ?? 0);
    total += d * d;
  }
  return total / yTrue.length;
}

export function rootMeanSquaredError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  return Math.sqrt(meanSquaredError(yTrue, yPred));
}

export function meanAbsoluteError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  assertSameLength(yTrue, yPred);
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) total += Math.abs((yTrue[i] ?? 0) - (yPred[i] ?? 0));
  return total / yTrue.length;
}

/**
 * Coefficient of determination, 1 - SS_res / SS_tot. A constant target has no variance to explain:
 * that gives 1 for a perfect fit and 0 otherwise (scikit-learn's convention), never NaN.
 */
export function r2Score(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  assertSameLength(yTrue, yPred);
  let mean = 0;
  for (let i = 0; i < yTrue.length; i++) mean += yTrue[i] ?? 0;
  mean /= yTrue.length;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] ?? 0;
    ssRes += (t - (yPred[i] ?? 0)) ** 2;
    ssTot += (t - mean) ** 2;
  }
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}

/**
 * Mean absolute percentage error as scikit-learn defines it: a fraction, not a percentage, and each
 * error divided by max(|y|, ε) with ε = `np.finfo(np.float64).eps`, so a zero target gives a huge but
 * finite term instead of Infinity.
 */
export function meanAbsolutePercentageError(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  assertSameLength(yTrue, yPred);
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] ?? 0;
    total += Math.abs((yPred[i] ?? 0) - t) / Math.max(Math.abs(t), Number.EPSILON);
  }
  return total / yTrue.length;
}

/** At most this many points go to a residual or predicted-vs-actual plot. */
export const PLOT_POINT_LIMIT = 2000;

/**
 * Row indices for a plot: all rows when there are at most `limit`, else `limit` evenly spaced ones
 * (⌊i·n/limit⌋), so the same data always gives the same picture (scikit-learn's `PredictionErrorDisplay`
 * samples at random instead).
 */
export function plotSampleIndices(n: number, limit = PLOT_POINT_LIMIT): Int32Array {
  if (n <= limit) return Int32Array.from({ length: n }, (_, i) => i);
  return Int32Array.from({ length: limit }, (_, i) => Math.floor((i * n) / limit));
}

export interface RegressionPlotData {
  /** Rows the points come from. */
  rows: Int32Array;
  predicted: Float64Array;
  actual: Float64Array;
  /** y_true − y_pred, scikit-learn's `PredictionErrorDisplay` convention (positive: under-predicted). */
  residual: Float64Array;
}

/** Points for a residual plot (predicted, residual) and a predicted-vs-actual plot, sampled to `limit`. */
export function regressionPlotData(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  limit = PLOT_POINT_LIMIT
): RegressionPlotData {
  assertSameLength(yTrue, yPred);
  const rows = plotSampleIndices(yTrue.length, limit);
  const predicted = Float64Array.from(rows, (r) => yPred[r] ?? NaN);
  const actual = Float64Array.from(rows, (r) => yTrue[r] ?? NaN);
  const residual = actual.map((a, i) => a - (predicted[i] ?? NaN));
  return { rows, predicted, actual, residual };
}
