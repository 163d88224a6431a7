/**
 * The typed contract of `data.worker`: what the page may ask it, checked by the compiler on both
 * sides of `Comlink.wrap<DataWorkerApi>()`. Types only, so the page's bundle pulls in no worker code.
 */
import type { IngestProgress, IngestResult } from '../src/lib/core/data/ingest';

export type { IngestProgress, IngestResult };

export interface DataWorkerApi {
  /** Answers at once; the client uses it to tell a live worker from a hung one. */
  ping(): Promise<'pong'>;
  /**
   * Reads a CSV file into typed Arrow chunks. Progress comes back through `onProgress`, which must
   * be a `Comlink.proxy`; the chunks' `data` buffers are transferred, not copied. Rejects with a
   * `CsvError` (code `empty_file`, `ragged_row`, …) for unusable files and `cancelled` after `cancel()`.
   */
  ingestFile(file: File, onProgress: (progress: IngestProgress) => void): Promise<IngestResult>;
  /** Cancels every import in progress; each rejects with code `cancelled`. */
  cancel(): Promise<void>;
}
