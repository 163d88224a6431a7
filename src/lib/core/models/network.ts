/**
 * A model spec made into tensors: named parameters (as tfjs variables) and a forward pass written with
 * tfjs-core ops. Kept free of tfjs-layers so the weights are a plain list of named arrays the checkpoint,
 * the model artifact and the ONNX exporter can all read, and so initialization and dropout are seeded.
 *
 * The last layer is always a dense layer with `outputUnits` units and no activation: the loss applies
 * the sigmoid or softmax, so the forward pass returns logits (or standardized values for regression).
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv as fusedConv, dense as fusedDense, isFusedActivation } from '../backend/fused-kernels';
import { LatheError } from '../errors';
import { seededRandom } from '../pipeline/split';
import type { Activation, LayerSpec, ModelSpec } from './model-spec';

export interface Param {
  name: string;
  variable: tf.Variable;
  /** Updated by the optimizer (batch-norm moving statistics are not). */
  trainable: boolean;
  /** Kernels and embeddings take L2 and AdamW's weight decay; biases and norms do not. */
  decays: boolean;
}

/** Where a text model's token ids sit in the input matrix. */
export interface TokenInput {
  start: number;
  end: number;
  /** Embedding rows: the largest vocabulary + 2 (0 pads, 1 is out-of-vocabulary). */
  vocabularySize: number;
}

export interface NetworkShape {
  /** One sample's shape: [features] for tables, [height, width, channels] for images. */
  inputShape: number[];
  outputUnits: number;
  /** Required by `text_embedding` models. */
  tokens?: TokenInput;
}

export interface ForwardResult {
  output: tf.Tensor2D;
  /** Batch-norm moving statistics to write after the step (training only). */
  updates: Array<{ variable: tf.Variable; value: tf.Tensor }>;
}

export interface Network {
  spec: ModelSpec;
  shape: NetworkShape;
  params: Param[];
  /**
   * `training` turns on dropout and batch statistics; `seed` makes dropout's masks reproducible. In
   * training mode the returned updates are kept (`tf.keep`) so they survive the caller's tidy.
   */
  forward(x: tf.Tensor, training: boolean, seed: number): ForwardResult;
  dispose(): void;
}

/** Mixes integers into one 32-bit seed, so each epoch, batch and layer draws its own numbers. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}

function glorotUniform(shape: number[], fanIn: number, fanOut: number, seed: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const random = seededRandom(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: size }, () => (2 * random() - 1) * limit);
}

function uniform(size: number, limit: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: size }, () => (2 * random() - 1) * limit);
}

export function applyActivation(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'elu':
      return tf.elu(x);
    case 'leaky_relu':
      return tf.leakyRelu(x, 0.01);
    case 'gelu': {
      // The tanh approximation (as in GPT-2 and PyTorch's approximate='tanh'); tfjs-core has no erf gradient.
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
    }
    case 'linear':
      return x;
  }
}

type Step = (x: tf.Tensor, training: boolean, seed: number, updates: ForwardResult['updates']) => tf.Tensor;

const BATCH_NORM_MOMENTUM = 0.99;
const BATCH_NORM_EPSILON = 1e-3;

/**
 * Builds the network for `spec`. Weights start from `seed` (Glorot-uniform kernels, zero biases; the
 * linear and logistic models start at zero, which their convex losses do not mind). `initial` replaces
 * the starting values by name (a checkpoint or a stored model).
 */
export function buildNetwork(
  spec: ModelSpec,
  shape: NetworkShape,
  seed: number,
  initial?: ReadonlyMap<string, Float32Array>
): Network {
  const params: Param[] = [];
  const steps: Step[] = [];
  const add = (name: string, dims: number[], values: Float32Array, trainable = true, decays = false) => {
    const given = initial?.get(name);
    const size = dims.reduce((a, b) => a * b, 1);
    if (given && given.length !== size) {
      throw new LatheError(
        'weights_mismatch',
        `The stored weights "${name}" have ${given.length} values; this model needs ${size}.`
      );
    }
    // Unnamed: tfjs keeps a global registry of variable names, and several networks (folds, a model
    // being predicted with) may live at once. The variable holds its own reference to the data.
    const initialTensor = tf.tensor(given ?? values, dims, 'float32');
    const variable = tf.variable(initialTensor, trainable);
    initialTensor.dispose();
    params.push({ name, variable, trainable, decays });
    return variable;
  };

  let current = [...shape.inputShape];
  const zeroInit = spec.kind === 'linear' || spec.kind === 'logistic';

  const dense = (name: string, units: number, activation: Activation, layerSeed: number) => {
    const fanIn = current.length === 1 ? (current[0] ?? 0) : NaN;
    if (!Number.isFinite(fanIn)) {
      throw new LatheError(
        'model_shape',
        `Layer ${name} is dense but receives ${current.length}-dimensional feature maps; add flatten or global pooling first.`
      );
    }
    const kernel = add(
      `${name}/kernel`,
      [fanIn, units],
      zeroInit ? new Float32Array(fanIn * units) : glorotUniform([fanIn, units], fanIn, units, layerSeed),
      true,
      true
    );
    const bias = add(`${name}/bias`, [units], new Float32Array(units));
    steps.push((x) =>
      isFusedActivation(activation)
        ? fusedDense(x as tf.Tensor2D, kernel, bias, activation)
        : applyActivation(tf.add(tf.matMul(x as tf.Tensor2D, kernel), bias), activation)
    );
    current = [units];
  };

  if (spec.kind === 'text_embedding') {
    const tokens = shape.tokens;
    if (!tokens || tokens.end <= tokens.start) {
      throw new LatheError(
        'model_input',
        'A text embedding model needs a text column vectorized as token ids.'
      );
    }
    const features = shape.inputShape[0] ?? 0;
    const embedding = add(
      'embedding/table',
      [tokens.vocabularySize, spec.embeddingDim],
      uniform(tokens.vocabularySize * spec.embeddingDim, 0.05, mixSeed(seed, 1000)),
      true,
      true
    );
    steps.push((x) => {
      const length = tokens.end - tokens.start;
      const ids = tf.cast(tf.slice(x, [0, tokens.start], [-1, length]), 'int32');
      // Gathering with 1-D indices: its gradient is 2–3× cheaper than with the 2-D ids on every backend tried.
      const vectors = tf.reshape(tf.gather(embedding, tf.reshape(ids, [-1])), [
        -1,
        length,
        spec.embeddingDim
      ]);
      // Mean over real tokens only: padding (id 0) would otherwise pull short texts toward zero.
      const mask = tf.expandDims(tf.cast(tf.greater(ids, 0), 'float32'), 2);
      const summed = tf.sum(tf.mul(vectors, mask), 1);
      const counts = tf.maximum(tf.sum(mask, 1), 1);
      const pooled = tf.div(summed, counts);
      const rest: tf.Tensor[] = [];
      if (tokens.start > 0) rest.push(tf.slice(x, [0, 0], [-1, tokens.start]));
      if (tokens.end < features) rest.push(tf.slice(x, [0, tokens.end], [-1, features - tokens.end]));
      return rest.length > 0 ? tf.concat([pooled, ...rest], 1) : pooled;
    });
    current = [spec.embeddingDim + features - (tokens.end - tokens.start)];
  }

  const layers: LayerSpec[] = spec.kind === 'linear' || spec.kind === 'logistic' ? [] : spec.layers;
  if (spec.kind === 'cnn' && current.length !== 3) {
    throw new LatheError(
      'model_input',
      'A convolutional network needs image input (height × width × channels).'
    );
  }
  if (spec.kind !== 'cnn' && current.length !== 1) {
    throw new LatheError('model_input', 'Image input needs a convolutional network.');
  }

  layers.forEach((layer, i) => {
    const name = `layer${i}_${layer.kind}`;
    const layerSeed = mixSeed(seed, i);
    switch (layer.kind) {
      case 'dense':
        dense(name, layer.units, layer.activation, layerSeed);
        return;
      case 'dropout': {
        const rate = layer.rate;
        if (rate > 0) {
          steps.push((x, training, stepSeed) =>
            training ? tf.dropout(x, rate, undefined, mixSeed(stepSeed, i)) : x
          );
        }
        return;
      }
      case 'batch_norm': {
        const channels = current.at(-1) ?? 0;
        const axes = current.length === 1 ? [0] : [0, 1, 2];
        const gamma = add(`${name}/gamma`, [channels], new Float32Array(channels).fill(1));
        const beta = add(`${name}/beta`, [channels], new Float32Array(channels));
        const movingMean = add(`${name}/moving_mean`, [channels], new Float32Array(channels), false);
        const movingVariance = add(
          `${name}/moving_variance`,
          [channels],
          new Float32Array(channels).fill(1),
          false
        );
        steps.push((x, training, _seed, updates) => {
          if (!training) {
            return tf.batchNorm(x, movingMean, movingVariance, beta, gamma, BATCH_NORM_EPSILON);
          }
          const { mean, variance } = tf.moments(x, axes);
          const m = BATCH_NORM_MOMENTUM;
          updates.push(
            {
              variable: movingMean,
              value: tf.keep(tf.add(tf.mul(movingMean, m), tf.mul(mean, 1 - m)))
            },
            {
              variable: movingVariance,
              value: tf.keep(tf.add(tf.mul(movingVariance, m), tf.mul(variance, 1 - m)))
            }
          );
          return tf.batchNorm(x, mean, variance, beta, gamma, BATCH_NORM_EPSILON);
        });
        return;
      }
      case 'conv2d': {
        if (current.length !== 3) {
          throw new LatheError('model_shape', `Layer ${i + 1} (conv2d) needs feature maps, not vectors.`);
        }
        const [h = 0, w = 0, c = 0] = current;
        const k = layer.kernelSize;
        const fanIn = k * k * c;
        const fanOut = k * k * layer.filters;
        const kernel = add(
          `${name}/kernel`,
          [k, k, c, layer.filters],
          glorotUniform([k, k, c, layer.filters], fanIn, fanOut, layerSeed),
          true,
          true
        );
        const bias = add(`${name}/bias`, [layer.filters], new Float32Array(layer.filters));
        const { stride, padding, activation } = layer;
        steps.push((x) =>
          isFusedActivation(activation)
            ? fusedConv(x as tf.Tensor4D, kernel, bias, stride, padding, activation)
            : applyActivation(
                tf.add(tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, stride, padding), bias),
                activation
              )
        );
        const out = (size: number) =>
          padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - k) / stride) + 1;
        current = [out(h), out(w), layer.filters];
        if ((current[0] ?? 0) < 1 || (current[1] ?? 0) < 1) {
          throw new LatheError(
            'model_shape',
            `Layer ${i + 1} (conv2d, kernel ${k}) leaves no pixels of the ${h}×${w} input; use larger images or "same" padding.`
          );
        }
        return;
      }
      case 'max_pool2d': {
        const [h = 0, w = 0, c = 0] = current;
        if (current.length !== 3 || h < layer.size || w < layer.size) {
          throw new LatheError(
            'model_shape',
            `Layer ${i + 1} (max pooling ${layer.size}×${layer.size}) needs feature maps at least that large; it gets ${current.join('×')}.`
          );
        }
        const size = layer.size;
        steps.push((x) => tf.maxPool(x as tf.Tensor4D, size, size, 'valid'));
        current = [Math.floor(h / size), Math.floor(w / size), c];
        return;
      }
      case 'global_avg_pool2d':
        steps.push((x) => tf.mean(x, [1, 2]));
        current = [current.at(-1) ?? 0];
        return;
      case 'flatten': {
        const size = current.reduce((a, b) => a * b, 1);
        steps.push((x) => tf.reshape(x, [-1, size]));
        current = [size];
        return;
      }
    }
  });

  if (current.length !== 1) {
    throw new LatheError(
      'model_shape',
      'The network ends with feature maps; add flatten or global average pooling before the output.'
    );
  }
  dense('output', shape.outputUnits, 'linear', mixSeed(seed, 9999));

  return {
    spec,
    shape,
    params,
    forward(x, training, stepSeed) {
      const updates: ForwardResult['updates'] = [];
      let out: tf.Tensor = x;
      for (const step of steps) out = step(out, training, stepSeed, updates);
      return { output: out as tf.Tensor2D, updates };
    },
    dispose() {
      tf.dispose(params.map((p) => p.variable));
    }
  };
}

/** Sum of squares of the decaying parameters: the L2 penalty before its factor. */
export function l2Penalty(network: Network): tf.Scalar {
  const kernels = network.params.filter((p) => p.decays && p.trainable);
  if (kernels.length === 0) return tf.scalar(0);
  return tf.addN(kernels.map((p) => tf.sum(tf.square(p.variable)))) as tf.Scalar;
}

/** Parameter values by name, read back from the backend. */
export async function readParams(network: Network): Promise<Map<string, Float32Array>> {
  const values = await Promise.all(network.params.map((p) => p.variable.data()));
  return new Map(network.params.map((p, i) => [p.name, Float32Array.from(values[i] as Float32Array)]));
}

/** Writes values by name into the network's variables (restoring the best epoch or a checkpoint). */
export function writeParams(network: Network, values: ReadonlyMap<string, Float32Array>): void {
  for (const p of network.params) {
    const v = values.get(p.name);
    if (!v) throw new LatheError('weights_mismatch', `The stored weights lack "${p.name}".`);
    tf.tidy(() => p.variable.assign(tf.tensor(v, p.variable.shape, 'float32')));
  }
}

export function parameterCount(network: Network): number {
  return network.params.filter((p) => p.trainable).reduce((sum, p) => sum + p.variable.size, 0);
}
