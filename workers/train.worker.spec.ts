import 'fake-indexeddb/auto';
import { tableToIPC } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { separableBinary } from '../src/lib/core/models/test-data';
import type { RunSpec } from '../src/lib/core/records';
import { LatheDB, useDb } from '../src/lib/db/db';
import { getMeta } from '../src/lib/db/meta.repository';
import type { TrainEvent } from './train-api';
import { trainWorkerApi } from './train.worker';

const ID = '01920000-0000-7000-8000-000000000000';
const spec: RunSpec = {
  datasetId: ID,
  datasetVersionId: ID,
  target: 'label',
  features: ['x1', 'x2'],
  task: 'classification',
  model: 'logistic',
  split: { testFraction: 0.25, seed: 1 },
  preprocessing: [{ kind: 'standardize' }],
  training: { epochs: 5, batchSize: 32, learningRate: 0.1, optimizer: 'adam' },
  seed: 9
};

function chunks(): ArrayBuffer[] {
  const bytes = tableToIPC(separableBinary(400, 11), 'stream');
  return [bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer];
}

let db: LatheDB;
beforeEach(() => {
  db = new LatheDB(`train-worker-${Math.random()}`);
  useDb(db);
});
afterEach(async () => {
  db.close();
  await db.delete();
});

describe('train worker API (Node, cpu backend)', () => {
  it('probes, calibrates what it can, and caches the timings', async () => {
    const report = await trainWorkerApi.probeBackends({ recalibrate: true });
    const cpu = report.probes.find((p) => p.name === 'cpu');
    expect(cpu?.available).toBe(true);
    expect(cpu?.msPerStep).toBeGreaterThan(0);
    // Node has neither WebGPU nor WebGL; the reasons say so.
    expect(report.probes.find((p) => p.name === 'webgpu')?.available).toBe(false);
    expect(report.probes.find((p) => p.name === 'webgl')?.reasonUnavailable).toMatch(/OffscreenCanvas/);
    // The wasm binary is not served in Node, so that backend fails to start and says why.
    expect(report.probes.find((p) => p.name === 'wasm')?.reasonUnavailable).toMatch(/^failed to start/);
    expect(report.choice.backend).toBe('cpu');
    expect(report.choice.reason).toMatch(/ms\/step/);
    expect(report.fromCache).toBe(false);

    const keys = (await db.meta.toArray())
      .map((row) => row.key)
      .filter((k) => k.startsWith('backend-calibration:'));
    expect(keys).toHaveLength(1);
    const again = await trainWorkerApi.probeBackends({});
    expect(again.probes.find((p) => p.name === 'cpu')?.msPerStep).toBe(cpu?.msPerStep);
  });

  it('trains from transferred chunks, streaming backend, batch and epoch events', async () => {
    const events: TrainEvent[] = [];
    const result = await trainWorkerApi.train(
      { runId: 'run-1', spec, chunks: chunks(), backendOverride: 'cpu' },
      (e) => events.push(e)
    );
    expect(result.status).toBe('completed');
    expect(result.environment.backend).toBe('cpu');
    expect(result.environment.backendReason).toMatch(/^cpu: chosen in Settings/);
    expect(result.environment.seed).toBe(9);
    expect(result.environment.libraries['@tensorflow/tfjs-core']).toBe('4.22.0');
    expect(result.metrics.accuracy).toBeGreaterThan(0.9);
    expect(result.series.loss).toHaveLength(5);
    expect(result.series.val_loss).toHaveLength(5);
    expect(events[0]?.type).toBe('backend');
    expect(events.filter((e) => e.type === 'epoch').map((e) => (e.type === 'epoch' ? e.epoch : 0))).toEqual([
      1, 2, 3, 4, 5
    ]);
    expect(events.some((e) => e.type === 'batch')).toBe(true);
  });

  it('answers a cancel with status cancelled', async () => {
    let batches = 0;
    const running = trainWorkerApi.train(
      {
        runId: 'run-2',
        spec: { ...spec, training: { ...spec.training, epochs: 200 } },
        chunks: chunks(),
        backendOverride: 'cpu'
      },
      (e) => {
        if (e.type === 'batch' && ++batches === 1) void trainWorkerApi.cancel('run-2');
      }
    );
    const result = await running;
    expect(result.status).toBe('cancelled');
    expect(result.metrics).toEqual({});
    expect(result.series.loss?.length ?? 0).toBeLessThan(200);
  });

  it('rejects an invalid spec with a readable message', async () => {
    const bad = { ...spec, training: { ...spec.training, epochs: 0 } };
    await expect(
      trainWorkerApi.train({ runId: 'run-3', spec: bad, chunks: chunks() }, () => undefined)
    ).rejects.toThrowError(/The run's settings are invalid \(training\.epochs\)/);
  });

  it('reports a dataset version that is not in this browser', async () => {
    await expect(
      trainWorkerApi.train({ runId: 'run-4', spec, backendOverride: 'cpu' }, () => undefined)
    ).rejects.toMatchObject({
      code: 'version_missing'
    });
  });

  it('keeps the preferred backend in IndexedDB', async () => {
    await trainWorkerApi.setPreferredBackend('cpu');
    expect(await getMeta('settings.backendOverride')).toBe('cpu');
    const report = await trainWorkerApi.probeBackends({});
    expect(report.preferred).toBe('cpu');
    expect(report.choice.backend).toBe('cpu');
    await trainWorkerApi.setPreferredBackend(null);
  });
});
