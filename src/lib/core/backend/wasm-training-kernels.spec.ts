import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelSpec, trainingSpec } from '../models/model-spec';
import { buildNetwork, readParams } from '../models/network';
import { createOptimizer } from '../models/optimizers';
import { stripeImages } from '../models/test-data';
import { fitNetwork } from '../models/trainer';
import { conv, dense, FUSED_ADAM_STEP, FUSED_CONV, FUSED_DENSE } from './fused-kernels';
import { simdKernelsFor } from './simd-kernels';
import { registerWasmTrainingKernels } from './wasm-training-kernels';

const WASM_DIR = fileURLToPath(
  new URL('../../../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)
);

beforeAll(async () => {
  setWasmPaths(`${path.resolve(WASM_DIR)}/`);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
});

const random = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

/** Runs `f` on wasm and on cpu and expects the same values (to 4 significant decimals). */
async function sameOnBoth(f: () => tf.Tensor[]): Promise<void> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const before = tf.engine().backend.numDataIds();
    const outs = tf.tidy(f);
    const values = await Promise.all(outs.map((t) => t.data()));
    const shapes = outs.map((t) => t.shape);
    tf.dispose(outs);
    // Nothing leaks: every intermediate a kernel made is freed.
    expect(tf.engine().backend.numDataIds()).toBe(before);
    return { values, shapes };
  };
  const onWasm = await run('wasm');
  const onCpu = await run('cpu');
  await tf.setBackend('wasm');
  expect(onWasm.shapes).toEqual(onCpu.shapes);
  onWasm.values.forEach((v, i) => {
    const reference = onCpu.values[i] as Float32Array;
    expect(v.length).toBe(reference.length);
    // Float32 sums in another order: within 1e-4, relative to the value where it is above 1.
    let worst = 0;
    v.forEach((x, j) => {
      const r = reference[j] ?? NaN;
      worst = Math.max(worst, Math.abs(x - r) / Math.max(1, Math.abs(r)));
    });
    expect(worst).toBeLessThan(1e-4);
  });
}

/** Gradients of a scalar loss w.r.t. `vars`, as fresh tensors. */
function gradients(loss: () => tf.Scalar, vars: tf.Variable[]): tf.Tensor[] {
  const { value, grads } = tf.variableGrads(loss, vars);
  value.dispose();
  return vars.map((v) => grads[v.name] as tf.Tensor);
}

describe('wasm training kernels', () => {
  it('multiplies with transposed operands like the cpu backend (2-D and batched)', async () => {
    await sameOnBoth(() =>
      tf.tidy(() => {
        const a = random([5, 7], 1);
        const b = random([7, 3], 2);
        const at = random([7, 5], 3);
        const bt = random([3, 7], 4);
        const batchedA = random([2, 4, 6], 5);
        const batchedB = random([2, 3, 6], 6);
        return [
          tf.matMul(a, b),
          tf.matMul(at, b, true, false),
          tf.matMul(a, bt, false, true),
          tf.matMul(at, bt, true, true),
          tf.matMul(batchedA, batchedB, false, true),
          tf.matMul(batchedA, batchedA, true, false)
        ];
      })
    );
  });

  for (const [stride, padding] of [
    [1, 'same'],
    [1, 'valid'],
    [2, 'same'],
    [2, 'valid'],
    [3, 'valid']
  ] as const) {
    it(`gives the cpu backend's convolution gradients (stride ${stride}, ${padding})`, async () => {
      await sameOnBoth(() => {
        const x = random([3, 9, 8, 2], 1);
        const f1 = tf.variable(random([3, 3, 2, 4], 2));
        const f2 = tf.variable(random([2, 2, 4, 3], 3));
        const input = tf.variable(x);
        const out = gradients(() => {
          const a = tf.relu(tf.conv2d(input as tf.Tensor4D, f1 as tf.Tensor4D, stride, padding));
          const b = tf.conv2d(a, f2 as tf.Tensor4D, 1, padding);
          return tf.sum(tf.square(b));
        }, [f1, f2, input]);
        tf.dispose([x, f1, f2, input]);
        return out;
      });
    });
  }

  it('runs its SIMD kernels on the wasm heap here (else the cases below would test the fallbacks)', () => {
    const backend = tf.findBackend('wasm') as unknown as Parameters<typeof simdKernelsFor>[0] & {
      wasm: Parameters<typeof simdKernelsFor>[0];
    };
    expect(simdKernelsFor(backend.wasm)).not.toBeNull();
  });

  // The SIMD filter gradient tiles 16 output channels × 2 input channels, then 16 × 1 for an odd channel
  // count, then 4 × 1 for the outputs past the last 16: 20 outputs over 3 channels takes all three.
  for (const [kernel, stride, padding, channels, filters] of [
    [3, 1, 'same', 3, 20],
    [3, 2, 'same', 3, 20],
    [5, 2, 'same', 2, 16],
    [3, 1, 'valid', 16, 32],
    [2, 3, 'valid', 5, 8]
  ] as const) {
    it(`gives the cpu backend's filter gradient for ${kernel}×${kernel}, stride ${stride}, ${padding}, ${channels}→${filters} channels`, async () => {
      await sameOnBoth(() => {
        const x = random([3, 11, 10, channels], 11);
        const filter = tf.variable(random([kernel, kernel, channels, filters], 12));
        const out = gradients(
          () => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, stride, padding))),
          [filter]
        );
        tf.dispose([x, filter]);
        return out;
      });
    });
  }

  it('sends a 2×2 max pool’s gradient to the first maximum on the SIMD path, odd sizes and ties included', async () => {
    await sameOnBoth(() => {
      const flat = tf.fill([1, 7, 5, 8], 0.5);
      const steps = tf.round(tf.mul(random([2, 7, 5, 8], 13), 2));
      const x = tf.variable(tf.concat([flat, steps, random([2, 7, 5, 8], 14)]));
      const even = tf.variable(random([2, 6, 4, 4], 15));
      const out = [
        ...gradients(
          () => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), random([5, 3, 2, 8], 16))),
          [x]
        ),
        ...gradients(() => tf.sum(tf.square(tf.maxPool(even as tf.Tensor4D, 2, 2, 'valid'))), [even])
      ];
      tf.dispose([flat, steps, x, even]);
      return out;
    });
  });

  it('sends a max pool’s gradient to the first maximum of each window, ties included', async () => {
    await sameOnBoth(() => {
      // Flat regions: every window of the first image is one repeated value.
      const flat = tf.fill([1, 6, 6, 2], 0.5);
      const x = tf.variable(tf.concat([flat, random([2, 6, 6, 2], 4)]));
      const out = [
        ...gradients(() => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), 3)), [x]),
        ...gradients(() => tf.sum(tf.square(tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'))), [x])
      ];
      tf.dispose([flat, x]);
      return out;
    });
  });

  // The fused dense layer (one kernel forward, one backward) against matMul, add and relu on cpu; the
  // widths cover the SIMD product's 8- and 4-column tiles and single columns, the rows its 4-row tiles.
  for (const [rows, inputs, units, activation] of [
    [7, 5, 13, 'relu'],
    [9, 32, 64, 'relu'],
    [6, 64, 3, 'linear'],
    [256, 20, 4, 'relu']
  ] as const) {
    it(`computes a ${activation} dense layer (${rows}×${inputs} → ${units}) and its gradients like the cpu backend`, async () => {
      expect(tf.getKernel(FUSED_DENSE, 'wasm')).toBeDefined();
      await sameOnBoth(() => {
        const x = tf.variable(random([rows, inputs], 18));
        const w = tf.variable(random([inputs, units], 19));
        const b = tf.variable(random([units], 20));
        const weights = random([rows, units], 21);
        const forward = dense(x as tf.Tensor2D, w, b, activation);
        const out = [
          forward,
          ...gradients(() => tf.sum(tf.mul(dense(x as tf.Tensor2D, w, b, activation), weights)), [x, w, b])
        ];
        tf.dispose([x, w, b, weights]);
        return out;
      });
    });
  }

  // The fused convolution layer (XNNPACK's fused forward; activation and bias gradients in one kernel).
  for (const [stride, padding, activation] of [
    [1, 'same', 'relu'],
    [2, 'valid', 'relu'],
    [1, 'valid', 'linear']
  ] as const) {
    it(`computes a ${activation} convolution layer (stride ${stride}, ${padding}) and its gradients like the cpu backend`, async () => {
      expect(tf.getKernel(FUSED_CONV, 'wasm')).toBeDefined();
      await sameOnBoth(() => {
        const x = tf.variable(random([2, 9, 8, 3], 22));
        const filter = tf.variable(random([3, 3, 3, 8], 23));
        const b = tf.variable(random([8], 24));
        const layer = () => conv(x as tf.Tensor4D, filter, b, stride, padding, activation);
        const forward = layer();
        const weights = tf.randomUniform(forward.shape, -1, 1, 'float32', 25);
        const out = [forward, ...gradients(() => tf.sum(tf.mul(layer(), weights)), [x, filter, b])];
        tf.dispose([x, filter, b, weights]);
        return out;
      });
    });
  }

  it('takes the fused layers away where the SIMD kernels cannot be bound, and the layers use the ops', async () => {
    const setups = [FUSED_DENSE, FUSED_CONV].map((name) => tf.getKernel(name, 'wasm')?.setupFunc);
    expect(setups.every((setup) => setup !== undefined)).toBe(true);
    // A backend whose memory the kernels cannot reach (the setups tfjs runs as a backend starts).
    for (const setup of setups) setup?.({ wasm: {} } as unknown as tf.KernelBackend);
    try {
      expect(tf.getKernel(FUSED_DENSE, 'wasm')).toBeUndefined();
      expect(tf.getKernel(FUSED_CONV, 'wasm')).toBeUndefined();
      await sameOnBoth(() => {
        const x = random([5, 4], 26);
        const w = random([4, 6], 27);
        const b = random([6], 28);
        return [dense(x as tf.Tensor2D, w, b, 'relu')];
      });
    } finally {
      registerWasmTrainingKernels();
    }
    expect(tf.getKernel(FUSED_DENSE, 'wasm')).toBeDefined();
  });

  it('slices like the cpu backend, contiguous or not', async () => {
    await sameOnBoth(() => {
      const order = tf.tensor1d([5, 3, 9, 1, 0, 7], 'int32');
      const x = random([4, 5, 3], 17);
      return [
        tf.slice(order, [2], [3]),
        tf.slice(x, [1, 0, 0], [2, 5, 3]),
        tf.slice(x, [1, 2, 1], [3, 2, 2]),
        tf.slice(x, [3], [-1])
      ];
    });
  });

  it('gathers rows and sums an embedding’s gradient like the cpu backend', async () => {
    await sameOnBoth(() => {
      const table = tf.variable(random([6, 4], 5));
      const ids = tf.tensor1d([0, 5, 2, 2, 5, 5, 1], 'int32');
      const images = random([4, 3, 2, 2], 6);
      const out = [
        tf.gather(images, tf.tensor1d([3, 0, 3], 'int32')),
        ...gradients(() => tf.sum(tf.square(tf.gather(table, ids))), [table])
      ];
      tf.dispose([table, ids, images]);
      return out;
    });
  });

  it('sums over leading axes (bias gradients) and any others like the cpu backend', async () => {
    await sameOnBoth(() => {
      const x = random([4, 5, 3, 6], 7);
      return [
        tf.sum(x, [0, 1, 2]),
        tf.sum(x, [0]),
        tf.sum(x, [1, 0], true),
        tf.sum(x, [1, 3]),
        tf.sum(x),
        tf.sum(tf.tensor1d([1, 2, 3], 'int32'))
      ];
    });
  });

  it('takes Adam and AdamW steps in one kernel, like the ops on the cpu backend', async () => {
    expect(tf.getKernel(FUSED_ADAM_STEP, 'wasm')).toBeDefined();
    expect(tf.getKernel(FUSED_ADAM_STEP, 'cpu')).toBeUndefined();
    await sameOnBoth(() => {
      const out: tf.Tensor[] = [];
      for (const kind of ['adam', 'adamw'] as const) {
        const param = { name: 'w', variable: tf.variable(random([5, 3], 8)), trainable: true, decays: true };
        const optimizer = createOptimizer({
          kind,
          learningRate: 0.05,
          beta1: 0.9,
          beta2: 0.99,
          epsilon: 1e-7,
          weightDecay: 0.5
        });
        for (let step = 0; step < 3; step++) {
          const grad = random([5, 3], 10 + step);
          optimizer.apply([param], { w: grad }, 0.05);
          grad.dispose();
        }
        out.push(param.variable.clone());
        optimizer.dispose();
        param.variable.dispose();
      }
      return out;
    });
  });

  it('trains a strided CNN with batch norm to the weights the cpu backend reaches', async () => {
    const { pixels, labels } = stripeImages(40, 5);
    const train = async (backend: string) => {
      await tf.setBackend(backend);
      const network = buildNetwork(
        modelSpec.parse({
          kind: 'cnn',
          layers: [
            { kind: 'conv2d', filters: 4, kernelSize: 3, stride: 2, padding: 'same' },
            { kind: 'batch_norm' },
            { kind: 'conv2d', filters: 6, kernelSize: 2 },
            { kind: 'max_pool2d', size: 2 },
            { kind: 'flatten' },
            { kind: 'dense', units: 5, activation: 'relu' }
          ]
        }),
        { inputShape: [8, 8, 1], outputUnits: 2 },
        11
      );
      const xTrain = tf.tensor4d(pixels, [40, 8, 8, 1]);
      await fitNetwork(
        network,
        {
          task: 'classification',
          classes: 2,
          xTrain,
          yTrain: labels,
          xValidation: null,
          yValidation: null,
          targetScale: { mean: 0, std: 1 },
          classWeights: null
        },
        trainingSpec.parse({ epochs: 3, batchSize: 8, optimizer: { kind: 'adamw', learningRate: 0.01 } }),
        1,
        { yieldToEventLoop: () => Promise.resolve() }
      );
      const params = await readParams(network);
      network.dispose();
      xTrain.dispose();
      return params;
    };
    const onWasm = await train('wasm');
    const onCpu = await train('cpu');
    await tf.setBackend('wasm');
    expect([...onWasm.keys()]).toEqual([...onCpu.keys()]);
    for (const [name, values] of onWasm) {
      const reference = onCpu.get(name) as Float32Array;
      values.forEach((v, i) => expect(Math.abs(v - (reference[i] ?? NaN))).toBeLessThan(1e-3));
    }
  });
});
