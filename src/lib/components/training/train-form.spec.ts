import { describe, expect, it } from 'vitest';
import type { ColumnSchema, DatasetVersion } from '$lib/core/records';
import {
  applyFix,
  buildRunSpecInput,
  chosenFeatures,
  featureOptions,
  initialState,
  modelOptions,
  parseFormSpec,
  runName,
  taskFor,
  type TrainFormState
} from './train-form';

const ID = '0190a5f0-0000-7000-8000-000000000001';

function column(name: string, type: ColumnSchema['type'], distinct?: number): ColumnSchema {
  return { name, type, missing: 0, ...(distinct !== undefined ? { distinct } : {}) };
}

function version(columns: ColumnSchema[]): Pick<DatasetVersion, 'id' | 'datasetId' | 'columns'> {
  return { id: ID, datasetId: ID, columns };
}

const iris = version([
  column('sepal_length', 'float'),
  column('petal_width', 'float'),
  column('id', 'identifier'),
  column('note', 'text'),
  column('species', 'categorical', 3)
]);

const images = version([
  column('path', 'identifier'),
  column('label', 'categorical', 2),
  column('image_hash', 'text'),
  column('mime', 'categorical'),
  column('width', 'integer')
]);

function parse(state: TrainFormState, v = iris) {
  return parseFormSpec(buildRunSpecInput(v, state));
}

describe('the training form', () => {
  it('infers the task from the target column', () => {
    expect(taskFor(column('species', 'categorical'))).toBe('classification');
    expect(taskFor(column('price', 'float'))).toBe('regression');
    expect(taskFor(column('rating', 'integer', 5))).toBe('classification');
    expect(taskFor(column('count', 'integer', 400))).toBe('regression');
  });

  it('starts a table dataset on a linear model with every usable column but identifiers', () => {
    const state = initialState(iris);
    expect(state.target).toBe('species');
    expect(state.model).toBe('logistic');
    expect(chosenFeatures(iris, state)).toEqual(['sepal_length', 'petal_width', 'note']);
    const parsed = parse(state);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.spec.model).toEqual({ kind: 'logistic', l2: 0 });
    expect(parsed.spec.training.optimizer).toEqual({
      kind: 'adam',
      learningRate: 0.05,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7
    });
    expect(parsed.spec.preprocessing.pipeline).toBeNull();
    expect(parsed.spec.image).toBeUndefined();
    expect(runName(parsed.spec)).toBe('Logistic regression → species');
  });

  it('keeps columns with a non-feature role unticked and identifiers unusable', () => {
    const options = featureOptions(iris, 'species', 'mlp', {
      petal_width: 'ignore',
      sepal_length: 'identifier'
    });
    const byName = Object.fromEntries(options.map((o) => [o.name, o]));
    expect(byName.petal_width).toMatchObject({ usable: true, defaultOn: false });
    expect(byName.sepal_length).toMatchObject({ usable: false, defaultOn: false });
    expect(byName.id).toMatchObject({ usable: false });
  });

  it('offers the text embedding only with a text feature and the CNN only on images', () => {
    expect(modelOptions('classification', false, false).map((o) => [o.kind, o.disabled])).toEqual([
      ['logistic', null],
      ['mlp', null],
      ['text_embedding', 'needs a text feature']
    ]);
    expect(modelOptions('regression', true, true).map((o) => o.kind)).toEqual([
      'linear',
      'mlp',
      'cnn',
      'text_embedding'
    ]);
  });

  it('turns an image dataset into a CNN run on the image column with its image settings', () => {
    const state = initialState(images);
    expect(state.target).toBe('label');
    expect(state.model).toBe('cnn');
    state.imageChannels = 1;
    state.flipHorizontal = true;
    const parsed = parse(state, images);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.spec.features).toEqual(['image_hash']);
    expect(parsed.spec.image).toMatchObject({ column: 'image_hash', channels: 1, width: 32 });
    expect(parsed.spec.image?.augment.flipHorizontal).toBe(true);
    expect(parsed.spec.model.kind === 'cnn' && parsed.spec.model.layers.length).toBe(6);
    // The image hashes are no feature for a table model.
    state.model = 'mlp';
    expect(chosenFeatures(images, state)).toEqual(['mime', 'width']);
  });

  it('builds an MLP run with its optimizer, schedule, early stopping, clipping and evaluation', () => {
    const state = initialState(iris);
    Object.assign(state, {
      model: 'mlp',
      optimizer: 'adamw',
      weightDecay: 0.05,
      schedule: 'cosine',
      warmupEpochs: 2,
      earlyStopping: true,
      monitor: 'val_accuracy',
      patience: 4,
      validationFraction: 0.1,
      clipGradients: true,
      clipNorm: 2,
      classWeights: 'balanced',
      folds: 5,
      sliceBy: 'petal_width'
    });
    state.layers.mlp.push({ kind: 'batch_norm' });
    const parsed = parse(state);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const t = parsed.spec.training;
    expect(t.optimizer).toMatchObject({ kind: 'adamw', weightDecay: 0.05 });
    expect(t.schedule).toEqual({ kind: 'cosine', warmupEpochs: 2, minFactor: 0 });
    expect(t.earlyStopping).toEqual({ monitor: 'val_accuracy', patience: 4, minDelta: 0, restoreBest: true });
    expect(t.gradientClipNorm).toBe(2);
    expect(t.classWeights).toBe('balanced');
    expect(parsed.spec.split.validationFraction).toBe(0.1);
    expect(parsed.spec.evaluation).toEqual({
      crossValidationFolds: 5,
      permutationImportance: true,
      sliceBy: 'petal_width'
    });
    expect(parsed.spec.model.kind === 'mlp' && parsed.spec.model.layers.at(-1)).toEqual({
      kind: 'batch_norm'
    });
  });

  it('says in words which field is wrong', () => {
    const state = initialState(iris);
    state.epochs = null as unknown as number;
    state.batchSize = 0;
    state.model = 'mlp';
    state.layers.mlp[0] = { kind: 'dense', units: 0 };
    state.testFraction = 1.5;
    const parsed = parse(state);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toEqual(
      expect.arrayContaining([
        'Epochs: enter a number.',
        'Batch size must be at least 1.',
        'Layer 1 units must be at least 1.',
        'Test share must be less than 1.'
      ])
    );
  });

  it('asks for a feature when none is ticked, and refuses conv layers in an MLP', () => {
    const state = initialState(iris);
    for (const name of ['sepal_length', 'petal_width', 'note']) state.selected[name] = false;
    state.model = 'mlp';
    state.layers.mlp.push({ kind: 'conv2d', filters: 8 });
    const parsed = parse(state);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toContain('Tick at least one feature the model can use.');
    expect(parsed.problems).toContain(
      'Layers: A multilayer perceptron takes dense, dropout and batch-norm layers only.'
    );
  });

  it('applies preflight fixes to the form', () => {
    const state = initialState(iris);
    applyFix(state, { kind: 'drop_missing_target', rows: 3 });
    applyFix(state, { kind: 'remove_feature', column: 'note' });
    applyFix(state, { kind: 'lower_batch_size', batchSize: 12 });
    expect(state.dropMissingTarget).toBe(true);
    expect(chosenFeatures(iris, state)).toEqual(['sepal_length', 'petal_width']);
    expect(state.batchSize).toBe(12);
    state.classWeights = 'balanced';
    applyFix(state, { kind: 'use_regression' });
    expect(state.task).toBe('regression');
    expect(state.model).toBe('linear');
    const parsed = parse(state);
    expect(parsed.ok && parsed.spec.training.classWeights).toBe('none');
    expect(parsed.ok && parsed.spec.dropMissingTarget).toBe(true);
  });
});
