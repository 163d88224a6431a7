import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { runMicroBenchmark } from './micro-benchmark';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('runMicroBenchmark', () => {
  it('times training steps on the active backend and cleans up after itself', async () => {
    const before = tf.memory().numTensors;
    const result = await runMicroBenchmark({ steps: 3 });
    expect(result.steps).toBe(3);
    expect(result.msPerStep).toBeGreaterThan(0);
    expect(Number.isFinite(result.warmupMs)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops early once its time budget is spent, keeping at least one timed step', async () => {
    let t = 0;
    // Every clock read advances 100 ms, so the first timed step already exceeds a 50 ms budget.
    const result = await runMicroBenchmark({ steps: 10, budgetMs: 50, now: () => (t += 100) });
    expect(result.steps).toBe(1);
  });
});
