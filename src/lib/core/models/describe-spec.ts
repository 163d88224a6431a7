/**
 * A run spec in words, one line per part (model, architecture, optimizer, schedule, early stopping,
 * preprocessing, split, evaluation…), for the run page, share links and anything else that shows a
 * person what a run trained. Pure: the same spec always reads the same.
 */
import type { RunSpec } from '../records';
import type { PrepGroup, PrepStep } from '../prep/prep-steps';
import type { LayerSpec, ModelSpec, OptimizerSpec, ScheduleSpec } from './model-spec';

export interface SpecLine {
  /** Stable key for lists and tests. */
  key: string;
  label: string;
  value: string;
}

const MODEL_NAMES: Record<ModelSpec['kind'], string> = {
  logistic: 'Logistic regression',
  linear: 'Linear regression',
  mlp: 'Multilayer perceptron',
  cnn: 'Convolutional network',
  text_embedding: 'Text classifier (embedding with mean pooling)'
};

/** The human name of a model kind ("Multilayer perceptron"). */
export function modelName(kind: ModelSpec['kind']): string {
  return MODEL_NAMES[kind];
}

/** Numbers as people write them: no trailing zeros, no float noise. */
function num(value: number): string {
  return String(Number(value.toPrecision(6)));
}

function pct(share: number): string {
  return `${num(Math.round(share * 1000) / 10)}%`;
}

export function describeLayer(layer: LayerSpec): string {
  switch (layer.kind) {
    case 'dense':
      return `dense ${layer.units}${layer.activation === 'linear' ? '' : ` ${layer.activation}`}`;
    case 'dropout':
      return `dropout ${num(layer.rate)}`;
    case 'batch_norm':
      return 'batch norm';
    case 'conv2d':
      return (
        `conv ${layer.filters}×${layer.kernelSize}×${layer.kernelSize}` +
        (layer.stride > 1 ? ` stride ${layer.stride}` : '') +
        (layer.padding === 'valid' ? ' valid' : '') +
        (layer.activation === 'linear' ? '' : ` ${layer.activation}`)
      );
    case 'max_pool2d':
      return `max pool ${layer.size}×${layer.size}`;
    case 'global_avg_pool2d':
      return 'global average pool';
    case 'flatten':
      return 'flatten';
  }
}

function outputOf(spec: RunSpec): string {
  if (spec.task === 'regression') return 'linear output';
  return 'output (sigmoid for two classes, softmax otherwise)';
}

function architecture(spec: RunSpec): string | null {
  const model = spec.model;
  if (model.kind === 'logistic' || model.kind === 'linear') return null;
  const parts: string[] = [];
  if (model.kind === 'text_embedding') parts.push(`embedding ${model.embeddingDim} → mean pool`);
  parts.push(...model.layers.map(describeLayer), outputOf(spec));
  return parts.join(' → ');
}

export function describeOptimizer(optimizer: OptimizerSpec): string {
  const rate = `learning rate ${num(optimizer.learningRate)}`;
  switch (optimizer.kind) {
    case 'sgd':
      return `SGD, ${rate}`;
    case 'momentum':
      return `SGD with ${optimizer.nesterov ? 'Nesterov ' : ''}momentum ${num(optimizer.momentum)}, ${rate}`;
    case 'adam':
      return `Adam, ${rate}`;
    case 'adamw':
      return `AdamW, ${rate}, weight decay ${num(optimizer.weightDecay)}`;
  }
}

export function describeSchedule(schedule: ScheduleSpec): string {
  switch (schedule.kind) {
    case 'constant':
      return 'constant';
    case 'step':
      return `step: × ${num(schedule.factor)} every ${schedule.everyEpochs} epoch${schedule.everyEpochs === 1 ? '' : 's'}`;
    case 'exponential':
      return `exponential: × ${num(schedule.decayPerEpoch)} per epoch`;
    case 'cosine':
      return (
        `cosine down to ${num(schedule.minFactor)} × the base rate` +
        (schedule.warmupEpochs > 0
          ? `, after ${schedule.warmupEpochs} warmup epoch${schedule.warmupEpochs === 1 ? '' : 's'}`
          : '')
      );
  }
}

function describeStep(step: PrepStep): string {
  switch (step.kind) {
    case 'impute':
      return step.strategy === 'constant'
        ? `impute ${JSON.stringify(step.fillValue ?? null)}`
        : `impute ${step.strategy.replace('_', ' ')}${step.addIndicator ? ' (+ indicator)' : ''}`;
    case 'scale':
      return `scale ${step.method}`;
    case 'log1p':
      return 'log1p';
    case 'power':
      return `power ${step.method}`;
    case 'encode':
      return step.method === 'one_hot' ? 'one-hot' : 'ordinal';
    case 'normalize':
      return 'normalize';
    case 'tokenize':
      return `tokenize by ${step.pattern}`;
    case 'vocabulary':
      return `vocabulary${step.maxSize ? ` ≤ ${step.maxSize}` : ''}`;
    case 'vectorize':
      return step.method === 'token_ids'
        ? `token ids ≤ ${step.maxLength}`
        : step.method === 'tfidf'
          ? 'TF-IDF'
          : 'bag of words';
  }
}

function describeGroup(group: PrepGroup): string {
  const steps = group.steps.map(describeStep).join(' → ') || 'as is';
  return `${group.kind} (${group.columns.join(', ')}): ${steps}`;
}

function preprocessing(spec: RunSpec): string {
  if (spec.model.kind === 'cnn') return 'images resized, scaled to [0, 1] and standardized per channel';
  const pipeline = spec.preprocessing.pipeline;
  if (pipeline) return pipeline.groups.map(describeGroup).join('; ');
  const text = spec.model.kind === 'text_embedding' ? 'token ids' : 'TF-IDF';
  return `automatic: numbers median-imputed and standardized, categories one-hot encoded, text as ${text} (fitted on the training rows)`;
}

function imageInput(spec: RunSpec): string | null {
  const image = spec.image;
  if (!image || spec.model.kind !== 'cnn') return null;
  const augment = [
    image.augment.flipHorizontal ? 'horizontal flips' : null,
    image.augment.cropPadding > 0 ? `random crops (padding ${image.augment.cropPadding} px)` : null,
    image.augment.brightness > 0 ? `brightness ±${pct(image.augment.brightness)}` : null
  ].filter((s): s is string => s !== null);
  return (
    `“${image.column}”, ${image.width}×${image.height}, ${image.channels === 1 ? 'grayscale' : 'RGB'}` +
    `; augmentation: ${augment.length > 0 ? augment.join(', ') : 'none'}`
  );
}

function split(spec: RunSpec): string {
  if (spec.splitId) return `stored split ${spec.splitId}`;
  const { testFraction, validationFraction, seed } = spec.split;
  const train = 1 - testFraction - validationFraction;
  return (
    `${pct(train)} train` +
    (validationFraction > 0 ? ` / ${pct(validationFraction)} validation` : '') +
    ` / ${pct(testFraction)} test, seed ${seed}`
  );
}

function evaluation(spec: RunSpec): string {
  const e = spec.evaluation;
  const parts = [
    `metrics on the held-out rows`,
    e.crossValidationFolds > 0 ? `${e.crossValidationFolds}-fold cross-validation` : null,
    e.permutationImportance ? 'permutation importance' : null,
    e.sliceBy ? `sliced by “${e.sliceBy}”` : null
  ].filter((s): s is string => s !== null);
  return parts.join(', ');
}

/** Every part of a run spec as a labelled line, in the order a person reads a run. */
export function describeRunSpec(spec: RunSpec): SpecLine[] {
  const t = spec.training;
  const l2 = spec.model.l2;
  const lines: Array<SpecLine | null> = [
    { key: 'model', label: 'Model', value: `${modelName(spec.model.kind)} (${spec.task})` },
    ((value) => (value ? { key: 'architecture', label: 'Architecture', value } : null))(architecture(spec)),
    l2 > 0 ? { key: 'l2', label: 'L2 penalty', value: num(l2) } : null,
    { key: 'target', label: 'Target', value: spec.target },
    { key: 'features', label: 'Features', value: spec.features.join(', ') },
    ((value) => (value ? { key: 'image', label: 'Image input', value } : null))(imageInput(spec)),
    { key: 'preprocessing', label: 'Preprocessing', value: preprocessing(spec) },
    spec.dropMissingTarget
      ? { key: 'missing-target', label: 'Missing target', value: 'rows without a target are left out' }
      : null,
    { key: 'split', label: 'Split', value: split(spec) },
    {
      key: 'training',
      label: 'Training',
      value: `${t.epochs} epoch${t.epochs === 1 ? '' : 's'}, batch ${t.batchSize}, checkpoint every ${t.checkpointEvery} epoch${t.checkpointEvery === 1 ? '' : 's'}`
    },
    { key: 'optimizer', label: 'Optimizer', value: describeOptimizer(t.optimizer) },
    { key: 'schedule', label: 'Learning-rate schedule', value: describeSchedule(t.schedule) },
    {
      key: 'early-stopping',
      label: 'Early stopping',
      value: t.earlyStopping
        ? `on ${t.earlyStopping.monitor}, patience ${t.earlyStopping.patience}` +
          (t.earlyStopping.minDelta > 0 ? `, min change ${num(t.earlyStopping.minDelta)}` : '') +
          (t.earlyStopping.restoreBest ? ', restores the best weights' : ', keeps the last weights')
        : 'off'
    },
    {
      key: 'clipping',
      label: 'Gradient clipping',
      value: t.gradientClipNorm === null ? 'off' : `global norm ≤ ${num(t.gradientClipNorm)}`
    },
    spec.task === 'classification'
      ? {
          key: 'class-weights',
          label: 'Class weights',
          value: t.classWeights === 'balanced' ? 'balanced (n / (classes × count))' : 'none'
        }
      : null,
    { key: 'evaluation', label: 'Evaluation', value: evaluation(spec) },
    { key: 'seed', label: 'Seed', value: String(spec.seed) }
  ];
  return lines.filter((l): l is SpecLine => l !== null);
}
