import { describe, expect, it } from 'vitest';
import type { LiveRun } from '$lib/state/run-manager.svelte';
import { canPause, describeProgress } from './live-progress';

function live(patch: Partial<LiveRun> = {}): LiveRun {
  return {
    runId: 'r',
    name: 'run',
    status: 'running',
    paused: false,
    phase: null,
    epoch: 0,
    epochs: 10,
    batch: 0,
    batches: 0,
    startedAt: 0,
    series: {},
    metrics: {},
    backend: null,
    backendReason: null,
    learningRate: null,
    checkpointEpoch: null,
    startEpoch: 0,
    warnings: [],
    logs: [],
    error: null,
    ...patch
  };
}

describe('describeProgress', () => {
  it('names the epoch in progress, its batch and the time left from the pace so far', () => {
    const p = describeProgress(live({ epoch: 4, batch: 5, batches: 10 }), 9_000);
    expect(p.label).toBe('Epoch 5 of 10 · batch 5 of 10');
    expect(p.value).toBeCloseTo(0.45);
    // 0.45 of the work in 9 s: 11 s for the remaining 0.55.
    expect(p.detail).toBe('about 11 s left');
  });

  it('estimates a resumed run from the epochs done in this session only', () => {
    const p = describeProgress(live({ epoch: 6, startEpoch: 5, batches: 0 }), 2_000);
    expect(p.label).toBe('Epoch 7 of 10');
    // One epoch in 2 s, four to go.
    expect(p.detail).toBe('about 8 s left');
  });

  it('says when it cannot tell yet, when paused, queued or in a later phase', () => {
    expect(describeProgress(live(), 1000).detail).toBe('estimating time left…');
    const paused = describeProgress(live({ paused: true, epoch: 2, batch: 1, batches: 4 }), 1000);
    expect(paused.label).toBe('Paused · Epoch 3 of 10 · batch 1 of 4');
    expect(paused.detail).toBe('paused');
    expect(describeProgress(live({ status: 'queued' }), 0, 2)).toEqual({
      value: null,
      label: 'Waiting in the queue: number 2',
      detail: ''
    });
    expect(describeProgress(live({ epoch: 10, phase: 'Evaluating on the held-out rows' }), 0).label).toBe(
      'Evaluating on the held-out rows'
    );
  });

  it('says a run paused during preprocessing is paused, not only the phase', () => {
    const p = describeProgress(
      live({ paused: true, phase: 'Fitting the preprocessing on the training rows' }),
      0
    );
    expect(p.label).toBe('Paused · Fitting the preprocessing on the training rows');
    expect(p.detail).toBe('paused');
  });
});

describe('canPause', () => {
  it('stays on from the backend through preprocessing and training, off in the phases after it', () => {
    const backend = { backend: 'wasm' as const };
    expect(canPause(live())).toBe(false);
    expect(canPause(live({ status: 'queued', ...backend }))).toBe(false);
    // The worker has the run, then preprocesses it: the button does not turn off in between.
    expect(canPause(live(backend))).toBe(true);
    expect(canPause(live({ ...backend, phase: 'Fitting the preprocessing on the training rows' }))).toBe(
      true
    );
    const resumed = { ...backend, epoch: 4, startEpoch: 4 };
    expect(canPause(live({ ...resumed, phase: 'Fitting the preprocessing on the training rows' }))).toBe(
      true
    );
    expect(canPause(live({ ...backend, epoch: 0, batch: 0, batches: 60 }))).toBe(true);
    expect(canPause(live({ ...backend, epoch: 3 }))).toBe(true);
    expect(canPause(live({ ...backend, epoch: 10, phase: 'Evaluating on the held-out rows' }))).toBe(false);
    expect(canPause(live({ ...resumed, epoch: 6, phase: 'Measuring permutation importance' }))).toBe(false);
  });
});
