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

/**
 * scikit-learn's log-loss clip since 1.5 (`eps` was removed; it clips with `np.finfo(y_pred.dtype).eps`,
 * which is 2.220446049250313e-16 for float64). `LOG_LOSS_EPSILON` above stays for the train worker's
 * numbers, which are the older 1e-15 default.
 */
export const SKLEARN_LOG_LOSS_EPSILON = Number.EPSILON;

/**
 * Number of classes of a problem: the names' count when given, else one more than the largest class
 * index seen in either array.
 */
export function classCount(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  labels?: readonly string[]
): number {
  if (labels) return labels.length;
  let max = -1;
  for (let i = 0; i < yTrue.length; i++) max = Math.max(max, yTrue[i] ?? -1);
  for (let i = 0; i < yPred.length; i++) max = Math.max(max, yPred[i] ?? -1);
  return max + 1;
}

function checkLabels(values: ArrayLike<number>, classes: number, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? -1;
    if (!Number.isInteger(v) || v < 0 || v >= classes)
      throw new RangeError(`${what} ${v} at row ${i} is not a class index below ${classes}`);
  }
}

/**
 * Confusion matrix, row-major `classes × classes` with rows the true class and columns the predicted
 * one (scikit-learn's `confusion_matrix` layout with `labels = range(classes)`).
 */
export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classes: number
): Int32Array {
  assertSameLength(yTrue, yPred);
  checkLabels(yTrue, classes, 'true class');
  checkLabels(yPred, classes, 'predicted class');
  const counts = new Int32Array(classes * classes);
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] ?? 0;
    const p = yPred[i] ?? 0;
    counts[t * classes + p] = (counts[t * classes + p] ?? 0) + 1;
  }
  return counts;
}

/**
 * Balanced accuracy as scikit-learn computes it (`adjusted=False`): the mean recall over the classes that
 * occur in `yTrue`. A class that is only predicted has a 0/0 recall; scikit-learn warns and drops it, and
 * so does this.
 */
export function balancedAccuracy(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classes?: number
): number {
  const k = classes ?? classCount(yTrue, yPred);
  const cm = confusionMatrix(yTrue, yPred, k);
  let sum = 0;
  let present = 0;
  for (let c = 0; c < k; c++) {
    let support = 0;
    for (let p = 0; p < k; p++) support += cm[c * k + p] ?? 0;
    if (support === 0) continue;
    sum += (cm[c * k + c] ?? 0) / support;
    present++;
  }
  return sum / present;
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Samples whose true class is this one. */
  support: number;
  /** Samples predicted as this class. */
  predicted: number;
  /** No sample was predicted as this class: precision is 0/0, reported as 0 (scikit-learn's 'warn'). */
  precisionUndefined: boolean;
  /** No sample has this true class: recall is 0/0, reported as 0. */
  recallUndefined: boolean;
}

export interface AveragedScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface PrecisionRecallF1 {
  perClass: ClassScores[];
  /** Class indices the averages run over: those in `yTrue` or `yPred` (scikit-learn's `unique_labels`). */
  averagedOver: number[];
  macro: AveragedScores;
  micro: AveragedScores;
  weighted: AveragedScores;
  /** scikit-learn's UndefinedMetricWarning texts, one per affected class and metric. */
  warnings: string[];
}

/** 0/0 → 0: scikit-learn's `zero_division='warn'` returns 0 (and warns). */
function ratio(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

/**
 * Per-class precision, recall and F1 and their macro, micro and weighted averages, as scikit-learn's
 * `precision_recall_fscore_support` / `classification_report` compute them:
 * - precision = tp / predicted, recall = tp / support; a 0 denominator gives 0 and a warning;
 * - F1 = 2·tp / (2·tp + fp + fn), the confusion-matrix form recent scikit-learn (1.4+) uses instead of the
 *   harmonic mean of P and R; the two agree except where P or R was 0/0, and it is 0/0 → 0 only for a
 *   class with no true and no predicted samples;
 * - the averages run over the classes present in `yTrue` ∪ `yPred` (its default labels); classes absent
 *   from both still get a row (all zeros, support 0) but do not drag the macro average down;
 * - micro sums tp, fp and fn over those classes (equal to accuracy for single-label data);
 * - weighted weighs each class by its support.
 */
export function precisionRecallF1(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classes?: number,
  labels?: readonly string[]
): PrecisionRecallF1 {
  const k = classes ?? classCount(yTrue, yPred, labels);
  const cm = confusionMatrix(yTrue, yPred, k);
  const name = (c: number): string => labels?.[c] ?? String(c);
  const perClass: ClassScores[] = [];
  const averagedOver: number[] = [];
  const warnings: string[] = [];
  let tpSum = 0;
  let predSum = 0;
  let supportSum = 0;
  for (let c = 0; c < k; c++) {
    let support = 0;
    let predicted = 0;
    for (let o = 0; o < k; o++) {
      support += cm[c * k + o] ?? 0;
      predicted += cm[o * k + c] ?? 0;
    }
    const tp = cm[c * k + c] ?? 0;
    const fp = predicted - tp;
    const fn = support - tp;
    perClass.push({
      precision: ratio(tp, predicted),
      recall: ratio(tp, support),
      f1: ratio(2 * tp, 2 * tp + fp + fn),
      support,
      predicted,
      precisionUndefined: predicted === 0,
      recallUndefined: support === 0
    });
    if (support > 0 || predicted > 0) {
      averagedOver.push(c);
      tpSum += tp;
      predSum += predicted;
      supportSum += support;
      if (predicted === 0)
        warnings.push(`precision of class ${name(c)} is ill-defined (no predicted samples); set to 0`);
      if (support === 0)
        warnings.push(`recall of class ${name(c)} is ill-defined (no true samples); set to 0`);
    }
  }
  const mean = (pick: (s: ClassScores) => number, weighted: boolean): number => {
    let total = 0;
    let weight = 0;
    for (const c of averagedOver) {
      const s = perClass[c];
      if (!s) continue;
      const w = weighted ? s.support : 1;
      total += w * pick(s);
      weight += w;
    }
    return ratio(total, weight);
  };
  const microPrecision = ratio(tpSum, predSum);
  const microRecall = ratio(tpSum, supportSum);
  return {
    perClass,
    averagedOver,
    macro: {
      precision: mean((s) => s.precision, false),
      recall: mean((s) => s.recall, false),
      f1: mean((s) => s.f1, false),
      support: supportSum
    },
    micro: {
      precision: microPrecision,
      recall: microRecall,
      f1: ratio(2 * tpSum, predSum + supportSum),
      support: supportSum
    },
    weighted: {
      precision: mean((s) => s.precision, true),
      recall: mean((s) => s.recall, true),
      f1: mean((s) => s.f1, true),
      support: supportSum
    },
    warnings
  };
}
