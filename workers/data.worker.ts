/**
 * The data worker: file ingest (and later profiling and validation) off the main thread.
 * Imports only `src/lib/core` and comlink, never Svelte or route modules.
 */
import { expose, releaseProxy, transfer } from 'comlink';
import { CHUNK_WORKER_MIN_BYTES, chunkWriterFor } from './chunk-writers';
import { installErrorSerializer } from './error-serializer';
import { createDataInsightsApi } from './data-insights';
import {
  blobSource,
  ingestImageFolder,
  ingestSource,
  warmUpIngest,
  type IngestResult
} from '../src/lib/core/data/ingest';
import type { DataWorkerApi, IngestProgress } from './data-api';

/**
 * @param warmUp starts the worker's warm-up import (see `warmUpIngest`) the first time it is called,
 *   and settles once it is over or `signal` has stopped it.
 */
export function createDataWorkerApi(
  warmUp: (signal: AbortSignal) => Promise<unknown> = async () => undefined
): DataWorkerApi {
  const imports = new Set<AbortController>();
  /**
   * Aborted when an import begins: the import warms the code up itself, and a warm-up beside it
   * would only take a core from it.
   */
  const warmUpController = new AbortController();

  /** Runs one import with its own cancel handle; always releases the progress proxy. */
  async function run(
    onProgress: (progress: IngestProgress) => void,
    work: (signal: AbortSignal, progress: (p: IngestProgress) => void) => Promise<IngestResult>
  ): Promise<IngestResult> {
    warmUpController.abort();
    const controller = new AbortController();
    imports.add(controller);
    try {
      const result = await work(controller.signal, (progress) => sendProgress(onProgress, progress));
      return transfer(result, [
        ...result.chunks.map((chunk) => chunk.data),
        ...(result.blobs ?? []).map((blob) => blob.data)
      ]);
    } finally {
      imports.delete(controller);
      releaseCallback(onProgress);
    }
  }

  return {
    ...createDataInsightsApi(),

    async ping() {
      return 'pong';
    },

    async warmUp() {
      if (!warmUpController.signal.aborted) await warmUp(warmUpController.signal);
    },

    ingestFile(file, onProgress, options = {}) {
      // A Blob passed where a File was expected has no name; messages still need one.
      const fileName = typeof file.name === 'string' && file.name ? file.name : 'the file';
      const { chunkWorker, ...ingestOptions } = options;
      const chunkWriter = chunkWriterFor(file.size, chunkWorker, fileName);
      return run(onProgress, (signal, progress) =>
        ingestSource(blobSource(file, fileName), {
          ...ingestOptions,
          ...(chunkWriter ? { chunkWriter } : {}),
          signal,
          onProgress: progress
        })
      );
    },

    ingestFolder(files, onProgress) {
      return run(onProgress, (signal, progress) =>
        ingestImageFolder(
          files.map((file) => ({ file, path: file.webkitRelativePath || file.name })),
          { signal, onProgress: progress }
        )
      );
    },

    async cancel() {
      for (const controller of imports) controller.abort();
    }
  };
}

/**
 * Through Comlink the callback is a remote proxy whose call returns a promise. Progress is
 * fire-and-forget: the import must not wait on the page, nor fail if the page stopped listening.
 */
function sendProgress(onProgress: (progress: IngestProgress) => void, progress: IngestProgress): void {
  const sent: unknown = onProgress(progress);
  if (sent instanceof Promise) sent.catch(() => undefined);
}

/** Closes the callback proxy's message port; a plain function (a direct call in tests) has nothing to release. */
function releaseCallback(callback: unknown): void {
  const release: unknown = (callback as Partial<Record<typeof releaseProxy, unknown>>)[releaseProxy];
  if (typeof release === 'function') (release as () => void)();
}

// Exposed only when running as a worker, so the spec can import this module in Node.
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  installErrorSerializer();
  // Through the writer a large import gets (starting the chunk worker, where there is one), so a
  // first file runs near full speed from its start (see `warmUpIngest`). Started when the studio asks
  // (`warmUp`, once its own start-up is done) rather than as this module loads, so it does not compete
  // with the page's start. A failure here would show again in a real import.
  let warmedUp: Promise<unknown> | undefined;
  const warmUp = (signal: AbortSignal): Promise<unknown> => {
    warmedUp ??= warmUpIngest(chunkWriterFor(CHUNK_WORKER_MIN_BYTES, undefined, 'warm-up.csv'), {
      signal
    }).catch((err: unknown) => {
      if (!signal.aborted) console.warn('The data worker’s warm-up import failed:', err);
    });
    return warmedUp;
  };
  expose(createDataWorkerApi(warmUp));
}
