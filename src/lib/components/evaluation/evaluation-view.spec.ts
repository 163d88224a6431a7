import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import EvaluationView from './EvaluationView.svelte';
import {
  binaryEvaluationInput,
  evaluationFixtures,
  multiclassEvaluationInput
} from '$lib/core/metrics/run-evaluation.fixtures';
import { buildRunEvaluation } from '$lib/core/metrics/run-evaluation';

const fixtures = evaluationFixtures();
const html = (evaluation: Parameters<typeof buildRunEvaluation>[0]) =>
  render(EvaluationView, { props: { evaluation: buildRunEvaluation(evaluation) } }).body;

describe('EvaluationView', () => {
  it('shows a binary run: test split first, early stopping, curves, fairness and cross-validation', () => {
    const body = render(EvaluationView, { props: { evaluation: fixtures.binary } }).body;
    expect(body).toContain('data-testid="split-switcher"');
    expect(body).toMatch(/Test split/);
    expect(body).toContain('training stopped at epoch 24; the weights from epoch 19 were restored');
    expect(body).not.toContain('data-testid="overfit-warning"');
    for (const id of [
      'confusion-matrix',
      'per-class-table',
      'roc-chart',
      'precision-recall-chart',
      'calibration-chart',
      'fairness-table',
      'importance-chart',
      'learning-curve',
      'cv-table'
    ])
      expect(body, id).toContain(`data-testid="${id}"`);
    // binary: no class picker; the positive class is the second label
    expect(body).not.toContain('data-testid="curve-class"');
    expect(body).toContain('ROC curve · “churned”');
  });

  it('shows the overfit warning and a class picker for a multiclass run without a split switcher', () => {
    const body = render(EvaluationView, { props: { evaluation: fixtures.multiclass } }).body;
    expect(body).toContain('data-testid="overfit-warning"');
    expect(body).toContain('Validation loss has risen');
    expect(body).toContain('data-testid="curve-class"');
    expect(body).not.toContain('data-testid="split-switcher"');
    expect(body).not.toContain('data-testid="fairness-table"');
  });

  it('shows the regression plots and errors per group', () => {
    const body = render(EvaluationView, { props: { evaluation: fixtures.regression } }).body;
    for (const id of ['predicted-actual-plot', 'residual-plot', 'slice-errors-table'])
      expect(body, id).toContain(`data-testid="${id}"`);
    expect(body).not.toContain('data-testid="confusion-matrix"');
    expect(body).toMatch(/data-metric="mape"[^>]*>\d+(\.\d)?%/);
  });

  it('prints the headline numbers of the validation split when it is the only one', () => {
    const input = binaryEvaluationInput();
    const validationOnly = {
      ...input,
      predictions: input.predictions.filter((p) => p.split === 'validation')
    };
    const report = buildRunEvaluation(validationOnly).splits[0]?.report;
    if (report?.task !== 'classification') throw new Error('expected a classification report');
    const body = html(validationOnly);
    expect(body).toMatch(/Validation split/);
    const accuracy = /data-metric="accuracy"[^>]*>([^<]+)</.exec(body)?.[1];
    expect(Number(accuracy)).toBeCloseTo(report.accuracy, 4);
  });

  it('says so when there is no held-out split and no history', () => {
    const body = html({
      ...multiclassEvaluationInput(),
      predictions: [],
      history: { loss: [], valLoss: [] },
      importance: null
    });
    expect(body).toContain('No held-out split was evaluated');
    expect(body).not.toContain('data-testid="learning-curve"');
  });
});
