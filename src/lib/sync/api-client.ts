/**
 * A thin typed client of the registry server's API. Every response is parsed with the shared contract,
 * and every failure becomes a `SyncError` whose code says what the studio should do about it.
 */
import type { z } from 'zod';
import { LatheError } from '../core/errors';
import { sha256Hex } from '../core/hash';
import {
  API_PREFIX,
  blobPutResponse,
  errorBody,
  meResponse,
  pullResponse,
  pushResponse,
  sessionResponse,
  setupStatusResponse,
  sharedRunResponse,
  shareLinkResponse,
  type BlobPutResponse,
  type LoginRequest,
  type PullResponse,
  type PushRequest,
  type PushResponse,
  type SessionResponse,
  type SetupRequest,
  type SharedRunResponse,
  type ShareLinkResponse,
  type UserProfile
} from '../core/sync/contract';

export type SyncErrorCode =
  | 'offline'
  | 'unauthorized'
  | 'server'
  | 'rejected'
  | 'bad_response'
  /** A blob the studio asked for is not on the server (or not readable by this user: same answer). */
  | 'blob_not_found'
  /** Downloaded bytes whose SHA-256 is not the blob's name. */
  | 'blob_corrupt';

export class SyncError extends LatheError<SyncErrorCode> {
  /** HTTP status when the server answered at all. */
  readonly status: number | undefined;
  /** The server's request id, to quote when reporting a problem. */
  readonly requestId: string | undefined;

  constructor(code: SyncErrorCode, message: string, options: { status?: number; requestId?: string } = {}) {
    super(code, message);
    this.name = 'SyncError';
    this.status = options.status;
    this.requestId = options.requestId;
  }
}

export interface ApiClientOptions {
  baseUrl: string;
  /** The session token, read for every request so a sign-in takes effect at once. */
  getToken: () => string | null | undefined | Promise<string | null | undefined>;
  fetch?: typeof fetch;
  /** Per-request time limit for JSON calls; blob uploads get `blobTimeoutMs`. */
  timeoutMs?: number;
  blobTimeoutMs?: number;
}

interface RequestOptions {
  body?: BodyInit;
  json?: unknown;
  auth?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface BlobDownloadOptions {
  /** Called as bytes arrive with the bytes received so far and the expected total when announced. */
  onBytes?: (received: number, total: number | null) => void;
  signal?: AbortSignal;
}

export function createApiClient(options: ApiClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const blobTimeoutMs = options.blobTimeoutMs ?? 10 * 60_000;
  const api = (path: string) => `${API_PREFIX}${path}`;

  async function send(method: string, path: string, req: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (req.auth !== false) {
      const token = await options.getToken();
      if (!token) throw new SyncError('unauthorized', 'Sign in to the registry server to sync.');
      headers.Authorization = `Bearer ${token}`;
    }
    let body = req.body;
    if (req.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(req.json);
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/octet-stream';
    }
    const timeout = AbortSignal.timeout(req.timeoutMs ?? timeoutMs);
    let res: Response;
    try {
      res = await doFetch(`${baseUrl}${path}`, {
        method,
        headers,
        body,
        signal: req.signal ? AbortSignal.any([timeout, req.signal]) : timeout
      });
    } catch (err) {
      throw unreachable(err, req.signal);
    }
    if (res.ok || (method === 'HEAD' && res.status === 404)) return res;
    throw await toError(res);
  }

  /** A failed or cut-off request as a `SyncError`; the caller's own abort is passed on as it is. */
  function unreachable(err: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason;
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    return new SyncError(
      'offline',
      timedOut
        ? `The registry server at ${baseUrl} did not answer in time.`
        : `The registry server at ${baseUrl} can't be reached. Your work stays in this browser and syncs when it is back.`
    );
  }

  /** Reads a body to one buffer, reporting progress; a connection lost midway is `offline`. */
  async function readBody(res: Response, opts: BlobDownloadOptions): Promise<Uint8Array<ArrayBuffer>> {
    const announced = Number(res.headers.get('Content-Length'));
    const total = Number.isSafeInteger(announced) && announced >= 0 ? announced : null;
    const reader = res.body?.getReader();
    if (!reader) return new Uint8Array(0);
    const parts: Uint8Array[] = [];
    let received = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        received += value.byteLength;
        opts.onBytes?.(received, total);
      }
    } catch (err) {
      throw unreachable(err, opts.signal);
    }
    const bytes = new Uint8Array(received);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.byteLength;
    }
    return bytes;
  }

  /** Downloads a blob and checks that its bytes hash to its name before anyone uses them. */
  async function getBlob(hash: string, opts: BlobDownloadOptions = {}): Promise<ArrayBuffer> {
    let res: Response;
    try {
      res = await send('GET', api(`/blobs/${hash}`), { timeoutMs: blobTimeoutMs, signal: opts.signal });
    } catch (err) {
      if (err instanceof SyncError && err.status === 404)
        throw new SyncError('blob_not_found', `The registry server at ${baseUrl} has no blob ${hash}.`, {
          status: 404,
          requestId: err.requestId
        });
      throw err;
    }
    const bytes = await readBody(res, opts);
    const actual = await sha256Hex(bytes);
    if (actual !== hash)
      throw new SyncError(
        'blob_corrupt',
        `The registry server at ${baseUrl} sent bytes for blob ${hash} whose SHA-256 is ${actual}.`,
        { status: res.status }
      );
    return bytes.buffer;
  }

  async function toError(res: Response): Promise<SyncError> {
    const parsed = errorBody.safeParse(await res.json().catch(() => undefined));
    const detail = parsed.success ? parsed.data : undefined;
    const meta = { status: res.status, requestId: detail?.requestId };
    if (res.status === 401)
      return new SyncError('unauthorized', detail?.error ?? 'Your session has ended. Sign in again.', meta);
    if (res.status >= 500) {
      const ref = detail?.requestId ? ` (request ${detail.requestId})` : '';
      return new SyncError(
        'server',
        `The registry server at ${baseUrl} had a problem${ref}. Try again later.`,
        meta
      );
    }
    if (!detail)
      return new SyncError(
        'bad_response',
        `${baseUrl} answered ${res.status}; is it a Lathe registry server?`,
        meta
      );
    return new SyncError('rejected', detail.error, meta);
  }

  async function call<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    req?: RequestOptions
  ): Promise<z.infer<S>> {
    const res = await send(method, path, req);
    const parsed = schema.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) {
      throw new SyncError(
        'bad_response',
        `The registry server at ${baseUrl} answered in an unexpected way. Is it the same version as this studio?`,
        {
          status: res.status
        }
      );
    }
    return parsed.data;
  }

  return {
    baseUrl,
    setupStatus: (): Promise<{ needed: boolean }> =>
      call(setupStatusResponse, 'GET', api('/setup'), { auth: false }),
    setup: (body: SetupRequest): Promise<SessionResponse> =>
      call(sessionResponse, 'POST', api('/setup'), { json: body, auth: false }),
    login: (body: LoginRequest): Promise<SessionResponse> =>
      call(sessionResponse, 'POST', api('/auth/login'), { json: body, auth: false }),
    logout: async (): Promise<void> => {
      await send('POST', api('/auth/logout'));
    },
    me: async (): Promise<UserProfile> => (await call(meResponse, 'GET', api('/me'))).user,
    /** Whether the server already has a blob. */
    headBlob: async (hash: string): Promise<boolean> =>
      (await send('HEAD', api(`/blobs/${hash}`))).status === 200,
    /** A blob's bytes, verified against its SHA-256 name (`blob_not_found`, `blob_corrupt`). */
    getBlob,
    putBlob: (hash: string, bytes: ArrayBuffer): Promise<BlobPutResponse> =>
      call(blobPutResponse, 'PUT', api(`/blobs/${hash}`), { body: bytes, timeoutMs: blobTimeoutMs }),
    push: (body: PushRequest): Promise<PushResponse> =>
      call(pushResponse, 'POST', api('/sync/push'), { json: body }),
    pull: (since: number, limit = 500): Promise<PullResponse> =>
      call(pullResponse, 'GET', api(`/sync/pull?since=${since}&limit=${limit}`)),
    createShareLink: (runId: string): Promise<ShareLinkResponse> =>
      call(shareLinkResponse, 'POST', api(`/runs/${encodeURIComponent(runId)}/share`)),
    getShareLink: (token: string): Promise<SharedRunResponse> =>
      call(sharedRunResponse, 'GET', api(`/share/${encodeURIComponent(token)}`), { auth: false }),
    revokeShareLink: async (token: string): Promise<void> => {
      await send('DELETE', api(`/share/${encodeURIComponent(token)}`));
    }
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
