import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../core/hash';
import { uuidv7 } from '../core/ids';
import type { RunSpec } from '../core/records';
import { testSpec } from '../core/models/test-data';
import { LatheDB, isQuotaError, useDb } from './db';
import { listDatasets, readVersionChunks, saveVersion, type NewVersionInput } from './dataset.repository';
import { pendingMutations } from './outbox.repository';
import { getOrCreateProject } from './project.repository';
import { createRun, saveMetricSeries, updateRun } from './run.repository';

let db: LatheDB;

beforeEach(() => {
  db = new LatheDB(`test-${uuidv7()}`);
  useDb(db);
});

async function versionInput(projectId: string, text: string, datasetId?: string): Promise<NewVersionInput> {
  const data = new TextEncoder().encode(text).buffer as ArrayBuffer;
  const hash = await sha256Hex(data);
  return {
    projectId,
    datasetId,
    name: 'Iris',
    contentHash: await sha256Hex(new TextEncoder().encode(hash)),
    rowCount: 3,
    columns: [{ name: 'x', type: 'float', missing: 0 }],
    chunks: [{ hash, rows: 3, bytes: data.byteLength, data }],
    source: { name: 'iris.csv', bytes: 10, format: 'csv' }
  };
}

const spec = (datasetId: string, datasetVersionId: string): RunSpec =>
  testSpec({
    datasetId,
    datasetVersionId,
    target: 'species',
    features: ['x'],
    task: 'classification',
    model: { kind: 'logistic' },
    split: { testFraction: 0.2, seed: 1 },
    training: { epochs: 2, batchSize: 8, optimizer: { kind: 'adam', learningRate: 0.1 } },
    seed: 1
  });

describe('outbox writes', () => {
  it('a new dataset version writes its blobs, records and mutations together, in push order', async () => {
    const project = await getOrCreateProject();
    const { dataset, version } = await saveVersion(await versionInput(project.id, 'a,b,c'));

    expect(await readVersionChunks(version)).toHaveLength(1);
    const mutations = (await pendingMutations()).map((row) => row.mutation);
    expect(mutations.map((m) => `${m.entity}:${m.op}`)).toEqual([
      'project:insert',
      'dataset:insert',
      'datasetVersion:insert',
      'dataset:update'
    ]);
    const [, insert, versionInsert, pointer] = mutations;
    expect(insert?.recordId).toBe(dataset.id);
    expect(versionInsert?.blobs).toEqual([version.chunks[0]?.hash]);
    expect(pointer?.fields).toEqual({ latestVersionId: version.id });
    // Every mutation has its own, increasing clock stamp, so replicas order them the same way.
    const stamps = mutations.map((m) => m.hlc);
    expect([...stamps].sort()).toEqual(stamps);
    expect(new Set(stamps).size).toBe(stamps.length);
  });

  it('run changes append insert, update and metric-series mutations', async () => {
    const project = await getOrCreateProject();
    const { dataset, version } = await saveVersion(await versionInput(project.id, '1,2,3'));
    const run = await createRun(project.id, 'first', spec(dataset.id, version.id));
    await updateRun(run.id, { status: 'completed', metrics: { accuracy: 0.9 } });
    await saveMetricSeries(run, 'loss', [{ step: 1, value: 0.5, time: 1 }]);

    const runMutations = (await pendingMutations())
      .map((r) => r.mutation)
      .filter((m) => m.entity !== 'dataset' && m.entity !== 'datasetVersion' && m.entity !== 'project');
    expect(runMutations.map((m) => `${m.entity}:${m.op}`)).toEqual([
      'run:insert',
      'run:update',
      'metricSeries:insert'
    ]);
    expect(runMutations[1]?.fields).toEqual({ status: 'completed', metrics: { accuracy: 0.9 } });
    const stored = await db.runs.get(run.id);
    expect(stored?.stamps?.status).toBe(runMutations[1]?.hlc);
  });
});

describe('a full disk', () => {
  it('fails the whole import with a quota error and leaves what was stored before intact', async () => {
    const project = await getOrCreateProject();
    const first = await saveVersion(await versionInput(project.id, 'kept'));
    const before = await pendingMutations();

    // The browser refuses the next blob, as it does when the site's quota is used up.
    db.blobs.hook('creating', () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const failure = await saveVersion(await versionInput(project.id, 'too much')).catch(
      (err: unknown) => err
    );
    expect(isQuotaError(failure)).toBe(true);

    expect(await listDatasets(project.id)).toEqual([first.dataset]);
    expect(await db.datasetVersions.count()).toBe(1);
    expect(await db.blobs.count()).toBe(1);
    expect(await readVersionChunks(first.version)).toHaveLength(1);
    expect(await pendingMutations()).toEqual(before);
  });
});
