/**
 * tfjs-backend-wasm 4.22 cannot train convolutional networks: it has no Conv2DBackpropFilter kernel, so
 * the filter gradient of every conv layer fails. It does have Conv3DBackpropFilterV2 (compiled C++), and a
 * 2-D convolution is a 3-D one with depth 1. This registers Conv2DBackpropFilter for wasm as that call on
 * views of the same buffers with a depth axis added: no copy, no new arithmetic.
 *
 * Only stride 1, NHWC data, no dilation and `same`/`valid` padding: the wasm Conv3DBackpropFilterV2
 * of tfjs 4.22 disagrees with the cpu backend for strides above 1 (checked in the spec), so a network
 * with a strided convolution still needs another backend (`needsWasmMissingKernels` below).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '../models/model-spec';

type Shape4 = [number, number, number, number];

let registered = false;

/** Registers the kernel once; call after the wasm backend's package has been imported. */
export function registerWasmConvGradients(): void {
  if (registered || tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  const conv3d = tf.getKernel('Conv3DBackpropFilterV2', 'wasm');
  if (!conv3d) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
        strides: number | [number, number];
        pad: 'same' | 'valid' | number | unknown;
        dataFormat?: string;
        dimRoundingMode?: string;
        filterShape: Shape4;
      };
      if ((dataFormat && dataFormat !== 'NHWC') || dimRoundingMode || (pad !== 'same' && pad !== 'valid')) {
        throw new Error(
          'Conv2DBackpropFilter on wasm supports NHWC data with "same" or "valid" padding only.'
        );
      }
      const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
      if (sh !== 1 || sw !== 1) {
        throw new Error(
          'Conv2DBackpropFilter on wasm supports stride 1 only; train strided convolutions elsewhere.'
        );
      }
      const [n, h, w, c] = x.shape as Shape4;
      const [, oh, ow, co] = dy.shape as Shape4;
      const [kh, kw, ci, fo] = filterShape;
      const out = conv3d.kernelFunc({
        inputs: {
          x: { dataId: x.dataId, dtype: x.dtype, shape: [n, 1, h, w, c] },
          dy: { dataId: dy.dataId, dtype: dy.dtype, shape: [n, 1, oh, ow, co] }
        },
        backend,
        attrs: { strides: [1, sh, sw], pad, filterShape: [1, kh, kw, ci, fo] }
      }) as tf.TensorInfo;
      return { dataId: out.dataId, dtype: out.dtype, shape: filterShape };
    }
  });
  registered = true;
}

/**
 * Whether a model needs a gradient kernel the wasm backend lacks even with the one above: a strided
 * convolution, or an embedding (UnsortedSegmentSum, the gradient of a gather).
 */
export function needsWasmMissingKernels(model: ModelSpec): false | 'strided convolution' | 'embedding' {
  if (model.kind === 'text_embedding') return 'embedding';
  if (model.kind === 'cnn' && model.layers.some((l) => l.kind === 'conv2d' && l.stride > 1)) {
    return 'strided convolution';
  }
  return false;
}
