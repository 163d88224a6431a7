/**
 * The page's handle on `data.worker`: one lazily spawned worker behind the generic worker client.
 */
import { proxy } from 'comlink';
import type { DataWorkerApi, IngestProgress, IngestResult } from '../../../workers/data-api';
import { createWorkerClient, type WorkerClient } from './worker-client';

/**
 * An import reports progress at least every few hundred ms while it reads; this long without any
 * sign of life means the worker is hung (or out of memory), not busy.
 */
export const INGEST_IDLE_TIMEOUT_MS = 120_000;
const PING_TIMEOUT_MS = 10_000;

export interface DataWorkerClient {
  ping(): Promise<'pong'>;
  /**
   * Imports a CSV file in the worker. `signal` rejects the call at once (`worker_call_aborted`) and
   * asks the worker to stop reading. Other failures: `CsvError` codes from the worker as `LatheError`s,
   * `worker_timeout`, `worker_crashed`.
   */
  ingestFile(
    file: File,
    onProgress: (progress: IngestProgress) => void,
    signal?: AbortSignal
  ): Promise<IngestResult>;
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

    async ingestFile(file, onProgress, signal) {
      const stopWorker = (): void => {
        // Stop the worker's reading too; if it is already gone there is nothing to stop.
        client.call((api) => api.cancel(), { timeoutMs: PING_TIMEOUT_MS }).catch(() => undefined);
      };
      signal?.addEventListener('abort', stopWorker, { once: true });
      try {
        return await client.call(
          (api, ctx) =>
            api.ingestFile(
              file,
              proxy((progress: IngestProgress) => {
                ctx.keepAlive();
                onProgress(progress);
              })
            ),
          { timeoutMs: INGEST_IDLE_TIMEOUT_MS, signal }
        );
      } finally {
        signal?.removeEventListener('abort', stopWorker);
      }
    },

    terminate: () => client.terminate()
  };
}

export type { IngestProgress, IngestResult };

/** Imports a file with the shared data worker; see `DataWorkerClient.ingestFile`. */
export function ingestFile(
  file: File,
  onProgress: (progress: IngestProgress) => void,
  signal?: AbortSignal
): Promise<IngestResult> {
  return getDataWorker().ingestFile(file, onProgress, signal);
}
