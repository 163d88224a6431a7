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
