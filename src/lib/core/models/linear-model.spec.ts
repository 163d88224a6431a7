import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { tableFromArrays } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSpec } from '../records';
import { buildDesignMatrix } from './design-matrix';
import { trainLinearModel, type EpochReport } from './linear-model';
import { linearTarget, separableBinary, threeBlobs } from './test-data';

const ID = '01920000-0000-7000-8000-000000000000';

function spec(
  patch: Partial<RunSpec> & Pick<RunSpec, 'target' | 'features' | 'task' | 'model'>,
  training: Partial<RunSpec['training']> = {}
): RunSpec {
  return {
    datasetId: ID,
    datasetVersionId: ID,
    split: { testFraction: 0.25, seed: 7 },
    preprocessing: [{ kind: 'standardize' }],
    seed: 42,
    ...patch,
    training: { epochs: 20, batchSize: 32, learningRate: 0.05, optimizer: 'adam', ...training }
  };
}

const binarySpec = spec({
  target: 'label',
  features: ['x1', 'x2'],
  task: 'classification',
  model: 'logistic'
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('trainLinearModel on the cpu backend', () => {
  it('separates a linearly separable binary dataset', async () => {
    const data = buildDesignMatrix(separableBinary(400, 1), binarySpec);
    const epochs: EpochReport[] = [];
    const outcome = await trainLinearModel(data, binarySpec, { onEpoch: (e) => epochs.push(e) });
    expect(outcome.status).toBe('completed');
    expect(outcome.model.kind).toBe('binary-logistic');
    expect(outcome.trainRows).toBe(300);
    expect(outcome.testRows).toBe(100);
    expect(outcome.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(outcome.metrics.log_loss).toBeLessThan(0.2);
    expect(epochs).toHaveLength(20);
    expect(epochs.at(-1)?.loss).toBeLessThan(epochs[0]?.loss ?? 0);
    expect(outcome.series.loss?.map((p) => p.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(outcome.series.val_loss).toHaveLength(20);
    expect(outcome.series.val_accuracy).toHaveLength(20);
  });

  it('learns three classes with softmax', async () => {
    const s = spec({ target: 'label', features: ['x1', 'x2'], task: 'classification', model: 'logistic' });
    const data = buildDesignMatrix(threeBlobs(300, 3), s);
    const outcome = await trainLinearModel(data, s);
    expect(outcome.model.kind).toBe('softmax');
    expect(outcome.model.weights).toHaveLength(2 * 3);
    expect(outcome.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('fits a regression whose target is far from zero, reporting errors in the target units', async () => {
    const s = spec(
      { target: 'y', features: ['x1', 'x2'], task: 'regression', model: 'linear' },
      { epochs: 40, learningRate: 0.05 }
    );
    const data = buildDesignMatrix(linearTarget(400, 5), s);
    const outcome = await trainLinearModel(data, s);
    expect(outcome.metrics.r2).toBeGreaterThan(0.99);
    expect(outcome.metrics.rmse).toBeLessThan(1);
    expect(outcome.metrics.mae).toBeLessThan(outcome.metrics.rmse ?? 0);
    expect(outcome.model.targetMean).toBeGreaterThan(990);
  });

  it('gives identical weights and metrics for the same seed, and different ones for another seed', async () => {
    const data = buildDesignMatrix(separableBinary(200, 2), binarySpec);
    const quick = { ...binarySpec, training: { ...binarySpec.training, epochs: 3 } };
    const a = await trainLinearModel(data, quick);
    const b = await trainLinearModel(data, quick);
    expect(b.model.weights).toEqual(a.model.weights);
    expect(b.model.bias).toEqual(a.model.bias);
    expect(b.metrics).toEqual(a.metrics);
    const c = await trainLinearModel(data, { ...quick, seed: 43 });
    expect(c.model.weights).not.toEqual(a.model.weights);
  });

  it('imputes missing features with the training mean instead of failing', async () => {
    const table = separableBinary(200, 4);
    const x1 = Float64Array.from(table.getChild('x1')?.toArray() as Float64Array);
    for (let i = 0; i < x1.length; i += 10) x1[i] = NaN;
    const holes = tableFromArrays({
      x1,
      x2: table.getChild('x2')?.toArray() as Float64Array,
      label: [...(table.getChild('label') ?? [])].map(String)
    });
    const outcome = await trainLinearModel(buildDesignMatrix(holes, binarySpec), binarySpec);
    expect(Number.isFinite(outcome.model.imputeMean[0])).toBe(true);
    expect(outcome.metrics.accuracy).toBeGreaterThan(0.85);
  });

  it('stops after the current batch when cancelled', async () => {
    const data = buildDesignMatrix(separableBinary(200, 2), binarySpec);
    let batches = 0;
    const outcome = await trainLinearModel(data, binarySpec, {
      batchEventIntervalMs: 0,
      onBatch: () => batches++,
      isCancelled: () => batches >= 2
    });
    expect(outcome.status).toBe('cancelled');
    expect(outcome.epochsCompleted).toBe(0);
    expect(outcome.metrics).toEqual({});
    expect(batches).toBe(2);
  });

  it('stops with a readable error when the loss stops being a number', async () => {
    const n = 64;
    const huge = tableFromArrays({
      x: Float64Array.from({ length: n }, () => 3e38),
      y: Float64Array.from({ length: n }, (_, i) => i)
    });
    const s = spec(
      { target: 'y', features: ['x'], task: 'regression', model: 'linear', preprocessing: [] },
      { learningRate: 1, batchSize: 8 }
    );
    await expect(trainLinearModel(buildDesignMatrix(huge, s), s)).rejects.toThrowError(
      /Training stopped at epoch \d+: the loss became (NaN|infinite)/
    );
  });

  it('refuses a single-class target with a message that names it', async () => {
    const one = tableFromArrays({ x: Float64Array.from([1, 2, 3, 4]), label: ['a', 'a', 'a', 'a'] });
    const s = { ...binarySpec, features: ['x'] };
    await expect(trainLinearModel(buildDesignMatrix(one, s), s)).rejects.toThrowError(
      /only one class \("a"\)/
    );
  });

  it('leaves no tensors behind', async () => {
    const data = buildDesignMatrix(separableBinary(100, 2), binarySpec);
    const before = tf.memory().numTensors;
    await trainLinearModel(data, { ...binarySpec, training: { ...binarySpec.training, epochs: 2 } });
    expect(tf.memory().numTensors).toBe(before);
  });
});
