/** Small seeded synthetic tables for the model tests. */
import { tableFromArrays, type Table } from 'apache-arrow';
import { seededRandom } from '../pipeline/split';

/** Two features; the label is "yes" exactly when x1 + 0.5·x2 > 0, so a linear boundary separates it. */
export function separableBinary(rows: number, seed: number): Table {
  const random = seededRandom(seed);
  const x1 = new Float64Array(rows);
  const x2 = new Float64Array(rows);
  const label: string[] = [];
  for (let i = 0; i < rows; i++) {
    x1[i] = random() * 2 - 1;
    x2[i] = random() * 200 - 100;
    label.push((x1[i] ?? 0) + 0.005 * (x2[i] ?? 0) > 0 ? 'yes' : 'no');
  }
  return tableFromArrays({ x1, x2, label });
}

/** Three blobs around (0, 3), (3, -2) and (-3, -2), labelled 1, 2 and 3 (numbers, not text). */
export function threeBlobs(rows: number, seed: number): Table {
  const random = seededRandom(seed);
  const centres = [
    [0, 3],
    [3, -2],
    [-3, -2]
  ] as const;
  const x1 = new Float64Array(rows);
  const x2 = new Float64Array(rows);
  const label = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const k = i % 3;
    const [cx, cy] = centres[k] ?? [0, 0];
    x1[i] = cx + (random() - 0.5) * 2;
    x2[i] = cy + (random() - 0.5) * 2;
    label[i] = k + 1;
  }
  return tableFromArrays({ x1, x2, label });
}

/** y = 1000 + 3·x1 − 2·x2 + small noise: a target far from zero, to exercise target scaling. */
export function linearTarget(rows: number, seed: number): Table {
  const random = seededRandom(seed);
  const x1 = new Float64Array(rows);
  const x2 = new Float64Array(rows);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    x1[i] = random() * 10;
    x2[i] = random() * 10;
    y[i] = 1000 + 3 * (x1[i] ?? 0) - 2 * (x2[i] ?? 0) + (random() - 0.5) * 0.5;
  }
  return tableFromArrays({ x1, x2, y });
}
