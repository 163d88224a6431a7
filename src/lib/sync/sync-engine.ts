/**
 * The sync client: drains the outbox to the registry server (blobs first, then mutations in batches)
 * and pulls other clients' changes into IndexedDB with the shared merge rules. Plain TypeScript, so a
 * rune class can wrap it for the UI and tests can drive it in Node.
 */
import { errorMessage } from '../core/errors';
import {
  MAX_PUSH_BATCH,
  RETRYABLE_REJECTIONS,
  type RejectionReason,
  type UserProfile
} from '../core/sync/contract';
import type { Mutation, SyncEntity } from '../core/sync/mutation';
import { getBlob, isUploaded, markUploaded } from '../db/blob.repository';
import { deleteMeta, getClientId, getMeta, setMeta } from '../db/meta.repository';
import { pendingCount, pendingMutations, recordFailure, removeMutations } from '../db/outbox.repository';
import { createApiClient, SyncError, type ApiClient } from './api-client';
import { applyRemoteChanges, LAST_SEQ_KEY } from '../db/remote-change.repository';

export const SESSION_KEYS = { token: 'sync.token', serverUrl: 'sync.serverUrl', user: 'sync.user' } as const;

export type SyncPhase = 'idle' | 'syncing' | 'offline' | 'error' | 'signed-out';

export interface SyncState {
  phase: SyncPhase;
  /** Mutations waiting in the outbox. */
  pending: number;
  lastSyncedAt: number | null;
  lastError: string | null;
}

export interface RejectedMutation {
  mutationId: string;
  entity: SyncEntity;
  recordId: string;
  reason: RejectionReason;
  message: string | undefined;
  /** Whether it stays in the outbox to be retried (e.g. a blob is still missing). */
  kept: boolean;
}

export interface SyncReport {
  /** True when everything that could be done was done (rejections are reported, not failures). */
  ok: boolean;
  phase: SyncPhase;
  pushed: number;
  pulled: number;
  uploadedBlobs: number;
  rejected: RejectedMutation[];
  pending: number;
  error: string | null;
}

export interface SyncEngineOptions {
  fetch?: typeof fetch;
  batchSize?: number;
  pullPageSize?: number;
  /** Whether the browser thinks it is online; defaults to `navigator.onLine`. */
  isOnline?: () => boolean;
  /** Where `online` events come from; defaults to `window` when there is one. */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  now?: () => number;
  /** Longest wait between attempts after repeated failures. */
  maxBackoffMs?: number;
}

interface Session {
  serverUrl: string;
  token: string;
}

export type SyncListener = (state: SyncState) => void;

function defaultOnline(): boolean {
  return typeof navigator === 'undefined' ? true : navigator.onLine;
}

function defaultEvents(): Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | undefined {
  return typeof window === 'undefined' ? undefined : window;
}

export class SyncEngine {
  readonly #options: SyncEngineOptions;
  readonly #listeners = new Set<SyncListener>();
  #state: SyncState = { phase: 'signed-out', pending: 0, lastSyncedAt: null, lastError: null };
  #inFlight: Promise<SyncReport> | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #running = false;
  #intervalMs = 30_000;
  #failures = 0;
  readonly #onOnline = () => this.#schedule(0);
  readonly #onOffline = () => this.#setState({ phase: 'offline' });

  constructor(options: SyncEngineOptions = {}) {
    this.#options = options;
  }

  get state(): SyncState {
    return this.#state;
  }

  /** Called with the current state at once and on every change; returns the unsubscribe. */
  onChange(listener: SyncListener): () => void {
    this.#listeners.add(listener);
    listener(this.#state);
    return () => this.#listeners.delete(listener);
  }

  async currentUser(): Promise<UserProfile | undefined> {
    return getMeta<UserProfile>(SESSION_KEYS.user);
  }

  async signIn(serverUrl: string, email: string, password: string): Promise<UserProfile> {
    const api = this.#client({ serverUrl, token: '' });
    return this.#saveSession(api.baseUrl, await api.login({ email, password }));
  }

  /** Create the server's owner account with the one-time setup token, and sign in as them. */
  async completeSetup(
    serverUrl: string,
    input: { token: string; name: string; email: string; password: string }
  ): Promise<UserProfile> {
    const api = this.#client({ serverUrl, token: '' });
    return this.#saveSession(api.baseUrl, await api.setup(input));
  }

  async signOut(): Promise<void> {
    const session = await this.#session();
    if (session) {
      // Best effort: the local session ends even when the server cannot be told.
      await this.#client(session)
        .logout()
        .catch(() => undefined);
    }
    await deleteMeta(SESSION_KEYS.token);
    await deleteMeta(SESSION_KEYS.user);
    this.#setState({ phase: 'signed-out', lastError: null });
  }

  /** One full round: upload blobs, push the outbox, pull changes. Concurrent calls share one round. */
  syncOnce(): Promise<SyncReport> {
    this.#inFlight ??= this.#syncRound().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  /** Sync now and every `intervalMs` while online; back off exponentially after failures. */
  start({ intervalMs = 30_000 }: { intervalMs?: number } = {}): void {
    this.#intervalMs = intervalMs;
    if (this.#running) return;
    this.#running = true;
    const events = this.#options.events ?? defaultEvents();
    events?.addEventListener('online', this.#onOnline);
    events?.addEventListener('offline', this.#onOffline);
    this.#schedule(0);
  }

  /** Sync soon after a local change, without waiting for the next interval (no-op when stopped). */
  requestSync(delayMs = 300): void {
    this.#schedule(delayMs);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const events = this.#options.events ?? defaultEvents();
    events?.removeEventListener('online', this.#onOnline);
    events?.removeEventListener('offline', this.#onOffline);
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    if (!(this.#options.isOnline ?? defaultOnline)()) {
      // Still count what waits, so the studio can say how much will sync when the network returns.
      this.#setState({ phase: 'offline', pending: await pendingCount() });
      this.#schedule(this.#intervalMs);
      return;
    }
    let ok = false;
    try {
      ok = (await this.syncOnce()).ok;
    } catch (err) {
      this.#setState({ phase: 'error', lastError: errorMessage(err) });
    }
    this.#failures = ok ? 0 : this.#failures + 1;
    const backoff = Math.min(
      this.#intervalMs * 2 ** this.#failures,
      this.#options.maxBackoffMs ?? 10 * 60_000
    );
    // Jitter keeps many tabs or clients from retrying in lockstep against a recovering server.
    this.#schedule(ok ? this.#intervalMs : backoff * (0.75 + Math.random() * 0.5));
  }

  async #syncRound(): Promise<SyncReport> {
    const report: SyncReport = {
      ok: false,
      phase: 'idle',
      pushed: 0,
      pulled: 0,
      uploadedBlobs: 0,
      rejected: [],
      pending: 0,
      error: null
    };
    const session = await this.#session();
    if (!session) {
      report.phase = 'signed-out';
      report.pending = await pendingCount();
      report.error = 'Sign in to a registry server to sync.';
      this.#setState({ phase: 'signed-out', pending: report.pending });
      return report;
    }
    this.#setState({ phase: 'syncing', pending: await pendingCount() });
    const api = this.#client(session);
    try {
      await this.#pushOutbox(api, report);
      await this.#pull(api, report);
      report.ok = true;
      report.phase = 'idle';
    } catch (err) {
      report.error = errorMessage(err);
      report.phase =
        err instanceof SyncError && err.code === 'offline'
          ? 'offline'
          : err instanceof SyncError && err.code === 'unauthorized'
            ? 'signed-out'
            : 'error';
      if (report.phase === 'signed-out') await deleteMeta(SESSION_KEYS.token);
    }
    report.pending = await pendingCount();
    const now = (this.#options.now ?? Date.now)();
    this.#setState({
      phase: report.phase,
      pending: report.pending,
      lastError: report.error,
      ...(report.ok ? { lastSyncedAt: now } : {})
    });
    return report;
  }

  async #pushOutbox(api: ApiClient, report: SyncReport): Promise<void> {
    const batchSize = Math.min(this.#options.batchSize ?? 100, MAX_PUSH_BATCH);
    const clientId = await getClientId();
    // Mutations kept for a retry stay at the head of the outbox; skip past them to reach the rest.
    const attempted = new Set<string>();
    for (;;) {
      const rows = (await pendingMutations(attempted.size + batchSize)).filter(
        (row) => !attempted.has(row.mutation.id)
      );
      const batch = rows.slice(0, batchSize).map((row) => row.mutation);
      if (batch.length === 0) return;
      for (const m of batch) attempted.add(m.id);

      // Blobs go up before the records that name them.
      report.uploadedBlobs += await this.#uploadBlobs(api, batch);

      let results;
      try {
        results = (await api.push({ clientId, mutations: batch })).results;
      } catch (err) {
        await recordFailure(
          batch.map((m) => m.id),
          errorMessage(err)
        );
        throw err;
      }
      const byId = new Map(batch.map((m) => [m.id, m]));
      const done: string[] = [];
      const kept = new Map<string, string>();
      for (const result of results) {
        const m = byId.get(result.id);
        if (!m) continue;
        if (result.status === 'applied') {
          done.push(m.id);
          report.pushed += 1;
          continue;
        }
        const retry = RETRYABLE_REJECTIONS.has(result.reason);
        report.rejected.push({
          mutationId: m.id,
          entity: m.entity,
          recordId: m.recordId,
          reason: result.reason,
          message: result.message,
          kept: retry
        });
        if (retry) kept.set(m.id, result.message ?? result.reason);
        else done.push(m.id);
      }
      await removeMutations(done);
      for (const [id, reason] of kept) await recordFailure([id], reason);
    }
  }

  /** Upload the blobs a batch names that the server does not have yet; returns how many went up. */
  async #uploadBlobs(api: ApiClient, batch: readonly Mutation[]): Promise<number> {
    let uploaded = 0;
    for (const hash of new Set(batch.flatMap((m) => m.blobs))) {
      if (await isUploaded(hash)) continue;
      if (!(await api.headBlob(hash))) {
        let bytes: ArrayBuffer;
        try {
          bytes = await getBlob(hash);
        } catch {
          // Not in this browser (e.g. evicted): the server will answer missing_blob and the mutation waits.
          continue;
        }
        await api.putBlob(hash, bytes);
        uploaded += 1;
      }
      await markUploaded(hash);
    }
    return uploaded;
  }

  async #pull(api: ApiClient, report: SyncReport): Promise<void> {
    let since = (await getMeta<number>(LAST_SEQ_KEY)) ?? 0;
    for (;;) {
      const page = await api.pull(since, this.#options.pullPageSize ?? 500);
      const applied = await applyRemoteChanges(page.changes, page.nextSince);
      report.pulled += applied.applied;
      since = page.nextSince;
      if (!page.hasMore) return;
    }
  }

  async #session(): Promise<Session | undefined> {
    const [serverUrl, token] = await Promise.all([
      getMeta<string>(SESSION_KEYS.serverUrl),
      getMeta<string>(SESSION_KEYS.token)
    ]);
    return serverUrl && token ? { serverUrl, token } : undefined;
  }

  async #saveSession(serverUrl: string, session: { token: string; user: UserProfile }): Promise<UserProfile> {
    const previous = await getMeta<string>(SESSION_KEYS.serverUrl);
    // Another server has other sequence numbers: start pulling it from the beginning.
    if (previous !== serverUrl) await deleteMeta(LAST_SEQ_KEY);
    await setMeta(SESSION_KEYS.serverUrl, serverUrl);
    await setMeta(SESSION_KEYS.token, session.token);
    await setMeta(SESSION_KEYS.user, session.user);
    this.#setState({ phase: 'idle', lastError: null });
    return session.user;
  }

  #client(session: Session): ApiClient {
    return createApiClient({
      baseUrl: session.serverUrl,
      getToken: () => session.token,
      fetch: this.#options.fetch
    });
  }

  #setState(patch: Partial<SyncState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener(this.#state);
  }
}
