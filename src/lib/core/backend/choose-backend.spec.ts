import { describe, expect, it } from 'vitest';
import { chooseBackend, formatMs, type BackendProbe } from './choose-backend';
import type { BackendName } from '../records';

function probe(name: BackendName, patch: Partial<BackendProbe> = {}): BackendProbe {
  return { name, available: true, isSoftware: false, supportsConvGradients: name !== 'wasm', ...patch };
}

const none = { needsConvGradients: false };

describe('chooseBackend', () => {
  it('picks the fastest calibrated backend and says what it beat', () => {
    const choice = chooseBackend(
      [
        probe('webgpu', { available: false, reasonUnavailable: 'no WebGPU adapter' }),
        probe('webgl', { msPerStep: 9.8 }),
        probe('wasm', { msPerStep: 3.1 }),
        probe('cpu', { msPerStep: 41 })
      ],
      none
    );
    expect(choice.backend).toBe('wasm');
    expect(choice.reason).toBe(
      'wasm: 3.1 ms/step, faster than webgl (9.8 ms/step) and cpu (41 ms/step); WebGPU is not available (no WebGPU adapter)'
    );
    expect(choice.ranking.map((r) => [r.name, r.verdict])).toEqual([
      ['wasm', 'chosen'],
      ['webgl', 'candidate'],
      ['cpu', 'candidate'],
      ['webgpu', 'unavailable']
    ]);
  });

  it('never lets a software adapter win over wasm, even when it measured faster', () => {
    const choice = chooseBackend(
      [
        probe('webgpu', { isSoftware: true, softwareName: 'SwiftShader', msPerStep: 1 }),
        probe('webgl', { isSoftware: true, softwareName: 'SwiftShader' }),
        probe('wasm', { msPerStep: 3.1 }),
        probe('cpu', { msPerStep: 40 })
      ],
      none
    );
    expect(choice.backend).toBe('wasm');
    expect(choice.reason).toContain(
      'WebGPU is a software adapter (SwiftShader) and is not used unless chosen in Settings'
    );
    expect(choice.reason).toContain('WebGL is a software adapter (SwiftShader)');
    expect(choice.ranking.find((r) => r.name === 'webgpu')?.verdict).toBe('software');
    // Software adapters are still usable, after every hardware backend.
    expect(choice.ranking.map((r) => r.name)).toEqual(['wasm', 'cpu', 'webgpu', 'webgl']);
  });

  it('prefers webgpu > webgl > wasm > cpu when timings tie within the tolerance', () => {
    const choice = chooseBackend(
      [
        probe('webgpu', { msPerStep: 3.2 }),
        probe('webgl', { msPerStep: 3.16 }),
        probe('wasm', { msPerStep: 3.1 }),
        probe('cpu')
      ],
      none
    );
    expect(choice.backend).toBe('webgpu');
    expect(choice.reason).toBe(
      'webgpu: 3.2 ms/step, within 5% of webgl (3.2 ms/step) and wasm (3.1 ms/step); webgpu is preferred on ties'
    );
  });

  it('does not treat a clearly faster backend as a tie', () => {
    const choice = chooseBackend(
      [probe('webgpu', { msPerStep: 3.4 }), probe('wasm', { msPerStep: 3.1 }), probe('cpu')],
      none
    );
    expect(choice.backend).toBe('wasm');
  });

  it('falls back to the preference order when nothing is calibrated', () => {
    const choice = chooseBackend([probe('webgpu'), probe('webgl'), probe('wasm'), probe('cpu')], none);
    expect(choice.backend).toBe('webgpu');
    expect(choice.reason).toBe(
      'webgpu: first usable backend in the order webgpu > webgl > wasm > cpu (not calibrated)'
    );
  });

  it('ranks a measured backend above an unmeasured one', () => {
    const choice = chooseBackend([probe('webgl'), probe('wasm', { msPerStep: 5 }), probe('cpu')], none);
    expect(choice.backend).toBe('wasm');
    expect(choice.ranking.map((r) => r.name)).toEqual(['wasm', 'webgl', 'cpu', 'webgpu']);
    expect(choice.ranking.at(-1)).toMatchObject({
      name: 'webgpu',
      verdict: 'unavailable',
      note: 'not available: not probed'
    });
  });

  it('lets an available override win, and says so along with the automatic choice', () => {
    const choice = chooseBackend(
      [
        probe('webgpu', { isSoftware: true, softwareName: 'SwiftShader' }),
        probe('webgl', { msPerStep: 9.8 }),
        probe('wasm', { msPerStep: 3.1 }),
        probe('cpu', { msPerStep: 40 })
      ],
      none,
      'webgpu'
    );
    expect(choice.backend).toBe('webgpu');
    expect(choice.reason).toBe(
      'webgpu: chosen in Settings (SwiftShader software adapter); the automatic choice would be wasm (3.1 ms/step)'
    );
    expect(choice.ranking[0]).toMatchObject({ name: 'webgpu', verdict: 'chosen' });
  });

  it('ignores an override that is not available and explains why', () => {
    const choice = chooseBackend(
      [
        probe('webgpu', { available: false, reasonUnavailable: 'this browser does not expose WebGPU' }),
        probe('wasm', { msPerStep: 3 }),
        probe('cpu', { msPerStep: 30 })
      ],
      none,
      'webgpu'
    );
    expect(choice.backend).toBe('wasm');
    expect(choice.reason).toBe(
      'wasm: 3.0 ms/step, faster than cpu (30 ms/step); WebGPU was chosen in Settings but cannot be used (this browser does not expose WebGPU); WebGL is not available (not probed)'
    );
  });

  it('skips backends without the gradients a model needs', () => {
    const choice = chooseBackend(
      [
        probe('webgpu', { available: false }),
        probe('webgl', { available: false }),
        probe('wasm', { msPerStep: 1 }),
        probe('cpu', { msPerStep: 50 })
      ],
      { needsConvGradients: true }
    );
    expect(choice.backend).toBe('cpu');
    expect(choice.reason).toContain('WebAssembly lacks the convolution gradients this model needs');
    expect(choice.ranking.find((r) => r.name === 'wasm')?.verdict).toBe('unsupported');
  });

  it('uses a software adapter when it is the only usable backend', () => {
    const choice = chooseBackend(
      [
        probe('webgl', { isSoftware: true, softwareName: 'llvmpipe' }),
        probe('wasm', { available: false }),
        probe('cpu', { available: false })
      ],
      none
    );
    expect(choice.backend).toBe('webgl');
    expect(choice.reason).toContain('the only usable backend is a software adapter (llvmpipe)');
  });

  it('throws a readable error when nothing can train', () => {
    expect(() => chooseBackend([], none)).toThrowError(/No training backend works in this browser/);
  });

  it('ignores non-finite or non-positive timings', () => {
    const choice = chooseBackend(
      [
        probe('webgl', { msPerStep: 0 }),
        probe('wasm', { msPerStep: Number.NaN }),
        probe('cpu', { msPerStep: 20 })
      ],
      none
    );
    expect(choice.backend).toBe('cpu');
  });
});

describe('formatMs', () => {
  it('keeps about two significant digits', () => {
    expect(formatMs(0.456)).toBe('0.46 ms');
    expect(formatMs(3.14)).toBe('3.1 ms');
    expect(formatMs(41.4)).toBe('41 ms');
  });
});
