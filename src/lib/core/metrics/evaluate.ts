/**
 * Every evaluation metric of a set of predictions in one JSON-ready report: what the run report shows
 * and what `lathe eval` prints.
 */
import {
  accuracy,
  argmaxRows,
  balancedAccuracy,
  classCount,
  confusionMatrix,
  logLoss,
  precisionRecallF1,
  SKLEARN_LOG_LOSS_EPSILON,
  type AveragedScores,
  type ClassScores
} from './classification';
import {
  averagePrecision,
  averagePrecisionOvr,
  calibrationCurve,
  flattenProbabilities,
  precisionRecallCurve,
  probabilityColumn,
  probabilityWidth,
  rocAuc,
  rocAucOvr,
  rocCurve,
  type ProbabilityMatrix
} from './curves';
import { metricsBySlice, type SliceReport } from './fairness';
import {
  meanAbsoluteError,
  meanAbsolutePercentageError,
  meanSquaredError,
  r2Score,
  regressionPlotData,
  rootMeanSquaredError
} from './regression';

export interface ClassificationInput {
  yTrue: ArrayLike<number>;
  /** Predicted class indices; derived from `proba` (argmax) when left out. */
  yPred?: ArrayLike<number>;
  /** `n × classes` probabilities, columns in class-index order. */
  proba?: ProbabilityMatrix;
  /** Class names by index. */
  labels?: readonly string[];
  /** Group of each row, for per-slice metrics. */
  groups?: readonly string[];
  /** Class counted as positive for binary curves and slices (default 1, scikit-learn's greater label). */
  positiveClass?: number;
}

export interface CurvePoints {
  x: number[];
  y: number[];
  thresholds: number[];
}

export interface ClassCurves {
  /** Class index treated as positive (one-vs-rest for multiclass). */
  positiveClass: number;
  label: string;
  roc: (CurvePoints & { auc: number | null }) | null;
  precisionRecall: CurvePoints & { averagePrecision: number };
  calibration: { meanPredicted: number[]; fractionPositive: number[]; counts: number[] };
}

export interface ClassificationReport {
  task: 'classification';
  samples: number;
  labels: string[];
  accuracy: number;
  balancedAccuracy: number;
  perClass: Array<ClassScores & { label: string }>;
  macro: AveragedScores;
  micro: AveragedScores;
  weighted: AveragedScores;
  /** Rows true class, columns predicted class. */
  confusionMatrix: number[][];
  logLoss: number | null;
  rocAuc: { binary: number | null; macro: number | null; weighted: number | null };
  averagePrecision: { binary: number | null; macro: number | null };
  /** The positive class's curves for binary problems, one per class (one-vs-rest) for multiclass. */
  curves: ClassCurves[];
  slices: SliceReport | null;
  warnings: string[];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function evaluateClassification(input: ClassificationInput): ClassificationReport {
  const { yTrue, proba, groups } = input;
  const n = yTrue.length;
  const probaClasses = proba ? probabilityWidth(proba, n) : undefined;
  const k0 = probaClasses ?? input.labels?.length;
  const flat = proba && k0 ? flattenProbabilities(proba, k0) : undefined;
  const yPred = input.yPred ?? (flat && k0 ? argmaxRows(flat, k0) : undefined);
  if (!yPred) throw new RangeError('give predicted classes or probabilities (with the class count)');
  const k = Math.max(k0 ?? 0, classCount(yTrue, yPred), 2);
  const labels = Array.from({ length: k }, (_, c) => input.labels?.[c] ?? String(c));
  const warnings: string[] = [];

  const prf = precisionRecallF1(yTrue, yPred, k, labels);
  warnings.push(...prf.warnings);
  const cm = confusionMatrix(yTrue, yPred, k);
  const matrix = Array.from({ length: k }, (_, r) => Array.from(cm.subarray(r * k, (r + 1) * k)));

  let logLossValue: number | null = null;
  const rocAucs: ClassificationReport['rocAuc'] = { binary: null, macro: null, weighted: null };
  const aps: ClassificationReport['averagePrecision'] = { binary: null, macro: null };
  const curves: ClassCurves[] = [];
  if (flat) {
    if (flat.length !== n * k) throw new RangeError(`expected ${n * k} probabilities, got ${flat.length}`);
    logLossValue = logLoss(yTrue, flat, k, SKLEARN_LOG_LOSS_EPSILON);
    const positive = input.positiveClass ?? 1;
    const curveClasses = k === 2 ? [positive] : labels.map((_, c) => c);
    for (const c of curveClasses) {
      const isPositive = Array.from({ length: n }, (_, i) => yTrue[i] === c);
      const scores = probabilityColumn(flat, k, c);
      let roc: ClassCurves['roc'] = null;
      const r = rocCurve(isPositive, scores);
      let auc: number | null = null;
      try {
        auc = rocAuc(isPositive, scores);
      } catch (err) {
        warnings.push(`ROC AUC for class ${labels[c]}: ${message(err)}`);
      }
      roc = { x: Array.from(r.fpr), y: Array.from(r.tpr), thresholds: Array.from(r.thresholds), auc };
      const pr = precisionRecallCurve(isPositive, scores);
      let calibration: ClassCurves['calibration'] = { meanPredicted: [], fractionPositive: [], counts: [] };
      try {
        const cal = calibrationCurve(isPositive, scores, 10);
        calibration = {
          meanPredicted: Array.from(cal.meanPredicted),
          fractionPositive: Array.from(cal.fractionPositive),
          counts: Array.from(cal.counts)
        };
      } catch (err) {
        warnings.push(`calibration curve for class ${labels[c]}: ${message(err)}`);
      }
      curves.push({
        positiveClass: c,
        label: labels[c] ?? String(c),
        roc,
        precisionRecall: {
          x: Array.from(pr.recall),
          y: Array.from(pr.precision),
          thresholds: Array.from(pr.thresholds),
          averagePrecision: averagePrecision(isPositive, scores)
        },
        calibration
      });
    }
    if (k === 2) {
      rocAucs.binary = curves[0]?.roc?.auc ?? null;
      aps.binary = curves[0]?.precisionRecall.averagePrecision ?? null;
    } else {
      try {
        const ovr = rocAucOvr(yTrue, flat, k);
        rocAucs.macro = ovr.macro;
        rocAucs.weighted = ovr.weighted;
      } catch (err) {
        warnings.push(`one-vs-rest ROC AUC: ${message(err)}`);
      }
      aps.macro = averagePrecisionOvr(yTrue, flat, k).macro;
    }
  }

  return {
    task: 'classification',
    samples: n,
    labels,
    accuracy: accuracy(yTrue, yPred),
    balancedAccuracy: balancedAccuracy(yTrue, yPred, k),
    perClass: prf.perClass.map((s, c) => ({ label: labels[c] ?? String(c), ...s })),
    macro: prf.macro,
    micro: prf.micro,
    weighted: prf.weighted,
    confusionMatrix: matrix,
    logLoss: logLossValue,
    rocAuc: rocAucs,
    averagePrecision: aps,
    curves,
    slices: groups ? metricsBySlice(yTrue, yPred, groups, { positiveClass: input.positiveClass ?? 1 }) : null,
    warnings
  };
}

export interface RegressionReport {
  task: 'regression';
  samples: number;
  mae: number;
  mse: number;
  rmse: number;
  r2: number;
  mape: number;
  /** Sampled points (≤ 2000): actual, predicted and residual = actual − predicted. */
  plot: { rows: number[]; actual: number[]; predicted: number[]; residual: number[] };
}

export function evaluateRegression(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionReport {
  const plot = regressionPlotData(yTrue, yPred);
  return {
    task: 'regression',
    samples: yTrue.length,
    mae: meanAbsoluteError(yTrue, yPred),
    mse: meanSquaredError(yTrue, yPred),
    rmse: rootMeanSquaredError(yTrue, yPred),
    r2: r2Score(yTrue, yPred),
    mape: meanAbsolutePercentageError(yTrue, yPred),
    plot: {
      rows: Array.from(plot.rows),
      actual: Array.from(plot.actual),
      predicted: Array.from(plot.predicted),
      residual: Array.from(plot.residual)
    }
  };
}
