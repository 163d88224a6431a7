/** Reading a training run's loss curves for the signs of overfitting a person should be told about. */

export interface LossSeries {
  /** Training loss per epoch. */
  train: ArrayLike<number>;
  /** Validation loss per epoch, same length. */
  validation: ArrayLike<number>;
}

export interface OverfitOptions {
  /** Epochs after the validation minimum, all above it, that count as "rising" (default 3). */
  patience?: number;
  /**
   * Largest acceptable final (val − train) / |train| (default 0.5: validation loss 50 % above training
   * loss). Relative, so it means the same for a log loss near 0.1 and an MSE in the thousands.
   */
  gapThreshold?: number;
}

export const OVERFIT_PATIENCE = 3;
export const OVERFIT_GAP_THRESHOLD = 0.5;

/**
 * A warning when
 * - the validation loss has stayed above its minimum for at least `patience` epochs since that minimum
 *   while the training loss kept falling (training loss at the last epoch below its value at the
 *   minimum) — the classic diverging curves; or
 * - at the last epoch the validation loss exceeds the training loss by more than `gapThreshold` of it.
 * Otherwise null. Non-finite epochs (a NaN loss) are ignored when looking for the minimum.
 */
export function overfitWarning(series: LossSeries, options: OverfitOptions = {}): string | null {
  const patience = options.patience ?? OVERFIT_PATIENCE;
  const gapThreshold = options.gapThreshold ?? OVERFIT_GAP_THRESHOLD;
  const n = Math.min(series.train.length, series.validation.length);
  if (n === 0) return null;
  let best = -1;
  let bestValue = Infinity;
  for (let i = 0; i < n; i++) {
    const v = series.validation[i] ?? NaN;
    if (Number.isFinite(v) && v < bestValue) {
      bestValue = v;
      best = i;
    }
  }
  const last = n - 1;
  if (best >= 0 && last - best >= patience) {
    let stayedAbove = true;
    for (let i = best + 1; i <= last; i++)
      if (!((series.validation[i] ?? NaN) > bestValue)) stayedAbove = false;
    const trainAtBest = series.train[best] ?? NaN;
    const trainLast = series.train[last] ?? NaN;
    if (stayedAbove && trainLast < trainAtBest) {
      return `Validation loss has risen for ${last - best} epochs since its minimum at epoch ${best + 1} (${fmt(bestValue)}) while training loss kept falling (${fmt(trainAtBest)} → ${fmt(trainLast)}): the model is overfitting; the weights from epoch ${best + 1} generalise best.`;
    }
  }
  const trainLast = series.train[last] ?? NaN;
  const valLast = series.validation[last] ?? NaN;
  if (Number.isFinite(trainLast) && Number.isFinite(valLast)) {
    const gap = (valLast - trainLast) / Math.max(Math.abs(trainLast), Number.EPSILON);
    if (gap > gapThreshold) {
      return `Validation loss (${fmt(valLast)}) ends ${Math.round(gap * 100)} % above training loss (${fmt(trainLast)}), more than the ${Math.round(gapThreshold * 100)} % Lathe accepts: the model may be memorising the training data.`;
    }
  }
  return null;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}
