/**
 * A trained model as one content-addressed blob: the architecture, the fitted preprocessing, the class
 * labels, the target's scale and the weights. `predictTable` runs it on raw rows through the same
 * preprocessing code training used, so its answers match the run's evaluation.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { LatheError } from '../errors';
import { FittedPipelineSchema } from '../prep/fitted-pipeline';
import { FittedImagePrepSchema } from '../prep/image-prep';
import { task } from '../records';
import { imageInputSpec, modelSpec } from './model-spec';
import { buildNetwork, readParams, type Network } from './network';
import { decodeBundle, encodeBundle } from './tensor-bundle';
import { predictOutputs } from './trainer';
import { transformInputs, type FittedInputs, type ImageLoader } from './training-data';

const modelMeta = z.object({
  kind: z.literal('model'),
  version: z.literal(1),
  task,
  model: modelSpec,
  target: z.string(),
  features: z.array(z.string()),
  classes: z.array(z.string()).nullable(),
  inputs: z.object({
    kind: z.enum(['table', 'image']),
    pipeline: FittedPipelineSchema.nullable(),
    image: z.object({ spec: imageInputSpec, fitted: FittedImagePrepSchema }).nullable()
  }),
  sampleShape: z.array(z.number().int().positive()),
  outputUnits: z.number().int().positive(),
  tokens: z
    .object({ start: z.number().int(), end: z.number().int(), vocabularySize: z.number().int() })
    .optional(),
  targetScale: z.object({ mean: z.number(), std: z.number() }),
  seed: z.number().int()
});
export type ModelMeta = z.infer<typeof modelMeta>;

export interface TrainedModel {
  meta: ModelMeta;
  params: Map<string, Float32Array>;
}

export async function trainedModelOf(
  network: Network,
  meta: Omit<ModelMeta, 'kind' | 'version' | 'model' | 'sampleShape' | 'outputUnits' | 'tokens'> & {
    inputs: FittedInputs;
  }
): Promise<TrainedModel> {
  return {
    meta: {
      kind: 'model',
      version: 1,
      model: network.spec,
      sampleShape: network.shape.inputShape,
      outputUnits: network.shape.outputUnits,
      ...(network.shape.tokens ? { tokens: network.shape.tokens } : {}),
      ...meta
    },
    params: await readParams(network)
  };
}

export function encodeModel(model: TrainedModel): ArrayBuffer {
  return encodeBundle(model.meta, model.params);
}

export function decodeModel(buffer: ArrayBuffer): TrainedModel {
  const { meta, tensors } = decodeBundle(buffer);
  const parsed = modelMeta.safeParse(meta);
  if (!parsed.success) {
    throw new LatheError(
      'model_invalid',
      `The stored model is damaged or from another version (${parsed.error.issues[0]?.path.join('.') ?? '?'}).`
    );
  }
  return { meta: parsed.data, params: tensors };
}

/** The model's network with its weights; the caller disposes it. */
export function networkOf(model: TrainedModel): Network {
  const { meta } = model;
  return buildNetwork(
    meta.model,
    {
      inputShape: meta.sampleShape,
      outputUnits: meta.outputUnits,
      ...(meta.tokens ? { tokens: meta.tokens } : {})
    },
    meta.seed,
    model.params
  );
}

export interface Predictions {
  /** Probabilities (rows × `width`, row-major) for classification, values for regression. */
  outputs: Float32Array;
  width: number;
  /** Predicted class labels (classification) or values as text. */
  labels: string[];
}

/** Predicts `rows` of `table` (all rows when left out) from their raw columns. */
export async function predictTable(
  model: TrainedModel,
  table: Table,
  rows?: ArrayLike<number>,
  loadImages?: ImageLoader
): Promise<Predictions> {
  const { meta } = model;
  const tableRows = rows ?? Uint32Array.from({ length: table.numRows }, (_, i) => i);
  const network = networkOf(model);
  let x: tf.Tensor | null = null;
  try {
    x = await transformInputs(meta.inputs, table, tableRows, loadImages);
    const classes = meta.classes?.length ?? 0;
    const outputs = await predictOutputs(network, x, meta.task, classes, meta.targetScale);
    if (meta.task === 'regression') {
      return { outputs, width: 1, labels: Array.from(outputs, (v) => String(v)) };
    }
    const width = Math.max(2, classes);
    const labels: string[] = [];
    for (let r = 0; r < tableRows.length; r++) {
      let bestClass = 0;
      for (let c = 1; c < width; c++) {
        if ((outputs[r * width + c] ?? 0) > (outputs[r * width + bestClass] ?? 0)) bestClass = c;
      }
      labels.push(meta.classes?.[bestClass] ?? String(bestClass));
    }
    return { outputs, width, labels };
  } finally {
    x?.dispose();
    network.dispose();
  }
}
