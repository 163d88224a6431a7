/**
 * The chunk worker: the data worker's helper. It writes an import's table chunks (Arrow IPC,
 * SHA-256) while the data worker parses the rows of the next one, so a large import keeps
 * two cores busy. The data worker spawns it (`chunk-writers.ts`); it imports only `src/lib/core`.
 */
import { expose, proxy, transfer } from 'comlink';
import { LocalChunkWriter, type ChunkWriter, type WrittenChunk } from '../src/lib/core/data/chunk-writer';
import { installErrorSerializer } from './error-serializer';

/** One import's writer, as the worker serves it: a `ChunkWriter` whose written bytes are transferred. */
export type ChunkWriterEnd = ChunkWriter;

export interface ChunkWorkerApi {
  /** A writer for one import (a Comlink proxy, so its calls keep their order on a port of their own). */
  open(): ChunkWriterEnd;
}

/** A writer that hands its chunk bytes, and the column buffers it is done with, back by transfer rather than copying them. */
export function openChunkWriterEnd(): ChunkWriterEnd {
  const local = new LocalChunkWriter();
  return {
    async write(columns, length): Promise<WrittenChunk> {
      const written = await local.write(columns, length);
      return transfer(written, [written.data, ...(written.spent ?? [])]);
    },
    close: () => local.close()
  };
}

export const chunkWorkerApi: ChunkWorkerApi = {
  open: () => proxy(openChunkWriterEnd())
};

// Exposed only when running as a worker, so specs can serve the API over a MessageChannel in Node.
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  installErrorSerializer();
  expose(chunkWorkerApi);
}
