/**
 * Seeded, reproducible train/test splits: the split is part of a run's spec, so the same seed must
 * give the same rows on every machine and browser. Math.random cannot be seeded, hence our own PRNG.
 */
import { LatheError } from '../errors';

/**
 * mulberry32's next state (it adds a constant): loops that draw a number per row keep the state in
 * a local variable with this and `mulberry32`, rather than call a closure. The constants are written
 * out so that the compiled loop holds them, not a load from the module.
 */
export function mulberry32Step(state: number): number {
  return (state + 0x6d2b79f5) >>> 0;
}

/** mulberry32's number in [0, 1) for a state (after its step): what `seededRandom` returns. */
export function mulberry32(state: number): number {
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
}

/**
 * mulberry32: a small 32-bit PRNG, fast and well distributed enough for shuffling and sampling (not for
 * cryptography). Returns numbers in [0, 1). Any number is accepted as a seed; it is taken mod 2^32.
 */
export function seededRandom(seed: number): () => number {
  // The state lives in a typed array: a 32-bit number in a closure variable would be boxed on every
  // call, and sampling a million rows calls this a million times. The store wraps it modulo 2³².
  const state = Uint32Array.of(seed >>> 0);
  return () => {
    state[0] = mulberry32Step(state[0] as number);
    return mulberry32(state[0] as number);
  };
}

/** Shuffles in place with Fisher–Yates driven by `random`; returns the same array. */
export function shuffleInPlace<T extends { length: number; [index: number]: number }>(
  array: T,
  random: () => number
): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = array[i] as number;
    array[i] = array[j] as number;
    array[j] = a;
  }
  return array;
}

export interface SplitIndices {
  /** Row indices of the training split, ascending (so reading rows stays sequential). */
  train: Uint32Array;
  /** Row indices of the test split, ascending. */
  test: Uint32Array;
}

/**
 * Splits row indices 0..n-1 into train and test: shuffles them with a seeded Fisher–Yates and takes
 * the first `round(n * testFraction)` as test. With n ≥ 2 both splits get at least one row.
 */
export function splitIndices(n: number, testFraction: number, seed: number): SplitIndices {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new LatheError(
      'invalid_split',
      `Cannot split ${n} rows: the row count must be a whole number ≥ 0.`
    );
  }
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new LatheError(
      'invalid_split',
      `The test fraction must be between 0 and 1 (exclusive); got ${testFraction}.`
    );
  }
  let testSize = Math.round(n * testFraction);
  if (n >= 2) testSize = Math.min(n - 1, Math.max(1, testSize));
  else testSize = 0;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffleInPlace(order, seededRandom(seed));
  return {
    test: order.slice(0, testSize).sort(),
    train: order.slice(testSize).sort()
  };
}
