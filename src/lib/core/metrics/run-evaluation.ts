/**
 * The evaluation of one run as one JSON document: what the train worker stores as the run's
 * `evaluation` artifact and what the evaluation page draws.
 */
import { LatheError } from '../errors';
import type { Task } from '../records';
import { binaryToTwoColumns } from './classification';
import {
  evaluateClassification,
  evaluateRegression,
  type ClassificationReport,
  type CurvePoints,
  type RegressionReport
} from './evaluate';
import { overfitWarning } from './learning-curve';
import { meanAbsoluteError, r2Score, rootMeanSquaredError } from './regression';

export type EvaluatedSplit = 'validation' | 'test';

/** Predictions of the final model on one held-out split. */
export interface SplitPredictions {
  split: EvaluatedSplit;
  /** Class index (classification) or value (regression), one per row. */
  yTrue: Float32Array;
  /** Regression: predicted values. Classification: unused (derived from `proba`). */
  yPred: Float32Array;
  /**
   * Classification: rows × classes probabilities, row-major; null for regression. A binary model may
   * give one column (the positive class's probability, as a sigmoid does); it is widened to two.
   */
  proba: Float32Array | null;
  /** The `sliceBy` column's value per row, as text (missing → "(missing)"); absent when not sliced. */
  groups?: string[];
}

export interface FeatureImportanceEntry {
  feature: string;
  /** Mean drop of the metric when the feature is shuffled; positive: the feature helps. */
  mean: number;
  std: number;
}

export interface ImportanceResult {
  /** The metric whose drop is measured: `accuracy` or `r2`. */
  metric: string;
  baseline: number;
  /** Sorted by `mean`, largest first. */
  features: FeatureImportanceEntry[];
}

export interface EvaluationInput {
  task: Task;
  /** Class labels by index (classification); null for regression. */
  labels: string[] | null;
  predictions: SplitPredictions[];
  sliceBy: string | null;
  importance: ImportanceResult | null;
  /** Per-epoch training and validation loss (validation empty when there was no validation split). */
  history: { loss: number[]; valLoss: number[] };
  /**
   * Epoch whose weights the model kept (early stopping restores the best), counted from 1 like the
   * learning curve's `epochs`; null: the last.
   */
  bestEpoch: number | null;
  stoppedEarly: boolean;
  /** Per fold, the held-out metrics of a model trained on the other folds; null: no cross-validation. */
  crossValidation: Array<Record<string, number>> | null;
}

export interface MetricSpread {
  name: string;
  /** Over the folds whose value is a finite number. */
  mean: number;
  /** Population standard deviation over the same folds. */
  std: number;
  /** One per fold, in fold order; null where the fold has no finite value for the metric. */
  values: Array<number | null>;
}

/** Regression errors of one group of the `sliceBy` column (classification has `report.slices`). */
export interface RegressionSlice {
  group: string;
  count: number;
  mae: number;
  rmse: number;
  r2: number;
}

export interface EvaluatedSplitReport {
  split: EvaluatedSplit;
  /**
   * The metrics of `evaluate.ts`, made JSON-safe: curves are thinned to at most `CURVE_POINT_LIMIT`
   * points (AUC and AP are computed before, on every point), a ROC curve whose rates are undefined (one
   * class only) is null, and the ROC's first threshold is the largest score + 1 (scikit-learn < 1.3)
   * instead of +∞.
   */
  report: ClassificationReport | RegressionReport;
  /** Per-group errors of a regressor when `sliceBy` is set; null otherwise. */
  regressionSlices: RegressionSlice[] | null;
}

export interface RunEvaluation {
  version: 1;
  task: Task;
  labels: string[] | null;
  /** Validation before test; a split without rows is left out. */
  splits: EvaluatedSplitReport[];
  sliceBy: string | null;
  importance: ImportanceResult | null;
  learningCurve: {
    /** 1, 2, … one per trained epoch. */
    epochs: number[];
    /** Null where the epoch's loss was not a finite number (JSON has no NaN). */
    loss: Array<number | null>;
    valLoss: Array<number | null>;
    /** From `overfitWarning`; null when the curves look healthy or there is no validation split. */
    overfitWarning: string | null;
  };
  bestEpoch: number | null;
  stoppedEarly: boolean;
  crossValidation: { folds: number; metrics: MetricSpread[] } | null;
}

/** Most points a stored ROC or precision-recall curve keeps; a chart a few hundred pixels wide needs fewer. */
export const CURVE_POINT_LIMIT = 500;

/**
 * Thins a curve in the unit square to at most `limit` points: a point is kept when it moved at least
 * `2 / limit` (in x or y) from the last kept one — a monotone curve such as ROC travels at most 2, so
 * that alone meets the limit — then, for a jagged one (precision at low recall), every k-th of those.
 * The first and last points always stay, so the curve still starts and ends where it did.
 */
export function thinCurve(curve: CurvePoints, limit = CURVE_POINT_LIMIT): CurvePoints {
  const n = curve.x.length;
  if (n <= limit) return curve;
  const step = 2 / limit;
  let kept: number[] = [0];
  let lastX = curve.x[0] ?? 0;
  let lastY = curve.y[0] ?? 0;
  for (let i = 1; i < n - 1; i++) {
    const x = curve.x[i] ?? 0;
    const y = curve.y[i] ?? 0;
    if (Math.abs(x - lastX) >= step || Math.abs(y - lastY) >= step) {
      kept.push(i);
      lastX = x;
      lastY = y;
    }
  }
  if (kept.length > limit - 1) {
    const every = Math.ceil(kept.length / (limit - 1));
    kept = kept.filter((_, j) => j % every === 0);
  }
  kept.push(n - 1);
  // Thresholds are one shorter than the points on a precision-recall curve: the last point has none.
  const pick = (values: number[]) => kept.filter((i) => i < values.length).map((i) => values[i] ?? 0);
  return { x: pick(curve.x), y: pick(curve.y), thresholds: pick(curve.thresholds) };
}

function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] ?? NaN)) return false;
  return true;
}

function countNonFinite(values: ArrayLike<number>): number {
  let bad = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] ?? NaN)) bad++;
  return bad;
}

function jsonSafeReport(report: ClassificationReport): ClassificationReport {
  return {
    ...report,
    curves: report.curves.map((c) => {
      let roc = c.roc;
      if (roc && (!allFinite(roc.x) || !allFinite(roc.y))) roc = null;
      if (roc) {
        const finite = roc.thresholds.filter(Number.isFinite);
        const top = finite.length ? Math.max(...finite) + 1 : 1;
        const thinned = thinCurve({
          ...roc,
          thresholds: roc.thresholds.map((t) => (Number.isFinite(t) ? t : top))
        });
        roc = { ...thinned, auc: roc.auc };
      }
      return {
        ...c,
        roc,
        precisionRecall: {
          ...thinCurve(c.precisionRecall),
          averagePrecision: c.precisionRecall.averagePrecision
        }
      };
    })
  };
}

function regressionSlices(
  yTrue: Float32Array,
  yPred: Float32Array,
  groups: readonly string[]
): RegressionSlice[] {
  const rows = new Map<string, number[]>();
  groups.forEach((g, i) => {
    let list = rows.get(g);
    if (!list) rows.set(g, (list = []));
    list.push(i);
  });
  return [...rows].map(([group, idx]) => {
    const t = idx.map((i) => yTrue[i] ?? 0);
    const p = idx.map((i) => yPred[i] ?? 0);
    return {
      group,
      count: idx.length,
      mae: meanAbsoluteError(t, p),
      rmse: rootMeanSquaredError(t, p),
      r2: r2Score(t, p)
    };
  });
}

function evaluateSplit(input: EvaluationInput, p: SplitPredictions): EvaluatedSplitReport {
  const n = p.yTrue.length;
  if (p.groups && p.groups.length !== n)
    throw new LatheError(
      'evaluation_shape',
      `the ${p.split} split has ${n} rows but ${p.groups.length} values of ${input.sliceBy ?? 'its slice column'}`
    );
  if (input.task === 'regression') {
    if (p.yPred.length !== n)
      throw new LatheError(
        'evaluation_shape',
        `the ${p.split} split has ${n} rows but ${p.yPred.length} predictions`
      );
    const bad = countNonFinite(p.yPred);
    if (bad > 0)
      throw new LatheError(
        'predictions_not_finite',
        `The model predicted a non-finite value for ${bad} of ${n} rows of the ${p.split} split; there is nothing to evaluate.`
      );
    return {
      split: p.split,
      report: evaluateRegression(p.yTrue, p.yPred),
      regressionSlices: p.groups ? regressionSlices(p.yTrue, p.yPred, p.groups) : null
    };
  }
  const labels = input.labels ?? [];
  const k = labels.length;
  if (!p.proba)
    throw new LatheError('evaluation_shape', `the ${p.split} split of a classifier has no probabilities`);
  let proba: Float32Array | Float64Array = p.proba;
  if (k === 2 && proba.length === n) proba = binaryToTwoColumns(proba);
  if (k < 2 || proba.length !== n * k)
    throw new LatheError(
      'evaluation_shape',
      `the ${p.split} split has ${n} rows and ${k} classes but ${p.proba.length} probabilities`
    );
  const bad = countNonFinite(proba);
  if (bad > 0)
    throw new LatheError(
      'predictions_not_finite',
      `The model gave ${bad} non-finite probabilities on the ${p.split} split; there is nothing to evaluate.`
    );
  const report = evaluateClassification({ yTrue: p.yTrue, proba, labels, groups: p.groups });
  return { split: p.split, report: jsonSafeReport(report), regressionSlices: null };
}

/**
 * Per metric, its mean and population standard deviation over the folds, with the per-fold values.
 * Metrics keep the order in which the folds first name them; a fold without a finite value gets null
 * and is left out of the mean; a metric no fold has a finite value for is left out.
 */
export function summarizeFolds(folds: ReadonlyArray<Record<string, number>>): MetricSpread[] {
  const names: string[] = [];
  for (const fold of folds) for (const name of Object.keys(fold)) if (!names.includes(name)) names.push(name);
  const spreads: MetricSpread[] = [];
  for (const name of names) {
    const values = folds.map((fold) => {
      const v = fold[name];
      return v !== undefined && Number.isFinite(v) ? v : null;
    });
    const finite = values.filter((v): v is number => v !== null);
    if (finite.length === 0) continue;
    const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
    const std = Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / finite.length);
    spreads.push({ name, mean, std, values });
  }
  return spreads;
}

function finiteOrNull(values: readonly number[]): Array<number | null> {
  return values.map((v) => (Number.isFinite(v) ? v : null));
}

function jsonSafeImportance(importance: ImportanceResult | null): ImportanceResult | null {
  if (!importance || !Number.isFinite(importance.baseline)) return null;
  const features = importance.features
    .filter((f) => Number.isFinite(f.mean) && Number.isFinite(f.std))
    .map((f) => ({ feature: f.feature, mean: f.mean, std: f.std }))
    .sort((a, b) => b.mean - a.mean);
  return { metric: importance.metric, baseline: importance.baseline, features };
}

/**
 * A copy in which every number is finite and no −0 remains (JSON writes −0 as 0), so that
 * `JSON.parse(JSON.stringify(doc))` equals `doc`. Anything non-finite left at this point is a bug in
 * the steps above, reported with its path rather than stored as a silent null.
 */
function assertJsonSafe<T>(value: T, path = 'evaluation'): T {
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new LatheError('evaluation_not_finite', `${path} is ${value}, which JSON cannot hold`);
    return (value === 0 ? 0 : value) as T;
  }
  if (Array.isArray(value)) return value.map((v, i) => assertJsonSafe(v, `${path}[${i}]`)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value))
      if (v !== undefined) out[key] = assertJsonSafe(v, `${path}.${key}`);
    return out as T;
  }
  return value;
}

const SPLIT_ORDER: Record<EvaluatedSplit, number> = { validation: 0, test: 1 };

/**
 * Everything the evaluation page shows about a finished run, computed once in the train worker.
 * Pure: the same input gives the same document, which holds only plain arrays, numbers, strings,
 * booleans and nulls. Throws a `LatheError` when predictions are not finite or not shaped like the task.
 */
export function buildRunEvaluation(input: EvaluationInput): RunEvaluation {
  if (input.task === 'classification' && (!input.labels || input.labels.length < 2))
    throw new LatheError('evaluation_shape', 'a classification run needs at least two class labels');
  const splits = input.predictions
    .filter((p) => p.yTrue.length > 0)
    .sort((a, b) => SPLIT_ORDER[a.split] - SPLIT_ORDER[b.split])
    .map((p) => evaluateSplit(input, p));
  const { loss, valLoss } = input.history;
  const epochs = Array.from({ length: loss.length }, (_, i) => i + 1);
  const evaluation: RunEvaluation = {
    version: 1,
    task: input.task,
    labels: input.task === 'classification' ? [...(input.labels ?? [])] : null,
    splits,
    sliceBy: input.sliceBy,
    importance: jsonSafeImportance(input.importance),
    learningCurve: {
      epochs,
      loss: finiteOrNull(loss),
      valLoss: finiteOrNull(valLoss),
      overfitWarning: valLoss.length > 0 ? overfitWarning({ train: loss, validation: valLoss }) : null
    },
    bestEpoch: input.bestEpoch,
    stoppedEarly: input.stoppedEarly,
    crossValidation: input.crossValidation
      ? { folds: input.crossValidation.length, metrics: summarizeFolds(input.crossValidation) }
      : null
  };
  return assertJsonSafe(evaluation);
}

/** The split whose numbers a run's record keeps: test when there is one, else validation. */
export function headlineSplit(evaluation: RunEvaluation): EvaluatedSplitReport | undefined {
  return (
    evaluation.splits.find((s) => s.split === 'test') ??
    evaluation.splits.find((s) => s.split === 'validation')
  );
}

/**
 * The flat numbers a run record keeps (`Run.metrics`), named as the runs table and comparisons read
 * them. Metrics that are undefined for this run (no ROC AUC with one class present) are left out.
 */
export function headlineMetrics(evaluation: RunEvaluation): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (name: string, value: number | null | undefined) => {
    if (value !== null && value !== undefined && Number.isFinite(value)) out[name] = value;
  };
  const report = headlineSplit(evaluation)?.report;
  if (report?.task === 'classification') {
    put('accuracy', report.accuracy);
    put('balanced_accuracy', report.balancedAccuracy);
    put('f1_macro', report.macro.f1);
    put('log_loss', report.logLoss);
    put('roc_auc', report.labels.length === 2 ? report.rocAuc.binary : report.rocAuc.macro);
  } else if (report?.task === 'regression') {
    put('rmse', report.rmse);
    put('mae', report.mae);
    put('r2', report.r2);
    put('mape', report.mape);
  }
  for (const spread of evaluation.crossValidation?.metrics ?? []) put(`cv_${spread.name}_mean`, spread.mean);
  return out;
}
