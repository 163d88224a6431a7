/**
 * The training form as data: what the form holds, which models and features a version allows, and
 * how the form becomes a run spec (checked by `runSpec`, with zod's problems put in words). Kept apart
 * from `TrainForm.svelte` so the rules can be tested without a browser.
 */
import type { ZodError } from 'zod';
import type { PreflightFix } from '$lib/core/models/preflight';
import {
  DEFAULT_CNN_LAYERS,
  DEFAULT_MLP_LAYERS,
  type LayerSpecInput,
  type ModelKind,
  type ModelSpecInput,
  type MonitoredMetric,
  type OptimizerKind,
  type ScheduleSpec
} from '$lib/core/models/model-spec';
import { modelName } from '$lib/core/models/describe-spec';
import {
  runSpec,
  type ColumnRole,
  type ColumnSchema,
  type DatasetVersion,
  type RunSpec,
  type RunSpecInput,
  type Task
} from '$lib/core/records';

/** The column of image hashes an image import makes; its presence makes a dataset an image dataset. */
export const IMAGE_COLUMN = 'image_hash';

/** A text classifier's layers after the pooled embedding. */
export const DEFAULT_TEXT_LAYERS: LayerSpecInput[] = [
  { kind: 'dense', units: 32, activation: 'relu' },
  { kind: 'dropout', rate: 0.2 }
];

export type NetworkKind = 'mlp' | 'cnn' | 'text_embedding';

/**
 * Everything the form edits. Number fields may hold null (an emptied input): `runSpec` then says
 * which field wants a number.
 */
export interface TrainFormState {
  target: string;
  task: Task;
  /** Ticked columns; `features` keeps only those the chosen model can use. */
  selected: Record<string, boolean>;
  model: ModelKind;
  /** One layer list per network kind, so switching model and back keeps a person's edits. */
  layers: Record<NetworkKind, LayerSpecInput[]>;
  embeddingDim: number;
  l2: number;
  optimizer: OptimizerKind;
  learningRate: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  schedule: ScheduleSpec['kind'];
  stepEvery: number;
  stepFactor: number;
  decayPerEpoch: number;
  warmupEpochs: number;
  minFactor: number;
  earlyStopping: boolean;
  monitor: MonitoredMetric;
  patience: number;
  minDelta: number;
  restoreBest: boolean;
  clipGradients: boolean;
  clipNorm: number;
  classWeights: 'none' | 'balanced';
  epochs: number;
  batchSize: number;
  checkpointEvery: number;
  /** A stored split's id, or '' for a seeded random split by the shares below. */
  splitId: string;
  testFraction: number;
  validationFraction: number;
  seed: number;
  imageWidth: number;
  imageHeight: number;
  imageChannels: 1 | 3;
  flipHorizontal: boolean;
  cropPadding: number;
  brightness: number;
  folds: number;
  permutationImportance: boolean;
  /** A column to slice test metrics by, or ''. */
  sliceBy: string;
  dropMissingTarget: boolean;
}

const NUMERIC = new Set(['integer', 'float']);
/** An integer target with at most this many values reads as classes (ratings, counts of kinds). */
const INTEGER_CLASS_LIMIT = 10;
/** Roles that keep a column out of the features unless the person ticks it. */
const NON_FEATURE_ROLES = new Set<ColumnRole>(['target', 'ignore', 'identifier', 'weight', 'group']);

export function isImageDataset(version: Pick<DatasetVersion, 'columns'>): boolean {
  return version.columns.some((c) => c.name === IMAGE_COLUMN);
}

/** Columns a target can be: not identifiers, free text or image hashes. */
export function targetCandidates(version: Pick<DatasetVersion, 'columns'>): ColumnSchema[] {
  return version.columns.filter((c) => c.type !== 'identifier' && c.type !== 'text');
}

/** The target a person most likely means: the role they set, else the last label-like column. */
export function defaultTarget(version: Pick<DatasetVersion, 'columns'>, roleTarget?: string): string {
  const candidates = targetCandidates(version);
  if (roleTarget && candidates.some((c) => c.name === roleTarget)) return roleTarget;
  // An image import names each image's class after its folder.
  if (isImageDataset(version) && candidates.some((c) => c.name === 'label')) return 'label';
  const label = candidates.filter((c) => c.type === 'categorical' || c.type === 'boolean');
  return (label.at(-1) ?? candidates.at(-1))?.name ?? '';
}

/** Regression for decimals and integers of many values; classification for everything else. */
export function taskFor(column: ColumnSchema | undefined): Task {
  if (!column || !NUMERIC.has(column.type)) return 'classification';
  if (column.type === 'integer' && column.distinct !== undefined && column.distinct <= INTEGER_CLASS_LIMIT) {
    return 'classification';
  }
  return 'regression';
}

export interface FeatureOption {
  name: string;
  type: ColumnSchema['type'];
  /** Whether the chosen model reads this column; a column it cannot read is shown but not ticked. */
  usable: boolean;
  /** Why it is not usable, or how the model reads it. */
  note: string | null;
  /** Ticked until the person says otherwise. */
  defaultOn: boolean;
}

/** Every non-target column with whether the model can use it and whether it starts ticked. */
export function featureOptions(
  version: Pick<DatasetVersion, 'columns'>,
  target: string,
  model: ModelKind,
  roles: Record<string, ColumnRole> = {}
): FeatureOption[] {
  return version.columns
    .filter((c) => c.name !== target)
    .map((c): FeatureOption => {
      const role = roles[c.name];
      const base = { name: c.name, type: c.type };
      if (model === 'cnn') {
        return c.name === IMAGE_COLUMN
          ? { ...base, usable: true, note: 'the images', defaultOn: true }
          : // The form says once that a convolutional network reads the images only.
            { ...base, usable: false, note: null, defaultOn: false };
      }
      if (c.name === IMAGE_COLUMN) {
        return { ...base, usable: false, note: 'images: pick the convolutional network', defaultOn: false };
      }
      if (c.type === 'identifier' || role === 'identifier') {
        return {
          ...base,
          usable: false,
          note: 'an identifier names rows; nothing to learn',
          defaultOn: false
        };
      }
      const note =
        c.type === 'text'
          ? model === 'text_embedding'
            ? 'text: token ids into the embedding'
            : 'text: TF-IDF'
          : role && NON_FEATURE_ROLES.has(role)
            ? `role: ${role}`
            : null;
      return { ...base, usable: true, note, defaultOn: !(role && NON_FEATURE_ROLES.has(role)) };
    });
}

/** The features a state trains on: ticked (or ticked by default) and usable by its model. */
export function chosenFeatures(
  version: Pick<DatasetVersion, 'columns'>,
  state: Pick<TrainFormState, 'target' | 'model' | 'selected'>,
  roles: Record<string, ColumnRole> = {}
): string[] {
  return featureOptions(version, state.target, state.model, roles)
    .filter((o) => o.usable && (state.selected[o.name] ?? o.defaultOn))
    .map((o) => o.name);
}

export interface ModelOption {
  kind: ModelKind;
  label: string;
  /** Why it cannot be picked now, or null. */
  disabled: string | null;
}

/** The models a person can pick for this task and data. */
export function modelOptions(task: Task, imageDataset: boolean, hasTextFeature: boolean): ModelOption[] {
  const linear: ModelKind = task === 'classification' ? 'logistic' : 'linear';
  const options: ModelOption[] = [
    { kind: linear, label: modelName(linear), disabled: null },
    { kind: 'mlp', label: modelName('mlp'), disabled: null }
  ];
  if (imageDataset) options.push({ kind: 'cnn', label: modelName('cnn'), disabled: null });
  options.push({
    kind: 'text_embedding',
    label: modelName('text_embedding'),
    disabled: hasTextFeature ? null : 'needs a text feature'
  });
  return options;
}

/** The model that fits the task when the chosen one no longer does (logistic ↔ linear, CNN off images). */
export function fitModelToData(model: ModelKind, task: Task, imageDataset: boolean): ModelKind {
  if (model === 'logistic' || model === 'linear') return task === 'classification' ? 'logistic' : 'linear';
  if (model === 'cnn' && !imageDataset) return 'mlp';
  return model;
}

/** Metrics early stopping can watch for a task. */
export function monitorOptions(task: Task): MonitoredMetric[] {
  return task === 'classification'
    ? ['val_loss', 'val_accuracy']
    : ['val_loss', 'val_rmse', 'val_mae', 'val_r2'];
}

/** A learning rate that trains each model kind well from the first try. */
export function defaultLearningRate(model: ModelKind): number {
  return model === 'logistic' || model === 'linear' ? 0.05 : model === 'cnn' ? 0.001 : 0.01;
}

export function initialState(version: Pick<DatasetVersion, 'columns'>, roleTarget?: string): TrainFormState {
  const target = defaultTarget(version, roleTarget);
  const task = taskFor(version.columns.find((c) => c.name === target));
  const image = isImageDataset(version);
  const model: ModelKind = image ? 'cnn' : task === 'classification' ? 'logistic' : 'linear';
  return {
    target,
    task,
    selected: {},
    model,
    layers: {
      mlp: structuredClone(DEFAULT_MLP_LAYERS),
      cnn: structuredClone(DEFAULT_CNN_LAYERS),
      text_embedding: structuredClone(DEFAULT_TEXT_LAYERS)
    },
    embeddingDim: 32,
    l2: 0,
    optimizer: 'adam',
    learningRate: defaultLearningRate(model),
    momentum: 0.9,
    nesterov: false,
    weightDecay: 0.01,
    schedule: 'constant',
    stepEvery: 10,
    stepFactor: 0.5,
    decayPerEpoch: 0.95,
    warmupEpochs: 0,
    minFactor: 0,
    earlyStopping: false,
    monitor: 'val_loss',
    patience: 5,
    minDelta: 0,
    restoreBest: true,
    clipGradients: false,
    clipNorm: 1,
    classWeights: 'none',
    epochs: image ? 10 : 30,
    batchSize: 32,
    checkpointEvery: 5,
    splitId: '',
    testFraction: 0.2,
    validationFraction: 0,
    seed: 42,
    imageWidth: 32,
    imageHeight: 32,
    imageChannels: 3,
    flipHorizontal: false,
    cropPadding: 0,
    brightness: 0,
    folds: 0,
    permutationImportance: true,
    sliceBy: '',
    dropMissingTarget: false
  };
}

function modelSpecOf(state: TrainFormState): ModelSpecInput {
  switch (state.model) {
    case 'logistic':
    case 'linear':
      return { kind: state.model, l2: state.l2 };
    case 'mlp':
    case 'cnn':
      return { kind: state.model, layers: state.layers[state.model], l2: state.l2 };
    case 'text_embedding':
      return {
        kind: 'text_embedding',
        embeddingDim: state.embeddingDim,
        layers: state.layers.text_embedding,
        l2: state.l2
      };
  }
}

function optimizerOf(state: TrainFormState): RunSpecInput['training']['optimizer'] {
  const learningRate = state.learningRate;
  switch (state.optimizer) {
    case 'sgd':
      return { kind: 'sgd', learningRate };
    case 'momentum':
      return { kind: 'momentum', learningRate, momentum: state.momentum, nesterov: state.nesterov };
    case 'adam':
      return { kind: 'adam', learningRate };
    case 'adamw':
      return { kind: 'adamw', learningRate, weightDecay: state.weightDecay };
  }
}

function scheduleOf(state: TrainFormState): ScheduleSpec {
  switch (state.schedule) {
    case 'constant':
      return { kind: 'constant' };
    case 'step':
      return { kind: 'step', everyEpochs: state.stepEvery, factor: state.stepFactor };
    case 'exponential':
      return { kind: 'exponential', decayPerEpoch: state.decayPerEpoch };
    case 'cosine':
      return { kind: 'cosine', warmupEpochs: state.warmupEpochs, minFactor: state.minFactor };
  }
}

/** The form as a run spec, before validation. */
export function buildRunSpecInput(
  version: Pick<DatasetVersion, 'id' | 'datasetId' | 'columns'>,
  state: TrainFormState,
  roles: Record<string, ColumnRole> = {}
): RunSpecInput {
  const features = chosenFeatures(version, state, roles);
  return {
    datasetId: version.datasetId,
    datasetVersionId: version.id,
    target: state.target,
    features,
    task: state.task,
    model: modelSpecOf(state),
    split: {
      testFraction: state.testFraction,
      validationFraction: state.validationFraction,
      seed: state.seed
    },
    ...(state.splitId ? { splitId: state.splitId } : {}),
    preprocessing: { pipeline: null },
    ...(state.model === 'cnn'
      ? {
          image: {
            column: IMAGE_COLUMN,
            width: state.imageWidth,
            height: state.imageHeight,
            channels: state.imageChannels,
            augment: {
              flipHorizontal: state.flipHorizontal,
              cropPadding: state.cropPadding,
              brightness: state.brightness
            }
          }
        }
      : {}),
    dropMissingTarget: state.dropMissingTarget,
    training: {
      epochs: state.epochs,
      batchSize: state.batchSize,
      optimizer: optimizerOf(state),
      schedule: scheduleOf(state),
      earlyStopping: state.earlyStopping
        ? {
            monitor: state.monitor,
            patience: state.patience,
            minDelta: state.minDelta,
            restoreBest: state.restoreBest
          }
        : null,
      gradientClipNorm: state.clipGradients ? state.clipNorm : null,
      classWeights: state.task === 'classification' ? state.classWeights : 'none',
      checkpointEvery: state.checkpointEvery
    },
    evaluation: {
      crossValidationFolds: state.folds,
      permutationImportance: state.permutationImportance,
      sliceBy: state.sliceBy || null
    },
    seed: state.seed
  };
}

/** Form labels of spec fields, so zod's problems name what the person sees. */
const FIELD_LABELS: Record<string, string> = {
  target: 'Target',
  features: 'Features',
  'split.testFraction': 'Test share',
  'split.validationFraction': 'Validation share',
  'split.seed': 'Seed',
  seed: 'Seed',
  'training.epochs': 'Epochs',
  'training.batchSize': 'Batch size',
  'training.checkpointEvery': 'Checkpoint every',
  'training.optimizer.learningRate': 'Learning rate',
  'training.optimizer.momentum': 'Momentum',
  'training.optimizer.weightDecay': 'Weight decay',
  'training.schedule.everyEpochs': 'Step every',
  'training.schedule.factor': 'Step factor',
  'training.schedule.decayPerEpoch': 'Decay per epoch',
  'training.schedule.warmupEpochs': 'Warmup epochs',
  'training.schedule.minFactor': 'Final rate factor',
  'training.earlyStopping.patience': 'Patience',
  'training.earlyStopping.minDelta': 'Minimum change',
  'training.gradientClipNorm': 'Clip norm',
  'model.l2': 'L2 penalty',
  'model.embeddingDim': 'Embedding size',
  'model.layers': 'Layers',
  'image.width': 'Image width',
  'image.height': 'Image height',
  'image.augment.cropPadding': 'Crop padding',
  'image.augment.brightness': 'Brightness shift',
  'evaluation.crossValidationFolds': 'Cross-validation folds'
};

const LAYER_FIELDS: Record<string, string> = {
  units: 'units',
  rate: 'dropout rate',
  filters: 'filters',
  kernelSize: 'kernel size',
  stride: 'stride',
  size: 'pool size'
};

function fieldName(path: ReadonlyArray<PropertyKey>): string {
  if (path[0] === 'model' && path[1] === 'layers' && typeof path[2] === 'number') {
    const field = typeof path[3] === 'string' ? (LAYER_FIELDS[path[3]] ?? path[3]) : null;
    return `Layer ${path[2] + 1}${field ? ` ${field}` : ''}`;
  }
  const key = path.map(String).join('.');
  return FIELD_LABELS[key] ?? (key || 'The settings');
}

function bound(value: unknown): string {
  return typeof value === 'bigint' || typeof value === 'number' ? String(value) : '';
}

/** Zod's problems as sentences that name the form's fields. */
export function describeSpecProblems(error: ZodError): string[] {
  const seen = new Set<string>();
  for (const issue of error.issues) {
    const field = fieldName(issue.path);
    let text: string;
    switch (issue.code) {
      case 'invalid_type':
        text = `${field}: enter a ${issue.expected === 'number' ? 'number' : 'value'}.`;
        break;
      case 'too_small':
        text =
          issue.origin === 'array'
            ? field === 'Features'
              ? 'Tick at least one feature the model can use.'
              : `${field}: add at least ${bound(issue.minimum)}.`
            : `${field} must be ${issue.inclusive ? 'at least' : 'more than'} ${bound(issue.minimum)}.`;
        break;
      case 'too_big':
        text =
          issue.origin === 'array'
            ? `${field}: at most ${bound(issue.maximum)}.`
            : `${field} must be ${issue.inclusive ? 'at most' : 'less than'} ${bound(issue.maximum)}.`;
        break;
      case 'invalid_value':
        text = `${field}: choose one of the offered values.`;
        break;
      case 'not_multiple_of':
        text = `${field} must be a whole number.`;
        break;
      default:
        text = issue.path.length > 0 ? `${field}: ${issue.message}` : issue.message;
    }
    seen.add(text);
  }
  return [...seen];
}

export type ParsedSpec = { ok: true; spec: RunSpec } | { ok: false; problems: string[] };

/** The form's spec through `runSpec` (zod), or the problems in words. */
export function parseFormSpec(input: RunSpecInput): ParsedSpec {
  const result = runSpec.safeParse(input);
  return result.success
    ? { ok: true, spec: result.data }
    : { ok: false, problems: describeSpecProblems(result.error) };
}

/** "Multilayer perceptron → species". */
export function runName(spec: RunSpec): string {
  return `${modelName(spec.model.kind)} → ${spec.target}`;
}

/**
 * Applies a preflight fix to the form; returns false for a fix this form cannot apply. Switching to
 * regression also swaps a logistic model for a linear one.
 */
export function applyFix(state: TrainFormState, fix: PreflightFix): boolean {
  switch (fix.kind) {
    case 'drop_missing_target':
      state.dropMissingTarget = true;
      return true;
    case 'remove_feature':
      state.selected[fix.column] = false;
      return true;
    case 'use_regression':
      state.task = 'regression';
      if (state.model === 'logistic') state.model = 'linear';
      state.classWeights = 'none';
      if (state.monitor === 'val_accuracy') state.monitor = 'val_loss';
      return true;
    case 'lower_batch_size':
      state.batchSize = Math.max(1, fix.batchSize);
      return true;
  }
}

/** The words on a fix's button. */
export function fixLabel(fix: PreflightFix): string {
  switch (fix.kind) {
    case 'drop_missing_target':
      return `Drop the ${fix.rows.toLocaleString('en-US')} row${fix.rows === 1 ? '' : 's'}`;
    case 'remove_feature':
      return `Remove ${fix.column}`;
    case 'use_regression':
      return 'Train a regression';
    case 'lower_batch_size':
      return `Use batch size ${fix.batchSize}`;
  }
}
