import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { tableFromArrays } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { frameToTable } from '../data/frame';
import { sha256Hex } from '../hash';
import type { ClassificationReport } from '../metrics/evaluate';
import { rgbPng, toArrayBuffer } from '../prep/fixtures/png-writer';
import type { PrepPipelineInput } from '../prep/prep-steps';
import type { ModelSpecInput } from './model-spec';
import { decodeModel, encodeModel, predictTable } from './model-artifact';
import { trainRun } from './run-training';
import { linearTarget, testSpec, threeBlobs } from './test-data';
import { readTarget, splitRows } from './training-data';

const immediate = () => Promise.resolve();

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const mlpSpec = testSpec({
  target: 'label',
  features: ['x1', 'x2'],
  task: 'classification',
  model: { kind: 'mlp', layers: [{ kind: 'dense', units: 8 }] },
  split: { testFraction: 0.25, validationFraction: 0.15, seed: 7 },
  training: { epochs: 12, batchSize: 16, optimizer: { kind: 'adam', learningRate: 0.05 } }
});

describe('trainRun', () => {
  it('trains an MLP, evaluates it on validation and test, and stores a model that predicts raw rows the same way', async () => {
    const table = threeBlobs(240, 1);
    const outcome = await trainRun(table, mlpSpec, { yieldToEventLoop: immediate });
    expect(outcome.status).toBe('completed');
    expect(outcome.rows).toEqual({ train: 144, validation: 36, test: 60 });
    expect(outcome.metrics.accuracy).toBeGreaterThan(0.9);
    const evaluation = outcome.evaluation;
    expect(evaluation?.splits.map((s) => s.split)).toEqual(['validation', 'test']);
    const test = evaluation?.splits.find((s) => s.split === 'test')?.report as ClassificationReport;
    expect(test.labels).toEqual(['1', '2', '3']);
    expect(test.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(60);
    expect(evaluation?.importance?.features.map((f) => f.feature).sort()).toEqual(['x1', 'x2']);
    expect(evaluation?.learningCurve.loss).toHaveLength(12);

    // The stored model, after a round trip through its bytes, predicts the raw test rows exactly as
    // the evaluation scored them.
    const model = decodeModel(encodeModel(outcome.model!));
    const target = readTarget(table, 'label', 'classification', false);
    const split = splitRows(target.values.length, 0.25, 0.15, 7);
    const rows = Uint32Array.from(split.test, (r) => target.tableRows[r] ?? 0);
    const predictions = await predictTable(model, table, rows);
    const truth = Array.from(split.test, (r) => String((target.values[r] ?? 0) + 1));
    const right = predictions.labels.filter((label, i) => label === truth[i]).length;
    expect(right / rows.length).toBe(test.accuracy);
  });

  it('is deterministic: the same spec and seed give the same metrics and weights', async () => {
    const table = threeBlobs(120, 2);
    const spec = testSpec({
      ...mlpSpec,
      model: {
        kind: 'mlp',
        layers: [
          { kind: 'dense', units: 6 },
          { kind: 'dropout', rate: 0.2 }
        ]
      },
      training: { ...mlpSpec.training, epochs: 4 }
    });
    const a = await trainRun(table, spec, { yieldToEventLoop: immediate });
    const b = await trainRun(table, spec, { yieldToEventLoop: immediate });
    expect(b.metrics).toEqual(a.metrics);
    for (const [name, values] of a.model?.params ?? []) expect(b.model?.params.get(name)).toEqual(values);
  });

  it('fits a linear regression on a target far from zero and reports errors in its units', async () => {
    const spec = testSpec({
      target: 'y',
      features: ['x1', 'x2'],
      task: 'regression',
      model: { kind: 'linear' },
      training: { epochs: 60, batchSize: 16, optimizer: { kind: 'adam', learningRate: 0.1 } }
    });
    const outcome = await trainRun(linearTarget(300, 3), spec, { yieldToEventLoop: immediate });
    expect(outcome.metrics.r2).toBeGreaterThan(0.99);
    expect(outcome.metrics.rmse).toBeLessThan(1);
    expect(outcome.evaluation?.importance?.features[0]?.feature).toBe('x1');
  });

  it('learns from categorical and text columns with the automatic preprocessing, and with an embedding', async () => {
    const good = ['great fun', 'loved it', 'great film', 'wonderful and fun', 'loved the cast'];
    const bad = ['boring plot', 'awful film', 'boring and slow', 'hated it', 'awful cast'];
    const review: string[] = [];
    const channel: string[] = [];
    const label: string[] = [];
    for (let i = 0; i < 160; i++) {
      const positive = i % 2 === 0;
      review.push((positive ? good : bad)[i % 5] ?? '');
      channel.push(i % 3 === 0 ? 'web' : 'store');
      label.push(positive ? 'pos' : 'neg');
    }
    // Typed as an import would type them: free text, a category, the label.
    const table = frameToTable({
      rowCount: 160,
      columns: [
        { name: 'review', type: 'text', data: { kind: 'string', values: review } },
        { name: 'channel', type: 'categorical', data: { kind: 'string', values: channel } },
        { name: 'label', type: 'categorical', data: { kind: 'string', values: label } }
      ]
    });
    // Short texts: token ids cut at 6 keep the embedding model's test quick.
    const tokenIds: PrepPipelineInput = {
      groups: [
        { kind: 'categorical', columns: ['channel'], steps: [{ kind: 'encode', method: 'one_hot' }] },
        {
          kind: 'text',
          columns: ['review'],
          steps: [
            { kind: 'tokenize', pattern: 'word' },
            { kind: 'vocabulary', minFrequency: 1 },
            { kind: 'vectorize', method: 'token_ids', maxLength: 6 }
          ]
        }
      ]
    };
    const cases: Array<[ModelSpecInput, PrepPipelineInput | null]> = [
      [{ kind: 'mlp', layers: [{ kind: 'dense', units: 8 }] }, null],
      [{ kind: 'text_embedding', embeddingDim: 8, layers: [] }, tokenIds]
    ];
    for (const [model, pipeline] of cases) {
      const outcome = await trainRun(
        table,
        testSpec({
          target: 'label',
          features: ['review', 'channel'],
          task: 'classification',
          model,
          preprocessing: { pipeline },
          evaluation: { permutationImportance: false },
          training: { epochs: 15, batchSize: 16, optimizer: { kind: 'adam', learningRate: 0.05 } }
        }),
        { yieldToEventLoop: immediate }
      );
      expect(outcome.metrics.accuracy, model.kind).toBe(1);
    }
  });

  it('trains a convolutional network on PNG images read through the image loader', async () => {
    const blobs = new Map<string, ArrayBuffer>();
    const hashes: string[] = [];
    const labels: string[] = [];
    for (let n = 0; n < 40; n++) {
      const vertical = n % 2 === 0;
      const rgb = new Uint8Array(8 * 8 * 3);
      for (let p = 0; p < 64; p++) {
        const on = ((vertical ? p % 8 : Math.floor(p / 8)) + n) % 2 === 0;
        rgb.fill(on ? 230 : 20, p * 3, p * 3 + 3);
      }
      const bytes = toArrayBuffer(rgbPng(8, 8, rgb));
      const hash = await sha256Hex(bytes);
      blobs.set(hash, bytes);
      hashes.push(hash);
      labels.push(vertical ? 'vertical' : 'horizontal');
    }
    const table = tableFromArrays({ image_hash: hashes, mime: hashes.map(() => 'image/png'), label: labels });
    const spec = testSpec({
      target: 'label',
      features: ['image_hash'],
      task: 'classification',
      model: {
        kind: 'cnn',
        layers: [
          { kind: 'conv2d', filters: 4, kernelSize: 3 },
          { kind: 'max_pool2d', size: 2 },
          { kind: 'flatten' }
        ]
      },
      image: { width: 8, height: 8, channels: 1, augment: { flipHorizontal: true } },
      evaluation: { permutationImportance: false },
      training: { epochs: 10, batchSize: 8, optimizer: { kind: 'adam', learningRate: 0.05 } }
    });
    const loadImages = async (list: string[]) => list.map((h) => blobs.get(h) as ArrayBuffer);
    const outcome = await trainRun(table, spec, { yieldToEventLoop: immediate, loadImages });
    expect(outcome.metrics.accuracy).toBe(1);
    const predictions = await predictTable(
      decodeModel(encodeModel(outcome.model!)),
      table,
      [0, 1],
      loadImages
    );
    expect(predictions.labels).toEqual(['vertical', 'horizontal']);
  });

  it('cross-validates on the training rows and slices metrics by a column', async () => {
    const table = threeBlobs(150, 4);
    const group = Array.from({ length: 150 }, (_, i) => (i % 2 === 0 ? 'a' : 'b'));
    const withGroup = tableFromArrays({
      x1: table.getChild('x1')!.toArray() as Float64Array,
      x2: table.getChild('x2')!.toArray() as Float64Array,
      label: table.getChild('label')!.toArray() as Int32Array,
      group
    });
    const outcome = await trainRun(
      withGroup,
      testSpec({
        ...mlpSpec,
        training: { ...mlpSpec.training, epochs: 5 },
        evaluation: { crossValidationFolds: 3, sliceBy: 'group', permutationImportance: false }
      }),
      { yieldToEventLoop: immediate }
    );
    expect(outcome.evaluation?.crossValidation?.folds).toBe(3);
    expect(outcome.evaluation?.crossValidation?.metrics.map((m) => m.name)).toContain('accuracy');
    const test = outcome.evaluation?.splits.find((s) => s.split === 'test')?.report as ClassificationReport;
    expect(test.slices?.groups.map((g) => g.group).sort()).toEqual(['a', 'b']);
  });

  it('refuses rows without a target unless the spec drops them', async () => {
    const table = tableFromArrays({
      x: Float64Array.from({ length: 40 }, (_, i) => i),
      y: Float64Array.from({ length: 40 }, (_, i) => (i === 3 ? Number.NaN : i * 2))
    });
    const spec = testSpec({ target: 'y', features: ['x'], task: 'regression', model: { kind: 'linear' } });
    await expect(trainRun(table, spec, { yieldToEventLoop: immediate })).rejects.toMatchObject({
      code: 'target_missing'
    });
    const outcome = await trainRun(
      table,
      { ...spec, dropMissingTarget: true },
      { yieldToEventLoop: immediate }
    );
    expect(outcome.droppedRows).toBe(1);
  });

  it('refuses a single-class target, naming the class', async () => {
    const table = tableFromArrays({ x: Float64Array.from([1, 2, 3, 4]), label: ['a', 'a', 'a', 'a'] });
    const spec = testSpec({
      target: 'label',
      features: ['x'],
      task: 'classification',
      model: { kind: 'logistic' }
    });
    await expect(trainRun(table, spec)).rejects.toThrow(/only one class \("a"\)/);
  });

  it('returns cancelled without a model when cancelled', async () => {
    let batches = 0;
    const outcome = await trainRun(threeBlobs(120, 5), mlpSpec, {
      yieldToEventLoop: immediate,
      batchEventIntervalMs: 0,
      onBatch: () => batches++,
      isCancelled: () => batches >= 2
    });
    expect(outcome.status).toBe('cancelled');
    expect(outcome.model).toBeNull();
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    await trainRun(
      threeBlobs(90, 6),
      { ...mlpSpec, training: { ...mlpSpec.training, epochs: 2 } },
      {
        yieldToEventLoop: immediate
      }
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
