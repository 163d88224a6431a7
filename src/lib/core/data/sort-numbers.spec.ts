import { describe, expect, it } from 'vitest';
import { seededRandom } from '../pipeline/split';
import { SortScratch, sortNumbers } from './sort-numbers';

const DAY_MS = 86_400_000;

/** Element by element with `Object.is`, so −0 and +0 must come out where the built-in sort puts them. */
function expectSameOrder(actual: Float64Array, expected: Float64Array): void {
  expect(actual.length).toBe(expected.length);
  const first = actual.findIndex((x, i) => !Object.is(x, expected[i]));
  expect(first === -1 ? null : { at: first, actual: actual[first], expected: expected[first] }).toBeNull();
}

describe('sortNumbers', () => {
  const random = seededRandom(17);
  const n = 60_000;
  const from = (make: (i: number) => number, length = n): Float64Array =>
    Float64Array.from({ length }, (_, i) => make(i));
  const shapes: Record<string, Float64Array> = {
    // Spread floats: distributed into buckets.
    uniform: from(() => (random() - 0.5) * 1e4),
    sums: from(() => random() + random() + random() * random()),
    duplicates: from(() => Math.floor(random() * 300) / 7),
    // Whole numbers in a short range, and whole days: counted.
    small: from(() => Math.floor(random() * 50) - 25),
    days: from(() => Date.UTC(2020, 0, 1) + Math.floor(random() * 2000) * DAY_MS),
    // Whole numbers over a wide range, hashes and timestamps: buckets.
    wide: from(() => Math.floor(random() * 2 ** 32) * 2 ** 21 + Math.floor(random() * 2 ** 21)),
    // A few far-off values, a crowded bucket, −0, infinities, tiny numbers: the radix sort.
    skewed: from(() => Math.exp(random() * 40)),
    outliers: from((i) => (i % 997 === 0 ? 1e15 : random())),
    crowded: from(() => (random() < 0.6 ? 3 + random() * 1e-9 : random() * 100)),
    // A bucket too full to sort by insertion, sorted on its own (in buckets again).
    cluster: from(() => (random() < 0.3 ? 3 + random() * 1e-9 : random() * 100)),
    centuries: from(() => Math.floor((random() - 0.5) * 1e7) * DAY_MS),
    zeros: from((i) => (i % 7 === 0 ? -0 : i % 5 === 0 ? 0 : random() - 0.5)),
    infinite: from((i) =>
      i % 101 === 0 ? Number.POSITIVE_INFINITY : i % 103 === 0 ? Number.NEGATIVE_INFINITY : random()
    ),
    denormal: from(() => random() * 1e-320),
    extremes: from((i) => [Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1, -1][i % 5] ?? 0),
    constant: from(() => 42.5),
    // Short arrays go to the built-in sort.
    short: from(() => random() - 0.5, 300)
  };

  for (const [name, values] of Object.entries(shapes)) {
    it(`orders ${name} numbers exactly as Float64Array.prototype.sort does`, () => {
      const expected = values.slice().sort();
      expectSameOrder(sortNumbers(values.slice()), expected);
      const scratch = new SortScratch();
      expectSameOrder(sortNumbers(values.slice(), scratch), expected);
      // Again in the same scratch, and in place in a view that does not start its buffer.
      const padded = new Float64Array(values.length + 3);
      padded.set(values, 3);
      expectSameOrder(sortNumbers(padded.subarray(3), scratch), expected);
      expect(Array.from(padded.subarray(0, 3))).toEqual([0, 0, 0]);
    });
  }

  it('sorts in place and returns the same array', () => {
    const values = Float64Array.from({ length: 10_000 }, () => random());
    expect(sortNumbers(values)).toBe(values);
    for (let i = 1; i < values.length; i++) expect((values[i - 1] ?? 0) <= (values[i] ?? 0)).toBe(true);
  });

  it('hands out scratch memory that grows to the largest size asked for', () => {
    const scratch = new SortScratch();
    const small = scratch.values(10);
    expect(small.length).toBe(10);
    expect(scratch.values(1000).length).toBe(1000);
    expect(scratch.values(5).buffer).toBe(scratch.values(1000).buffer);
    expect(scratch.spare(7).length).toBe(7);
  });
});
