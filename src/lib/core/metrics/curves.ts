/**
 * Threshold curves (ROC, precision-recall, calibration) and their summaries, following scikit-learn's
 * `_binary_clf_curve`, `roc_curve`, `roc_auc_score`, `precision_recall_curve`, `average_precision_score`
 * and `calibration_curve` step by step so the numbers agree with it, ties and empty bins included.
 */

/** Probabilities as one row-major array (`n × classes`) or as rows. */
export type ProbabilityMatrix =
  Float32Array | Float64Array | readonly number[] | readonly (readonly number[])[];

/** Scores of class `c` (column `c`) from a probability matrix of `classes` columns. */
export function probabilityColumn(proba: ProbabilityMatrix, classes: number, c: number): Float64Array {
  if (isRowList(proba)) return Float64Array.from(proba, (row) => row[c] ?? NaN);
  const flat = proba as ArrayLike<number>;
  const n = Math.floor(flat.length / classes);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = flat[i * classes + c] ?? NaN;
  return out;
}

/** Row-major copy of a probability matrix. */
export function flattenProbabilities(proba: ProbabilityMatrix, classes: number): Float64Array {
  if (!isRowList(proba)) return Float64Array.from(proba as ArrayLike<number>);
  const out = new Float64Array(proba.length * classes);
  proba.forEach((row, i) => {
    for (let c = 0; c < classes; c++) out[i * classes + c] = row[c] ?? NaN;
  });
  return out;
}

function isRowList(proba: ProbabilityMatrix): proba is readonly (readonly number[])[] {
  return Array.isArray(proba) && Array.isArray(proba[0]);
}

/** Columns of a probability matrix for `n` samples: a row's length, or the flat length over `n`. */
export function probabilityWidth(proba: ProbabilityMatrix, n: number): number {
  if (isRowList(proba)) return proba[0]?.length ?? 0;
  return n === 0 ? 0 : Math.floor(proba.length / n);
}

interface BinaryCurve {
  fps: Float64Array;
  tps: Float64Array;
  thresholds: Float64Array;
}

/**
 * scikit-learn's `_binary_clf_curve`: samples sorted by decreasing score, and one point per *distinct*
 * score (the last index of each tie block), so tied samples move the curve together (a diagonal step).
 */
function binaryClfCurve(isPositive: ArrayLike<boolean>, scores: ArrayLike<number>): BinaryCurve {
  const n = scores.length;
  if (isPositive.length !== n)
    throw new RangeError(`length mismatch: ${isPositive.length} labels, ${n} scores`);
  if (n === 0) throw new RangeError('no samples');
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(scores[i] ?? NaN)) throw new RangeError(`score at row ${i} is not a finite number`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0));
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r] ?? 0;
    if (isPositive[i]) tp++;
    const next = order[r + 1];
    if (next === undefined || scores[next] !== scores[i]) {
      tps.push(tp);
      fps.push(r + 1 - tp);
      thresholds.push(scores[i] ?? 0);
    }
  }
  return {
    fps: Float64Array.from(fps),
    tps: Float64Array.from(tps),
    thresholds: Float64Array.from(thresholds)
  };
}

export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  /** Decreasing; the first is `Infinity` (scikit-learn ≥ 1.3), the point (0, 0) no sample reaches. */
  thresholds: Float64Array;
}

/**
 * scikit-learn's `roc_curve(y_true == positive, scores, drop_intermediate=True)`: collinear points are
 * dropped (a point is kept when the second difference of fps or tps is non-zero there), then (0, 0) is
 * prepended with threshold +∞. With no positives (or no negatives) scikit-learn warns and its tpr (fpr)
 * is NaN; so is this one's.
 */
export function rocCurve(
  isPositive: ArrayLike<boolean>,
  scores: ArrayLike<number>,
  dropIntermediate = true
): RocCurve {
  let { fps, tps, thresholds } = binaryClfCurve(isPositive, scores);
  if (dropIntermediate && fps.length > 2) {
    const keep: number[] = [0];
    for (let i = 1; i < fps.length - 1; i++) {
      const dF = (fps[i + 1] ?? 0) - 2 * (fps[i] ?? 0) + (fps[i - 1] ?? 0);
      const dT = (tps[i + 1] ?? 0) - 2 * (tps[i] ?? 0) + (tps[i - 1] ?? 0);
      if (dF !== 0 || dT !== 0) keep.push(i);
    }
    keep.push(fps.length - 1);
    fps = Float64Array.from(keep, (i) => fps[i] ?? 0);
    tps = Float64Array.from(keep, (i) => tps[i] ?? 0);
    thresholds = Float64Array.from(keep, (i) => thresholds[i] ?? 0);
  }
  const m = fps.length;
  const negatives = fps[m - 1] ?? 0;
  const positives = tps[m - 1] ?? 0;
  const fpr = new Float64Array(m + 1);
  const tpr = new Float64Array(m + 1);
  const outThresholds = new Float64Array(m + 1);
  outThresholds[0] = Infinity;
  for (let i = 0; i < m; i++) {
    fpr[i + 1] = negatives > 0 ? (fps[i] ?? 0) / negatives : NaN;
    tpr[i + 1] = positives > 0 ? (tps[i] ?? 0) / positives : NaN;
    outThresholds[i + 1] = thresholds[i] ?? 0;
  }
  if (negatives === 0) fpr[0] = NaN;
  if (positives === 0) tpr[0] = NaN;
  return { fpr, tpr, thresholds: outThresholds };
}

/** Trapezoidal area under a curve whose x is monotonic (scikit-learn's `auc`). */
export function trapezoidArea(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let area = 0;
  for (let i = 1; i < x.length; i++)
    area += (((x[i] ?? 0) - (x[i - 1] ?? 0)) * ((y[i] ?? 0) + (y[i - 1] ?? 0))) / 2;
  return Math.abs(area);
}

/**
 * Binary ROC AUC. Throws, as scikit-learn raises, when only one class is present: the area is undefined.
 */
export function rocAuc(isPositive: ArrayLike<boolean>, scores: ArrayLike<number>): number {
  let positives = 0;
  for (let i = 0; i < isPositive.length; i++) if (isPositive[i]) positives++;
  if (positives === 0 || positives === isPositive.length)
    throw new RangeError('Only one class present in y_true. ROC AUC score is not defined in that case.');
  const { fpr, tpr } = rocCurve(isPositive, scores);
  return trapezoidArea(fpr, tpr);
}

function indicator(yTrue: ArrayLike<number>, c: number): boolean[] {
  return Array.from({ length: yTrue.length }, (_, i) => yTrue[i] === c);
}

export interface MulticlassAuc {
  /** One-vs-rest AUC of each class. */
  perClass: number[];
  macro: number;
  /** Weighted by each class's count in `yTrue`. */
  weighted: number;
}

/**
 * scikit-learn's `roc_auc_score(multi_class='ovr')` with `labels = range(classes)`: each class against the
 * rest, then the mean (macro) or the support-weighted mean. Like scikit-learn it throws when the rows do
 * not sum to 1 (`np.allclose`: |s − 1| ≤ 1e-8 + 1e-5) or when a class is missing from `yTrue` (its
 * one-vs-rest AUC is undefined).
 */
export function rocAucOvr(
  yTrue: ArrayLike<number>,
  proba: ProbabilityMatrix,
  classes: number
): MulticlassAuc {
  const flat = flattenProbabilities(proba, classes);
  if (flat.length !== yTrue.length * classes)
    throw new RangeError(`expected ${yTrue.length * classes} probabilities, got ${flat.length}`);
  for (let i = 0; i < yTrue.length; i++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += flat[i * classes + c] ?? 0;
    if (Math.abs(sum - 1) > 1e-8 + 1e-5)
      throw new RangeError(
        'Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum up to 1.0 over classes'
      );
  }
  const perClass: number[] = [];
  let weighted = 0;
  for (let c = 0; c < classes; c++) {
    const isPositive = indicator(yTrue, c);
    const auc = rocAuc(isPositive, probabilityColumn(flat, classes, c));
    perClass.push(auc);
    weighted += auc * isPositive.filter(Boolean).length;
  }
  return {
    perClass,
    macro: perClass.reduce((a, b) => a + b, 0) / classes,
    weighted: weighted / yTrue.length
  };
}

export interface PrecisionRecallCurve {
  /** Ends with 1 (the point with recall 0 no threshold reaches). */
  precision: Float64Array;
  /** Decreasing, ends with 0. */
  recall: Float64Array;
  /** Increasing; one shorter than precision and recall. */
  thresholds: Float64Array;
}

/**
 * scikit-learn's `precision_recall_curve` (≥ 1.1, `drop_intermediate=False`): one point per distinct score,
 * the full curve (no truncation at full recall), reversed so recall decreases, then (precision 1, recall 0)
 * appended. With no positives scikit-learn warns and sets recall to 1 everywhere; so does this.
 */
export function precisionRecallCurve(
  isPositive: ArrayLike<boolean>,
  scores: ArrayLike<number>
): PrecisionRecallCurve {
  const { fps, tps, thresholds } = binaryClfCurve(isPositive, scores);
  const m = tps.length;
  const positives = tps[m - 1] ?? 0;
  const precision = new Float64Array(m + 1);
  const recall = new Float64Array(m + 1);
  const outThresholds = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const j = m - 1 - i;
    const tp = tps[j] ?? 0;
    const predicted = tp + (fps[j] ?? 0);
    precision[i] = predicted === 0 ? 0 : tp / predicted;
    recall[i] = positives === 0 ? 1 : tp / positives;
    outThresholds[i] = thresholds[j] ?? 0;
  }
  precision[m] = 1;
  recall[m] = 0;
  return { precision, recall, thresholds: outThresholds };
}

/**
 * scikit-learn's step-wise average precision, AP = Σₙ (Rₙ − Rₙ₋₁) Pₙ: the precision at each threshold
 * weighted by the recall gained there, with no interpolation and no trapezoids. With no positives the
 * result is 0 (recall is 1 everywhere, so the only step is at the top-scored point, whose precision is 0).
 */
export function averagePrecision(isPositive: ArrayLike<boolean>, scores: ArrayLike<number>): number {
  const { precision, recall } = precisionRecallCurve(isPositive, scores);
  let ap = 0;
  for (let i = 0; i < recall.length - 1; i++)
    ap -= ((recall[i + 1] ?? 0) - (recall[i] ?? 0)) * (precision[i] ?? 0);
  return ap;
}

/**
 * Multiclass average precision as scikit-learn ≥ 1.1 computes it for a multiclass `y_true`: classes are
 * binarized one-vs-rest and the per-class APs averaged (`average='macro'`, over all `classes` columns).
 */
export function averagePrecisionOvr(
  yTrue: ArrayLike<number>,
  proba: ProbabilityMatrix,
  classes: number
): { perClass: number[]; macro: number } {
  const flat = flattenProbabilities(proba, classes);
  const perClass: number[] = [];
  for (let c = 0; c < classes; c++)
    perClass.push(averagePrecision(indicator(yTrue, c), probabilityColumn(flat, classes, c)));
  return { perClass, macro: perClass.reduce((a, b) => a + b, 0) / classes };
}

export interface CalibrationCurve {
  /** Share of positives in each non-empty bin (scikit-learn's `prob_true`). */
  fractionPositive: Float64Array;
  /** Mean predicted probability in each non-empty bin (`prob_pred`). */
  meanPredicted: Float64Array;
  /** Samples in each non-empty bin (not returned by scikit-learn; useful for a histogram). */
  counts: Int32Array;
}

/**
 * scikit-learn's `calibration_curve(strategy='uniform')`: edges `i / nBins` (as `np.linspace` makes them),
 * a sample goes to the bin found by `np.searchsorted(edges[1:-1], p)` — left side, so a probability equal
 * to an inner edge falls in the lower bin — and empty bins are dropped. Probabilities outside [0, 1]
 * throw, as scikit-learn raises. The default of 10 bins is Lathe's (scikit-learn's is 5).
 */
export function calibrationCurve(
  isPositive: ArrayLike<boolean>,
  scores: ArrayLike<number>,
  nBins = 10
): CalibrationCurve {
  if (isPositive.length !== scores.length) throw new RangeError('length mismatch between labels and scores');
  if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError('nBins must be a positive integer');
  const inner = Array.from({ length: nBins - 1 }, (_, i) => (i + 1) * (1 / nBins));
  const sums = new Float64Array(nBins);
  const trues = new Float64Array(nBins);
  const totals = new Int32Array(nBins);
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i] ?? NaN;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} at row ${i} is outside [0, 1]`);
    let bin = 0;
    while (bin < inner.length && (inner[bin] ?? 1) < p) bin++;
    sums[bin] = (sums[bin] ?? 0) + p;
    if (isPositive[i]) trues[bin] = (trues[bin] ?? 0) + 1;
    totals[bin] = (totals[bin] ?? 0) + 1;
  }
  const fractionPositive: number[] = [];
  const meanPredicted: number[] = [];
  const counts: number[] = [];
  for (let b = 0; b < nBins; b++) {
    const total = totals[b] ?? 0;
    if (total === 0) continue;
    fractionPositive.push((trues[b] ?? 0) / total);
    meanPredicted.push((sums[b] ?? 0) / total);
    counts.push(total);
  }
  return {
    fractionPositive: Float64Array.from(fractionPositive),
    meanPredicted: Float64Array.from(meanPredicted),
    counts: Int32Array.from(counts)
  };
}
