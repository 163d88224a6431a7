/**
 * Permutation importance (scikit-learn's `permutation_importance`): how much a metric worsens when one
 * feature column is shuffled, breaking its link to the target while keeping its distribution.
 */

/** Predictions for a row-major `rows × cols` feature matrix. */
export type PredictFn = (x: Float32Array, rows: number, cols: number) => Float32Array | Promise<Float32Array>;

export interface ImportanceMetric {
  /** Score of the predictions (class indices, probabilities or values: whatever `predict` returns). */
  score: (yTrue: ArrayLike<number>, yPred: Float32Array) => number;
  /** True for accuracy or R², false for losses such as RMSE or log loss. */
  greaterIsBetter: boolean;
}

export interface PermutationImportanceOptions {
  /** Shuffles per feature (scikit-learn's `n_repeats`, default 5). */
  repeats?: number;
  seed?: number;
}

export interface FeatureImportance {
  feature: number;
  /** Mean drop in the metric over the repeats; positive means the feature helps. */
  mean: number;
  /** Population standard deviation (ddof = 0, as `np.std`) of the drops. */
  std: number;
  drops: Float64Array;
}

export interface PermutationImportance {
  baseline: number;
  features: FeatureImportance[];
}

/** mulberry32: small, fast and good enough to shuffle reproducibly from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Drops are `baseline − permuted` for a score where greater is better and `permuted − baseline` for a
 * loss, so a useful feature always has a positive importance (scikit-learn gets the same by negating
 * losses in its scorers). Each repeat shuffles the column (Fisher–Yates) in a copy of `x`.
 */
export async function permutationImportance(
  predict: PredictFn,
  x: Float32Array,
  rows: number,
  cols: number,
  yTrue: ArrayLike<number>,
  metric: ImportanceMetric,
  options: PermutationImportanceOptions = {}
): Promise<PermutationImportance> {
  if (x.length !== rows * cols)
    throw new RangeError(`expected ${rows * cols} feature values, got ${x.length}`);
  if (yTrue.length !== rows) throw new RangeError(`expected ${rows} targets, got ${yTrue.length}`);
  const repeats = options.repeats ?? 5;
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError('repeats must be a positive integer');
  const random = seededRandom(options.seed ?? 0);
  const baseline = metric.score(yTrue, await predict(x, rows, cols));
  const features: FeatureImportance[] = [];
  const work = new Float32Array(x);
  const column = new Float32Array(rows);
  for (let f = 0; f < cols; f++) {
    for (let r = 0; r < rows; r++) column[r] = x[r * cols + f] ?? 0;
    const drops = new Float64Array(repeats);
    for (let k = 0; k < repeats; k++) {
      const shuffled = column.slice();
      for (let i = rows - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        const tmp = shuffled[i] ?? 0;
        shuffled[i] = shuffled[j] ?? 0;
        shuffled[j] = tmp;
      }
      for (let r = 0; r < rows; r++) work[r * cols + f] = shuffled[r] ?? 0;
      const score = metric.score(yTrue, await predict(work, rows, cols));
      drops[k] = metric.greaterIsBetter ? baseline - score : score - baseline;
    }
    for (let r = 0; r < rows; r++) work[r * cols + f] = column[r] ?? 0;
    const mean = drops.reduce((a, b) => a + b, 0) / repeats;
    const std = Math.sqrt(drops.reduce((a, d) => a + (d - mean) ** 2, 0) / repeats);
    features.push({ feature: f, mean, std, drops });
  }
  return { baseline, features };
}
