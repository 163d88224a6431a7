import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelSpec } from '../models/model-spec';
import { needsWasmMissingKernels, registerWasmConvGradients } from './wasm-conv-gradients';

const WASM_DIR = fileURLToPath(
  new URL('../../../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)
);

beforeAll(async () => {
  setWasmPaths(`${path.resolve(WASM_DIR)}/`);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await tf.setBackend('wasm');
  registerWasmConvGradients();
});

/** Gradients of a small conv stack's loss w.r.t. its filters, on the active backend. */
async function filterGradients(stride: number, padding: 'same' | 'valid'): Promise<Float32Array[]> {
  const random = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);
  const x = random([3, 9, 8, 2], 1);
  const f1 = tf.variable(random([3, 3, 2, 4], 2));
  const f2 = tf.variable(random([2, 2, 4, 3], 3));
  const { value, grads } = tf.variableGrads(() => {
    const a = tf.relu(tf.conv2d(x as tf.Tensor4D, f1 as tf.Tensor4D, stride, padding));
    const b = tf.conv2d(a, f2 as tf.Tensor4D, 1, padding);
    return tf.sum(tf.square(b));
  }, [f1, f2]);
  const out = await Promise.all([f1, f2].map((f) => grads[f.name]?.data() as Promise<Float32Array>));
  tf.dispose([x, f1, f2, value, ...Object.values(grads)]);
  return out;
}

describe('Conv2DBackpropFilter on wasm', () => {
  it('refuses strided convolutions rather than give wrong gradients', async () => {
    await tf.setBackend('wasm');
    await expect(filterGradients(2, 'same')).rejects.toThrow(/stride 1 only/);
  });

  it('leaves strided convolutions and embeddings to other backends', () => {
    const cnn = (stride: number) =>
      modelSpec.parse({ kind: 'cnn', layers: [{ kind: 'conv2d', filters: 2, stride }, { kind: 'flatten' }] });
    expect(needsWasmMissingKernels(cnn(1))).toBe(false);
    expect(needsWasmMissingKernels(cnn(2))).toBe('strided convolution');
    expect(needsWasmMissingKernels(modelSpec.parse({ kind: 'text_embedding', layers: [] }))).toBe(
      'embedding'
    );
    expect(needsWasmMissingKernels(modelSpec.parse({ kind: 'mlp', layers: [] }))).toBe(false);
  });

  it('matches the cpu backend’s filter gradients with both paddings', async () => {
    for (const padding of ['same', 'valid'] as const) {
      const stride = 1;
      await tf.setBackend('wasm');
      const onWasm = await filterGradients(stride, padding);
      await tf.setBackend('cpu');
      const onCpu = await filterGradients(stride, padding);
      onWasm.forEach((g, i) => {
        const reference = onCpu[i] ?? new Float32Array();
        expect(g.length).toBe(reference.length);
        g.forEach((v, j) => expect(v).toBeCloseTo(reference[j] ?? NaN, 3));
      });
    }
  });
});
