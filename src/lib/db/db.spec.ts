import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../core/ids';
import { runSpec } from '../core/records';
import { LatheDB } from './db';

describe('schema upgrades', () => {
  it('opens a version 1 database as the current one, keeping its rows and filling new fields', async () => {
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
    // A run of the first releases: model and optimizer by name, `standardize` as its preprocessing.
    const oldSpec = {
      datasetId: id,
      datasetVersionId: id,
      target: 'species',
      features: ['x'],
      task: 'classification',
      model: 'logistic',
      split: { testFraction: 0.2, seed: 1 },
      preprocessing: [{ kind: 'standardize' }],
      training: { epochs: 2, batchSize: 8, learningRate: 0.1, optimizer: 'adam' },
      seed: 1
    };
    await v1.table('runs').add({ id, projectId: id, name: 'Old run', status: 'completed', spec: oldSpec });
    v1.close();

    const db = new LatheDB(name);
    const dataset = await db.datasets.get(id);
    expect(dataset).toMatchObject({ name: 'Old', roles: {}, expectations: [] });
    expect(db.verno).toBe(3);
    expect(await db.datasetSplits.count()).toBe(0);
    expect(await db.checkpoints.count()).toBe(0);
    // The stored spec reads as today's shape, meaning the same run.
    const stored = (await db.runs.get(id)) as { spec: unknown } | undefined;
    expect(runSpec.parse(stored?.spec)).toMatchObject({
      model: { kind: 'logistic', l2: 0 },
      preprocessing: { pipeline: null },
      split: { testFraction: 0.2, validationFraction: 0, seed: 1 },
      training: { optimizer: { kind: 'adam', learningRate: 0.1 }, schedule: { kind: 'constant' } }
    });
    db.close();
  });
});
