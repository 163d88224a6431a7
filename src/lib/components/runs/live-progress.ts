/**
 * A live run's progress in words: "Epoch 3 of 30 · batch 12 of 40", about how long is left, or the
 * phase after training ("Evaluating on the held-out rows"). Pure, so the run page and the runs list
 * say the same thing.
 */
import { formatDuration } from '$lib/format';
import { progressOf, timeLeftMs, type LiveRun } from '$lib/state/run-manager.svelte';

export interface ProgressText {
  /** Fraction done, or null when it cannot be told (waiting, evaluating). */
  value: number | null;
  label: string;
  detail: string;
}

/**
 * Whether a run can be paused now: once the worker has it (it names its backend), through the
 * preprocessing before the first batch (the pause then holds before any weights change) and all of
 * training, but not in the phases after it (evaluation), which a pause would not stop. A phase
 * before any batch or epoch of this session was reported is the preprocessing.
 */
export function canPause(run: LiveRun): boolean {
  if (run.status !== 'running' || run.backend === null) return false;
  return run.phase === null || (run.batches === 0 && run.epoch === run.startEpoch);
}

/** `position`: 1 for the next run to train, for a queued run. */
export function describeProgress(run: LiveRun, now: number, position: number | null = null): ProgressText {
  if (run.status === 'queued') {
    return {
      value: null,
      label: position === null ? 'Waiting in the queue' : `Waiting in the queue: number ${position}`,
      detail: ''
    };
  }
  if (run.phase !== null) {
    // A pause asked for during preprocessing holds once it is done, before the first batch.
    return run.paused
      ? { value: null, label: `Paused · ${run.phase}`, detail: 'paused' }
      : { value: null, label: run.phase, detail: '' };
  }
  const current = Math.min(run.epoch + 1, run.epochs);
  const batch = run.batches > 0 ? ` · batch ${run.batch} of ${run.batches}` : '';
  const label = `${run.paused ? 'Paused · ' : ''}Epoch ${current} of ${run.epochs}${batch}`;
  const left = run.paused ? null : timeLeftMs(run, now);
  return {
    value: progressOf(run),
    label,
    detail: run.paused
      ? 'paused'
      : left === null
        ? 'estimating time left…'
        : `about ${formatDuration(left)} left`
  };
}
