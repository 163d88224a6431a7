import { describe, expect, it } from 'vitest';
import { evaluateClassification, evaluateRegression } from './evaluate';

describe('evaluation reports', () => {
  it('scores a binary classifier with curves for the positive class', () => {
    // the ROC docs example: y = [0, 0, 1, 1], p(1) = [.1, .4, .35, .8], predictions at .5 → [0, 0, 0, 1]
    const report = evaluateClassification({
      yTrue: [0, 0, 1, 1],
      proba: [
        [0.9, 0.1],
        [0.6, 0.4],
        [0.65, 0.35],
        [0.2, 0.8]
      ],
      labels: ['no', 'yes']
    });
    expect(report.accuracy).toBe(0.75);
    expect(report.confusionMatrix).toEqual([
      [2, 0],
      [1, 1]
    ]);
    expect(report.rocAuc.binary).toBe(0.75);
    expect(report.averagePrecision.binary).toBeCloseTo(5 / 6, 12);
    // −(ln .9 + ln .6 + ln .35 + ln .8) / 4
    expect(report.logLoss).toBeCloseTo(0.47228795380917615, 12);
    expect(report.curves).toHaveLength(1);
    expect(report.curves[0]?.label).toBe('yes');
    // bins (0,.1]: .1 → 0 of 1; (.3,.4]: .35, .4 → 1 of 2; (.7,.8]: .8 → 1 of 1
    expect(report.curves[0]?.calibration.fractionPositive).toEqual([0, 0.5, 1]);
  });

  it('reports a multiclass AUC failure as a warning instead of failing the whole report', () => {
    // class 2 never occurs in y_true → its one-vs-rest AUC is undefined, as scikit-learn raises
    const report = evaluateClassification({
      yTrue: [0, 1, 0],
      proba: Float32Array.from([0.7, 0.2, 0.1, 0.2, 0.7, 0.1, 0.5, 0.25, 0.25]),
      labels: ['a', 'b', 'c']
    });
    expect(report.accuracy).toBe(1);
    expect(report.rocAuc.macro).toBeNull();
    expect(report.warnings.some((w) => w.startsWith('one-vs-rest ROC AUC: Only one class'))).toBe(true);
  });

  it('scores a regressor', () => {
    const report = evaluateRegression([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
    expect(report).toMatchObject({ mse: 0.375, mae: 0.5, samples: 4 });
    expect(report.r2).toBeCloseTo(0.948608137, 8);
    expect(report.plot.residual).toEqual([0.5, -0.5, 0, -1]);
  });
});
