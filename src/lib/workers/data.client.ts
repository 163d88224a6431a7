/**
 * The page's handle on `data.worker`: one lazily spawned worker behind the generic worker client.
 */
import { proxy, type Remote } from 'comlink';
import type { DataInsightsApi } from '../../../workers/data-insights-api';
import type {
  DataWorkerApi,
  IngestFileOptions,
  IngestProgress,
  IngestResult
} from '../../../workers/data-api';
import type { PreflightReport, SplitCounts } from '../core/models/preflight';
import type { RunSpec } from '../core/records';
import { createWorkerClient, type WorkerClient } from './worker-client';

/**
 * An import reports progress at least every few hundred ms while it reads; this long without any
 * sign of life means the worker is hung (or out of memory), not busy.
 */
export const INGEST_IDLE_TIMEOUT_MS = 120_000;
const PING_TIMEOUT_MS = 10_000;
/** Decoding, profiling or transforming a large version takes a while; this long is a hung worker. */
const INSIGHT_TIMEOUT_MS = 300_000;

export interface DataWorkerClient {
  ping(): Promise<'pong'>;
  /** See `DataWorkerApi.warmUp`; without a timeout: nothing but the studio's start-up waits for it. */
  warmUp(): Promise<void>;
  /**
   * Imports a file (CSV, TSV, JSON, NDJSON, Arrow, Parquet, image ZIP) in the worker. `signal`
   * rejects the call at once (`worker_call_aborted`) and asks the worker to stop reading. Other
   * failures: `CsvError`/`IngestError` codes from the worker as `LatheError`s, `worker_timeout`,
   * `worker_crashed`.
   */
  ingestFile(
    file: File,
    onProgress: (progress: IngestProgress) => void,
    signal?: AbortSignal,
    options?: IngestFileOptions
  ): Promise<IngestResult>;
  /** Imports a dropped folder of class sub-folders of images; failures as for `ingestFile`. */
  ingestFolder(
    files: File[],
    onProgress: (progress: IngestProgress) => void,
    signal?: AbortSignal
  ): Promise<IngestResult>;
  /** Reads of stored versions (views, profiles, validation…); see `DataInsightsApi`. */
  insights<R>(fn: (api: Remote<DataInsightsApi>) => Promise<R>, timeoutMs?: number): Promise<R>;
  /**
   * Checks a run spec against its dataset version before training; see `DataInsightsApi.preflight`.
   * Rejects only when the check itself cannot run (`version_missing`, `worker_timeout`, `worker_crashed`).
   */
  preflight(versionId: string, spec: RunSpec, splitCounts?: SplitCounts): Promise<PreflightReport>;
  terminate(): void;
}

let instance: DataWorkerClient | undefined;

export function getDataWorker(): DataWorkerClient {
  instance ??= createDataWorkerClient(
    createWorkerClient<DataWorkerApi>(spawnDataWorker, { name: 'data worker' })
  );
  return instance;
}

function spawnDataWorker(): Worker {
  return new Worker(new URL('../../../workers/data.worker.ts', import.meta.url), {
    type: 'module',
    name: 'data'
  });
}

/** Exported for tests, which give it a client over an in-process worker. */
export function createDataWorkerClient(client: WorkerClient<DataWorkerApi>): DataWorkerClient {
  return {
    ping: () => client.call((api) => api.ping(), { timeoutMs: PING_TIMEOUT_MS }),
    warmUp: () => client.call((api) => api.warmUp(), { timeoutMs: 0 }),

    ingestFile: (file, onProgress, signal, options) =>
      cancellable(client, signal, () =>
        client.call(
          (api, ctx) =>
            api.ingestFile(
              file,
              proxy((progress: IngestProgress) => {
                ctx.keepAlive();
                onProgress(progress);
              }),
              options
            ),
          { timeoutMs: INGEST_IDLE_TIMEOUT_MS, signal }
        )
      ),

    ingestFolder: (files, onProgress, signal) =>
      cancellable(client, signal, () =>
        client.call(
          (api, ctx) =>
            api.ingestFolder(
              files,
              proxy((progress: IngestProgress) => {
                ctx.keepAlive();
                onProgress(progress);
              })
            ),
          { timeoutMs: INGEST_IDLE_TIMEOUT_MS, signal }
        )
      ),

    insights: (fn, timeoutMs = INSIGHT_TIMEOUT_MS) => client.call((api) => fn(api), { timeoutMs }),

    preflight: (versionId, spec, splitCounts) =>
      client.call((api) => api.preflight(versionId, spec, splitCounts), { timeoutMs: INSIGHT_TIMEOUT_MS }),

    terminate: () => client.terminate()
  };
}

/** Aborting `signal` also asks the worker to stop reading; if it is already gone there is nothing to stop. */
async function cancellable(
  client: WorkerClient<DataWorkerApi>,
  signal: AbortSignal | undefined,
  call: () => Promise<IngestResult>
): Promise<IngestResult> {
  const stopWorker = (): void => {
    client.call((api) => api.cancel(), { timeoutMs: PING_TIMEOUT_MS }).catch(() => undefined);
  };
  signal?.addEventListener('abort', stopWorker, { once: true });
  try {
    return await call();
  } finally {
    signal?.removeEventListener('abort', stopWorker);
  }
}

export type { IngestFileOptions, IngestProgress, IngestResult, PreflightReport, SplitCounts };

/** Imports a file with the shared data worker; see `DataWorkerClient.ingestFile`. */
export function ingestFile(
  file: File,
  onProgress: (progress: IngestProgress) => void,
  signal?: AbortSignal,
  options?: IngestFileOptions
): Promise<IngestResult> {
  return getDataWorker().ingestFile(file, onProgress, signal, options);
}

/** Imports a dropped folder of images with the shared data worker; see `DataWorkerClient.ingestFolder`. */
export function ingestFolder(
  files: File[],
  onProgress: (progress: IngestProgress) => void,
  signal?: AbortSignal
): Promise<IngestResult> {
  return getDataWorker().ingestFolder(files, onProgress, signal);
}
