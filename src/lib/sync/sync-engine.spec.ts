import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../core/hash';
import { uuidv7 } from '../core/ids';
import type { RunSpec } from '../core/records';
import { testSpec } from '../core/models/test-data';
import { saveVersion } from '../db/dataset.repository';
import { useDb } from '../db/db';
import { getMeta } from '../db/meta.repository';
import { pendingCount } from '../db/outbox.repository';
import { currentProjectId, getOrCreateProject } from '../db/project.repository';
import { createRun, saveMetricSeries, updateRun } from '../db/run.repository';
import { TestRegistry } from './test-registry';
import type { SyncState } from './sync-engine';

const SETUP_TOKEN = 'sync-engine-spec-setup-token';
const owner = { name: 'Ada', email: 'ada@example.com', password: 'analytical engine' };

const registry = new TestRegistry(SETUP_TOKEN);
const newClient = () => registry.newClient();

function spec(datasetId: string, datasetVersionId: string): RunSpec {
  return testSpec({
    datasetId,
    datasetVersionId,
    target: 'species',
    features: ['petal_length', 'petal_width'],
    task: 'classification',
    model: { kind: 'logistic' },
    split: { testFraction: 0.2, seed: 1 },
    training: { epochs: 3, batchSize: 16, optimizer: { kind: 'adam', learningRate: 0.05 } },
    seed: 1
  });
}

beforeAll(() => registry.start());

afterAll(() => registry.close());

describe('SyncEngine against a real registry server', () => {
  const a = newClient();
  const b = newClient();
  let runId = '';
  let versionId = '';

  it('uploads blobs before records, drains the outbox, and a second client pulls the same records', async () => {
    useDb(a.db);
    const states: SyncState[] = [];
    a.engine.onChange((s) => states.push(s));
    expect((await a.engine.syncOnce()).phase).toBe('signed-out');
    await a.engine.completeSetup(registry.url, { token: SETUP_TOKEN, ...owner });

    const project = await getOrCreateProject('Flowers');
    const chunk = new TextEncoder().encode('pretend this is an Arrow IPC chunk').buffer;
    const hash = await sha256Hex(chunk);
    const { dataset, version } = await saveVersion({
      projectId: project.id,
      name: 'iris',
      contentHash: await sha256Hex(new TextEncoder().encode(hash)),
      rowCount: 150,
      columns: [{ name: 'species', type: 'categorical', missing: 0, distinct: 3 }],
      chunks: [{ hash, rows: 150, bytes: chunk.byteLength, data: chunk }],
      source: { name: 'iris.csv', bytes: 4000, format: 'csv' }
    });
    versionId = version.id;
    const run = await createRun(project.id, 'baseline', spec(dataset.id, version.id));
    runId = run.id;
    await updateRun(run.id, { status: 'completed', metrics: { accuracy: 0.96 } });
    await saveMetricSeries(run, 'loss', [
      { step: 0, value: 1.1, time: 1 },
      { step: 1, value: 0.4, time: 2 }
    ]);
    const queued = await pendingCount();
    expect(queued).toBeGreaterThanOrEqual(7);

    registry.requests.length = 0;
    const report = await a.engine.syncOnce();
    expect(report).toMatchObject({
      ok: true,
      phase: 'idle',
      pushed: queued,
      uploadedBlobs: 1,
      rejected: [],
      pending: 0
    });
    expect(await pendingCount()).toBe(0);
    expect(registry.requests.indexOf(`PUT /api/v1/blobs/${hash}`)).toBeGreaterThanOrEqual(0);
    expect(registry.requests.indexOf(`PUT /api/v1/blobs/${hash}`)).toBeLessThan(
      registry.requests.indexOf('POST /api/v1/sync/push')
    );
    expect(states.map((s) => s.phase)).toContain('syncing');
    expect(a.engine.state).toMatchObject({ phase: 'idle', pending: 0, lastError: null });
    expect(a.engine.state.lastSyncedAt).not.toBeNull();

    // Another browser of the same person.
    useDb(b.db);
    await b.engine.signIn(registry.url, owner.email, owner.password);
    const pulled = await b.engine.syncOnce();
    expect(pulled.ok).toBe(true);
    expect(pulled.pulled).toBe(5); // project, dataset, version, run, series
    expect(await b.db.runs.get(run.id)).toMatchObject({
      name: 'baseline',
      status: 'completed',
      metrics: { accuracy: 0.96 }
    });
    expect(await b.db.datasetVersions.get(version.id)).toMatchObject({ rowCount: 150, chunks: [{ hash }] });
    expect(await b.db.datasets.get(dataset.id)).toMatchObject({ name: 'iris', latestVersionId: version.id });
    expect((await b.db.metricSeries.where('runId').equals(run.id).toArray()).map((s) => s.name)).toEqual([
      'loss'
    ]);
    expect(await getMeta<string>('projectId')).toBe(project.id);
    expect(await getMeta<number>('sync.lastSeq')).toBeGreaterThan(0);

    // Pulling again brings nothing new; A pulling its own records back changes nothing it cares about.
    expect((await b.engine.syncOnce()).pulled).toBe(0);
    useDb(a.db);
    await a.engine.syncOnce();
    expect(await a.db.runs.get(run.id)).toMatchObject({ status: 'completed', metrics: { accuracy: 0.96 } });
  });

  it('a browser that made its own empty project before signing in switches to the pulled one', async () => {
    const c = newClient();
    useDb(c.db);
    const own = await getOrCreateProject();
    await c.engine.signIn(registry.url, owner.email, owner.password);
    await c.engine.syncOnce();
    const current = await currentProjectId();
    expect(current).not.toBe(own.id);
    expect((await c.db.runs.get(runId))?.projectId).toBe(current);
  });

  it('merges edits from two clients per field', async () => {
    useDb(b.db);
    await updateRun(runId, { name: 'renamed on B' });
    useDb(a.db);
    await updateRun(runId, { error: 'note from A' });
    await a.engine.syncOnce();
    useDb(b.db);
    await b.engine.syncOnce();
    useDb(a.db);
    await a.engine.syncOnce();
    for (const db of [a.db, b.db]) {
      expect(await db.runs.get(runId)).toMatchObject({
        name: 'renamed on B',
        error: 'note from A',
        status: 'completed'
      });
    }
  });

  it('keeps the outbox while the server is down and drains it once it is back', async () => {
    useDb(a.db);
    const project = await getOrCreateProject();
    const run = await createRun(project.id, 'offline run', spec(uuidv7(), versionId));
    const before = await pendingCount();
    expect(before).toBe(1);

    await registry.stopServer();
    const offline = await a.engine.syncOnce();
    expect(offline).toMatchObject({ ok: false, phase: 'offline', pending: before });
    expect(offline.error).toContain("can't be reached");
    expect(await pendingCount()).toBe(before);
    expect(a.engine.state.phase).toBe('offline');

    await registry.listen();
    const back = await a.engine.syncOnce();
    expect(back).toMatchObject({ ok: true, pushed: 1, pending: 0 });
    useDb(b.db);
    await b.engine.syncOnce();
    expect(await b.db.runs.get(run.id)).toMatchObject({ name: 'offline run' });
  });

  it('signs out locally and reports signed-out', async () => {
    useDb(b.db);
    await b.engine.signOut();
    expect(b.engine.state.phase).toBe('signed-out');
    expect((await b.engine.syncOnce()).phase).toBe('signed-out');
  });
});
