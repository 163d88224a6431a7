/** Small seeded synthetic tables for the model tests. */
import { tableFromArrays, type Table } from 'apache-arrow';
import { seededRandom } from '../pipeline/split';
import { runSpec, type RunSpec, type RunSpecInput } from '../records';

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

const TEST_ID = '01920000-0000-7000-8000-000000000000';

/** A full run spec for tests: defaults filled by the schema, so tests name only what they care about. */
export function testSpec(
  input: Omit<Partial<RunSpecInput>, 'training'> &
    Pick<RunSpecInput, 'target' | 'features' | 'task' | 'model'> & {
      training?: Partial<RunSpecInput['training']>;
    }
): RunSpec {
  return runSpec.parse({
    datasetId: TEST_ID,
    datasetVersionId: TEST_ID,
    split: { testFraction: 0.25, seed: 7 },
    preprocessing: { pipeline: null },
    seed: 42,
    ...input,
    training: {
      epochs: 20,
      batchSize: 32,
      optimizer: { kind: 'adam', learningRate: 0.05 },
      ...input.training
    }
  });
}

/** 8×8 single-channel images: vertical stripes (class "v") or horizontal ones ("h"), with noise. */
export function stripeImages(count: number, seed: number): { pixels: Float32Array; labels: Float32Array } {
  const random = seededRandom(seed);
  const pixels = new Float32Array(count * 64);
  const labels = new Float32Array(count);
  for (let n = 0; n < count; n++) {
    const vertical = n % 2 === 0;
    labels[n] = vertical ? 1 : 0;
    const phase = Math.floor(random() * 2);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const on = ((vertical ? x : y) + phase) % 2 === 0;
        pixels[n * 64 + y * 8 + x] = (on ? 1 : 0) + (random() - 0.5) * 0.3;
      }
    }
  }
  return { pixels, labels };
}
