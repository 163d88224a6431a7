/**
 * What a run trains, as data: the model's architecture, the optimizer and its schedule, early stopping,
 * clipping, class weights, image input and the evaluation asked for. Part of the run spec, validated
 * with zod because it arrives from the UI, the CLI and synced records.
 *
 * The output layer is never written here: it follows from the task (one unit for regression and binary
 * classification, one per class otherwise).
 */
import { z } from 'zod';

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'elu', 'gelu', 'leaky_relu', 'linear'] as const;
export const activation = z.enum(ACTIVATIONS);
export type Activation = z.infer<typeof activation>;

const denseLayer = z.object({
  kind: z.literal('dense'),
  units: z.number().int().min(1).max(8192),
  activation: activation.default('relu')
});
const dropoutLayer = z.object({ kind: z.literal('dropout'), rate: z.number().min(0).max(0.95) });
const batchNormLayer = z.object({ kind: z.literal('batch_norm') });
const conv2dLayer = z.object({
  kind: z.literal('conv2d'),
  filters: z.number().int().min(1).max(1024),
  kernelSize: z.number().int().min(1).max(11).default(3),
  stride: z.number().int().min(1).max(4).default(1),
  padding: z.enum(['same', 'valid']).default('same'),
  activation: activation.default('relu')
});
const maxPoolLayer = z.object({
  kind: z.literal('max_pool2d'),
  size: z.number().int().min(2).max(8).default(2)
});
const globalAvgPoolLayer = z.object({ kind: z.literal('global_avg_pool2d') });
const flattenLayer = z.object({ kind: z.literal('flatten') });

export const layerSpec = z.discriminatedUnion('kind', [
  denseLayer,
  dropoutLayer,
  batchNormLayer,
  conv2dLayer,
  maxPoolLayer,
  globalAvgPoolLayer,
  flattenLayer
]);
export type LayerSpec = z.infer<typeof layerSpec>;
export type LayerSpecInput = z.input<typeof layerSpec>;

/** Layers that work on feature vectors (after flattening, pooling or an embedding). */
const VECTOR_LAYERS = new Set(['dense', 'dropout', 'batch_norm']);

const l2 = z.number().min(0).max(1).default(0);

export const modelSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('logistic'), l2 }),
  z.object({ kind: z.literal('linear'), l2 }),
  z.object({
    kind: z.literal('mlp'),
    layers: z
      .array(layerSpec)
      .max(32)
      .refine((layers) => layers.every((l) => VECTOR_LAYERS.has(l.kind)), {
        message: 'A multilayer perceptron takes dense, dropout and batch-norm layers only.'
      }),
    l2
  }),
  z.object({
    /** Image input (`spec.image`): convolutions and pooling, then (after flatten or pooling) dense layers. */
    kind: z.literal('cnn'),
    layers: z
      .array(layerSpec)
      .min(1)
      .max(32)
      .refine(
        (layers) => {
          // Once the feature maps are flattened or pooled away, only vector layers may follow.
          const cut = layers.findIndex((l) => l.kind === 'flatten' || l.kind === 'global_avg_pool2d');
          return cut === -1 || layers.slice(cut + 1).every((l) => VECTOR_LAYERS.has(l.kind));
        },
        { message: 'After flatten or global pooling only dense, dropout and batch-norm layers can follow.' }
      ),
    l2
  }),
  z.object({
    /** Token ids (a text group vectorized as `token_ids`) → embedding → masked mean pooling → layers. */
    kind: z.literal('text_embedding'),
    embeddingDim: z.number().int().min(2).max(512).default(32),
    layers: z
      .array(layerSpec)
      .max(32)
      .refine((layers) => layers.every((l) => VECTOR_LAYERS.has(l.kind)), {
        message: 'After the embedding only dense, dropout and batch-norm layers can follow.'
      }),
    l2
  })
]);
export type ModelSpec = z.infer<typeof modelSpec>;
export type ModelSpecInput = z.input<typeof modelSpec>;
export type ModelKind = ModelSpec['kind'];

const learningRate = z.number().positive().max(10);

export const optimizerSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sgd'), learningRate }),
  z.object({
    kind: z.literal('momentum'),
    learningRate,
    momentum: z.number().min(0).lt(1).default(0.9),
    nesterov: z.boolean().default(false)
  }),
  z.object({
    kind: z.literal('adam'),
    learningRate,
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-7)
  }),
  z.object({
    /** Adam with decoupled weight decay (Loshchilov & Hutter), applied to kernels, not biases. */
    kind: z.literal('adamw'),
    learningRate,
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-7),
    weightDecay: z.number().min(0).max(1).default(0.01)
  })
]);
export type OptimizerSpec = z.infer<typeof optimizerSpec>;
export type OptimizerKind = OptimizerSpec['kind'];

/** Learning rate per epoch as a multiple of the optimizer's base rate. */
export const scheduleSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant') }),
  z.object({
    kind: z.literal('step'),
    everyEpochs: z.number().int().min(1).default(10),
    factor: z.number().gt(0).max(1).default(0.5)
  }),
  z.object({ kind: z.literal('exponential'), decayPerEpoch: z.number().gt(0).max(1).default(0.95) }),
  z.object({
    kind: z.literal('cosine'),
    warmupEpochs: z.number().int().min(0).default(0),
    /** The rate the cosine ends at, as a fraction of the base rate. */
    minFactor: z.number().min(0).max(1).default(0)
  })
]);
export type ScheduleSpec = z.infer<typeof scheduleSpec>;

export const MONITORED_METRICS = ['val_loss', 'val_accuracy', 'val_rmse', 'val_mae', 'val_r2'] as const;
export const monitoredMetric = z.enum(MONITORED_METRICS);
export type MonitoredMetric = z.infer<typeof monitoredMetric>;

export const earlyStoppingSpec = z.object({
  monitor: monitoredMetric.default('val_loss'),
  patience: z.number().int().min(1).max(1000).default(5),
  /** The least change that counts as an improvement. */
  minDelta: z.number().min(0).default(0),
  restoreBest: z.boolean().default(true)
});
export type EarlyStoppingSpec = z.infer<typeof earlyStoppingSpec>;

export const trainingSpec = z.object({
  epochs: z.number().int().min(1).max(10_000),
  batchSize: z.number().int().min(1).max(65_536),
  optimizer: optimizerSpec,
  schedule: scheduleSpec.default({ kind: 'constant' }),
  earlyStopping: earlyStoppingSpec.nullable().default(null),
  /** Rescale the gradients when their global L2 norm exceeds this; null: no clipping. */
  gradientClipNorm: z.number().positive().nullable().default(null),
  /** `balanced`: weight each class by n / (classes × count), scikit-learn's `class_weight='balanced'`. */
  classWeights: z.enum(['none', 'balanced']).default('none'),
  /** Save weights and optimizer state to IndexedDB every this many epochs (and at the end). */
  checkpointEvery: z.number().int().min(1).max(1000).default(5)
});
export type TrainingSpec = z.infer<typeof trainingSpec>;
export type TrainingSpecInput = z.input<typeof trainingSpec>;

/** How image rows become tensors: decode, resize, scale to [0, 1], standardize per channel. */
export const imageInputSpec = z.object({
  /** The column holding each image's blob hash (`image_hash` in an imported image dataset). */
  column: z.string().min(1).default('image_hash'),
  width: z.number().int().min(4).max(512).default(32),
  height: z.number().int().min(4).max(512).default(32),
  channels: z.union([z.literal(1), z.literal(3)]).default(3),
  augment: z
    .object({
      flipHorizontal: z.boolean().default(false),
      /** Pad by this many pixels and crop back at a random offset. */
      cropPadding: z.number().int().min(0).max(16).default(0),
      /** Largest random brightness shift, as a share of the full range. */
      brightness: z.number().min(0).max(0.5).default(0)
    })
    .default({ flipHorizontal: false, cropPadding: 0, brightness: 0 })
});
export type ImageInputSpec = z.infer<typeof imageInputSpec>;

export const evaluationSpec = z.object({
  /** Also train this many models on folds of the training rows and report their spread; 0: none. */
  crossValidationFolds: z.number().int().min(0).max(20).default(0),
  permutationImportance: z.boolean().default(true),
  /** A column to slice test metrics by, with fairness measures; null: none. */
  sliceBy: z.string().min(1).nullable().default(null)
});
export type EvaluationSpec = z.infer<typeof evaluationSpec>;

/** A sensible network for tabular data, used when a person picks "MLP" without designing one. */
export const DEFAULT_MLP_LAYERS: LayerSpec[] = [
  { kind: 'dense', units: 64, activation: 'relu' },
  { kind: 'dropout', rate: 0.1 },
  { kind: 'dense', units: 32, activation: 'relu' }
];

/** A small convnet for images of 32×32 or so. */
export const DEFAULT_CNN_LAYERS: LayerSpec[] = [
  { kind: 'conv2d', filters: 16, kernelSize: 3, stride: 1, padding: 'same', activation: 'relu' },
  { kind: 'max_pool2d', size: 2 },
  { kind: 'conv2d', filters: 32, kernelSize: 3, stride: 1, padding: 'same', activation: 'relu' },
  { kind: 'max_pool2d', size: 2 },
  { kind: 'flatten' },
  { kind: 'dense', units: 64, activation: 'relu' }
];
