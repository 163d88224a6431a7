/**
 * From a dataset version's Arrow table to the tensors a network trains on: the target (class indices
 * or values), the train/validation/test rows, and the inputs made by the run's preprocessing fitted on
 * the training rows only. `transformInputs` is the one path raw rows take afterwards (evaluation,
 * prediction with a stored model), so a prediction gives the same answer as the evaluation did.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Table } from 'apache-arrow';
import { LatheError } from '../errors';
import { kindOf, readColumn, takeFrameRows, type FrameColumn } from '../data/frame';
import { seededRandom, shuffleInPlace } from '../pipeline/split';
import type { FittedPipeline } from '../prep/fitted-pipeline';
import {
  decodeImages,
  fitImagePrep,
  normalizeImages,
  transformImageInputs,
  type FittedImagePrep
} from '../prep/image-prep';
import { fitPipeline, frameForPipeline, groupOutputNames, transformPipeline } from '../prep/prep-pipeline';
import type { PrepGroup, PrepPipelineInput } from '../prep/prep-steps';
import type { RunSpec, Task } from '../records';
import type { ImageInputSpec, ModelSpec } from './model-spec';
import type { TokenInput } from './network';

// ---------------------------------------------------------------------------------------------------
// Target

export interface TargetColumn {
  /** Class index (classification) or value (regression), one per kept row. */
  values: Float32Array;
  /** Class labels in index order, sorted; null for regression. */
  classes: string[] | null;
  /** The table row each kept row came from. */
  tableRows: Uint32Array;
  /** Rows left out because their target is missing. */
  droppedRows: number;
}

function isMissing(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
}

function cellToNumber(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.getTime();
  return null;
}

/** Class labels sorted numerically when every label is a number, otherwise by code unit (locale-free). */
export function sortLabels(values: ReadonlyArray<unknown>): string[] {
  const unique = [...new Map(values.map((v) => [String(v), v])).entries()];
  if (values.every((v) => cellToNumber(v) !== null)) {
    unique.sort((a, b) => (cellToNumber(a[1]) ?? 0) - (cellToNumber(b[1]) ?? 0));
  } else {
    unique.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
  return unique.map(([label]) => label);
}

/**
 * Reads the target. Rows with a missing target are refused unless `dropMissing` (preflight offers it);
 * a regression target must hold numbers.
 */
export function readTarget(table: Table, target: string, task: Task, dropMissing: boolean): TargetColumn {
  const vector = table.getChild(target);
  if (!vector)
    throw new LatheError('column_missing', `The target "${target}" is not in this dataset version.`);
  const raw = vector.toArray() as ArrayLike<unknown>;
  const keep: number[] = [];
  for (let i = 0; i < table.numRows; i++) if (!isMissing(raw[i])) keep.push(i);
  const missing = table.numRows - keep.length;
  if (missing > 0 && !dropMissing) {
    throw new LatheError(
      'target_missing',
      `${missing} of ${table.numRows} rows have no value in the target "${target}". Drop those rows to train.`,
      { rows: missing }
    );
  }
  if (keep.length === 0) throw new LatheError('no_rows', `Every row is missing the target "${target}".`);
  const values = new Float32Array(keep.length);
  let classes: string[] | null = null;
  if (task === 'classification') {
    classes = sortLabels(keep.map((i) => raw[i]));
    const index = new Map(classes.map((label, k) => [label, k]));
    keep.forEach((row, r) => (values[r] = index.get(String(raw[row])) ?? 0));
  } else {
    keep.forEach((row, r) => {
      const value = cellToNumber(raw[row]);
      if (value === null) {
        throw new LatheError(
          'target_not_numeric',
          `The target "${target}" holds text (e.g. "${String(raw[row])}" in row ${row + 1}); regression needs numbers.`
        );
      }
      values[r] = value;
    });
  }
  return { values, classes, tableRows: Uint32Array.from(keep), droppedRows: missing };
}

// ---------------------------------------------------------------------------------------------------
// Splits

/** Indices into the kept rows, ascending. */
export interface RowSplit {
  train: Uint32Array;
  validation: Uint32Array;
  test: Uint32Array;
}

/**
 * A seeded shuffle; the first `round(n·test)` rows are test, the next `round(n·validation)` validation.
 * With no validation this is exactly `splitIndices`, so runs made before validation splits keep their rows.
 */
export function splitRows(
  n: number,
  testFraction: number,
  validationFraction: number,
  seed: number
): RowSplit {
  const order = shuffleInPlace(
    Uint32Array.from({ length: n }, (_, i) => i),
    seededRandom(seed)
  );
  let testSize = Math.round(n * testFraction);
  if (n >= 2) testSize = Math.min(n - 1, Math.max(1, testSize));
  else testSize = 0;
  let validationSize = Math.round(n * validationFraction);
  if (validationFraction > 0) validationSize = Math.max(1, Math.min(validationSize, n - testSize - 1));
  else validationSize = 0;
  validationSize = Math.max(0, validationSize);
  return {
    test: order.slice(0, testSize).sort(),
    validation: order.slice(testSize, testSize + validationSize).sort(),
    train: order.slice(testSize + validationSize).sort()
  };
}

/** The sets of a stored split (one byte per table row: 0 train, 1 validation, 2 test) for the kept rows. */
export function splitFromAssignments(tableRows: Uint32Array, assignments: Uint8Array): RowSplit {
  if (tableRows.length > 0 && assignments.length <= (tableRows[tableRows.length - 1] ?? 0)) {
    throw new LatheError(
      'split_mismatch',
      'The stored split does not cover every row of this dataset version.'
    );
  }
  const sets: number[][] = [[], [], []];
  tableRows.forEach((row, r) => sets[assignments[row] ?? 0]?.push(r));
  return {
    train: Uint32Array.from(sets[0] ?? []),
    validation: Uint32Array.from(sets[1] ?? []),
    test: Uint32Array.from(sets[2] ?? [])
  };
}

// ---------------------------------------------------------------------------------------------------
// Inputs

/** What turns raw rows into a network's input; stored with the model. */
export interface FittedInputs {
  kind: 'table' | 'image';
  pipeline: FittedPipeline | null;
  image: { spec: ImageInputSpec; fitted: FittedImagePrep } | null;
}

export interface InputLayout {
  /** One sample's shape. */
  sampleShape: number[];
  /** Per run feature, its columns in the input matrix (for permutation importance); null for images. */
  featureColumns: number[][] | null;
  tokens: TokenInput | undefined;
}

/** Loads the bytes of image blobs by hash (IndexedDB in the worker, files in Node). */
export type ImageLoader = (hashes: string[]) => Promise<ArrayBuffer[]>;

const TEXT_MAX_TOKENS = 64;
const TEXT_VOCABULARY = 20_000;

/** The preprocessing a person gets without designing one, from the features' types. */
export function defaultPipeline(columns: FrameColumn[], model: ModelSpec): PrepPipelineInput {
  const numeric: string[] = [];
  const categorical: string[] = [];
  const text: string[] = [];
  for (const c of columns) {
    if (c.type === 'identifier') {
      throw new LatheError(
        'identifier_feature',
        `"${c.name}" is an identifier; it says which row this is, not anything to learn from. Remove it from the features.`,
        { column: c.name }
      );
    }
    if (c.type === 'text') text.push(c.name);
    else if (kindOf(c.type) === 'string') categorical.push(c.name);
    else numeric.push(c.name);
  }
  const groups: PrepGroup[] = [];
  if (numeric.length > 0) {
    groups.push({
      kind: 'numeric',
      columns: numeric,
      steps: [
        { kind: 'impute', strategy: 'median', addIndicator: false },
        { kind: 'scale', method: 'standard' }
      ]
    });
  }
  if (categorical.length > 0) {
    groups.push({
      kind: 'categorical',
      columns: categorical,
      steps: [
        { kind: 'impute', strategy: 'most_frequent', addIndicator: false },
        { kind: 'encode', method: 'one_hot' }
      ]
    });
  }
  if (text.length > 0) {
    groups.push({
      kind: 'text',
      columns: text,
      steps: [
        { kind: 'normalize', lowercase: true, stripPunctuation: true },
        { kind: 'tokenize', pattern: 'word' },
        { kind: 'vocabulary', minFrequency: 1, maxSize: TEXT_VOCABULARY },
        model.kind === 'text_embedding'
          ? { kind: 'vectorize', method: 'token_ids', maxLength: TEXT_MAX_TOKENS }
          : { kind: 'vectorize', method: 'tfidf' }
      ]
    });
  }
  if (groups.length === 0) throw new LatheError('no_features', 'The run has no features to learn from.');
  return { groups };
}

function featureColumnsOf(fitted: FittedPipeline, features: readonly string[]): number[][] {
  const byFeature = new Map<string, number[]>(features.map((f) => [f, []]));
  let offset = 0;
  for (const group of fitted.groups) {
    const names = groupOutputNames(group);
    names.forEach((name, i) => {
      const owner = group.columns.find(
        (c) =>
          name === c ||
          name === `${c}__missing` ||
          name.startsWith(`${c}=`) ||
          name.startsWith(`${c}:`) ||
          name.startsWith(`${c}[`)
      );
      if (owner) byFeature.get(owner)?.push(offset + i);
    });
    offset += names.length;
  }
  return features.map((f) => byFeature.get(f) ?? []);
}

function tokenInputOf(fitted: FittedPipeline): TokenInput | undefined {
  let offset = 0;
  let found: TokenInput | undefined;
  for (const group of fitted.groups) {
    const width = groupOutputNames(group).length;
    if (group.kind === 'text' && group.vectorize.method === 'token_ids') {
      if (found) {
        throw new LatheError(
          'model_input',
          'A text embedding model takes one text group; put the text columns in one group.'
        );
      }
      const vocabulary = Math.max(...group.vocabularies.map((v) => v.length));
      found = { start: offset, end: offset + width, vocabularySize: vocabulary + 2 };
    }
    offset += width;
  }
  return found;
}

function imageColumnValues(table: Table, spec: ImageInputSpec, tableRows: ArrayLike<number>) {
  const hashes = readColumn(table, spec.column).data;
  const mimeColumn = table.getChild('mime') ? readColumn(table, 'mime').data : null;
  if (hashes.kind !== 'string') {
    throw new LatheError('model_input', `The image column "${spec.column}" must hold image hashes.`);
  }
  const list: string[] = [];
  const mimes: string[] = [];
  for (let i = 0; i < tableRows.length; i++) {
    const row = tableRows[i] as number;
    const hash = hashes.values[row];
    if (!hash) throw new LatheError('image_missing', `Row ${row + 1} has no image.`);
    list.push(hash);
    mimes.push((mimeColumn?.kind === 'string' ? mimeColumn.values[row] : null) ?? 'image/png');
  }
  return { hashes: list, mimes };
}

async function imagePixels(
  table: Table,
  spec: ImageInputSpec,
  tableRows: ArrayLike<number>,
  loadImages: ImageLoader | undefined
): Promise<tf.Tensor4D> {
  if (!loadImages) throw new LatheError('model_input', 'Images cannot be read here.');
  const { hashes, mimes } = imageColumnValues(table, spec, tableRows);
  return decodeImages(await loadImages(hashes), mimes, spec, hashes);
}

/** The pipeline a run uses: its own, or the default for its features' types. */
export function pipelineFor(table: Table, spec: RunSpec): PrepPipelineInput {
  if (spec.preprocessing.pipeline) return spec.preprocessing.pipeline;
  return defaultPipeline(
    spec.features.map((f) => readColumn(table, f)),
    spec.model
  );
}

/**
 * Fits the run's preprocessing on `trainTableRows` and returns the fitted state with the input layout.
 * For images the training pixels are decoded here once, and `trainInputs` holds them normalized (the
 * caller disposes it); `transformInputs` decodes the other sets.
 */
export async function fitInputs(
  table: Table,
  spec: RunSpec,
  trainTableRows: Uint32Array,
  loadImages?: ImageLoader
): Promise<{ fitted: FittedInputs; layout: InputLayout; trainInputs?: tf.Tensor }> {
  if (spec.model.kind === 'cnn') {
    if (!spec.image)
      throw new LatheError('model_input', 'A convolutional network needs image input settings.');
    const image = spec.image;
    const pixels = await imagePixels(table, image, trainTableRows, loadImages);
    try {
      const fitted = await fitImagePrep(pixels, image);
      return {
        fitted: { kind: 'image', pipeline: null, image: { spec: image, fitted } },
        // What `transformInputs` makes of the same rows (decode, then normalize), without decoding twice.
        trainInputs: normalizeImages(fitted, pixels),
        layout: {
          sampleShape: [image.height, image.width, image.channels],
          featureColumns: null,
          tokens: undefined
        }
      };
    } finally {
      pixels.dispose();
    }
  }
  const pipeline = pipelineFor(table, spec);
  const frame = frameForPipeline(table, pipeline);
  const fitted = await fitPipeline(frame, pipeline, { rows: trainTableRows });
  return {
    fitted: { kind: 'table', pipeline: fitted, image: null },
    layout: {
      sampleShape: [fitted.outputNames.length],
      featureColumns: featureColumnsOf(fitted, spec.features),
      tokens: spec.model.kind === 'text_embedding' ? tokenInputOf(fitted) : undefined
    }
  };
}

/** Raw rows → network input with fitted state: the one path for training, evaluation and prediction. */
export async function transformInputs(
  fitted: FittedInputs,
  table: Table,
  tableRows: ArrayLike<number>,
  loadImages?: ImageLoader
): Promise<tf.Tensor> {
  if (fitted.kind === 'image') {
    if (!fitted.image) throw new LatheError('model_input', 'The stored model lacks its image settings.');
    if (!loadImages) throw new LatheError('model_input', 'Images cannot be read here.');
    const { hashes, mimes } = imageColumnValues(table, fitted.image.spec, tableRows);
    return transformImageInputs(fitted.image.fitted, await loadImages(hashes), mimes, hashes);
  }
  if (!fitted.pipeline) throw new LatheError('model_input', 'The stored model lacks its preprocessing.');
  const frame = frameForPipeline(table, fitted.pipeline);
  return transformPipeline(fitted.pipeline, takeFrameRows(frame, tableRows));
}
