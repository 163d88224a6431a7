/** What the status bar shows: the compute backend and why, the sync state, connectivity. */
import type { BackendName } from '../core/records';

export type SyncPhase = 'idle' | 'syncing' | 'offline' | 'error' | 'signed-out';

export interface BackendStatus {
  backend: BackendName;
  reason: string;
}

class AppStatus {
  #backend = $state<BackendStatus | null>(null);
  #backendError = $state<string | null>(null);
  #syncPhase = $state<SyncPhase>('signed-out');
  #pending = $state(0);
  #lastSyncedAt = $state<number | null>(null);
  #syncError = $state<string | null>(null);
  #online = $state(typeof navigator === 'undefined' ? true : navigator.onLine);

  get backend() {
    return this.#backend;
  }
  get backendError() {
    return this.#backendError;
  }
  get syncPhase() {
    return this.#syncPhase;
  }
  get pending() {
    return this.#pending;
  }
  get lastSyncedAt() {
    return this.#lastSyncedAt;
  }
  get syncError() {
    return this.#syncError;
  }
  get online() {
    return this.#online;
  }

  setBackend(status: BackendStatus | null, error: string | null = null): void {
    this.#backend = status;
    this.#backendError = error;
  }

  setSync(state: {
    phase: SyncPhase;
    pending: number;
    lastSyncedAt: number | null;
    lastError: string | null;
  }): void {
    this.#syncPhase = state.phase;
    this.#pending = state.pending;
    this.#lastSyncedAt = state.lastSyncedAt;
    this.#syncError = state.lastError;
  }

  setOnline(online: boolean): void {
    this.#online = online;
  }
}

export const appStatus = new AppStatus();
