import { describe, expect, it } from 'vitest';
import { summarize, times } from './bench-summary.mjs';

const swiftShader = [
  { name: 'webgpu', isSoftware: true, softwareName: 'SwiftShader' },
  { name: 'webgl', isSoftware: true, softwareName: 'SwiftShader' },
  { name: 'wasm', isSoftware: false },
  { name: 'cpu', isSoftware: false }
];

function timing(backend: string, steady: number, first = steady / 2, extra: object = {}) {
  return {
    ran: true,
    used: backend,
    reason: `${backend}: chosen in Settings`,
    adapter: null,
    threads: backend === 'wasm' ? 1 : null,
    steadySamplesPerSec: steady,
    firstEpochSamplesPerSec: first,
    ...extra
  };
}

const torch = {
  available: true,
  torch: '1.13.1',
  threads: 1,
  models: { mlp: { steadySamplesPerSec: 40_000, firstEpochSamplesPerSec: 20_000 } }
};

describe('summarize', () => {
  it('names the fastest backend, the software adapters it beat and its ratio to PyTorch', () => {
    const s = summarize(
      'mlp',
      {
        webgpu: timing('webgpu', 1_000),
        webgl: timing('webgl', 2_500),
        wasm: timing('wasm', 20_000),
        cpu: timing('cpu', 5_000)
      },
      swiftShader,
      torch
    );
    expect(s.winner).toBe('wasm');
    expect(s.winnerSoftware).toBe(false);
    expect(s.ratioToPytorch).toBeCloseTo(0.5);
    expect(s.firstEpochRatioToPytorch).toBeCloseTo(0.5);
    expect(s.why).toBe(
      'wasm won at 20,000 samples/s (1 thread); WebGPU and WebGL run on SwiftShader (software, no GPU), ' +
        '20× and 8.0× slower; cpu 4.0× slower; PyTorch 1.13.1 on the CPU (1 thread) is 2.0× faster.'
    );
  });

  it('names a hardware adapter when a GPU backend wins, and the backend that cannot train the model', () => {
    const s = summarize(
      'cnn',
      {
        webgpu: timing('webgpu', 9_000, 3_000, { adapter: { description: 'NVIDIA H100', vendor: 'nvidia' } }),
        wasm: {
          ran: false,
          used: 'cpu',
          reason:
            'cpu: 60 ms/step, the only calibrated backend; WebAssembly was chosen in Settings but cannot be used (lacks what this model needs); WebGL is a software adapter'
        },
        cpu: timing('cpu', 300, 3_500)
      },
      [
        { name: 'webgpu', isSoftware: false },
        { name: 'wasm', isSoftware: false },
        { name: 'cpu', isSoftware: false }
      ],
      { available: true, torch: '2.3', threads: 8, models: { cnn: { steadySamplesPerSec: 3_000 } } }
    );
    expect(s.winner).toBe('webgpu');
    expect(s.firstEpochWinner).toBe('cpu');
    expect(s.ratioToPytorch).toBeCloseTo(3);
    expect(s.why).toContain('webgpu won on NVIDIA H100 at 9,000 samples/s');
    expect(s.why).toContain('cpu 30× slower');
    expect(s.why).toContain(
      'wasm cannot train it, the worker used cpu ("WebAssembly was chosen in Settings but cannot be used (lacks what this model needs)")'
    );
    expect(s.why).toContain('3.0× as fast as PyTorch 2.3 on the CPU (8 threads)');
    expect(s.why).toContain('the first epoch was fastest on cpu');
  });

  it('ignores fallbacks, failures and runs without a steady epoch when picking the winner', () => {
    const s = summarize(
      'mlp',
      {
        webgpu: { ran: false, error: 'timed out after 240 s' },
        webgl: { ran: false, available: false, reasonUnavailable: 'no WebGL2 context' },
        wasm: { ran: false, used: 'cpu', reason: 'fell back' },
        cpu: timing('cpu', 5_000)
      },
      swiftShader,
      { available: false, reason: 'not installed' }
    );
    expect(s.winner).toBe('cpu');
    expect(s.ratioToPytorch).toBeNull();
    expect(s.why).toContain('webgpu failed (timed out after 240 s)');
    expect(s.why).toContain('wasm cannot train it, the worker used cpu;');
    expect(s.why).toContain('webgl is unavailable (no WebGL2 context)');
    expect(s.why).toContain('PyTorch not installed');
  });

  it('says so when nothing completed', () => {
    expect(summarize('cnn', { wasm: { ran: false, error: 'boom' } }, swiftShader, torch)).toMatchObject({
      winner: null,
      ratioToPytorch: null
    });
  });

  it('formats ratios with one decimal below 10', () => {
    expect(times(2.04)).toBe('2.0×');
    expect(times(12.6)).toBe('13×');
  });
});
