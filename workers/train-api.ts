/**
 * The train worker's contract, shared by `train.worker.ts` and its client `src/lib/workers/train.client.ts`.
 * Progress comes back through the `onEvent` callback (a Comlink proxy); results are return values.
 * Types only: importing this file pulls no tfjs into the page.
 */
import type { BackendChoice, BackendProbe } from '../src/lib/core/backend/choose-backend';
import type { BackendName, MetricPoint, RunEnvironment, RunSpec } from '../src/lib/core/records';
import type { EpochReport } from '../src/lib/core/models/trainer';

export interface ProbeOptions {
  /** Measure again even when this browser, adapter and tfjs version already have cached timings. */
  recalibrate?: boolean;
  /** Also time software adapters (SwiftShader): slow, each shader compiles for about a second. */
  calibrateSoftware?: boolean;
}

export interface BackendReport {
  probes: BackendProbe[];
  /** What a run would use now, given the preferred backend set in Settings. */
  choice: BackendChoice;
  preferred: BackendName | null;
  /** When the timings were measured; null when nothing could be calibrated. */
  calibratedAt: number | null;
  /** True when the timings came from the IndexedDB cache rather than being measured now. */
  fromCache: boolean;
  environment: Pick<RunEnvironment, 'userAgent' | 'libraries' | 'threads'>;
}

export interface TrainRequest {
  runId: string;
  spec: RunSpec;
  /** Arrow IPC streams of the dataset version; absent: the worker reads them from IndexedDB itself. */
  chunks?: ArrayBuffer[];
  /** Overrides the preferred backend for this run only; null or absent: the worker's own choice. */
  backendOverride?: BackendName | null;
  /** Go on from the run's checkpoint in IndexedDB (a run interrupted by a closed tab). */
  resume?: boolean;
}

export type TrainEvent =
  | { type: 'backend'; env: RunEnvironment }
  | ({ type: 'epoch' } & EpochReport)
  | { type: 'batch'; epoch: number; batch: number; batches: number }
  /** Work after the epochs (evaluation, importance, cross-validation folds). */
  | { type: 'phase'; message: string }
  | { type: 'checkpoint'; epoch: number }
  /** The series of the epochs before a resumed run's checkpoint, so the page's charts start complete. */
  | { type: 'history'; series: Record<string, MetricPoint[]> }
  | { type: 'paused'; paused: boolean }
  /** Sent while paused, so the page's watchdog knows the worker is alive. */
  | { type: 'heartbeat' }
  | { type: 'log'; message: string };

export interface TrainResult {
  status: 'completed' | 'cancelled';
  /** Headline held-out metrics of the final model (empty when cancelled). */
  metrics: Record<string, number>;
  /** Per-epoch series: `loss`, `val_loss`, `learning_rate` and `val_<metric>`. */
  series: Record<string, MetricPoint[]>;
  environment: RunEnvironment;
  /** Blobs the worker stored in IndexedDB: the trained model and the evaluation JSON. */
  artifacts: { model?: string; evaluation?: string };
  epochsCompleted: number;
  rows: { train: number; validation: number; test: number };
  warnings: string[];
}

export interface TrainWorkerApi {
  ping(): Promise<'pong'>;
  probeBackends(opts: ProbeOptions): Promise<BackendReport>;
  /** The backend chosen in Settings (null: automatic); kept in IndexedDB. */
  setPreferredBackend(name: BackendName | null): Promise<void>;
  train(req: TrainRequest, onEvent: (e: TrainEvent) => void): Promise<TrainResult>;
  /** Asks a running `train` to stop after its current batch; it then resolves with status 'cancelled'. */
  cancel(runId: string): Promise<void>;
  /** Holds a running `train` after its current batch (true) or lets it go on (false). */
  setPaused(runId: string, paused: boolean): Promise<void>;
}
