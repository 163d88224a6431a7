/**
 * Permutation importance (scikit-learn's `permutation_importance`): how much a metric worsens when one
 * feature is shuffled, breaking its link to the target while keeping its distribution.
 */
import { seededRandom, shuffleInPlace } from '../pipeline/split';

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
  /**
   * Matrix columns of each feature: feature `i` shuffles every column in `groups[i]` with one row
   * permutation, so a raw categorical or text feature that preprocessing turned into several one-hot or
   * TF-IDF columns is scored as one feature and its rows stay valid encodings. Absent: one feature per
   * column.
   */
  groups?: readonly (readonly number[])[];
}

export interface FeatureImportance {
  /** Index of the feature: the column, or the group in `options.groups`. */
  feature: number;
  /** Matrix columns shuffled together for this feature. */
  columns: number[];
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

function checkGroups(groups: readonly (readonly number[])[], cols: number): void {
  groups.forEach((group, i) => {
    if (group.length === 0) throw new RangeError(`feature group ${i} has no columns`);
    for (const c of group)
      if (!Number.isInteger(c) || c < 0 || c >= cols)
        throw new RangeError(`feature group ${i} names column ${c}, outside 0..${cols - 1}`);
  });
}

/**
 * Drops are `baseline − permuted` for a score where greater is better and `permuted − baseline` for a
 * loss, so a useful feature always has a positive importance (scikit-learn gets the same by negating
 * losses in its scorers). Each repeat draws one row permutation (Fisher–Yates from the seeded generator)
 * and applies it to the feature's columns in a copy of `x`; for a one-column feature that is exactly
 * shuffling the column.
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
  const groups = options.groups ?? Array.from({ length: cols }, (_, c) => [c]);
  checkGroups(groups, cols);
  const random = seededRandom(options.seed ?? 0);
  const baseline = metric.score(yTrue, await predict(x, rows, cols));
  const features: FeatureImportance[] = [];
  const work = new Float32Array(x);
  const order = new Uint32Array(rows);
  for (let f = 0; f < groups.length; f++) {
    const columns = [...(groups[f] ?? [])];
    const drops = new Float64Array(repeats);
    for (let k = 0; k < repeats; k++) {
      for (let r = 0; r < rows; r++) order[r] = r;
      shuffleInPlace(order, random);
      for (let r = 0; r < rows; r++) {
        const from = (order[r] ?? r) * cols;
        for (const c of columns) work[r * cols + c] = x[from + c] ?? 0;
      }
      const score = metric.score(yTrue, await predict(work, rows, cols));
      drops[k] = metric.greaterIsBetter ? baseline - score : score - baseline;
    }
    for (let r = 0; r < rows; r++) for (const c of columns) work[r * cols + c] = x[r * cols + c] ?? 0;
    const mean = drops.reduce((a, b) => a + b, 0) / repeats;
    const std = Math.sqrt(drops.reduce((a, d) => a + (d - mean) ** 2, 0) / repeats);
    features.push({ feature: f, columns, mean, std, drops });
  }
  return { baseline, features };
}
