/**
 * Where the data worker's imports write their chunks: on the chunk worker (`chunk.worker.ts`), in
 * parallel with parsing, when the file is large and the machine has a core to spare; on the data
 * worker itself otherwise. One chunk worker serves every import; it starts with the first import that
 * needs it and stops after a minute without one.
 *
 * A chunk worker that cannot be reached within a few seconds is not waited for: the import writes its
 * own chunks. One that dies during an import fails that import with `worker_crashed` (nothing is
 * stored), and the next import spawns a new one.
 */
import { releaseProxy, transfer, wrap, type Endpoint, type Remote } from 'comlink';
import { LatheError } from '../src/lib/core/errors';
import { LocalChunkWriter, buffersOf, type ChunkWriter } from '../src/lib/core/data/chunk-writer';
import type { ChunkWorkerApi, ChunkWriterEnd } from './chunk.worker';

/** Files smaller than this write their few chunks in place: a second worker would not pay for itself. */
export const CHUNK_WORKER_MIN_BYTES = 16 * 1024 * 1024;
const OPEN_TIMEOUT_MS = 10_000;
const IDLE_STOP_MS = 60_000;

type End = Remote<ChunkWriterEnd> | ChunkWriterEnd;

/**
 * A `ChunkWriter` whose work happens at `end` once it is open. Calls are made in order on the same
 * promise, so they reach the end in order; a write's buffers are transferred, not copied.
 */
export class RemoteChunkWriter implements ChunkWriter {
  constructor(
    private readonly end: Promise<End>,
    /** Rejects if the worker behind `end` dies: every call still waiting rejects with it. */
    private readonly lost: Promise<never>,
    private readonly onClose: () => void = () => undefined
  ) {}

  write: ChunkWriter['write'] = (columns, length) =>
    this.guard(this.end.then((end) => end.write(transfer(columns, buffersOf(columns)), length)));

  close(): void {
    void this.end
      .then(async (end) => {
        await end.close();
        (end as Partial<Remote<ChunkWriterEnd>>)[releaseProxy]?.();
      })
      .catch(() => undefined)
      .finally(this.onClose);
  }

  private guard<T>(call: Promise<T>): Promise<T> {
    return Promise.race([call, this.lost]);
  }
}

interface ChunkWorkerHandle {
  worker: Worker;
  api: Remote<ChunkWorkerApi>;
  lost: Promise<never>;
  open: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

let current: ChunkWorkerHandle | undefined;

function spawnChunkWorker(): ChunkWorkerHandle {
  const worker = new Worker(new URL('./chunk.worker.ts', import.meta.url), { type: 'module', name: 'chunk' });
  let fail: (err: Error) => void = () => undefined;
  const lost = new Promise<never>((_, reject) => (fail = reject));
  lost.catch(() => undefined);
  const handle: ChunkWorkerHandle = {
    worker,
    api: wrap<ChunkWorkerApi>(worker as unknown as Endpoint),
    lost,
    open: 0,
    idleTimer: undefined
  };
  const onError = (event: Event): void => {
    const detail = event instanceof ErrorEvent && event.message ? `: ${event.message}` : '';
    fail(new LatheError('worker_crashed', `the import's chunk writer (a helper worker) stopped${detail}`));
    if (current === handle) current = undefined;
    worker.terminate();
  };
  worker.addEventListener('error', onError);
  worker.addEventListener('messageerror', onError);
  return handle;
}

const NEVER = new Promise<never>(() => undefined);

function coresOf(): number {
  return typeof navigator === 'undefined' ? 1 : (navigator.hardwareConcurrency ?? 1);
}

function timeout(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms));
}

/** Stops the chunk worker after a minute in which no import uses it. */
function stopWhenIdle(handle: ChunkWorkerHandle): void {
  clearTimeout(handle.idleTimer);
  handle.idleTimer = setTimeout(() => {
    if (handle.open > 0) return;
    handle.worker.terminate();
    if (current === handle) current = undefined;
  }, IDLE_STOP_MS);
}

/** A writer on the chunk worker, or on this worker if it does not answer; `fileName` names the import. */
function openRemoteWriter(fileName: string): ChunkWriter {
  current ??= spawnChunkWorker();
  const handle = current;
  clearTimeout(handle.idleTimer);
  handle.open++;
  const end: Promise<End> = Promise.race([handle.api.open(), timeout(OPEN_TIMEOUT_MS), handle.lost]).catch(
    () => new LocalChunkWriter()
  );
  // Losing the worker matters only to a writer that opened on it.
  const lost = end.then((opened) =>
    opened instanceof LocalChunkWriter
      ? NEVER
      : handle.lost.catch((err: unknown) => {
          const reason = err instanceof Error ? err.message : String(err);
          throw new LatheError(
            'worker_crashed',
            `Importing ${fileName} failed: ${reason}. Nothing was stored; try the import again.`
          );
        })
  );
  return new RemoteChunkWriter(end, lost, () => {
    handle.open--;
    if (handle.open === 0 && current === handle) stopWhenIdle(handle);
  });
}

/**
 * The chunk writer factory for an import of `fileSize` bytes: the chunk worker's when `use` is true,
 * or when it is undefined and the file is large on a machine with more than one core; none (write
 * in place) otherwise, and wherever workers cannot be started (Node).
 */
export function chunkWriterFor(
  fileSize: number,
  use?: boolean,
  fileName = 'the file'
): (() => ChunkWriter) | undefined {
  if (typeof Worker === 'undefined' || use === false) return undefined;
  if (use === undefined && (coresOf() < 2 || fileSize < CHUNK_WORKER_MIN_BYTES)) return undefined;
  // Started now, as the import starts, so that its module loads while the first rows are read.
  if (!current) {
    current = spawnChunkWorker();
    stopWhenIdle(current);
  }
  return () => openRemoteWriter(fileName);
}
