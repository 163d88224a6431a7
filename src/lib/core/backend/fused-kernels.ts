import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernels of our own that a backend may register to do in one call what would otherwise take a dozen
 * tfjs ops. Callers check `tf.getKernel(name, tf.getBackend())` and fall back to the ops otherwise, so a
 * backend without them gives the same results, only slower.
 */

/**
 * One Adam/AdamW step for one parameter (torch.optim's rule): inputs `w`, `g`, `m`, `v`; outputs the new
 * `w`, `m` and `v`. `decay` multiplies `w` first (AdamW's decoupled weight decay; 1 for Adam).
 */
export const FUSED_ADAM_STEP = 'LatheAdamStep';

export interface FusedAdamAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1-based step count, for the bias corrections. */
  step: number;
  decay: number;
}

/**
 * A dense layer's forward pass, `activation(x · w + b)`, in one kernel: inputs `x` (rows × in), `w`
 * (in × units), `b` (units); attrs `FusedDenseAttrs`. Its gradient is `FUSED_DENSE_GRAD`, so the
 * backward pass is one kernel too: a small network's step spends more time in tfjs's per-op bookkeeping
 * than in arithmetic, and this takes about half its ops away.
 */
export const FUSED_DENSE = 'LatheDense';

/** Inputs `dy`, `x`, `w`, `y` (the forward output); outputs dx, dw, db. */
export const FUSED_DENSE_GRAD = 'LatheDenseGrad';

/** The activations the fused layers apply themselves; a layer with another one uses the plain ops. */
export type FusedActivation = 'relu' | 'linear';

export function isFusedActivation(activation: string): activation is FusedActivation {
  return activation === 'relu' || activation === 'linear';
}

export interface FusedDenseAttrs {
  activation: FusedActivation;
}

/** tfjs keeps one gradient per kernel name, globally; the fused ops register theirs on first use. */
const gradientsRegistered = new Set<string>();

function registerGradientOnce(config: tf.GradConfig): void {
  if (gradientsRegistered.has(config.kernelName)) return;
  tf.registerGradient(config);
  gradientsRegistered.add(config.kernelName);
}

/** The unfused layer: `activation(z + b)` as ops. */
function plainLayer<T extends tf.Tensor>(z: T, b: tf.Tensor, activation: FusedActivation): T {
  const biased = tf.add(z, b);
  return (activation === 'relu' ? tf.relu(biased) : biased) as T;
}

/** `activation(x · w + b)`: one kernel where the backend has it, the three ops otherwise. */
export function dense(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, activation: FusedActivation): tf.Tensor2D {
  if (!tf.getKernel(FUSED_DENSE, tf.getBackend()))
    return plainLayer(tf.matMul(x, w as tf.Tensor2D), b, activation);
  registerGradientOnce({
    kernelName: FUSED_DENSE,
    inputsToSave: ['x', 'w'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [input, weights, y] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const [dx, dw, db] = tf
        .engine()
        .runKernel(FUSED_DENSE_GRAD, { dy: dy as tf.Tensor, x: input, w: weights, y }, attrs) as tf.Tensor[];
      return { x: () => dx as tf.Tensor, w: () => dw as tf.Tensor, b: () => db as tf.Tensor };
    }
  });
  const attrs: FusedDenseAttrs = { activation };
  return tf.engine().runKernel(FUSED_DENSE, { x, w, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/**
 * A convolution layer's forward pass, `activation(conv2d(x, filter) + b)` (NHWC), in one kernel: inputs
 * `x`, `filter`, `b`; attrs `FusedConvAttrs`. Its gradient takes the output gradient through the
 * activation and sums the bias gradient in one `BIAS_ACTIVATION_GRAD` kernel, then runs the
 * convolution's own gradient kernels (the input's only where it is needed).
 */
export const FUSED_CONV = 'LatheConv2D';

/** Inputs `dy`, `y` (rows × channels, any leading shape); attrs `FusedDenseAttrs`; outputs d, db. */
export const BIAS_ACTIVATION_GRAD = 'LatheBiasActivationGrad';

export interface FusedConvAttrs extends FusedDenseAttrs {
  strides: number;
  pad: 'same' | 'valid';
}

/** `activation(conv2d(x, filter) + b)`: one kernel where the backend has it, the three ops otherwise. */
export function conv(
  x: tf.Tensor4D,
  filter: tf.Tensor,
  b: tf.Tensor,
  strides: number,
  pad: 'same' | 'valid',
  activation: FusedActivation
): tf.Tensor4D {
  if (!tf.getKernel(FUSED_CONV, tf.getBackend())) {
    return plainLayer(tf.conv2d(x, filter as tf.Tensor4D, strides, pad), b, activation);
  }
  registerGradientOnce({
    kernelName: FUSED_CONV,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [input, weights, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const { strides: s, pad: p } = attrs as unknown as FusedConvAttrs;
      const [d, db] = tf
        .engine()
        .runKernel(BIAS_ACTIVATION_GRAD, { dy: dy as tf.Tensor, y }, attrs) as tf.Tensor4D[];
      const convAttrs = { strides: s, pad: p, dataFormat: 'NHWC', dilations: 1 };
      return {
        x: () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy: d as tf.Tensor, filter: weights },
              { ...convAttrs, inputShape: input.shape }
            ) as tf.Tensor,
        filter: () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x: input, dy: d as tf.Tensor },
              { ...convAttrs, filterShape: weights.shape }
            ) as tf.Tensor,
        b: () => db as tf.Tensor
      };
    }
  });
  const attrs: FusedConvAttrs = { activation, strides, pad };
  return tf
    .engine()
    .runKernel(FUSED_CONV, { x, filter, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
