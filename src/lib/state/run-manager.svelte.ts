/** Live state of runs training in this tab: progress, loss curves, the backend in use. */
import type { BackendName, MetricPoint, RunStatus } from '../core/records';

export interface LiveRun {
  runId: string;
  status: RunStatus;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  startedAt: number;
  series: Record<string, MetricPoint[]>;
  metrics: Record<string, number>;
  backend: BackendName | null;
  backendReason: string | null;
  error: string | null;
}

class RunManager {
  #live = $state<Record<string, LiveRun>>({});

  get(runId: string): LiveRun | undefined {
    return this.#live[runId];
  }

  get active(): LiveRun[] {
    return Object.values(this.#live).filter((r) => r.status === 'running' || r.status === 'queued');
  }

  track(runId: string, epochs: number): void {
    this.#live[runId] = {
      runId,
      status: 'queued',
      epoch: 0,
      epochs,
      batch: 0,
      batches: 0,
      startedAt: Date.now(),
      series: {},
      metrics: {},
      backend: null,
      backendReason: null,
      error: null
    };
  }

  update(runId: string, patch: Partial<Omit<LiveRun, 'runId' | 'series'>>): void {
    const live = this.#live[runId];
    if (live) Object.assign(live, patch);
  }

  addPoint(runId: string, name: string, point: MetricPoint): void {
    const live = this.#live[runId];
    if (!live) return;
    (live.series[name] ??= []).push(point);
  }
}

/** Fraction of the work done, counting finished epochs and the batches of the current one. */
export function progressOf(run: LiveRun): number {
  if (run.epochs === 0) return 0;
  const inEpoch = run.batches > 0 ? run.batch / run.batches : 0;
  return Math.min(1, (Math.max(0, run.epoch - 1) + inEpoch) / run.epochs);
}

export function timeLeftMs(run: LiveRun, now = Date.now()): number | null {
  const done = progressOf(run);
  if (done <= 0.02) return null;
  const elapsed = now - run.startedAt;
  return (elapsed / done) * (1 - done);
}

export const runManager = new RunManager();
