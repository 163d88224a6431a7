/**
 * Brings the blobs a pulled record names into this browser: a dataset version's Arrow chunks and
 * image assets, a stored split's row assignments. Pull only copies records, so a second browser sees
 * a version before it has its rows; everything that reads chunks calls this first. Blobs already here
 * cost one key lookup; missing ones are downloaded from the signed-in registry server, checked against
 * their SHA-256 name, and stored as already uploaded so the sync engine never sends them back.
 */
import { LatheError } from '../core/errors';
import type { DatasetSplit, DatasetVersion } from '../core/records';
import { missingBlobs, putDownloadedBlob } from '../db/blob.repository';
import { getMeta } from '../db/meta.repository';
import { createApiClient, SyncError, type ApiClient } from './api-client';
import { SESSION_KEYS } from './sync-engine';

export type RemoteDataErrorCode =
  /** Signed out, unreachable or refused: the data is on the server and cannot be fetched now. */
  | 'data_remote'
  /** The server does not have a blob the record names. */
  | 'data_missing_on_server'
  /** The server sent bytes that are not the blob (hash mismatch); nothing was stored. */
  | 'data_corrupt';

export class RemoteDataError extends LatheError<RemoteDataErrorCode> {
  constructor(code: RemoteDataErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = 'RemoteDataError';
  }
}

/** One blob a record names, with what people call it and its size when the record says. */
export interface WantedBlob {
  hash: string;
  bytes: number | null;
  /** e.g. "chunk 3 of 12", used in messages. */
  label: string;
}

export interface DataDownloadProgress {
  blobsDone: number;
  blobsTotal: number;
  bytesDone: number;
  /** Sum of the missing blobs' sizes, when every one of them is known (chunks are; images are not). */
  bytesTotal: number | null;
}

export interface EnsureDataOptions {
  onProgress?: (progress: DataDownloadProgress) => void;
  /** Called once, before the first download, when something must come from the server. */
  onDownloadStart?: (missing: { blobs: number; bytes: number | null }) => void;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** Downloads at a time. */
  concurrency?: number;
}

export interface EnsureDataResult {
  downloaded: number;
  bytes: number;
}

/** The blobs a dataset version names: its chunks in order, then its assets (images). */
export function versionBlobs(version: Pick<DatasetVersion, 'chunks' | 'assets'>): WantedBlob[] {
  const chunks = version.chunks.map((c, i) => ({
    hash: c.hash,
    bytes: c.bytes,
    label: `chunk ${i + 1} of ${version.chunks.length}`
  }));
  const assets = version.assets ?? [];
  return [
    ...chunks,
    ...assets.map((hash, i) => ({ hash, bytes: null, label: `file ${i + 1} of ${assets.length}` }))
  ];
}

export function splitBlobs(split: Pick<DatasetSplit, 'assignments' | 'name'>): WantedBlob[] {
  return [{ hash: split.assignments, bytes: null, label: `the rows of split "${split.name}"` }];
}

/** Downloads in progress, by hash: two readers of one version (grid and profile) share them. */
const inFlight = new Map<string, Promise<number>>();

/**
 * Makes sure every blob of `wanted` is stored in this browser, downloading the missing ones.
 * `owner` names what they belong to in messages, e.g. `"iris"`. Failures are `RemoteDataError`s.
 */
export async function ensureBlobs(
  owner: string,
  wanted: readonly WantedBlob[],
  opts: EnsureDataOptions = {}
): Promise<EnsureDataResult> {
  const missing = new Set(await missingBlobs(wanted.map((w) => w.hash)));
  if (missing.size === 0) return { downloaded: 0, bytes: 0 };
  const queue = wanted.filter((w) => missing.delete(w.hash));
  const sizes = queue.map((w) => w.bytes);
  const bytesTotal = sizes.every((b) => b !== null) ? sizes.reduce<number>((s, b) => s + (b ?? 0), 0) : null;

  const api = await sessionClient(owner, opts.fetch);
  opts.onDownloadStart?.({ blobs: queue.length, bytes: bytesTotal });
  const received = new Map<string, number>();
  let blobsDone = 0;
  const report = (): void =>
    opts.onProgress?.({
      blobsDone,
      blobsTotal: queue.length,
      bytesDone: [...received.values()].reduce((s, b) => s + b, 0),
      bytesTotal
    });
  report();

  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    // After a failure the others finish the blob in hand and take no new one.
    for (let blob = queue[next++]; blob && !failed; blob = queue[next++]) {
      const current = blob;
      let download = inFlight.get(current.hash);
      if (!download) {
        download = fetchAndStore(api, current.hash, {
          signal: opts.signal,
          onBytes: (bytes) => {
            received.set(current.hash, bytes);
            report();
          }
        }).finally(() => inFlight.delete(current.hash));
        inFlight.set(current.hash, download);
      }
      try {
        received.set(current.hash, await download);
      } catch (err) {
        failed = true;
        throw explain(err, owner, current, api.baseUrl, opts.signal);
      }
      blobsDone++;
      report();
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 3, queue.length)) }, worker);
  // Every worker settles before the first failure is thrown, so nothing writes after the caller moved on.
  const outcomes = await Promise.allSettled(workers);
  const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (rejected) throw rejected.reason;
  return { downloaded: queue.length, bytes: [...received.values()].reduce((s, b) => s + b, 0) };
}

export function ensureVersionData(
  datasetName: string,
  version: Pick<DatasetVersion, 'chunks' | 'assets'>,
  opts?: EnsureDataOptions
): Promise<EnsureDataResult> {
  return ensureBlobs(datasetName, versionBlobs(version), opts);
}

export function ensureSplitData(
  datasetName: string,
  split: Pick<DatasetSplit, 'assignments' | 'name'>,
  opts?: EnsureDataOptions
): Promise<EnsureDataResult> {
  return ensureBlobs(datasetName, splitBlobs(split), opts);
}

async function fetchAndStore(
  api: ApiClient,
  hash: string,
  opts: { signal?: AbortSignal; onBytes: (received: number) => void }
): Promise<number> {
  const bytes = await api.getBlob(hash, {
    signal: opts.signal,
    onBytes: (received) => opts.onBytes(received)
  });
  await putDownloadedBlob(hash, bytes);
  return bytes.byteLength;
}

async function sessionClient(owner: string, fetchImpl: typeof fetch | undefined): Promise<ApiClient> {
  const [serverUrl, token] = await Promise.all([
    getMeta<string>(SESSION_KEYS.serverUrl),
    getMeta<string>(SESSION_KEYS.token)
  ]);
  if (!serverUrl || !token) {
    throw new RemoteDataError(
      'data_remote',
      `This version's data of "${owner}" is on the registry server, not in this browser. Sign in to the registry server in Settings to open it.`
    );
  }
  return createApiClient({ baseUrl: serverUrl, getToken: () => token, fetch: fetchImpl });
}

/** A download failure as a sentence about the dataset, not about HTTP. */
function explain(
  err: unknown,
  owner: string,
  blob: WantedBlob,
  serverUrl: string,
  signal: AbortSignal | undefined
): unknown {
  if (signal?.aborted || !(err instanceof SyncError)) return err;
  const details = { hash: blob.hash, server: serverUrl, cause: err.code, requestId: err.requestId };
  switch (err.code) {
    case 'offline':
      return new RemoteDataError(
        'data_remote',
        `This version's data of "${owner}" is on the registry server at ${serverUrl}, which can't be reached now. Connect to it to open this version.`,
        details
      );
    case 'unauthorized':
      return new RemoteDataError(
        'data_remote',
        `This version's data of "${owner}" is on the registry server, and your session there has ended. Sign in again in Settings to open it.`,
        details
      );
    case 'blob_not_found':
      return new RemoteDataError(
        'data_missing_on_server',
        `The registry server at ${serverUrl} does not have ${blob.label} of "${owner}" (blob ${blob.hash.slice(0, 12)}…), and neither does this browser. Sync from the browser that imported it, or import the file again.`,
        details
      );
    case 'blob_corrupt':
      return new RemoteDataError(
        'data_corrupt',
        `The registry server sent damaged data for ${blob.label} of "${owner}": its SHA-256 does not match, so nothing was stored. Try again; if it keeps happening, the server's copy is damaged.`,
        details
      );
    default:
      return new RemoteDataError(
        'data_remote',
        `Downloading this version's data of "${owner}" from the registry server failed: ${err.message}`,
        details
      );
  }
}
