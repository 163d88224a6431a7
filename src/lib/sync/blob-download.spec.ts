import 'fake-indexeddb/auto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatheError } from '../core/errors';
import { sha256Hex } from '../core/hash';
import { uuidv7 } from '../core/ids';
import type { DatasetSplit, DatasetVersion } from '../core/records';
import { isUploaded, missingBlobs } from '../db/blob.repository';
import { readSplitAssignments, readVersionChunks, saveSplit, saveVersion } from '../db/dataset.repository';
import { LatheDB, useDb } from '../db/db';
import { pendingCount } from '../db/outbox.repository';
import { getOrCreateProject } from '../db/project.repository';
import {
  ensureSplitData,
  ensureVersionData,
  RemoteDataError,
  type DataDownloadProgress
} from './blob-download';
import { TestRegistry } from './test-registry';
import type { SyncEngine } from './sync-engine';

const SETUP_TOKEN = 'blob-download-spec-setup-token';
const owner = { name: 'Ada', email: 'ada@example.com', password: 'analytical engine' };

const registry = new TestRegistry(SETUP_TOKEN);
const newClient = () => registry.newClient();

/** A fresh browser of the same person that signed in and pulled everything. */
async function pulledClient(): Promise<{ db: LatheDB; engine: SyncEngine }> {
  const client = newClient();
  useDb(client.db);
  await client.engine.signIn(registry.url, owner.email, owner.password);
  expect((await client.engine.syncOnce()).ok).toBe(true);
  return client;
}

function bytesOf(text: string, repeat = 1): ArrayBuffer {
  return new TextEncoder().encode(text.repeat(repeat)).buffer;
}

async function chunk(text: string, rows: number) {
  const data = bytesOf(text, 2000);
  return { hash: await sha256Hex(data), rows, bytes: data.byteLength, data };
}

function blobFile(hash: string): string {
  return path.join(registry.dir, 'blobs', hash.slice(0, 2), hash.slice(2));
}

async function rejection(promise: Promise<unknown>): Promise<RemoteDataError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(RemoteDataError);
  return err as RemoteDataError;
}

beforeAll(() => registry.start());

afterAll(() => registry.close());

describe('downloading the data of pulled records from a real registry server', () => {
  const a = newClient();
  let version: DatasetVersion;
  let split: DatasetSplit;
  const original = new Map<string, ArrayBuffer>();

  it('a second browser that pulled a version downloads its chunks, assets and split and reads them', async () => {
    useDb(a.db);
    await a.engine.completeSetup(registry.url, { token: SETUP_TOKEN, ...owner });
    const project = await getOrCreateProject('Flowers');
    const chunks = [await chunk('first rows;', 100), await chunk('second rows;', 50)];
    const image = bytesOf('\x89PNG pretend image', 10);
    const imageHash = await sha256Hex(image);
    for (const c of chunks) original.set(c.hash, c.data.slice(0));
    original.set(imageHash, image.slice(0));
    const saved = await saveVersion({
      projectId: project.id,
      name: 'iris',
      contentHash: await sha256Hex(bytesOf(chunks.map((c) => c.hash).join())),
      rowCount: 150,
      columns: [{ name: 'species', type: 'categorical', missing: 0, distinct: 3 }],
      chunks,
      assets: [{ hash: imageHash, data: image }],
      source: { name: 'iris.csv', bytes: 4000, format: 'csv' }
    });
    version = saved.version;
    const assignments = new Uint8Array(150).map((_, i) => i % 3).buffer;
    original.set(await sha256Hex(assignments), assignments.slice(0));
    split = await saveSplit({
      projectId: project.id,
      datasetId: saved.dataset.id,
      versionId: version.id,
      name: 'thirds',
      spec: { kind: 'holdout' },
      specHash: await sha256Hex(bytesOf('spec')),
      counts: { train: 50, validation: 50, test: 50 },
      assignments,
      assignmentsHash: await sha256Hex(assignments)
    });
    expect((await a.engine.syncOnce()).uploadedBlobs).toBe(4);

    const b = await pulledClient();
    // The records came, the rows did not.
    expect(await b.db.datasetVersions.get(version.id)).toMatchObject({ rowCount: 150 });
    await expect(readVersionChunks(version)).rejects.toMatchObject({ code: 'blob_missing' });

    registry.requests.length = 0;
    const progress: DataDownloadProgress[] = [];
    const result = await ensureVersionData('iris', version, {
      fetch: registry.fetch,
      onProgress: (p) => progress.push(p)
    });
    expect(result).toEqual({
      downloaded: 3,
      bytes: [...original.values()].slice(0, 3).reduce((s, x) => s + x.byteLength, 0)
    });
    expect(registry.requests.filter((r) => r.startsWith('GET /api/v1/blobs/')).sort()).toEqual(
      [...chunks.map((c) => c.hash), imageHash].map((h) => `GET /api/v1/blobs/${h}`).sort()
    );
    expect(progress[0]).toMatchObject({ blobsDone: 0, blobsTotal: 3, bytesDone: 0, bytesTotal: null });
    expect(progress.at(-1)).toMatchObject({ blobsDone: 3, blobsTotal: 3, bytesDone: result.bytes });

    const read = await readVersionChunks(version);
    expect(read.map((bytes) => new Uint8Array(bytes))).toEqual(
      chunks.map((c) => new Uint8Array(original.get(c.hash)!))
    );
    expect(await missingBlobs([imageHash])).toEqual([]);

    await ensureSplitData('iris', split, { fetch: registry.fetch });
    expect(await readSplitAssignments(split)).toEqual(new Uint8Array(original.get(split.assignments)!));

    // Stored as already on the server: the next sync uploads nothing, and a second call downloads nothing.
    for (const hash of original.keys()) expect(await isUploaded(hash)).toBe(true);
    registry.requests.length = 0;
    expect(await ensureVersionData('iris', version, { fetch: registry.fetch })).toEqual({
      downloaded: 0,
      bytes: 0
    });
    const again = await b.engine.syncOnce();
    expect(again).toMatchObject({ ok: true, uploadedBlobs: 0 });
    expect(await pendingCount()).toBe(0);
    expect(registry.requests.filter((r) => r.includes('/blobs/'))).toEqual([]);
  });

  it('two readers of the same version download each blob once', async () => {
    await pulledClient();
    registry.requests.length = 0;
    const results = await Promise.all([
      ensureVersionData('iris', version, { fetch: registry.fetch }),
      ensureVersionData('iris', version, { fetch: registry.fetch })
    ]);
    expect(results.map((r) => r.downloaded)).toEqual([3, 3]);
    expect(registry.requests.filter((r) => r.startsWith('GET /api/v1/blobs/'))).toHaveLength(3);
    expect(await readVersionChunks(version)).toHaveLength(2);
  });

  it('refuses bytes whose SHA-256 is not the blob name and stores nothing', async () => {
    await pulledClient();
    const first = version.chunks[0]!.hash;
    await writeFile(blobFile(first), 'tampered with on the server');
    try {
      const err = await rejection(
        ensureVersionData('iris', version, { fetch: registry.fetch, concurrency: 1 })
      );
      expect(err.code).toBe('data_corrupt');
      expect(err.message).toContain('"iris"');
      expect(err.message).toContain('chunk 1 of 2');
      expect(await missingBlobs([first])).toEqual([first]);
    } finally {
      await writeFile(blobFile(first), new Uint8Array(original.get(first)!));
    }
  });

  it('says so when the server does not have the blob either', async () => {
    await pulledClient();
    const second = version.chunks[1]!.hash;
    await rm(blobFile(second));
    try {
      const err = await rejection(ensureVersionData('iris', version, { fetch: registry.fetch }));
      expect(err.code).toBe('data_missing_on_server');
      expect(err.message).toMatch(/does not have chunk 2 of 2 of "iris"/);
    } finally {
      await writeFile(blobFile(second), new Uint8Array(original.get(second)!));
    }
  });

  it('offline or signed out, it names the dataset and says to connect; once back, the download works', async () => {
    const c = await pulledClient();
    await registry.stopServer();
    try {
      const err = await rejection(ensureVersionData('iris', version, { fetch: registry.fetch }));
      expect(err.code).toBe('data_remote');
      expect(err.message).toContain(
        `This version's data of "iris" is on the registry server at ${registry.url}`
      );
      expect(err.message).toContain('Connect to it');
      expect(await missingBlobs(version.chunks.map((ch) => ch.hash))).toHaveLength(2);
    } finally {
      await registry.listen();
    }
    expect((await ensureVersionData('iris', version, { fetch: registry.fetch })).downloaded).toBe(3);

    await c.engine.signOut();
    useDb(new LatheDB(`test-${uuidv7()}`));
    const signedOut = await rejection(ensureVersionData('iris', version, { fetch: registry.fetch }));
    expect(signedOut).toBeInstanceOf(LatheError);
    expect(signedOut.code).toBe('data_remote');
    expect(signedOut.message).toMatch(/"iris" is on the registry server, not in this browser\. Sign in/);
  });
});
