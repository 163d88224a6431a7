import { describe, expect, it } from 'vitest';
import {
  balancedAccuracy,
  confusionMatrix,
  logLoss,
  precisionRecallF1,
  SKLEARN_LOG_LOSS_EPSILON
} from './classification';

describe('confusion matrix', () => {
  it('has true classes as rows and predictions as columns (scikit-learn docs example)', () => {
    // y_true = [2, 0, 2, 2, 0, 1], y_pred = [0, 0, 2, 2, 0, 2] → [[2, 0, 0], [0, 0, 1], [1, 0, 2]]
    expect(Array.from(confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2], 3))).toEqual([
      2, 0, 0, 0, 0, 1, 1, 0, 2
    ]);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/not a class index/);
  });
});

describe('balanced accuracy', () => {
  it('is the mean recall per class (scikit-learn docs example)', () => {
    // class 0: 3 of 4 recalled, class 1: 1 of 2 → (0.75 + 0.5) / 2
    expect(balancedAccuracy([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1])).toBe(0.625);
  });

  it('ignores a class that is only predicted, as scikit-learn drops its 0/0 recall', () => {
    // recalls: class 0 = 1/2, class 1 = 2/2, class 2 absent from y_true → (0.5 + 1) / 2, not / 3
    expect(balancedAccuracy([0, 0, 1, 1], [0, 2, 1, 1], 3)).toBe(0.75);
  });
});

describe('precision, recall and F1', () => {
  it('match scikit-learn’s precision_recall_fscore_support docs example', () => {
    // y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1]
    // class 0: tp 2, predicted 3, support 2 → P 2/3, R 1, F1 2·2/(2·2 + 1 + 0) = 0.8
    // classes 1 and 2: tp 0 → 0, 0, 0
    // macro: P 2/9 ≈ 0.2222, R 1/3, F1 0.8/3 ≈ 0.2667; micro = accuracy = 2/6; weighted = macro (equal supports)
    const r = precisionRecallF1([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]);
    expect(r.perClass[0]?.precision).toBeCloseTo(2 / 3, 12);
    expect(r.perClass[0]?.f1).toBeCloseTo(0.8, 12);
    expect(r.macro.precision).toBeCloseTo(2 / 9, 12);
    expect(r.macro.recall).toBeCloseTo(1 / 3, 12);
    expect(r.macro.f1).toBeCloseTo(0.8 / 3, 12);
    expect(r.micro.precision).toBeCloseTo(1 / 3, 12);
    expect(r.micro.recall).toBeCloseTo(1 / 3, 12);
    expect(r.micro.f1).toBeCloseTo(1 / 3, 12);
    expect(r.weighted.f1).toBeCloseTo(0.8 / 3, 12);
    expect(r.warnings).toEqual([]);
  });

  it('gives 0 and a warning for a class never predicted (zero_division="warn")', () => {
    // y_true = [0, 1, 2], y_pred = [0, 1, 1]: class 2 has no predictions → precision 0/0 → 0
    // class 1: tp 1, predicted 2 → P 0.5, R 1, F1 2/(2 + 1) = 2/3; class 0 perfect
    // macro P (1 + 0.5 + 0) / 3 = 0.5, macro F1 (1 + 2/3 + 0) / 3 = 5/9
    const r = precisionRecallF1([0, 1, 2], [0, 1, 1], 3, ['a', 'b', 'c']);
    expect(r.perClass[2]).toMatchObject({ precision: 0, recall: 0, f1: 0, precisionUndefined: true });
    expect(r.perClass[1]?.f1).toBeCloseTo(2 / 3, 12);
    expect(r.macro.precision).toBeCloseTo(0.5, 12);
    expect(r.macro.f1).toBeCloseTo(5 / 9, 12);
    expect(r.warnings).toEqual(['precision of class c is ill-defined (no predicted samples); set to 0']);
  });

  it('leaves classes absent from both arrays out of the averages', () => {
    // four named classes, only 0 and 1 occur: averages over two, the empty class still has a row
    const r = precisionRecallF1([0, 1], [0, 0], 4);
    expect(r.averagedOver).toEqual([0, 1]);
    // class 0: P 1/2, R 1; class 1: P 0 (never predicted), R 0 → macro P 0.25, R 0.5
    expect(r.macro.precision).toBeCloseTo(0.25, 12);
    expect(r.macro.recall).toBeCloseTo(0.5, 12);
    expect(r.perClass).toHaveLength(4);
  });
});

describe('log loss with scikit-learn’s clip', () => {
  it('matches the scikit-learn docs example', () => {
    // classes sorted: ham 0, spam 1; −(ln .9 + ln .9 + ln .8 + ln .65) / 4
    const p = [0.1, 0.9, 0.9, 0.1, 0.8, 0.2, 0.35, 0.65];
    expect(logLoss([1, 0, 0, 1], p, 2, SKLEARN_LOG_LOSS_EPSILON)).toBeCloseTo(0.21616187468057912, 12);
  });

  it('clips at float64 eps: a certain mistake costs −ln(2.22e-16)', () => {
    expect(logLoss([0], [0, 1], 2, SKLEARN_LOG_LOSS_EPSILON)).toBeCloseTo(36.04365338911715, 9);
  });
});
