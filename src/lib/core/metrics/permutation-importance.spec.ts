import { describe, expect, it } from 'vitest';
import { meanAbsoluteError } from './regression';
import { permutationImportance, type ImportanceMetric, type PredictFn } from './permutation-importance';

// A "model" that predicts the first feature and ignores the second.
const firstColumn: PredictFn = (x, rows, cols) =>
  Float32Array.from({ length: rows }, (_, r) => x[r * cols] ?? 0);
const mae: ImportanceMetric = { score: meanAbsoluteError, greaterIsBetter: false };
// 8 rows × 2 columns: column 0 = target 0..7, column 1 = noise
const x = Float32Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? i / 2 : (i * 7) % 5));
const y = Float64Array.from({ length: 8 }, (_, i) => i);

describe('permutation importance', () => {
  it('finds the used feature important and the ignored one at exactly 0', async () => {
    const r = await permutationImportance(firstColumn, x, 8, 2, y, mae, { repeats: 4, seed: 7 });
    expect(r.baseline).toBe(0);
    const [used, ignored] = r.features;
    // Shuffling column 0 gives MAE = mean |π(i) − i| ≥ 0; with 4 shuffles of 8 values some must move.
    expect(used?.mean).toBeGreaterThan(0);
    expect(Array.from(used?.drops ?? []).every((d) => d >= 0)).toBe(true);
    expect(ignored).toMatchObject({ mean: 0, std: 0 });
  });

  it('is reproducible from its seed, accepts an async model and leaves x untouched', async () => {
    const before = x.slice();
    const asyncModel: PredictFn = (xs, rows, cols) => Promise.resolve(firstColumn(xs, rows, cols));
    const a = await permutationImportance(asyncModel, x, 8, 2, y, mae, { repeats: 3, seed: 42 });
    const b = await permutationImportance(firstColumn, x, 8, 2, y, mae, { repeats: 3, seed: 42 });
    expect(Array.from(a.features[0]?.drops ?? [])).toEqual(Array.from(b.features[0]?.drops ?? []));
    expect(Array.from(x)).toEqual(Array.from(before));
  });

  it('reports the drop for a greater-is-better score and its population std', async () => {
    // score = −MAE, greater is better: same drops as the MAE run, std with ddof 0
    const neg: ImportanceMetric = { score: (t, p) => -meanAbsoluteError(t, p), greaterIsBetter: true };
    const a = await permutationImportance(firstColumn, x, 8, 2, y, neg, { repeats: 3, seed: 1 });
    const b = await permutationImportance(firstColumn, x, 8, 2, y, mae, { repeats: 3, seed: 1 });
    expect(Array.from(a.features[0]?.drops ?? [])).toEqual(Array.from(b.features[0]?.drops ?? []));
    const d = Array.from(a.features[0]?.drops ?? []);
    const mean = d.reduce((s, v) => s + v, 0) / 3;
    expect(a.features[0]?.std).toBeCloseTo(Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / 3), 12);
  });
});
