import { describe, expect, it } from 'vitest';
import {
  CALIBRATION_FORMAT,
  calibrationCacheKey,
  medianMs,
  mergeCalibration,
  msPerStepOf,
  parseCalibrationRecord,
  type CalibrationContext
} from './calibration';
import { softwareRendererName } from './adapter';

const context: CalibrationContext = {
  userAgent: 'Mozilla/5.0 Chrome/140',
  gpuAdapter: 'nvidia/ampere/0x2204/',
  glRenderer: 'ANGLE (NVIDIA GeForce RTX 3090)',
  tfjsVersion: '4.22.0',
  wasmThreads: 8
};

describe('calibrationCacheKey', () => {
  it('is stable for the same browser, adapter and tfjs version', () => {
    expect(calibrationCacheKey(context)).toBe(calibrationCacheKey({ ...context }));
    expect(calibrationCacheKey(context)).toMatch(/^backend-calibration:v1\|/);
  });

  it('changes when anything that changes speed changes', () => {
    const key = calibrationCacheKey(context);
    expect(calibrationCacheKey({ ...context, userAgent: 'Mozilla/5.0 Chrome/141' })).not.toBe(key);
    expect(calibrationCacheKey({ ...context, gpuAdapter: null })).not.toBe(key);
    expect(calibrationCacheKey({ ...context, glRenderer: 'SwiftShader' })).not.toBe(key);
    expect(calibrationCacheKey({ ...context, tfjsVersion: '4.23.0' })).not.toBe(key);
    expect(calibrationCacheKey({ ...context, wasmThreads: 1 })).not.toBe(key);
  });
});

describe('calibration records', () => {
  it('round-trips a record through parse', () => {
    const record = mergeCalibration(
      null,
      { wasm: { msPerStep: 3.1 }, cpu: { msPerStep: 40 } },
      1_700_000_000_000
    );
    expect(parseCalibrationRecord(structuredClone(record))).toEqual(record);
    expect(msPerStepOf(record, 'wasm')).toBe(3.1);
    expect(msPerStepOf(record, 'webgpu')).toBeUndefined();
  });

  it('treats missing, old-format or damaged records as absent', () => {
    expect(parseCalibrationRecord(undefined)).toBeNull();
    expect(parseCalibrationRecord({ format: CALIBRATION_FORMAT + 1, measuredAt: 1, entries: {} })).toBeNull();
    expect(
      parseCalibrationRecord({
        format: CALIBRATION_FORMAT,
        measuredAt: 1,
        entries: { wasm: { msPerStep: -1 } }
      })
    ).toBeNull();
    expect(
      parseCalibrationRecord({
        format: CALIBRATION_FORMAT,
        measuredAt: 1,
        entries: { tpu: { msPerStep: 1 } }
      })
    ).toBeNull();
    expect(msPerStepOf(null, 'cpu')).toBeUndefined();
  });

  it('keeps earlier timings of backends that were not measured again', () => {
    const first = mergeCalibration(null, { wasm: { msPerStep: 3 }, cpu: { msPerStep: 40 } }, 1);
    const second = mergeCalibration(first, { wasm: { msPerStep: 2.5 } }, 2);
    expect(second).toEqual({
      format: CALIBRATION_FORMAT,
      measuredAt: 2,
      entries: { wasm: { msPerStep: 2.5 }, cpu: { msPerStep: 40 } }
    });
  });
});

describe('medianMs', () => {
  it('ignores one slow outlier', () => {
    expect(medianMs([3, 3.2, 250, 3.1, 2.9])).toBe(3.1);
    expect(medianMs([4, 2])).toBe(3);
    expect(() => medianMs([])).toThrow(RangeError);
  });
});

describe('softwareRendererName', () => {
  it('recognises software rasterisers in adapter and renderer strings', () => {
    expect(
      softwareRendererName(
        'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)'
      )
    ).toBe('SwiftShader');
    expect(softwareRendererName('', 'swiftshader', 'google')).toBe('SwiftShader');
    expect(softwareRendererName('llvmpipe (LLVM 15.0.7, 256 bits)')).toBe('llvmpipe');
    expect(softwareRendererName('Microsoft Basic Render Driver')).toBe('Microsoft Basic Render Driver');
  });

  it('does not flag hardware adapters', () => {
    expect(
      softwareRendererName('ANGLE (NVIDIA, NVIDIA GeForce RTX 3090 Direct3D11 vs_5_0 ps_5_0)')
    ).toBeNull();
    expect(softwareRendererName('Apple M2', null, undefined)).toBeNull();
    expect(softwareRendererName('AMD Radeon Pro W6800 (radeonsi, navi21, LLVM 15.0.7)')).toBeNull();
  });
});
