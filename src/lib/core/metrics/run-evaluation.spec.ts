import { describe, expect, it } from 'vitest';
import { LatheError } from '../errors';
import type { ClassificationReport, RegressionReport } from './evaluate';
import {
  buildRunEvaluation,
  CURVE_POINT_LIMIT,
  headlineMetrics,
  summarizeFolds,
  thinCurve,
  type EvaluationInput,
  type RunEvaluation
} from './run-evaluation';

const f32 = (values: number[]) => Float32Array.from(values);

function input(overrides: Partial<EvaluationInput>): EvaluationInput {
  return {
    task: 'classification',
    labels: ['no', 'yes'],
    predictions: [],
    sliceBy: null,
    importance: null,
    history: { loss: [], valLoss: [] },
    bestEpoch: null,
    stoppedEarly: false,
    crossValidation: null,
    ...overrides
  };
}

function classification(evaluation: RunEvaluation, split = 'test'): ClassificationReport {
  const report = evaluation.splits.find((s) => s.split === split)?.report;
  if (report?.task !== 'classification') throw new Error(`no classification report for ${split}`);
  return report;
}

function regression(evaluation: RunEvaluation): RegressionReport {
  const report = evaluation.splits[0]?.report;
  if (report?.task !== 'regression') throw new Error('no regression report');
  return report;
}

const roundTrip = (doc: RunEvaluation): unknown => JSON.parse(JSON.stringify(doc));

// scikit-learn's ROC example: y = [0, 0, 1, 1], p(yes) = [.1, .4, .35, .8]; at .5 the predictions are
// [0, 0, 0, 1]. A sigmoid model gives one column, which the document widens to [1 − p, p].
const binary = input({
  sliceBy: 'segment',
  predictions: [
    {
      split: 'test',
      yTrue: f32([0, 0, 1, 1]),
      yPred: f32([]),
      proba: f32([0.1, 0.4, 0.35, 0.8]),
      groups: ['a', 'a', 'b', 'b']
    },
    { split: 'validation', yTrue: f32([0, 1]), yPred: f32([]), proba: f32([0.7, 0.3, 0.2, 0.8]) }
  ],
  importance: {
    metric: 'accuracy',
    baseline: 0.75,
    features: [
      { feature: 'age', mean: 0.05, std: 0.01 },
      { feature: 'income', mean: 0.2, std: 0.05 }
    ]
  },
  history: { loss: [0.7, 0.6, 0.5], valLoss: [0.72, 0.63, 0.55] },
  bestEpoch: 3
});

describe('buildRunEvaluation: binary classification', () => {
  const doc = buildRunEvaluation(binary);
  const test = classification(doc);

  it('orders splits validation first and scores the test split as scikit-learn does', () => {
    expect(doc.splits.map((s) => s.split)).toEqual(['validation', 'test']);
    expect(test.accuracy).toBe(0.75);
    // recall of "no" 2/2, of "yes" 1/2
    expect(test.balancedAccuracy).toBe(0.75);
    expect(test.confusionMatrix).toEqual([
      [2, 0],
      [1, 1]
    ]);
    // F1 "no": 2·2 / (2·2 + 1 + 0) = .8; "yes": 2 / (2 + 0 + 1) = 2/3
    expect(test.macro.f1).toBeCloseTo((0.8 + 2 / 3) / 2, 6);
    expect(test.rocAuc.binary).toBe(0.75);
    expect(test.averagePrecision.binary).toBeCloseTo(5 / 6, 6);
    // −(ln .9 + ln .6 + ln .35 + ln .8) / 4, from float32 probabilities
    expect(test.logLoss).toBeCloseTo(0.472287953809, 6);
  });

  it('replaces the ROC curve’s +∞ first threshold by the top score + 1', () => {
    const roc = test.curves[0]?.roc;
    expect(roc?.x).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(roc?.y).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(roc?.thresholds[0]).toBeCloseTo(1.8, 6);
  });

  it('slices the test split with fairlearn’s differences', () => {
    // a: truth [no, no], predicted [no, no] → selection 0, TPR 0 (no positives), FPR 0
    // b: truth [yes, yes], predicted [no, yes] → selection .5, TPR .5, FPR 0 (no negatives)
    expect(test.slices?.groups.map((g) => [g.group, g.selectionRate, g.truePositiveRate])).toEqual([
      ['a', 0, 0],
      ['b', 0.5, 0.5]
    ]);
    expect(test.slices?.demographicParityDifference).toBe(0.5);
    expect(test.slices?.equalizedOddsDifference).toBe(0.5);
    expect(classification(doc, 'validation').slices).toBeNull();
  });

  it('sorts importance by mean and keeps the learning curve, 1-based', () => {
    expect(doc.importance?.features.map((f) => f.feature)).toEqual(['income', 'age']);
    expect(doc.learningCurve.epochs).toEqual([1, 2, 3]);
    expect(doc.learningCurve.overfitWarning).toBeNull();
    expect(doc.bestEpoch).toBe(3);
  });

  it('gives the test split’s headline numbers', () => {
    const h = headlineMetrics(doc);
    expect(Object.keys(h).sort()).toEqual([
      'accuracy',
      'balanced_accuracy',
      'f1_macro',
      'log_loss',
      'roc_auc'
    ]);
    expect(h.accuracy).toBe(0.75);
    expect(h.roc_auc).toBe(0.75);
  });

  it('survives a JSON round trip unchanged', () => {
    expect(roundTrip(doc)).toStrictEqual(doc);
  });
});

describe('buildRunEvaluation: three classes', () => {
  // argmax predictions [0, 1, 2, 1]; true [0, 1, 2, 2]
  const doc = buildRunEvaluation(
    input({
      labels: ['cat', 'dog', 'eel'],
      predictions: [
        {
          split: 'validation',
          yTrue: f32([0, 1, 2, 2]),
          yPred: f32([]),
          proba: f32([0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.3, 0.6, 0.3, 0.4, 0.3])
        }
      ]
    })
  );
  const r = classification(doc, 'validation');

  it('computes per-class and averaged scores by hand', () => {
    expect(r.confusionMatrix).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 1, 1]
    ]);
    // precision: cat 1, dog 1/2, eel 1; recall: cat 1, dog 1, eel 1/2; F1: 1, 2/3, 2/3
    expect(r.perClass.map((c) => [c.precision, c.recall, c.support])).toEqual([
      [1, 1, 1],
      [0.5, 1, 1],
      [1, 0.5, 2]
    ]);
    expect(r.macro.f1).toBeCloseTo(7 / 9, 12);
    // weighted by support 1, 1, 2: (1 + 2/3 + 2·2/3) / 4
    expect(r.weighted.f1).toBeCloseTo(0.75, 12);
    expect(r.micro.f1).toBe(0.75);
    expect(r.balancedAccuracy).toBeCloseTo(5 / 6, 12);
  });

  it('scores one-vs-rest ROC AUC with ties counted as half', () => {
    // cat: 1; dog: 1; eel: positives .6, .3 against .1, .3 → (1 + 1 + 1 + .5) / 4 = .875
    expect(r.curves.map((c) => c.roc?.auc)).toEqual([1, 1, 0.875]);
    expect(r.rocAuc.macro).toBeCloseTo((1 + 1 + 0.875) / 3, 12);
    const h = headlineMetrics(doc);
    expect(h.roc_auc).toBeCloseTo(0.9583333, 6);
    // −(ln .6 + ln .5 + ln .6 + ln .3) / 4
    expect(h.log_loss).toBeCloseTo(-(2 * Math.log(0.6) + Math.log(0.5) + Math.log(0.3)) / 4, 6);
  });

  it('stores a class absent from the split with no ROC curve rather than NaN rates', () => {
    // "eel" never occurs: its true-positive rate is 0/0 (scikit-learn: NaN) and its AUC undefined.
    const absent = buildRunEvaluation(
      input({
        labels: ['cat', 'dog', 'eel'],
        predictions: [
          {
            split: 'test',
            yTrue: f32([0, 1, 0]),
            yPred: f32([]),
            proba: f32([0.7, 0.2, 0.1, 0.2, 0.7, 0.1, 0.5, 0.25, 0.25])
          }
        ]
      })
    );
    const t = classification(absent);
    expect(t.curves[2]?.roc).toBeNull();
    expect(t.curves[0]?.roc?.auc).toBe(1);
    expect(headlineMetrics(absent)).not.toHaveProperty('roc_auc');
    expect(roundTrip(absent)).toStrictEqual(absent);
  });

  it('survives a JSON round trip unchanged', () => {
    expect(roundTrip(doc)).toStrictEqual(doc);
  });
});

describe('buildRunEvaluation: regression', () => {
  const doc = buildRunEvaluation(
    input({
      task: 'regression',
      labels: null,
      sliceBy: 'region',
      predictions: [
        {
          split: 'test',
          yTrue: f32([3, -0.5, 2, 7]),
          yPred: f32([2.5, 0, 2, 8]),
          proba: null,
          groups: ['x', 'x', 'y', 'y']
        }
      ]
    })
  );

  it('gives MAE, RMSE, R² and MAPE', () => {
    const h = headlineMetrics(doc);
    expect(h.mae).toBe(0.5);
    expect(h.rmse).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(h.r2).toBeCloseTo(0.948608137, 8);
    // (.5/3 + .5/.5 + 0 + 1/7) / 4
    expect(h.mape).toBeCloseTo((0.5 / 3 + 1 + 1 / 7) / 4, 12);
    expect(regression(doc).plot.residual).toEqual([0.5, -0.5, 0, -1]);
  });

  it('slices errors by group', () => {
    // x: errors .5, .5; mean 1.25, SS_tot 6.125 → R² 1 − .5/6.125. y: errors 0, 1; SS_tot 12.5 → .92
    const slices = doc.splits[0]?.regressionSlices ?? [];
    expect(slices.map((s) => [s.group, s.count, s.mae])).toEqual([
      ['x', 2, 0.5],
      ['y', 2, 0.5]
    ]);
    expect(slices[0]?.r2).toBeCloseTo(1 - 0.5 / 6.125, 12);
    expect(slices[1]?.rmse).toBeCloseTo(Math.SQRT1_2, 12);
    expect(slices[1]?.r2).toBeCloseTo(0.92, 12);
  });

  it('refuses non-finite predictions with a coded error', () => {
    const bad = input({
      task: 'regression',
      labels: null,
      predictions: [{ split: 'test', yTrue: f32([1, 2]), yPred: f32([1, NaN]), proba: null }]
    });
    expect(() => buildRunEvaluation(bad)).toThrow(LatheError);
    expect(() => buildRunEvaluation(bad)).toThrow(/non-finite value for 1 of 2 rows/);
  });

  it('survives a JSON round trip unchanged', () => {
    expect(roundTrip(doc)).toStrictEqual(doc);
  });
});

describe('cross-validation spread', () => {
  it('gives mean and population std per metric, null for folds without a finite value', () => {
    const spread = summarizeFolds([
      { accuracy: 0.8, f1_macro: 0.7 },
      { accuracy: 0.9, f1_macro: NaN },
      { accuracy: 1, roc_auc: 0.95 }
    ]);
    expect(spread.map((s) => s.name)).toEqual(['accuracy', 'f1_macro', 'roc_auc']);
    expect(spread[0]?.mean).toBeCloseTo(0.9, 12);
    // deviations −.1, 0, .1 → √(.02 / 3)
    expect(spread[0]?.std).toBeCloseTo(Math.sqrt(0.02 / 3), 12);
    expect(spread[1]).toEqual({ name: 'f1_macro', mean: 0.7, std: 0, values: [0.7, null, null] });
    expect(spread[2]?.values).toEqual([null, null, 0.95]);
  });

  it('drops a metric no fold could compute and adds cv_*_mean to the headline', () => {
    expect(summarizeFolds([{ r2: NaN }, { r2: Infinity }])).toEqual([]);
    const doc = buildRunEvaluation(
      input({
        task: 'regression',
        labels: null,
        predictions: [{ split: 'test', yTrue: f32([1, 2, 3]), yPred: f32([1, 2, 4]), proba: null }],
        crossValidation: [
          { rmse: 1, r2: 0.5 },
          { rmse: 3, r2: 0.7 }
        ]
      })
    );
    expect(doc.crossValidation).toMatchObject({ folds: 2 });
    const h = headlineMetrics(doc);
    expect(h.cv_rmse_mean).toBe(2);
    expect(h.cv_r2_mean).toBeCloseTo(0.6, 12);
    expect(roundTrip(doc)).toStrictEqual(doc);
  });
});

describe('learning curve', () => {
  const predictions = binary.predictions;

  it('warns when validation loss rises while training loss falls, and keeps early stopping facts', () => {
    // validation minimum .7 at epoch 3, then three epochs above it; training .6 → .3
    const doc = buildRunEvaluation(
      input({
        predictions,
        history: { loss: [1, 0.8, 0.6, 0.5, 0.4, 0.3], valLoss: [1, 0.8, 0.7, 0.75, 0.8, 0.9] },
        bestEpoch: 3,
        stoppedEarly: true
      })
    );
    expect(doc.learningCurve.overfitWarning).toContain('minimum at epoch 3');
    expect(doc).toMatchObject({ bestEpoch: 3, stoppedEarly: true });
  });

  it('stays quiet with healthy curves or without a validation split', () => {
    const healthy = buildRunEvaluation(
      input({ predictions, history: { loss: [1, 0.8, 0.7], valLoss: [1.05, 0.85, 0.75] } })
    );
    expect(healthy.learningCurve.overfitWarning).toBeNull();
    const noValidation = buildRunEvaluation(input({ predictions, history: { loss: [1, 0.1], valLoss: [] } }));
    expect(noValidation.learningCurve).toMatchObject({ valLoss: [], overfitWarning: null });
  });

  it('stores a non-finite epoch loss as null', () => {
    const doc = buildRunEvaluation(
      input({ predictions, history: { loss: [1, NaN], valLoss: [1, Infinity] } })
    );
    expect(doc.learningCurve).toMatchObject({ loss: [1, null], valLoss: [1, null] });
    expect(roundTrip(doc)).toStrictEqual(doc);
  });
});

describe('thinCurve', () => {
  it('keeps a short curve as it is', () => {
    const c = { x: [0, 0.5, 1], y: [0, 0.5, 1], thresholds: [2, 0.5, 0.1] };
    expect(thinCurve(c)).toBe(c);
  });

  it('thins a long curve to the limit, keeping its ends and the threshold alignment', () => {
    const n = 5000;
    // a jagged precision-recall-like curve: recall falls, precision zigzags; thresholds one shorter
    const x = Array.from({ length: n }, (_, i) => 1 - i / (n - 1));
    const y = Array.from({ length: n }, (_, i) => 0.5 + (i % 2 === 0 ? 0.3 : -0.3) * (i / n));
    const thresholds = Array.from({ length: n - 1 }, (_, i) => i / n);
    const thin = thinCurve({ x, y, thresholds });
    expect(thin.x.length).toBeLessThanOrEqual(CURVE_POINT_LIMIT);
    expect(thin.x.length).toBeGreaterThan(CURVE_POINT_LIMIT / 2);
    expect([thin.x[0], thin.x.at(-1), thin.y.at(-1)]).toEqual([1, 0, y.at(-1)]);
    expect(thin.thresholds).toHaveLength(thin.x.length - 1);
    // every kept threshold is the one of its kept point
    const i = x.indexOf(thin.x[7] ?? -1);
    expect(thin.thresholds[7]).toBe(thresholds[i]);
  });

  it('keeps a stored test split’s curves within the limit and their AUC from every point', () => {
    const n = 3000;
    const yTrue = f32(Array.from({ length: n }, (_, i) => i % 2));
    // distinct scores that rank most positives above negatives
    const proba = f32(Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 0.4 : 0.6) * (0.5 + (0.5 * i) / n)));
    const doc = buildRunEvaluation(input({ predictions: [{ split: 'test', yTrue, yPred: f32([]), proba }] }));
    const curve = classification(doc).curves[0];
    expect(curve?.precisionRecall.x.length).toBeLessThanOrEqual(CURVE_POINT_LIMIT);
    expect(curve?.roc?.x.length).toBeLessThanOrEqual(CURVE_POINT_LIMIT);
    expect(curve?.roc?.x.at(-1)).toBe(1);
    expect(curve?.roc?.auc).toBeGreaterThan(0.5);
  });
});

describe('shape checks', () => {
  it('refuses probabilities that do not match the classes', () => {
    const bad = input({
      labels: ['a', 'b', 'c'],
      predictions: [{ split: 'test', yTrue: f32([0, 1]), yPred: f32([]), proba: f32([0.5, 0.5, 0.5, 0.5]) }]
    });
    expect(() => buildRunEvaluation(bad)).toThrow(/2 rows and 3 classes but 4 probabilities/);
  });

  it('leaves out a split without rows', () => {
    const doc = buildRunEvaluation(
      input({
        predictions: [
          { split: 'validation', yTrue: f32([]), yPred: f32([]), proba: f32([]) },
          ...binary.predictions.filter((p) => p.split === 'test')
        ]
      })
    );
    expect(doc.splits.map((s) => s.split)).toEqual(['test']);
  });
});
