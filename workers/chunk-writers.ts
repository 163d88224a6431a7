/**
 * Where the data worker's imports write their chunks: on the chunk worker (`chunk.worker.ts`), in
 * parallel with parsing, when the file is large and the machine has a core to spare; on the data
 * worker itself otherwise. One chunk worker serves every import; it starts with the data worker (whose
 * warm-up import asks for it) on a machine with more than one core, and again with the next import
 * if it died.
 *
 * Anything that waits for the data worker's event loop waits long during an import, which turns it
 * only between pieces of the file. So the chunk worker is not started by an import (a nested worker's
 * code arrives through its parent's event loop), and once it has answered a ping a chunk is sent the
 * moment it is full, with no per-import handshake. Before that (an import racing the warm-up that
 * starts it), writes wait for the answer, and a worker that never starts (an error, or no answer
 * within `START_TIMEOUT_MS`) leaves them, and later imports, to the data worker. One that dies during
 * an import fails that import with `worker_crashed` (nothing is stored), and the next import spawns
 * a new one.
 */
import { transfer, wrap, type Endpoint, type Remote } from 'comlink';
import { LatheError } from '../src/lib/core/errors';
import {
  LocalChunkWriter,
  buffersOf,
  type ChunkWriter,
  type ColumnBuffers,
  type WrittenChunk
} from '../src/lib/core/data/chunk-writer';
import type { ChunkWorkerApi } from './chunk.worker';

/** Files smaller than this write their few chunks in place: a second worker would not pay for itself. */
export const CHUNK_WORKER_MIN_BYTES = 16 * 1024 * 1024;
const START_TIMEOUT_MS = 30_000;

/** What a writer needs of a chunk worker. */
export interface ChunkWorkerLink {
  api: Remote<ChunkWorkerApi> | ChunkWorkerApi;
  /** True once the worker has answered a ping; false if it failed or timed out first. */
  ready: Promise<boolean>;
  /** `ready` has resolved true. */
  started: boolean;
}

/**
 * A `ChunkWriter` whose writes happen on the chunk worker behind `link`: each write's buffers are
 * transferred, not copied, and its result comes back the same way. Every write still waiting rejects
 * when `lost` does (the worker died). Until the worker has started, a write waits for it: a worker
 * that never starts leaves the import's chunks to be written here.
 */
export class RemoteChunkWriter implements ChunkWriter {
  private local: LocalChunkWriter | undefined;

  constructor(
    private readonly link: ChunkWorkerLink,
    private readonly lost: Promise<never>
  ) {}

  write(columns: ColumnBuffers[], length: number): Promise<WrittenChunk> {
    if (this.local) return this.local.write(columns, length);
    if (this.link.started) return this.post(columns, length);
    return this.link.ready.then((ok) => {
      if (!ok) this.local ??= new LocalChunkWriter();
      return this.local ? this.local.write(columns, length) : this.post(columns, length);
    });
  }

  /** The worker keeps nothing of an import's. */
  close(): void {}

  private post(columns: ColumnBuffers[], length: number): Promise<WrittenChunk> {
    return Promise.race([this.link.api.write(transfer(columns, buffersOf(columns)), length), this.lost]);
  }
}

interface ChunkWorkerHandle extends ChunkWorkerLink {
  worker: Worker;
  api: Remote<ChunkWorkerApi>;
  lost: Promise<never>;
}

let current: ChunkWorkerHandle | undefined;
/** A chunk worker never started in this data worker: imports write in place from then on. */
let unavailable = false;

function spawnChunkWorker(): ChunkWorkerHandle {
  const worker = new Worker(new URL('./chunk.worker.ts', import.meta.url), { type: 'module', name: 'chunk' });
  let fail: (err: Error) => void = () => undefined;
  const lost = new Promise<never>((_, reject) => (fail = reject));
  lost.catch(() => undefined);
  let settle: (ok: boolean) => void = () => undefined;
  const handle: ChunkWorkerHandle = {
    worker,
    api: wrap<ChunkWorkerApi>(worker as unknown as Endpoint),
    lost,
    ready: new Promise<boolean>((resolve) => (settle = resolve)),
    started: false
  };
  const stop = (reason: string): void => {
    settle(false);
    fail(new LatheError('worker_crashed', `the import's chunk writer (a helper worker) ${reason}`));
    if (current === handle) current = undefined;
    worker.terminate();
  };
  const onError = (event: Event): void => {
    if (!handle.started) unavailable = true;
    stop(`stopped${event instanceof ErrorEvent && event.message ? `: ${event.message}` : ''}`);
  };
  worker.addEventListener('error', onError);
  worker.addEventListener('messageerror', onError);
  const timer = setTimeout(() => {
    unavailable = true;
    stop(`did not start within ${START_TIMEOUT_MS / 1000} s`);
  }, START_TIMEOUT_MS);
  void handle.api
    .ping()
    .then(() => {
      handle.started = true;
      settle(true);
    })
    .catch(() => undefined)
    .finally(() => clearTimeout(timer));
  return handle;
}

function coresOf(): number {
  return typeof navigator === 'undefined' ? 1 : (navigator.hardwareConcurrency ?? 1);
}

/** A writer on the chunk worker; `fileName` names the import in the error if the worker dies. */
function openRemoteWriter(fileName: string): ChunkWriter {
  if (unavailable) return new LocalChunkWriter();
  current ??= spawnChunkWorker();
  const lost = current.lost.catch((err: unknown) => {
    const reason = err instanceof Error ? err.message : String(err);
    throw new LatheError(
      'worker_crashed',
      `Importing ${fileName} failed: ${reason}. Nothing was stored; try the import again.`
    );
  });
  lost.catch(() => undefined);
  return new RemoteChunkWriter(current, lost);
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
  if (typeof Worker === 'undefined' || use === false || unavailable) return undefined;
  if (use === undefined && (coresOf() < 2 || fileSize < CHUNK_WORKER_MIN_BYTES)) return undefined;
  // Spawned now if it died, so that its module loads while the first rows are read.
  current ??= spawnChunkWorker();
  return () => openRemoteWriter(fileName);
}
