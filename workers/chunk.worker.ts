/**
 * The chunk worker: the data worker's helper. It writes an import's table chunks (Arrow IPC,
 * SHA-256) while the data worker parses the rows of the next one, so a large import keeps
 * two cores busy. The data worker spawns it (`chunk-writers.ts`); it imports only `src/lib/core`.
 * Writing a chunk needs nothing but the chunk, so one writer serves every import and every call.
 */
import { expose, transfer } from 'comlink';
import { LocalChunkWriter, type ColumnBuffers, type WrittenChunk } from '../src/lib/core/data/chunk-writer';
import { installErrorSerializer } from './error-serializer';

export interface ChunkWorkerApi {
  /** Answers once the worker runs. */
  ping(): 'pong';
  /** `LocalChunkWriter.write`, with the chunk bytes and the spent column buffers sent back by transfer. */
  write(columns: ColumnBuffers[], length: number): Promise<WrittenChunk>;
}

const writer = new LocalChunkWriter();

export const chunkWorkerApi: ChunkWorkerApi = {
  ping: () => 'pong',
  async write(columns, length) {
    const written = await writer.write(columns, length);
    return transfer(written, [written.data, ...(written.spent ?? [])]);
  }
};

// Exposed only when running as a worker, so specs can serve the API over a MessageChannel in Node.
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  installErrorSerializer();
  expose(chunkWorkerApi);
}
