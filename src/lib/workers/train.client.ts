/**
 * The page's handle on `train.worker`: one lazily spawned worker behind the generic worker client.
 *
 * A run always ends: progress events double as a heartbeat (no event for {@link TRAIN_IDLE_TIMEOUT_MS}
 * means the worker hung, and it is restarted), a crash rejects with `worker_crashed`, and aborting asks
 * the worker to stop after its current batch, terminating it if it has not stopped within
 * {@link CANCEL_GRACE_MS}.
 */
import { proxy, transfer } from 'comlink';
import type {
  BackendReport,
  ProbeOptions,
  TrainEvent,
  TrainRequest,
  TrainResult,
  TrainWorkerApi
} from '../../../workers/train-api';
import { LatheError } from '../core/errors';
import type { BackendName, MetricPoint, RunEnvironment } from '../core/records';
import { WorkerCrashedError, createWorkerClient, type WorkerClient } from './worker-client';

/** Training emits a batch event at least every few hundred ms; a minute of silence is a hung worker. */
export const TRAIN_IDLE_TIMEOUT_MS = 60_000;
/** How long a cancelled run may take to finish its batch before the worker is terminated. */
export const CANCEL_GRACE_MS = 3_000;
/** Calibration times every backend (each bounded to 30 s in the worker). */
export const PROBE_TIMEOUT_MS = 180_000;
const QUICK_CALL_TIMEOUT_MS = 10_000;

export class TrainCancelledError extends LatheError<'train_cancelled'> {
  constructor() {
    super('train_cancelled', 'Training was cancelled before it started.');
    this.name = 'TrainCancelledError';
  }
}

export interface TrainWorkerClient {
  ping(): Promise<'pong'>;
  probeBackends(options?: ProbeOptions): Promise<BackendReport>;
  setPreferredBackend(name: BackendName | null): Promise<void>;
  /**
   * Trains a run. `req.chunks`, when given, are transferred to the worker (detached here). Aborting
   * `signal` resolves with status `cancelled` once the worker stops (or is stopped), or rejects with
   * `TrainCancelledError` if it had not started training. Other failures: the worker's `LatheError`s
   * (e.g. `loss_not_finite`, `version_missing`), `worker_timeout`, `worker_crashed`.
   */
  train(req: TrainRequest, onEvent: (event: TrainEvent) => void, signal?: AbortSignal): Promise<TrainResult>;
  /** Holds a training run after its current batch, or lets it go on. */
  setPaused(runId: string, paused: boolean): Promise<void>;
  terminate(): void;
}

let instance: TrainWorkerClient | undefined;

export function getTrainWorker(): TrainWorkerClient {
  instance ??= createTrainWorkerClient(
    createWorkerClient<TrainWorkerApi>(spawnTrainWorker, {
      name: 'training worker',
      callTimeoutMs: QUICK_CALL_TIMEOUT_MS
    })
  );
  return instance;
}

function spawnTrainWorker(): Worker {
  return new Worker(new URL('../../../workers/train.worker.ts', import.meta.url), {
    type: 'module',
    name: 'train'
  });
}

/** What the page saw of a run, to report a cancelled run whose worker had to be terminated. */
class RunTranscript {
  environment: RunEnvironment | null = null;
  readonly series: Record<string, MetricPoint[]> = { loss: [], val_loss: [] };

  record(event: TrainEvent): void {
    if (event.type === 'backend') this.environment = event.env;
    if (event.type !== 'epoch') return;
    const time = Date.now();
    this.series.loss?.push({ step: event.epoch, value: event.loss, time });
    if (event.valLoss !== null) this.series.val_loss?.push({ step: event.epoch, value: event.valLoss, time });
  }
}

/** Exported for tests, which give it a client over a fake worker. */
export function createTrainWorkerClient(
  client: WorkerClient<TrainWorkerApi>,
  timing: { idleTimeoutMs?: number; cancelGraceMs?: number } = {}
): TrainWorkerClient {
  const idleTimeoutMs = timing.idleTimeoutMs ?? TRAIN_IDLE_TIMEOUT_MS;
  const cancelGraceMs = timing.cancelGraceMs ?? CANCEL_GRACE_MS;

  async function train(
    req: TrainRequest,
    onEvent: (event: TrainEvent) => void,
    signal?: AbortSignal
  ): Promise<TrainResult> {
    if (signal?.aborted) throw new TrainCancelledError();
    const transcript = new RunTranscript();
    let terminatedByCancel = false;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;

    const onAbort = (): void => {
      // Ask nicely first: the worker finishes its batch and answers with what it has.
      client.call((api) => api.cancel(req.runId), { timeoutMs: cancelGraceMs }).catch(() => undefined);
      graceTimer = setTimeout(() => {
        terminatedByCancel = true;
        client.terminate();
      }, cancelGraceMs);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // No `signal` here: an abort must wait for the worker's cancelled result, not reject at once.
      return await client.call(
        (api, ctx) =>
          api.train(
            transfer(req, req.chunks ?? []),
            proxy((event: TrainEvent) => {
              ctx.keepAlive();
              transcript.record(event);
              onEvent(event);
            })
          ),
        { timeoutMs: idleTimeoutMs }
      );
    } catch (err) {
      if (terminatedByCancel && err instanceof WorkerCrashedError) {
        if (!transcript.environment) throw new TrainCancelledError();
        return {
          status: 'cancelled',
          metrics: {},
          series: transcript.series,
          environment: transcript.environment,
          artifacts: {},
          epochsCompleted: transcript.series.loss?.length ?? 0,
          rows: { train: 0, validation: 0, test: 0 },
          warnings: []
        };
      }
      throw err;
    } finally {
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    ping: () => client.call((api) => api.ping()),
    probeBackends: (options = {}) =>
      client.call((api) => api.probeBackends(options), { timeoutMs: PROBE_TIMEOUT_MS }),
    setPreferredBackend: (name) => client.call((api) => api.setPreferredBackend(name)),
    train,
    setPaused: (runId, paused) => client.call((api) => api.setPaused(runId, paused)),
    terminate: () => client.terminate()
  };
}

/** Trains a run with the shared train worker; see {@link TrainWorkerClient.train}. */
export function trainRun(
  req: TrainRequest,
  onEvent: (event: TrainEvent) => void,
  signal?: AbortSignal
): Promise<TrainResult> {
  return getTrainWorker().train(req, onEvent, signal);
}
