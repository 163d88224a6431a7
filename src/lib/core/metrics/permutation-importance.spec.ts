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

  it('shuffles a group of columns with one row permutation, keeping each row a valid one-hot encoding', async () => {
    // 6 rows × 3 columns: columns 0–1 one-hot encode a category (row r is category r % 2), column 2 is noise.
    // The target is the category; the "model" reads it back from the one-hot pair.
    const rows = 6;
    const oneHot = Float32Array.from({ length: rows * 3 }, (_, i) => {
      const r = Math.floor(i / 3);
      const c = i % 3;
      return c === 2 ? r * 10 : Number(c === r % 2);
    });
    const category = Float64Array.from({ length: rows }, (_, r) => r % 2);
    const seen: Float32Array[] = [];
    const readCategory: PredictFn = (xs, n, cols) => {
      seen.push(xs.slice());
      return Float32Array.from({ length: n }, (_, r) => xs[r * cols + 1] ?? 0);
    };
    const r = await permutationImportance(readCategory, oneHot, rows, 3, category, mae, {
      repeats: 4,
      seed: 3,
      groups: [[0, 1], [2]]
    });
    expect(r.features.map((f) => f.columns)).toEqual([[0, 1], [2]]);
    // Shuffled separately, some row would end up [1, 1] or [0, 0]; shuffled together, none does.
    for (const xs of seen)
      for (let row = 0; row < rows; row++) expect((xs[row * 3] ?? 0) + (xs[row * 3 + 1] ?? 0)).toBe(1);
    // one baseline call, then one per repeat of each of the two features
    expect(seen).toHaveLength(1 + 2 * 4);
    expect(r.features[1]).toMatchObject({ mean: 0, std: 0 });
    expect(r.features[0]?.mean).toBeGreaterThan(0);
  });

  it('gives a one-column group the same drops as the ungrouped column, and two copies of it too', async () => {
    const plain = await permutationImportance(firstColumn, x, 8, 2, y, mae, { repeats: 3, seed: 9 });
    const single = await permutationImportance(firstColumn, x, 8, 2, y, mae, {
      repeats: 3,
      seed: 9,
      groups: [[0], [1]]
    });
    expect(single.features.map((f) => Array.from(f.drops))).toEqual(
      plain.features.map((f) => Array.from(f.drops))
    );
    // Column 1 replaced by a copy of column 0: shuffling both together moves column 0 exactly as before.
    const copies = Float32Array.from(x, (v, i) => (i % 2 === 1 ? (x[i - 1] ?? 0) : v));
    const both = await permutationImportance(firstColumn, copies, 8, 2, y, mae, {
      repeats: 3,
      seed: 9,
      groups: [[0, 1]]
    });
    expect(both.features).toHaveLength(1);
    expect(Array.from(both.features[0]?.drops ?? [])).toEqual(Array.from(plain.features[0]?.drops ?? []));
  });

  it('refuses a group naming a column outside the matrix or naming none', async () => {
    await expect(permutationImportance(firstColumn, x, 8, 2, y, mae, { groups: [[0], [2]] })).rejects.toThrow(
      /column 2/
    );
    await expect(permutationImportance(firstColumn, x, 8, 2, y, mae, { groups: [[]] })).rejects.toThrow(
      /no columns/
    );
  });
});
