/**
 * The typed contract of `data.worker`: what the page may ask it, checked by the compiler on both
 * sides of `Comlink.wrap<DataWorkerApi>()`. Types only, so the page's bundle pulls in no worker code.
 */
import type { IngestOptions, IngestProgress, IngestResult } from '../src/lib/core/data/ingest';
import type { DataInsightsApi } from './data-insights-api';

export type { IngestProgress, IngestResult };

/** What a person may choose about an import; everything else is detected. */
export type IngestFileOptions = Pick<IngestOptions, 'header' | 'raggedRows' | 'delimiter' | 'encoding'> & {
  /**
   * Write the table's chunks on a second worker while parsing: true or false to force it (if workers
   * can be started), by default for files of 16 MB and more on machines with more than one core.
   */
  chunkWorker?: boolean;
};

export interface DataWorkerApi extends DataInsightsApi {
  /** Answers at once; the client uses it to tell a live worker from a hung one. */
  ping(): Promise<'pong'>;
  /**
   * Warms the import's code up (`warmUpIngest`, a fraction of a second) unless an import has already
   * begun, and resolves once that is over; an import that begins stops it. The studio asks for it
   * once its own start-up is done.
   */
  warmUp(): Promise<void>;
  /**
   * Reads a CSV, TSV, JSON, NDJSON, Arrow IPC, Parquet or image-ZIP file into typed Arrow chunks
   * (format from magic bytes, then the name). Progress comes back through `onProgress`, which must be
   * a `Comlink.proxy`; the chunks' and image blobs' `data` buffers are transferred, not copied.
   * Rejects with a `CsvError` or `IngestError` (codes `empty_file`, `ragged_row`, `wrong_format`,
   * `not_parquet`, `invalid_json`, …) for unusable files and `cancelled` after `cancel()`.
   */
  ingestFile(
    file: File,
    onProgress: (progress: IngestProgress) => void,
    options?: IngestFileOptions
  ): Promise<IngestResult>;
  /**
   * Reads a dropped folder of class sub-folders of images (each `File` with its `webkitRelativePath`)
   * into an image dataset; the images come back in `IngestResult.blobs`.
   */
  ingestFolder(files: File[], onProgress: (progress: IngestProgress) => void): Promise<IngestResult>;
  /** Cancels every import in progress; each rejects with code `cancelled`. */
  cancel(): Promise<void>;
}
