/**
 * The studio's side of sync: one engine for the tab, its state mirrored into the status bar, a sync
 * soon after every local change, and the share-link calls that need the signed-in session.
 */
import type { UserProfile } from '../core/sync/contract';
import { getMeta } from '../db/meta.repository';
import { createApiClient } from '../sync/api-client';
import { SESSION_KEYS, SyncEngine } from '../sync/sync-engine';
import { appStatus } from '../state/app-status.svelte';
import { events } from './event-bus';

export const engine = new SyncEngine();
let started = false;

export function startSync(): void {
  if (started) return;
  started = true;
  let lastSyncedAt: number | null = null;
  engine.onChange((state) => {
    appStatus.setSync(state);
    if (state.lastSyncedAt !== null && state.lastSyncedAt !== lastSyncedAt) {
      lastSyncedAt = state.lastSyncedAt;
      events.emit('SyncCompleted', { pushed: 0, pulled: 0 });
    }
  });
  events.on('LocalChange', () => engine.requestSync());
  events.on('DatasetImported', () => engine.requestSync());
  engine.start({ intervalMs: 15_000 });
}

/** The server the studio was loaded from is the default registry. */
export function defaultServerUrl(): string {
  return location.origin;
}

export async function signIn(serverUrl: string, email: string, password: string): Promise<UserProfile> {
  const user = await engine.signIn(serverUrl, email, password);
  engine.requestSync(0);
  return user;
}

export async function completeSetup(input: {
  token: string;
  name: string;
  email: string;
  password: string;
}): Promise<UserProfile> {
  const user = await engine.completeSetup(defaultServerUrl(), input);
  engine.requestSync(0);
  return user;
}

export async function signOut(): Promise<void> {
  await engine.signOut();
}

export function currentUser(): Promise<UserProfile | undefined> {
  return engine.currentUser();
}

export async function serverUrl(): Promise<string> {
  return (await getMeta<string>(SESSION_KEYS.serverUrl)) ?? defaultServerUrl();
}

async function signedInClient() {
  const token = await getMeta<string>(SESSION_KEYS.token);
  if (!token) throw new Error('Sign in to a registry server in Settings to share runs.');
  const baseUrl = await serverUrl();
  return { api: createApiClient({ baseUrl, getToken: () => token }), baseUrl };
}

/** Push the run (and everything before it in the outbox), then create a share link for it. */
export async function shareRun(runId: string): Promise<string> {
  const { api, baseUrl } = await signedInClient();
  const report = await engine.syncOnce();
  if (!report.ok) throw new Error(report.error ?? 'The run could not be sent to the registry server.');
  const link = await api.createShareLink(runId);
  return new URL(link.url, baseUrl).toString();
}

/** Revoke a share link: whoever holds it can no longer open the run. */
export async function revokeShare(shareUrl: string): Promise<void> {
  const token = new URL(shareUrl).pathname.split('/').at(-1) ?? '';
  const { api } = await signedInClient();
  await api.revokeShareLink(token);
}

/** Read a shared run; needs no account. */
export async function loadSharedRun(token: string) {
  const api = createApiClient({ baseUrl: location.origin, getToken: () => undefined });
  return api.getShareLink(token);
}
