import 'fake-indexeddb/auto';
import { tableToIPC } from 'apache-arrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeModel } from '../src/lib/core/models/model-artifact';
import { separableBinary, testSpec } from '../src/lib/core/models/test-data';
import { getBlob } from '../src/lib/db/blob.repository';
import { getCheckpoint } from '../src/lib/db/checkpoint.repository';
import type { RunSpec } from '../src/lib/core/records';
import { LatheDB, useDb } from '../src/lib/db/db';
import { getMeta } from '../src/lib/db/meta.repository';
import type { TrainEvent } from './train-api';
import { trainWorkerApi } from './train.worker';

const ID = '01920000-0000-7000-8000-000000000000';
const spec: RunSpec = testSpec({
  datasetId: ID,
  datasetVersionId: ID,
  target: 'label',
  features: ['x1', 'x2'],
  task: 'classification',
  model: { kind: 'logistic' },
  split: { testFraction: 0.25, validationFraction: 0.1, seed: 1 },
  training: { epochs: 5, batchSize: 32, optimizer: { kind: 'adam', learningRate: 0.1 } },
  seed: 9
});

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
    // The model and the evaluation are stored as blobs the run record will name.
    const model = decodeModel(await getBlob(result.artifacts.model ?? ''));
    expect(model.meta.classes).toEqual(['no', 'yes']);
    const evaluation = JSON.parse(
      new TextDecoder().decode(await getBlob(result.artifacts.evaluation ?? ''))
    ) as {
      splits: Array<{ split: string }>;
    };
    expect(evaluation.splits.map((s) => s.split)).toEqual(['validation', 'test']);
  });

  it('pauses after a batch and goes on when resumed, checkpointing to IndexedDB', async () => {
    const long = { ...spec, training: { ...spec.training, epochs: 6, checkpointEvery: 2 } };
    const epochs = () => events.filter((x) => x.type === 'epoch').length;
    const events: TrainEvent[] = [];
    let atPause = -1;
    let afterPause = -1;
    const result = await trainWorkerApi.train(
      { runId: 'run-p', spec: long, chunks: chunks(), backendOverride: 'cpu' },
      (e) => {
        events.push(e);
        if (e.type === 'checkpoint' && e.epoch === 2) {
          void trainWorkerApi.setPaused('run-p', true).then(() => {
            atPause = epochs();
            setTimeout(() => {
              afterPause = epochs();
              void trainWorkerApi.setPaused('run-p', false);
            }, 400);
          });
        }
      }
    );
    expect(result.status).toBe('completed');
    expect(epochs()).toBe(6);
    // Nothing trained while it was paused.
    expect(afterPause).toBe(atPause);
    const saved = events
      .filter((e) => e.type === 'checkpoint')
      .map((e) => (e.type === 'checkpoint' ? e.epoch : 0));
    expect(saved).toEqual([2, 4]);
    // A finished run needs no checkpoint.
    expect(await getCheckpoint('run-p')).toBeUndefined();
  });

  it('resumes an interrupted run from its checkpoint to the same result as an uninterrupted one', async () => {
    const long = { ...spec, training: { ...spec.training, epochs: 6, checkpointEvery: 2 } };
    const straight = await trainWorkerApi.train(
      { runId: 'run-straight', spec: long, chunks: chunks(), backendOverride: 'cpu' },
      () => undefined
    );
    // Train to the first checkpoint, keep it as a closed tab would leave it, then stop.
    let saved: Awaited<ReturnType<typeof getCheckpoint>>;
    await trainWorkerApi.train(
      { runId: 'run-r', spec: long, chunks: chunks(), backendOverride: 'cpu' },
      (e) => {
        if (e.type === 'checkpoint' && !saved) {
          void getCheckpoint('run-r').then((row) => {
            saved = row;
            void trainWorkerApi.cancel('run-r');
          });
        }
      }
    );
    expect(saved?.epoch).toBe(2);
    await db.checkpoints.put(saved!);
    const events: TrainEvent[] = [];
    const resumed = await trainWorkerApi.train(
      { runId: 'run-r', spec: long, chunks: chunks(), backendOverride: 'cpu', resume: true },
      (e) => events.push(e)
    );
    expect(resumed.status).toBe('completed');
    expect(events.filter((e) => e.type === 'epoch').map((e) => (e.type === 'epoch' ? e.epoch : 0))).toEqual([
      3, 4, 5, 6
    ]);
    expect(resumed.metrics).toEqual(straight.metrics);
    expect(resumed.series.loss?.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await getCheckpoint('run-r')).toBeUndefined();
  });

  it('refuses to resume without a checkpoint', async () => {
    await expect(
      trainWorkerApi.train(
        { runId: 'run-none', spec, chunks: chunks(), backendOverride: 'cpu', resume: true },
        () => undefined
      )
    ).rejects.toMatchObject({ code: 'checkpoint_missing' });
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
