import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LatheError } from '../errors';
import { modelSpec, trainingSpec, type ModelSpecInput, type TrainingSpecInput } from './model-spec';
import { buildNetwork, readParams, type Network } from './network';
import { clipByGlobalNorm, createOptimizer, learningRateAt } from './optimizers';
import { stripeImages } from './test-data';
import {
  balancedClassWeights,
  fitNetwork,
  isOutOfMemory,
  predictOutputs,
  type FitData,
  type TrainingCheckpoint
} from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const immediate = () => Promise.resolve();

/** Three separable 2-D blobs, 60 rows each, already standardized-ish. */
function blobs(seed: number) {
  let s = seed;
  const random = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const centres = [
    [0, 2],
    [2, -1],
    [-2, -1]
  ];
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 180; i++) {
    const k = i % 3;
    x.push((centres[k]?.[0] ?? 0) + random() - 0.5, (centres[k]?.[1] ?? 0) + random() - 0.5);
    y.push(k);
  }
  return { x: new Float32Array(x), y: new Float32Array(y) };
}

function data(overrides: Partial<FitData> = {}): FitData {
  const { x, y } = blobs(3);
  return {
    task: 'classification',
    classes: 3,
    xTrain: tf.tensor2d(x.slice(0, 240), [120, 2]),
    yTrain: y.slice(0, 120),
    xValidation: tf.tensor2d(x.slice(240), [60, 2]),
    yValidation: y.slice(120),
    targetScale: { mean: 0, std: 1 },
    classWeights: null,
    ...overrides
  };
}

function mlp(layers: ModelSpecInput = { kind: 'mlp', layers: [{ kind: 'dense', units: 8 }] }): Network {
  return buildNetwork(modelSpec.parse(layers), { inputShape: [2], outputUnits: 3 }, 11);
}

function training(input: Partial<TrainingSpecInput> = {}) {
  return trainingSpec.parse({
    epochs: 6,
    batchSize: 16,
    optimizer: { kind: 'adam', learningRate: 0.05 },
    ...input
  });
}

async function accuracyOf(network: Network, d: FitData): Promise<number> {
  const out = await predictOutputs(network, d.xValidation as tf.Tensor, 'classification', 3, d.targetScale);
  let right = 0;
  (d.yValidation ?? []).forEach((label, r) => {
    const row = Array.from(out.subarray(r * 3, r * 3 + 3));
    if (row.indexOf(Math.max(...row)) === label) right++;
  });
  return right / (d.yValidation?.length ?? 1);
}

describe('fitNetwork', () => {
  it('trains an MLP with dropout and batch norm that separates three classes', async () => {
    const network = mlp({
      kind: 'mlp',
      layers: [
        { kind: 'dense', units: 16 },
        { kind: 'batch_norm' },
        { kind: 'dropout', rate: 0.1 },
        { kind: 'dense', units: 8, activation: 'tanh' }
      ]
    });
    const d = data();
    const outcome = await fitNetwork(network, d, training({ epochs: 15 }), 1, {
      yieldToEventLoop: immediate
    });
    expect(outcome.status).toBe('completed');
    expect(outcome.epochsCompleted).toBe(15);
    expect(await accuracyOf(network, d)).toBeGreaterThan(0.9);
    const loss = outcome.series.loss?.map((p) => p.value) ?? [];
    expect(loss.at(-1)).toBeLessThan(loss[0] ?? 0);
    // Batch norm's moving statistics moved away from their start (0 and 1).
    const params = await readParams(network);
    expect(Math.abs(params.get('layer1_batch_norm/moving_mean')?.[0] ?? 0)).toBeGreaterThan(1e-3);
    network.dispose();
  });

  it('gives the same weights and metrics for the same seed', async () => {
    const runOnce = async () => {
      const network = mlp({
        kind: 'mlp',
        layers: [
          { kind: 'dense', units: 8 },
          { kind: 'dropout', rate: 0.3 }
        ]
      });
      const outcome = await fitNetwork(network, data(), training(), 5, { yieldToEventLoop: immediate });
      const params = await readParams(network);
      network.dispose();
      return { params, loss: outcome.series.val_loss?.map((p) => p.value) };
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(b.loss).toEqual(a.loss);
    for (const [name, values] of a.params) expect(b.params.get(name)).toEqual(values);
  });

  it('resumes from a checkpoint to exactly the weights of an uninterrupted run', async () => {
    const spec = training({ epochs: 6, checkpointEvery: 2 });
    const layers: ModelSpecInput = {
      kind: 'mlp',
      layers: [
        { kind: 'dense', units: 8 },
        { kind: 'dropout', rate: 0.2 }
      ]
    };
    const straight = mlp(layers);
    const checkpoints: TrainingCheckpoint[] = [];
    await fitNetwork(straight, data(), spec, 9, {
      yieldToEventLoop: immediate,
      onCheckpoint: async (c) => {
        checkpoints.push(c);
      }
    });
    expect(checkpoints.map((c) => c.epoch)).toEqual([2, 4]);

    // "The tab closed after epoch 2": a fresh network goes on from the first checkpoint.
    const resumed = mlp(layers);
    const outcome = await fitNetwork(
      resumed,
      data(),
      spec,
      9,
      { yieldToEventLoop: immediate },
      checkpoints[0]
    );
    expect(outcome.epochsCompleted).toBe(6);
    expect(outcome.series.loss?.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    const a = await readParams(straight);
    const b = await readParams(resumed);
    for (const [name, values] of a) expect(b.get(name)).toEqual(values);
    straight.dispose();
    resumed.dispose();
  });

  it('stops early and restores the best epoch', async () => {
    const network = mlp();
    const logs: string[] = [];
    // A min delta nothing can beat: only epoch 1 counts as an improvement.
    const outcome = await fitNetwork(
      network,
      data(),
      training({ epochs: 20, earlyStopping: { monitor: 'val_loss', patience: 2, minDelta: 1e9 } }),
      1,
      { yieldToEventLoop: immediate, onLog: (m) => logs.push(m) }
    );
    expect(outcome.stoppedEarly).toBe(true);
    expect(outcome.epochsCompleted).toBe(3);
    expect(outcome.bestEpoch).toBe(1);
    expect(logs.join('\n')).toMatch(/Early stopping at epoch 3/);
    network.dispose();
  });

  it('refuses early stopping without validation rows', async () => {
    const network = mlp();
    await expect(
      fitNetwork(network, data({ xValidation: null, yValidation: null }), training({ earlyStopping: {} }), 1)
    ).rejects.toMatchObject({ code: 'early_stopping_needs_validation' });
    network.dispose();
  });

  it('stops with the reason when the loss becomes NaN, naming the last good checkpoint', async () => {
    const network = mlp();
    const x = new Float32Array(240).fill(1);
    const bad = data({
      xTrain: tf.tensor2d(
        x.map((v, i) => (i > 100 && i < 3000 ? NaN : v)),
        [120, 2]
      )
    });
    const error = await fitNetwork(network, bad, training(), 1, { yieldToEventLoop: immediate }).catch(
      (e: unknown) => e
    );
    expect(error).toBeInstanceOf(LatheError);
    expect((error as LatheError).code).toBe('loss_not_finite');
    expect((error as LatheError).message).toMatch(/epoch 1: the loss became NaN/);
    network.dispose();
  });

  it('halves the batch after running out of device memory, and gives up below the minimum', async () => {
    const network = mlp();
    const logs: string[] = [];
    const outcome = await fitNetwork(network, data(), training({ epochs: 2, batchSize: 64 }), 1, {
      yieldToEventLoop: immediate,
      onLog: (m) => logs.push(m),
      beforeBatch: (size) => {
        if (size > 16) throw new Error('WebGPU: out of memory');
      }
    });
    expect(outcome.status).toBe('completed');
    expect(outcome.batchSize).toBe(16);
    expect(logs.join('\n')).toMatch(/batches of 64; going on with 32/);
    await expect(
      fitNetwork(network, data(), training({ epochs: 1 }), 1, {
        yieldToEventLoop: immediate,
        beforeBatch: () => {
          throw new Error('Failed to allocate buffer');
        }
      })
    ).rejects.toMatchObject({ code: 'out_of_memory' });
    network.dispose();
  });

  it('waits while paused and stops when cancelled', async () => {
    const network = mlp();
    let pauses = 0;
    let batches = 0;
    const outcome = await fitNetwork(network, data(), training({ epochs: 5 }), 1, {
      yieldToEventLoop: immediate,
      waitWhilePaused: async () => {
        pauses++;
      },
      onBatch: () => batches++,
      batchEventIntervalMs: 0,
      isCancelled: () => batches >= 3
    });
    expect(outcome.status).toBe('cancelled');
    expect(pauses).toBe(3);
    network.dispose();
  });

  it('announces batch 0 and waits on a pause before the first batch', async () => {
    const network = mlp();
    const events: Array<{ epoch: number; batch: number; batches: number }> = [];
    const seenAtWait: number[] = [];
    const outcome = await fitNetwork(network, data(), training({ epochs: 3, batchSize: 16 }), 1, {
      yieldToEventLoop: immediate,
      batchEventIntervalMs: 0,
      onBatch: (report) => events.push(report),
      waitWhilePaused: async () => {
        seenAtWait.push(events.length);
      },
      isCancelled: () => seenAtWait.length >= 2
    });
    expect(events[0]).toEqual({ epoch: 1, batch: 0, batches: expect.any(Number) });
    expect(events[0]!.batches).toBeGreaterThan(1);
    // The first wait comes after the announcement and before any batch has trained.
    expect(seenAtWait).toEqual([1, 2]);
    expect(outcome.status).toBe('cancelled');
    network.dispose();
  });

  it('trains a small convolutional network on stripe images', async () => {
    const { pixels, labels } = stripeImages(80, 2);
    const network = buildNetwork(
      modelSpec.parse({
        kind: 'cnn',
        layers: [
          { kind: 'conv2d', filters: 4, kernelSize: 3 },
          { kind: 'max_pool2d', size: 2 },
          { kind: 'flatten' },
          { kind: 'dense', units: 8 }
        ]
      }),
      { inputShape: [8, 8, 1], outputUnits: 1 },
      3
    );
    const d: FitData = {
      task: 'classification',
      classes: 2,
      xTrain: tf.tensor4d(pixels.slice(0, 60 * 64), [60, 8, 8, 1]),
      yTrain: labels.slice(0, 60),
      xValidation: tf.tensor4d(pixels.slice(60 * 64), [20, 8, 8, 1]),
      yValidation: labels.slice(60),
      targetScale: { mean: 0, std: 1 },
      classWeights: null
    };
    const outcome = await fitNetwork(network, d, training({ epochs: 12, batchSize: 10 }), 1, {
      yieldToEventLoop: immediate
    });
    expect(outcome.series.val_accuracy?.at(-1)?.value).toBeGreaterThanOrEqual(0.9);
    network.dispose();
  });
});

describe('optimizers', () => {
  const param = (value: number) => ({
    name: 'w',
    variable: tf.variable(tf.tensor1d([value])),
    trainable: true,
    decays: true
  });
  const stepWith = async (spec: Parameters<typeof createOptimizer>[0], grads: number[], lr: number) => {
    const p = param(1);
    const optimizer = createOptimizer(spec);
    for (const g of grads) {
      const grad = tf.tensor1d([g]);
      optimizer.apply([p], { w: grad }, lr);
      grad.dispose();
    }
    const value = (await p.variable.data())[0];
    optimizer.dispose();
    p.variable.dispose();
    return value;
  };

  it('apply the update rules of torch.optim', async () => {
    expect(await stepWith({ kind: 'sgd', learningRate: 0.1 }, [2], 0.1)).toBeCloseTo(0.8, 6);
    // v1 = 2, w = 1 − 0.1·2 = 0.8; v2 = 0.9·2 + 1 = 2.8, w = 0.8 − 0.28 = 0.52.
    expect(
      await stepWith({ kind: 'momentum', learningRate: 0.1, momentum: 0.9, nesterov: false }, [2, 1], 0.1)
    ).toBeCloseTo(0.52, 6);
    // Nesterov: v1 = 2, w = 1 − 0.1·(2 + 0.9·2) = 0.62.
    expect(
      await stepWith({ kind: 'momentum', learningRate: 0.1, momentum: 0.9, nesterov: true }, [2], 0.1)
    ).toBeCloseTo(0.62, 6);
    // Adam's first step moves by lr·g/(|g| + ε) ≈ lr whatever the gradient's size.
    const adam = { kind: 'adam', learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;
    expect(await stepWith(adam, [123], 0.1)).toBeCloseTo(0.9, 6);
    // AdamW decays first: w = 1·(1 − 0.1·0.5) = 0.95, then the Adam step of 0.1.
    expect(await stepWith({ ...adam, kind: 'adamw', weightDecay: 0.5 }, [123], 0.1)).toBeCloseTo(0.85, 6);
  });

  it('clips gradients by their global norm', async () => {
    const grads = { a: tf.tensor1d([3]), b: tf.tensor1d([4]) };
    const clipped = clipByGlobalNorm(grads, 1);
    expect((await clipped.a?.data())?.[0]).toBeCloseTo(0.6, 5);
    expect((await clipped.b?.data())?.[0]).toBeCloseTo(0.8, 5);
    const untouched = clipByGlobalNorm(grads, 10);
    expect((await untouched.b?.data())?.[0]).toBeCloseTo(4, 5);
    tf.dispose([...Object.values(grads), ...Object.values(clipped), ...Object.values(untouched)]);
  });

  it('schedules the learning rate per epoch', () => {
    expect(learningRateAt(1, { kind: 'constant' }, 7, 10)).toBe(1);
    expect(learningRateAt(1, { kind: 'step', everyEpochs: 2, factor: 0.5 }, 5, 10)).toBe(0.25);
    expect(learningRateAt(1, { kind: 'exponential', decayPerEpoch: 0.9 }, 2, 10)).toBeCloseTo(0.81);
    const cosine = { kind: 'cosine', warmupEpochs: 1, minFactor: 0.1 } as const;
    expect(learningRateAt(1, cosine, 0, 11)).toBe(0.5);
    expect(learningRateAt(1, cosine, 1, 11)).toBe(1);
    expect(learningRateAt(1, cosine, 10, 11)).toBeCloseTo(0.1);
  });
});

describe('helpers', () => {
  it('weights classes like scikit-learn’s balanced mode', () => {
    // 6 rows: four of class 0, two of class 1 → 6/(2·4) and 6/(2·2).
    expect(Array.from(balancedClassWeights(new Float32Array([0, 0, 0, 0, 1, 1]), 2))).toEqual([0.75, 1.5]);
  });

  it('recognises out-of-memory errors of every backend', () => {
    expect(isOutOfMemory(new Error('GPUOutOfMemoryError: out of memory'))).toBe(true);
    expect(isOutOfMemory(new Error('Failed to allocate 1GB'))).toBe(true);
    expect(isOutOfMemory(new Error('shape mismatch'))).toBe(false);
  });
});
