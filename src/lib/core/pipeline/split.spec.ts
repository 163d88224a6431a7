import { describe, expect, it } from 'vitest';
import { seededRandom, splitIndices } from './split';

describe('seededRandom', () => {
  it('keeps the mulberry32 sequence of a seed', () => {
    /** mulberry32 as published, its state a plain number. */
    function mulberry32(seed: number): () => number {
      let a = seed >>> 0;
      return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
      };
    }
    for (const seed of [0, 1, 7, -3, 2 ** 31 + 5, 123_456_789]) {
      const ours = seededRandom(seed);
      const reference = mulberry32(seed);
      for (let i = 0; i < 2000; i++) expect(ours()).toBe(reference());
    }
  });

  it('repeats for a seed, differs between seeds and stays in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('splitIndices', () => {
  it('is reproducible for a seed and different for another seed', () => {
    const a = splitIndices(500, 0.2, 7);
    expect(splitIndices(500, 0.2, 7)).toEqual(a);
    expect(splitIndices(500, 0.2, 8).test).not.toEqual(a.test);
  });

  it('splits into disjoint, sorted sets that cover every index, with round(n * fraction) test rows', () => {
    for (const [n, fraction] of [
      [150, 0.2],
      [101, 0.25],
      [10, 0.33]
    ] as const) {
      const { train, test } = splitIndices(n, fraction, 123);
      expect(test.length).toBe(Math.round(n * fraction));
      expect(train.length + test.length).toBe(n);
      const all = [...train, ...test].sort((x, y) => x - y);
      expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
      expect([...train]).toEqual([...train].sort((x, y) => x - y));
      expect([...test]).toEqual([...test].sort((x, y) => x - y));
    }
  });

  it('keeps at least one row on each side when n ≥ 2', () => {
    expect(splitIndices(2, 0.01, 1).test.length).toBe(1);
    expect(splitIndices(2, 0.99, 1).train.length).toBe(1);
    expect(splitIndices(10, 0.01, 1).test.length).toBe(1);
    expect(splitIndices(1, 0.5, 1)).toEqual({ train: new Uint32Array([0]), test: new Uint32Array([]) });
    expect(splitIndices(0, 0.5, 1)).toEqual({ train: new Uint32Array([]), test: new Uint32Array([]) });
  });

  it('rejects a fraction outside (0, 1) and a bad row count', () => {
    expect(() => splitIndices(10, 0, 1)).toThrow(/fraction/);
    expect(() => splitIndices(10, 1, 1)).toThrow(/fraction/);
    expect(() => splitIndices(-1, 0.2, 1)).toThrow(/row count/);
  });
});
