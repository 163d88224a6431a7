import 'fake-indexeddb/auto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, SETUP_TOKEN, type TestApp } from '../../../sync-server/src/testing/test-app';
import { sha256Hex } from '../core/hash';
import { uuidv7 } from '../core/ids';
import { missingBlobs } from '../db/blob.repository';
import { readSplitAssignments, readVersionChunks, saveSplit, saveVersion } from '../db/dataset.repository';
import { LatheDB, useDb } from '../db/db';
import { getOrCreateProject } from '../db/project.repository';
import { SyncEngine } from '../sync/sync-engine';
import { ensureRunDataLocal, ensureVersionLocal } from './dataset.service';

const owner = { name: 'Ada', email: 'ada@example.com', password: 'analytical engine' };

let testApp: TestApp;
let server: Server;
let serverUrl = '';

beforeAll(async () => {
  testApp = await createTestApp();
  await new Promise<void>((resolve) => {
    server = serve({ fetch: testApp.app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      serverUrl = `http://127.0.0.1:${info.port}`;
      resolve();
    }) as Server;
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await testApp.close();
});

describe('reading a version pulled from the registry server', () => {
  it('a run on a pulled version and split brings both into this browser before training reads them', async () => {
    // Browser A imports and syncs.
    useDb(new LatheDB(`test-${uuidv7()}`));
    const a = new SyncEngine({ isOnline: () => true });
    await a.completeSetup(serverUrl, { token: SETUP_TOKEN, ...owner });
    const project = await getOrCreateProject('Flowers');
    const data = new TextEncoder().encode('arrow chunk '.repeat(500)).buffer;
    const hash = await sha256Hex(data);
    const { dataset, version } = await saveVersion({
      projectId: project.id,
      name: 'penguins',
      contentHash: await sha256Hex(new TextEncoder().encode(hash)),
      rowCount: 10,
      columns: [{ name: 'species', type: 'categorical', missing: 0 }],
      chunks: [{ hash, rows: 10, bytes: data.byteLength, data }],
      source: { name: 'penguins.csv', bytes: 300, format: 'csv' }
    });
    const assignments = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2, 2, 2]).buffer;
    const split = await saveSplit({
      projectId: project.id,
      datasetId: dataset.id,
      versionId: version.id,
      name: '70/30',
      spec: { kind: 'holdout' },
      specHash: await sha256Hex(new TextEncoder().encode('70/30')),
      counts: { train: 7, test: 3 },
      assignments,
      assignmentsHash: await sha256Hex(assignments)
    });
    expect((await a.syncOnce()).ok).toBe(true);

    // Browser B pulls the records only.
    useDb(new LatheDB(`test-${uuidv7()}`));
    const b = new SyncEngine({ isOnline: () => true });
    await b.signIn(serverUrl, owner.email, owner.password);
    expect((await b.syncOnce()).ok).toBe(true);
    expect(await missingBlobs([hash, split.assignments])).toHaveLength(2);

    await ensureRunDataLocal({ datasetVersionId: version.id, splitId: split.id });
    expect(new Uint8Array((await readVersionChunks(version))[0]!)).toEqual(new Uint8Array(data));
    expect(await readSplitAssignments(split)).toEqual(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2, 2, 2]));

    // Browser C is signed out: the message names the dataset from its record.
    useDb(new LatheDB(`test-${uuidv7()}`));
    const c = new SyncEngine({ isOnline: () => true });
    await c.signIn(serverUrl, owner.email, owner.password);
    await c.syncOnce();
    await c.signOut();
    await expect(ensureVersionLocal(version.id)).rejects.toMatchObject({
      code: 'data_remote',
      message: expect.stringContaining(`"penguins" is on the registry server`) as string
    });
  });
});
