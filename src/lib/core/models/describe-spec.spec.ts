import { describe, expect, it } from 'vitest';
import { runSpec, type RunSpecInput } from '../records';
import { describeRunSpec } from './describe-spec';
import { DEFAULT_CNN_LAYERS, DEFAULT_MLP_LAYERS } from './model-spec';

const ID = '0190a5f0-0000-7000-8000-000000000001';

function spec(overrides: Partial<RunSpecInput> = {}) {
  return runSpec.parse({
    datasetId: ID,
    datasetVersionId: ID,
    target: 'species',
    features: ['sepal_length', 'petal_width'],
    task: 'classification',
    model: { kind: 'logistic' },
    split: { testFraction: 0.2, seed: 7 },
    preprocessing: {},
    training: { epochs: 30, batchSize: 32, optimizer: { kind: 'adam', learningRate: 0.05 } },
    seed: 7,
    ...overrides
  });
}

function lines(overrides: Partial<RunSpecInput> = {}): Record<string, string> {
  return Object.fromEntries(describeRunSpec(spec(overrides)).map((l) => [l.key, l.value]));
}

describe('describeRunSpec', () => {
  it('reads a default logistic run with automatic preprocessing and no architecture', () => {
    const l = lines();
    expect(l.model).toBe('Logistic regression (classification)');
    expect(l.architecture).toBeUndefined();
    expect(l.optimizer).toBe('Adam, learning rate 0.05');
    expect(l.schedule).toBe('constant');
    expect(l['early-stopping']).toBe('off');
    expect(l.clipping).toBe('off');
    expect(l['class-weights']).toBe('none');
    expect(l.preprocessing).toMatch(/^automatic: .*TF-IDF/);
    expect(l.split).toBe('80% train / 20% test, seed 7');
    expect(l.training).toBe('30 epochs, batch 32, checkpoint every 5 epochs');
    expect(l.evaluation).toBe('metrics on the held-out rows, permutation importance');
  });

  it('spells out an MLP with its layers, optimizer, schedule, early stopping and validation split', () => {
    const l = lines({
      model: { kind: 'mlp', layers: [...DEFAULT_MLP_LAYERS, { kind: 'batch_norm' }], l2: 0.001 },
      split: { testFraction: 0.2, validationFraction: 0.1, seed: 1 },
      training: {
        epochs: 50,
        batchSize: 16,
        optimizer: { kind: 'momentum', learningRate: 0.01, momentum: 0.9, nesterov: true },
        schedule: { kind: 'cosine', warmupEpochs: 3, minFactor: 0.1 },
        earlyStopping: { monitor: 'val_accuracy', patience: 8, restoreBest: true },
        gradientClipNorm: 1,
        classWeights: 'balanced',
        checkpointEvery: 1
      },
      evaluation: { crossValidationFolds: 5, permutationImportance: false, sliceBy: 'sex' }
    });
    expect(l.architecture).toBe(
      'dense 64 relu → dropout 0.1 → dense 32 relu → batch norm → output (sigmoid for two classes, softmax otherwise)'
    );
    expect(l.l2).toBe('0.001');
    expect(l.optimizer).toBe('SGD with Nesterov momentum 0.9, learning rate 0.01');
    expect(l.schedule).toBe('cosine down to 0.1 × the base rate, after 3 warmup epochs');
    expect(l['early-stopping']).toBe('on val_accuracy, patience 8, restores the best weights');
    expect(l.clipping).toBe('global norm ≤ 1');
    expect(l['class-weights']).toMatch(/^balanced/);
    expect(l.split).toBe('70% train / 10% validation / 20% test, seed 1');
    expect(l.training).toBe('50 epochs, batch 16, checkpoint every 1 epoch');
    expect(l.evaluation).toBe('metrics on the held-out rows, 5-fold cross-validation, sliced by “sex”');
  });

  it('describes a CNN with its image input and augmentation, and a stored split', () => {
    const l = lines({
      target: 'label',
      features: ['image_hash'],
      model: { kind: 'cnn', layers: DEFAULT_CNN_LAYERS },
      image: { column: 'image_hash', width: 28, height: 28, channels: 1, augment: { flipHorizontal: true } },
      splitId: ID,
      training: {
        epochs: 10,
        batchSize: 64,
        optimizer: { kind: 'adamw', learningRate: 0.001, weightDecay: 0.05 },
        schedule: { kind: 'step', everyEpochs: 3, factor: 0.5 }
      }
    });
    expect(l.model).toBe('Convolutional network (classification)');
    expect(l.architecture).toBe(
      'conv 16×3×3 relu → max pool 2×2 → conv 32×3×3 relu → max pool 2×2 → flatten → dense 64 relu → output (sigmoid for two classes, softmax otherwise)'
    );
    expect(l.image).toBe('“image_hash”, 28×28, grayscale; augmentation: horizontal flips');
    expect(l.optimizer).toBe('AdamW, learning rate 0.001, weight decay 0.05');
    expect(l.schedule).toBe('step: × 0.5 every 3 epochs');
    expect(l.split).toBe(`stored split ${ID}`);
    expect(l.preprocessing).toMatch(/^images resized/);
  });

  it('names the groups of an explicit pipeline, a text embedding and a regression without class weights', () => {
    const l = lines({
      target: 'price',
      task: 'regression',
      features: ['review', 'rooms'],
      model: { kind: 'text_embedding', embeddingDim: 16, layers: [{ kind: 'dense', units: 8 }] },
      dropMissingTarget: true,
      preprocessing: {
        pipeline: {
          groups: [
            { kind: 'numeric', columns: ['rooms'], steps: [{ kind: 'scale', method: 'robust' }] },
            {
              kind: 'text',
              columns: ['review'],
              steps: [
                { kind: 'tokenize', pattern: 'word' },
                { kind: 'vocabulary', maxSize: 500 },
                { kind: 'vectorize', method: 'token_ids', maxLength: 40 }
              ]
            }
          ]
        }
      },
      training: {
        epochs: 5,
        batchSize: 8,
        optimizer: { kind: 'sgd', learningRate: 0.1 },
        schedule: { kind: 'exponential', decayPerEpoch: 0.9 }
      }
    });
    expect(l.model).toBe('Text classifier (embedding with mean pooling) (regression)');
    expect(l.architecture).toBe('embedding 16 → mean pool → dense 8 relu → linear output');
    expect(l.preprocessing).toBe(
      'numeric (rooms): scale robust; text (review): tokenize by word → vocabulary ≤ 500 → token ids ≤ 40'
    );
    expect(l['missing-target']).toBe('rows without a target are left out');
    expect(l['class-weights']).toBeUndefined();
    expect(l.optimizer).toBe('SGD, learning rate 0.1');
    expect(l.schedule).toBe('exponential: × 0.9 per epoch');
  });

  it('reads an old run spec (string model, learning rate on training) after the upgrade', () => {
    const old = runSpec.parse({
      datasetId: ID,
      datasetVersionId: ID,
      target: 'y',
      features: ['x'],
      task: 'regression',
      model: 'linear',
      split: { testFraction: 0.25, seed: 3 },
      preprocessing: [{ kind: 'standardize' }],
      training: { epochs: 20, batchSize: 10, learningRate: 0.05, optimizer: 'adam' },
      seed: 3
    });
    const l = Object.fromEntries(describeRunSpec(old).map((x) => [x.key, x.value]));
    expect(l.model).toBe('Linear regression (regression)');
    expect(l.optimizer).toBe('Adam, learning rate 0.05');
    expect(l.split).toBe('75% train / 25% test, seed 3');
  });
});
