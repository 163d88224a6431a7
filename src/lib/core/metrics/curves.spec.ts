import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  averagePrecisionOvr,
  calibrationCurve,
  precisionRecallCurve,
  rocAuc,
  rocAucOvr,
  rocCurve
} from './curves';

const pos = (ys: number[]): boolean[] => ys.map((y) => y === 1);

describe('ROC curve and AUC', () => {
  it('matches scikit-learn’s roc_curve docs example', () => {
    // y = [0, 0, 1, 1], scores [.1, .4, .35, .8]; by decreasing score: .8 (+), .4 (−), .35 (+), .1 (−)
    // → tps 1,1,2,2, fps 0,1,1,2 → fpr [0, 0, .5, .5, 1], tpr [0, .5, .5, 1, 1], AUC 0.75
    const r = rocCurve(pos([0, 0, 1, 1]), [0.1, 0.4, 0.35, 0.8]);
    expect(Array.from(r.fpr)).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(Array.from(r.tpr)).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(Array.from(r.thresholds)).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
    expect(rocAuc(pos([0, 0, 1, 1]), [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
  });

  it('moves tied scores together, so a tie counts half', () => {
    // y = [0, 1, 0, 1], scores [.5, .5, .2, .9]: .9 (+) → (0, .5); the tie at .5 (one +, one −) → (.5, 1); .2 → (1, 1)
    // area = .5·(.5 + 1)/2 + .5·(1 + 1)/2 = .875 = Mann–Whitney (1 + 1 + .5 + 1) / 4
    const r = rocCurve(pos([0, 1, 0, 1]), [0.5, 0.5, 0.2, 0.9]);
    expect(Array.from(r.fpr)).toEqual([0, 0, 0.5, 1]);
    expect(Array.from(r.tpr)).toEqual([0, 0.5, 1, 1]);
    expect(rocAuc(pos([0, 1, 0, 1]), [0.5, 0.5, 0.2, 0.9])).toBe(0.875);
  });

  it('drops collinear points like drop_intermediate=True, and keeps them when asked', () => {
    // y = [1, 1, 0, 0], scores [.9, .8, .7, .6]: tps 1,2,2,2, fps 0,0,1,2; at .7 both second differences are 0
    const kept = rocCurve(pos([1, 1, 0, 0]), [0.9, 0.8, 0.7, 0.6]);
    expect(Array.from(kept.thresholds)).toEqual([Infinity, 0.9, 0.8, 0.6]);
    expect(Array.from(kept.fpr)).toEqual([0, 0, 0, 1]);
    const all = rocCurve(pos([1, 1, 0, 0]), [0.9, 0.8, 0.7, 0.6], false);
    expect(Array.from(all.thresholds)).toEqual([Infinity, 0.9, 0.8, 0.7, 0.6]);
  });

  it('refuses AUC with one class, and gives NaN rates for the missing one like scikit-learn', () => {
    expect(() => rocAuc(pos([1, 1]), [0.2, 0.3])).toThrow(/Only one class/);
    expect(Array.from(rocCurve(pos([1, 1]), [0.2, 0.3]).fpr).every(Number.isNaN)).toBe(true);
  });

  it('averages one-vs-rest AUCs for multiclass, macro and support-weighted', () => {
    // classes 0 and 1: their single positive outscores every negative → 1, 1
    // class 2: positives .6 and .3 vs negatives .1 and .3 → (1 + 1 + 1 + .5) / 4 = .875
    // macro (1 + 1 + .875) / 3; weighted by supports 1, 1, 2 → (1 + 1 + 2·.875) / 4 = .9375
    const proba = [
      [0.6, 0.3, 0.1],
      [0.2, 0.5, 0.3],
      [0.1, 0.3, 0.6],
      [0.3, 0.4, 0.3]
    ];
    const r = rocAucOvr([0, 1, 2, 2], proba, 3);
    expect(r.perClass).toEqual([1, 1, 0.875]);
    expect(r.macro).toBeCloseTo(2.875 / 3, 12);
    expect(r.weighted).toBeCloseTo(0.9375, 12);
    expect(() => rocAucOvr([0, 1], [0.5, 0.6, 0.1, 0.2, 0.3, 0.5], 3)).toThrow(/sum up to 1/);
  });
});

describe('precision-recall curve and average precision', () => {
  it('match scikit-learn’s docs example, step-wise', () => {
    // thresholds .1, .35, .4, .8 → precision 2/4, 2/3, 1/2, 1/1, then 1; recall 1, 1, .5, .5, then 0
    // AP = Σ (R_n − R_{n+1}) P_n = 0·.5 + .5·(2/3) + 0·.5 + .5·1 = 0.8333… (trapezoids would give less)
    const y = pos([0, 0, 1, 1]);
    const s = [0.1, 0.4, 0.35, 0.8];
    const c = precisionRecallCurve(y, s);
    expect(Array.from(c.precision)).toEqual([0.5, 2 / 3, 0.5, 1, 1]);
    expect(Array.from(c.recall)).toEqual([1, 1, 0.5, 0.5, 0]);
    expect(Array.from(c.thresholds)).toEqual([0.1, 0.35, 0.4, 0.8]);
    expect(averagePrecision(y, s)).toBeCloseTo(5 / 6, 12);
  });

  it('is 0 with no positives (recall set to 1 everywhere, as scikit-learn does)', () => {
    const c = precisionRecallCurve([false, false], [0.3, 0.6]);
    expect(Array.from(c.recall)).toEqual([1, 1, 0]);
    expect(averagePrecision([false, false], [0.3, 0.6])).toBe(0);
  });

  it('averages one-vs-rest APs for multiclass', () => {
    // class 2: .6 (+) then the tie at .3 (one +, one −) then .1 (−) → precision .5, 2/3, 1, 1; recall 1, 1, .5, 0
    // AP = .5·(2/3) + .5·1 = 5/6; classes 0 and 1 rank their positive first → 1; macro (2 + 5/6) / 3
    const proba = Float64Array.from([0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.3, 0.6, 0.3, 0.4, 0.3]);
    const r = averagePrecisionOvr([0, 1, 2, 2], proba, 3);
    expect(r.perClass[2]).toBeCloseTo(5 / 6, 12);
    expect(r.macro).toBeCloseTo((2 + 5 / 6) / 3, 12);
  });
});

describe('calibration curve', () => {
  it('bins uniformly, puts an edge value in the lower bin and drops empty bins', () => {
    // bins (0,.1], (.1,.2], …: .05 and .1 → bin 0 (0 of 2 positive, mean .075); .15 → bin 1; .85 → bin 8; .95 → bin 9
    const c = calibrationCurve(pos([0, 0, 1, 1, 1]), [0.05, 0.1, 0.15, 0.85, 0.95]);
    expect(Array.from(c.fractionPositive)).toEqual([0, 1, 1, 1]);
    expect(c.meanPredicted[0]).toBeCloseTo(0.075, 12);
    expect(Array.from(c.meanPredicted.subarray(1))).toEqual([0.15, 0.85, 0.95]);
    expect(Array.from(c.counts)).toEqual([2, 1, 1, 1]);
  });

  it('uses numpy’s linspace edges: 0.3 is below 3·0.1 = 0.30000000000000004, so it joins (.2, .3]', () => {
    const c = calibrationCurve([true, false], [0.25, 0.3]);
    expect(Array.from(c.counts)).toEqual([2]);
    expect(Array.from(c.fractionPositive)).toEqual([0.5]);
  });

  it('refuses probabilities outside [0, 1]', () => {
    expect(() => calibrationCurve([true], [1.2])).toThrow(/outside/);
  });
});
