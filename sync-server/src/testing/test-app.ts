/** A real app on a temp SQLite file and blob folder, plus helpers to drive it like a client. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { uuidv7 } from '../../../src/lib/core/ids';
import { formatHlc } from '../../../src/lib/core/sync/hlc';
import type { Mutation } from '../../../src/lib/core/sync/mutation';
import { sessionResponse, type SessionResponse } from '../../../src/lib/core/sync/contract';
import { createApp, type LatheApp } from '../app';
import { createLogger } from '../logger';
import { FolderBlobStore } from '../repositories/folder-blob-store';
import { SqliteMetadataStore } from '../repositories/sqlite-metadata-store';

export const SETUP_TOKEN = 'test-setup-token-0123456789';

export interface TestApp {
  app: LatheApp;
  dir: string;
  store: SqliteMetadataStore;
  close(): Promise<void>;
}

export async function createTestApp(options: { maxBlobBytes?: number } = {}): Promise<TestApp> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lathe-server-'));
  const staticDir = path.join(dir, 'static');
  await mkdir(path.join(staticDir, '_app', 'immutable'), { recursive: true });
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>Lathe</title>');
  await writeFile(path.join(staticDir, 'sw.js'), 'self.addEventListener("fetch", () => {});');
  await writeFile(path.join(staticDir, 'ort.wasm'), new Uint8Array([0, 97, 115, 109]));
  await writeFile(path.join(staticDir, 'manifest.webmanifest'), '{}');
  await writeFile(path.join(staticDir, '_app', 'immutable', 'entry.js'), 'export {};');
  // A file just outside the static root that traversal attempts aim for.
  await writeFile(path.join(dir, 'secret.txt'), 'TOP-SECRET');
  const store = new SqliteMetadataStore(path.join(dir, 'lathe.sqlite'));
  const blobs = new FolderBlobStore(path.join(dir, 'blobs'));
  await blobs.init();
  const app = createApp({
    store,
    blobs,
    logger: createLogger('silent'),
    staticDir,
    setupToken: SETUP_TOKEN,
    maxBlobBytes: options.maxBlobBytes
  });
  return {
    app,
    dir,
    store,
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  };
}

export function jsonRequest(method: string, body: unknown, token?: string): RequestInit {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  return { method, headers, body: JSON.stringify(body) };
}

export function bearer(token: string, init: RequestInit = {}): RequestInit {
  return {
    ...init,
    headers: { ...(init.headers as Record<string, string> | undefined), Authorization: `Bearer ${token}` }
  };
}

export async function setupOwner(app: LatheApp, email = 'owner@example.com'): Promise<SessionResponse> {
  const res = await app.request(
    '/api/v1/setup',
    jsonRequest('POST', { token: SETUP_TOKEN, name: 'Owner', email, password: 'correct horse battery' })
  );
  if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${await res.text()}`);
  return sessionResponse.parse(await res.json());
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function stamp(wall: number, node: string, counter = 0): string {
  return formatHlc({ wall, counter, node });
}

/** Mutations for a project with one run, as a studio would push them. */
export function projectMutations(node = 'client-a') {
  const projectId = uuidv7();
  const runId = uuidv7();
  const datasetId = uuidv7();
  const versionId = uuidv7();
  const project: Mutation = {
    id: uuidv7(),
    entity: 'project',
    op: 'insert',
    recordId: projectId,
    projectId,
    hlc: stamp(1000, node),
    fields: { id: projectId, projectId, name: 'Iris', createdAt: 1, updatedAt: 1 },
    blobs: []
  };
  const run: Mutation = {
    id: uuidv7(),
    entity: 'run',
    op: 'insert',
    recordId: runId,
    projectId,
    hlc: stamp(1001, node),
    fields: {
      id: runId,
      projectId,
      name: 'baseline',
      status: 'queued',
      spec: {
        datasetId,
        datasetVersionId: versionId,
        target: 'species',
        features: ['petal_length'],
        task: 'classification',
        model: 'logistic',
        split: { testFraction: 0.2, seed: 7 },
        preprocessing: [{ kind: 'standardize' }],
        training: { epochs: 5, batchSize: 16, learningRate: 0.01, optimizer: 'adam' },
        seed: 7
      },
      environment: null,
      metrics: {},
      error: null,
      startedAt: null,
      finishedAt: null,
      createdAt: 2,
      updatedAt: 2
    },
    blobs: []
  };
  return { projectId, runId, datasetId, versionId, project, run };
}

export function runUpdate(
  base: Pick<Mutation, 'recordId' | 'projectId'>,
  hlc: string,
  fields: Record<string, unknown>
): Mutation {
  return {
    id: uuidv7(),
    entity: 'run',
    op: 'update',
    recordId: base.recordId,
    projectId: base.projectId,
    hlc,
    fields,
    blobs: []
  };
}

/** A second account; the API has no invitations yet, so tests add it through the store. */
export async function addUser(store: SqliteMetadataStore, email: string, password: string): Promise<void> {
  const { hashPassword } = await import('../services/credentials');
  const passwordHash = await hashPassword(password);
  await store.transaction((tx) =>
    tx.insertUser({ id: uuidv7(), email, name: email, passwordHash, createdAt: Date.now() })
  );
}
