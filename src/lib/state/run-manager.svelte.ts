/** Live state of runs training in this tab: progress, loss curves, the backend in use. */
import type { BackendName, MetricPoint, RunStatus } from '../core/records';

export interface LiveRun {
  runId: string;
  name: string;
  status: RunStatus;
  /** Held after its current batch by the person. */
  paused: boolean;
  /** Work after the epochs (evaluation, cross-validation), or null while training. */
  phase: string | null;
  /** Epochs finished (batches below belong to the next one). */
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  startedAt: number;
  series: Record<string, MetricPoint[]>;
  metrics: Record<string, number>;
  backend: BackendName | null;
  backendReason: string | null;
  learningRate: number | null;
  /** The epoch of the last checkpoint written to IndexedDB, or null. */
  checkpointEpoch: number | null;
  /** Epochs already done when this session picked the run up (a resumed run), for time estimates. */
  startEpoch: number;
  warnings: string[];
  /** The worker's messages (backend fallbacks, early stopping, dropped rows), oldest first. */
  logs: string[];
  error: string | null;
}

const LOG_LIMIT = 50;

class RunManager {
  #live = $state<Record<string, LiveRun>>({});

  get(runId: string): LiveRun | undefined {
    return this.#live[runId];
  }

  get active(): LiveRun[] {
    return Object.values(this.#live).filter((r) => r.status === 'running' || r.status === 'queued');
  }

  /** Runs waiting their turn, in the order they will train. */
  get queued(): LiveRun[] {
    return Object.values(this.#live).filter((r) => r.status === 'queued');
  }

  track(runId: string, name: string, epochs: number, startEpoch = 0): void {
    // A run tracked again (resumed) goes to the back of the queue, as it does in the service's chain.
    delete this.#live[runId];
    this.#live[runId] = {
      runId,
      name,
      status: 'queued',
      paused: false,
      phase: null,
      epoch: startEpoch,
      epochs,
      batch: 0,
      batches: 0,
      startedAt: Date.now(),
      series: {},
      metrics: {},
      backend: null,
      backendReason: null,
      learningRate: null,
      checkpointEpoch: startEpoch > 0 ? startEpoch : null,
      startEpoch,
      warnings: [],
      logs: [],
      error: null
    };
  }

  /** Replaces a run's series (a resumed run's epochs before its checkpoint). */
  setSeries(runId: string, series: Record<string, MetricPoint[]>): void {
    const live = this.#live[runId];
    if (live) live.series = structuredClone(series);
  }

  log(runId: string, message: string): void {
    const live = this.#live[runId];
    if (!live) return;
    live.logs.push(message);
    if (live.logs.length > LOG_LIMIT) live.logs.splice(0, live.logs.length - LOG_LIMIT);
  }

  update(runId: string, patch: Partial<Omit<LiveRun, 'runId' | 'series'>>): void {
    const live = this.#live[runId];
    if (live) Object.assign(live, patch);
  }

  addPoint(runId: string, name: string, point: MetricPoint): void {
    const live = this.#live[runId];
    if (!live) return;
    // Not `(series[name] ??= []).push(…)`: that pushes into the plain array, not the reactive proxy, and
    // the first point of every series was lost.
    if (!live.series[name]) live.series[name] = [];
    live.series[name]?.push(point);
  }
}

/** Fraction of the work done, counting finished epochs and the batches of the current one. */
export function progressOf(run: LiveRun): number {
  if (run.epochs === 0) return 0;
  const inEpoch = run.batches > 0 ? run.batch / run.batches : 0;
  return Math.min(1, (run.epoch + inEpoch) / run.epochs);
}

/** From the pace since this session picked the run up (a resumed run's earlier epochs took no time here). */
export function timeLeftMs(run: LiveRun, now = Date.now()): number | null {
  const done = progressOf(run);
  const start = run.epochs > 0 ? run.startEpoch / run.epochs : 0;
  if (done - start <= 0.02) return null;
  const elapsed = now - run.startedAt;
  return (elapsed / (done - start)) * (1 - done);
}

export const runManager = new RunManager();
