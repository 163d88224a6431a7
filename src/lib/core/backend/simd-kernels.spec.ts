import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { generatedKernelsModule } from '../../../../scripts/build-kernels.mjs';
import { simdKernelsFor } from './simd-kernels';

describe('SIMD training kernels', () => {
  it('are the committed build of assembly/training-kernels.ts (run scripts/build-kernels.mjs after editing it)', async () => {
    const committed = await readFile(new URL('./training-kernels.wasm.ts', import.meta.url), 'utf8');
    expect(committed).toBe(await generatedKernelsModule());
  }, 60_000);

  // tfjs-backend-wasm's multi-threaded build has a shared memory, which needs the other variant.
  for (const shared of [false, true]) {
    it(`run on ${shared ? 'a shared' : 'an ordinary'} memory they are given`, () => {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 32768, shared });
      const kernels = simdKernelsFor({ wasmMemory: memory });
      if (!kernels) throw new Error('the kernels did not instantiate');
      const heap = new Float32Array(memory.buffer);
      // One 2×2 window of 4 channels: channel by channel, the maximum sits at a different corner.
      heap.set([1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4], 0);
      heap.set([10, 20, 30, 40], 16);
      kernels.maxPool2x2Grad(0, 16 * 4, 20 * 4, 1, 2, 2, 4);
      expect([...heap.subarray(20, 36)]).toEqual([10, 0, 0, 0, 0, 20, 0, 0, 0, 0, 30, 0, 0, 0, 0, 40]);
      // The same pixels as a 1×1 convolution's input, with dy = 1 everywhere: dw[c, o] = Σ x[·, c].
      heap.fill(1, 40, 56);
      kernels.conv2dFilterGrad(0, 40 * 4, 60 * 4, 1, 2, 2, 4, 2, 2, 4, 1, 1, 1, 1, 0, 0);
      expect([...heap.subarray(60, 76)]).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]);
    });
  }
});
