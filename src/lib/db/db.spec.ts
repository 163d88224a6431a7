import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../core/ids';
import { LatheDB } from './db';

describe('schema upgrades', () => {
  it('opens a version 1 database as version 2, keeping its rows and filling new fields', async () => {
    const name = `upgrade-${uuidv7()}`;
    const v1 = new Dexie(name);
    v1.version(1).stores({
      projects: 'id',
      datasets: 'id, projectId, updatedAt',
      datasetVersions: 'id, datasetId, contentHash, createdAt',
      blobs: 'hash, uploaded',
      runs: 'id, projectId, datasetId, status, createdAt',
      metricSeries: 'id, runId',
      outbox: '++seq, mutation.id',
      meta: 'key'
    });
    const id = uuidv7();
    await v1
      .table('datasets')
      .add({ id, projectId: id, name: 'Old', latestVersionId: null, createdAt: 1, updatedAt: 1 });
    v1.close();

    const db = new LatheDB(name);
    const dataset = await db.datasets.get(id);
    expect(dataset).toMatchObject({ name: 'Old', roles: {}, expectations: [] });
    expect(db.verno).toBe(2);
    expect(await db.datasetSplits.count()).toBe(0);
    db.close();
  });
});
