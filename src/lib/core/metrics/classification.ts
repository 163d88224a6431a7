/**
 * Classification metrics on plain arrays, so they are checked against hand-computed values and give
 * the same numbers whichever tfjs backend produced the predictions.
 */

function assertSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length)
    throw new RangeError(`length mismatch: ${a.length} labels, ${b.length} predictions`);
  if (a.length === 0) throw new RangeError('no samples');
}

/** Share of predicted class indices equal to the true ones. */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  assertSameLength(yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / yTrue.length;
}

/** Probabilities are clipped so one confident mistake gives a large, finite loss rather than Infinity. */
export const LOG_LOSS_EPSILON = 1e-15;

/**
 * Mean negative log-likelihood of the true classes. `probabilities` is row-major, `classes` values
 * per sample; the true class's probability is clipped to [eps, 1 - eps].
 */
export function logLoss(
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  classes: number,
  eps = LOG_LOSS_EPSILON
): number {
  if (probabilities.length !== yTrue.length * classes) {
    throw new RangeError(`expected ${yTrue.length * classes} probabilities, got ${probabilities.length}`);
  }
  if (yTrue.length === 0) throw new RangeError('no samples');
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const label = yTrue[i] ?? -1;
    if (!Number.isInteger(label) || label < 0 || label >= classes)
      throw new RangeError(`label ${label} out of range`);
    const p = probabilities[i * classes + label] ?? 0;
    total -= Math.log(Math.min(1 - eps, Math.max(eps, p)));
  }
  return total / yTrue.length;
}

/** Index of the largest probability of each row; the first wins on ties. */
export function argmaxRows(probabilities: ArrayLike<number>, classes: number): Int32Array {
  const rows = Math.floor(probabilities.length / classes);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = probabilities[r * classes + c] ?? -Infinity;
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/** Two-class probabilities [1 - p, p] from the positive-class probabilities of a sigmoid model. */
export function binaryToTwoColumns(positive: ArrayLike<number>): Float64Array {
  const out = new Float64Array(positive.length * 2);
  for (let i = 0; i < positive.length; i++) {
    const p = positive[i] ?? 0;
    out[2 * i] = 1 - p;
    out[2 * i + 1] = p;
  }
  return out;
}
