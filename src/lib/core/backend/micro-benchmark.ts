/**
 * The calibration micro-benchmark: a few training steps of one dense layer on the active tfjs backend.
 * It is shaped like the work Lathe does (a batch of tabular rows, forward, backward, Adam), small
 * enough to finish in well under a second on any real backend.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core leaves gradients out so inference-only bundles stay small; training needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { medianMs } from './calibration';

export interface MicroBenchmarkOptions {
  rows?: number;
  features?: number;
  /** Timed steps after the warm-up. */
  steps?: number;
  /** Stop timing early once this much time was spent, keeping at least one timed step. */
  budgetMs?: number;
  now?: () => number;
}

export interface MicroBenchmarkResult {
  msPerStep: number;
  steps: number;
  /** The warm-up step: shader compilation, wasm instantiation, first uploads. */
  warmupMs: number;
}

/** Deterministic inputs without touching tfjs' global random state. */
function patternedMatrix(rows: number, cols: number, salt: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = Math.sin(i * 12.9898 + salt) * 0.5;
  return out;
}

export async function runMicroBenchmark(options: MicroBenchmarkOptions = {}): Promise<MicroBenchmarkResult> {
  const rows = options.rows ?? 256;
  const features = options.features ?? 32;
  const steps = options.steps ?? 5;
  const budgetMs = options.budgetMs ?? 2_000;
  const now = options.now ?? (() => performance.now());

  const x = tf.tensor2d(patternedMatrix(rows, features, 1), [rows, features]);
  const y = tf.tensor2d(patternedMatrix(rows, features, 2), [rows, features]);
  const initialW = tf.tensor2d(patternedMatrix(features, features, 3), [features, features]);
  const initialB = tf.zeros([features]);
  const w = tf.variable(initialW);
  const b = tf.variable(initialB);
  // Variables hold their own reference to the data; the initial tensors would otherwise leak.
  tf.dispose([initialW, initialB]);
  const optimizer = tf.train.adam(0.01);
  // Reading the loss back forces the step to finish: GPU backends otherwise return before running it.
  const step = async (): Promise<void> => {
    const loss = optimizer.minimize(
      () => tf.losses.meanSquaredError(y, tf.relu(tf.add(tf.matMul(x, w), b))),
      true,
      [w, b]
    );
    if (!loss) throw new Error('the optimizer returned no loss');
    await loss.data();
    loss.dispose();
  };
  try {
    let start = now();
    await step();
    const warmupMs = now() - start;
    const samples: number[] = [];
    const began = now();
    for (let i = 0; i < steps; i++) {
      start = now();
      await step();
      samples.push(now() - start);
      if (now() - began > budgetMs) break;
    }
    return { msPerStep: medianMs(samples), steps: samples.length, warmupMs };
  } finally {
    optimizer.dispose();
    tf.dispose([x, y, w, b]);
  }
}
