/**
 * One run from table to trained model and evaluation: target and split, preprocessing fitted on the
 * training rows, the network trained by `fitNetwork`, then predictions on the validation and test rows,
 * permutation importance, slices and (when asked) k-fold cross-validation. The same code runs in the
 * train worker, in Node tests and in `lathe train`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Table } from 'apache-arrow';
import { LatheError } from '../errors';
import { readColumn, cellText } from '../data/frame';
import { accuracy, argmaxRows } from '../metrics/classification';
import { permutationImportance } from '../metrics/permutation-importance';
import { r2Score } from '../metrics/regression';
import {
  buildRunEvaluation,
  headlineMetrics,
  type ImportanceResult,
  type RunEvaluation,
  type SplitPredictions
} from '../metrics/run-evaluation';
import { seededRandom, shuffleInPlace } from '../pipeline/split';
import { augmentBatch, isAugmenting } from '../prep/image-prep';
import { mean, variance } from '../prep/prep-stats';
import type { MetricPoint, RunSpec } from '../records';
import { trainedModelOf, type TrainedModel } from './model-artifact';
import { buildNetwork, mixSeed, type Network } from './network';
import {
  balancedClassWeights,
  epochMetrics,
  fitNetwork,
  predictOutputs,
  type FitData,
  type TrainerHooks,
  type TrainingCheckpoint
} from './trainer';
import {
  fitInputs,
  readTarget,
  splitFromAssignments,
  splitRows,
  transformInputs,
  type FittedInputs,
  type ImageLoader,
  type InputLayout,
  type RowSplit,
  type TargetColumn
} from './training-data';

export interface RunTrainingOptions extends TrainerHooks {
  /** A stored split (one byte per table row: 0 train, 1 validation, 2 test) instead of `spec.split`. */
  assignments?: Uint8Array;
  loadImages?: ImageLoader;
  resume?: TrainingCheckpoint;
  /** What happens after the training epochs: evaluation, importance, cross-validation folds. */
  onPhase?: (message: string) => void;
}

export interface RunTrainingOutcome {
  status: 'completed' | 'cancelled';
  /** Headline metrics (test split, else validation), for the run record. */
  metrics: Record<string, number>;
  series: Record<string, MetricPoint[]>;
  evaluation: RunEvaluation | null;
  model: TrainedModel | null;
  epochsCompleted: number;
  rows: { train: number; validation: number; test: number };
  droppedRows: number;
  /** Preprocessing warnings (zero variance, …) and anything else worth telling. */
  warnings: string[];
  batchSize: number;
}

/** Importance is measured on at most this many held-out rows: it predicts features × repeats times. */
const IMPORTANCE_ROWS = 5000;
const IMPORTANCE_REPEATS = 5;

interface PreparedFold {
  fitted: FittedInputs;
  layout: InputLayout;
  x: { train: tf.Tensor; validation: tf.Tensor | null; test: tf.Tensor | null };
  y: { train: Float32Array; validation: Float32Array; test: Float32Array };
  tableRows: { train: Uint32Array; validation: Uint32Array; test: Uint32Array };
  targetScale: { mean: number; std: number };
  dispose(): void;
}

function pick(values: Float32Array, rows: Uint32Array): Float32Array {
  return Float32Array.from(rows, (r) => values[r] ?? 0);
}

function tableRowsOf(target: TargetColumn, rows: Uint32Array): Uint32Array {
  return Uint32Array.from(rows, (r) => target.tableRows[r] ?? 0);
}

/** Mean and population std of the training target (std 1 for a constant target). */
function targetScaleOf(values: Float32Array): { mean: number; std: number } {
  const float64 = Float64Array.from(values);
  const std = Math.sqrt(variance(float64));
  return { mean: mean(float64), std: std > 0 ? std : 1 };
}

async function prepareFold(
  table: Table,
  spec: RunSpec,
  target: TargetColumn,
  split: RowSplit,
  loadImages: ImageLoader | undefined
): Promise<PreparedFold> {
  const tableRows = {
    train: tableRowsOf(target, split.train),
    validation: tableRowsOf(target, split.validation),
    test: tableRowsOf(target, split.test)
  };
  const { fitted, layout, trainInputs } = await fitInputs(table, spec, tableRows.train, loadImages);
  const made: tf.Tensor[] = trainInputs ? [trainInputs] : [];
  const inputs = async (rows: Uint32Array) => {
    if (rows.length === 0) return null;
    const x = await transformInputs(fitted, table, rows, loadImages);
    made.push(x);
    return x;
  };
  try {
    const x = {
      train: trainInputs ?? ((await inputs(tableRows.train)) as tf.Tensor),
      validation: await inputs(tableRows.validation),
      test: await inputs(tableRows.test)
    };
    const y = {
      train: pick(target.values, split.train),
      validation: pick(target.values, split.validation),
      test: pick(target.values, split.test)
    };
    return {
      fitted,
      layout,
      x,
      y,
      tableRows,
      targetScale: spec.task === 'regression' ? targetScaleOf(y.train) : { mean: 0, std: 1 },
      dispose: () => tf.dispose(made)
    };
  } catch (err) {
    tf.dispose(made);
    throw err;
  }
}

function outputUnits(spec: RunSpec, classes: number): number {
  return spec.task === 'regression' || classes === 2 ? 1 : classes;
}

function networkFor(spec: RunSpec, fold: PreparedFold, classes: number): Network {
  return buildNetwork(
    spec.model,
    {
      inputShape: fold.layout.sampleShape,
      outputUnits: outputUnits(spec, classes),
      ...(fold.layout.tokens ? { tokens: fold.layout.tokens } : {})
    },
    spec.seed
  );
}

function fitDataOf(spec: RunSpec, fold: PreparedFold, classes: number, withValidation: boolean): FitData {
  const augment = spec.image?.augment;
  const scale = fold.fitted.image?.fitted;
  const augments = augment && isAugmenting(augment);
  return {
    task: spec.task,
    classes,
    xTrain: fold.x.train,
    yTrain: fold.y.train,
    xValidation: withValidation ? fold.x.validation : null,
    yValidation: withValidation && fold.x.validation ? fold.y.validation : null,
    targetScale: fold.targetScale,
    classWeights:
      spec.task === 'classification' && spec.training.classWeights === 'balanced'
        ? balancedClassWeights(fold.y.train, classes)
        : null,
    ...(augments && augment
      ? { augment: (batch, seed) => augmentBatch(batch as tf.Tensor4D, augment, seed, scale) }
      : {})
  };
}

function sliceGroups(table: Table, column: string, rows: Uint32Array): string[] {
  const frameColumn = readColumn(table, column);
  return Array.from(rows, (row) => {
    const text = cellText(frameColumn, row);
    return text === '' ? '(missing)' : text;
  });
}

async function splitPredictions(
  spec: RunSpec,
  network: Network,
  fold: PreparedFold,
  classes: number,
  table: Table
): Promise<SplitPredictions[]> {
  const out: SplitPredictions[] = [];
  for (const name of ['validation', 'test'] as const) {
    const x = fold.x[name];
    if (!x) continue;
    const outputs = await predictOutputs(network, x, spec.task, classes, fold.targetScale);
    const yTrue = fold.y[name];
    const regression = spec.task === 'regression';
    out.push({
      split: name,
      yTrue,
      yPred: regression ? outputs : Float32Array.from(argmaxRows(outputs, Math.max(2, classes))),
      proba: regression ? null : outputs,
      ...(spec.evaluation.sliceBy
        ? { groups: sliceGroups(table, spec.evaluation.sliceBy, fold.tableRows[name]) }
        : {})
    });
  }
  return out;
}

async function importanceOf(
  spec: RunSpec,
  network: Network,
  fold: PreparedFold,
  classes: number
): Promise<ImportanceResult | null> {
  const groups = fold.layout.featureColumns;
  const set = fold.x.test ? 'test' : fold.x.validation ? 'validation' : null;
  if (!spec.evaluation.permutationImportance || !groups || !set) return null;
  const x = fold.x[set];
  if (!x || x.shape.length !== 2) return null;
  const cols = x.shape[1] ?? 0;
  const all = fold.y[set].length;
  // A seeded sample keeps importance affordable on large held-out sets.
  const sample =
    all > IMPORTANCE_ROWS
      ? shuffleInPlace(
          Uint32Array.from({ length: all }, (_, i) => i),
          seededRandom(mixSeed(spec.seed, 31))
        )
          .slice(0, IMPORTANCE_ROWS)
          .sort()
      : null;
  const matrix = await x.data();
  const rows = sample ? sample.length : all;
  const xs = sample ? new Float32Array(rows * cols) : Float32Array.from(matrix as Float32Array);
  if (sample)
    sample.forEach((r, i) => xs.set((matrix as Float32Array).subarray(r * cols, (r + 1) * cols), i * cols));
  const yTrue = sample ? Float32Array.from(sample, (r) => fold.y[set][r] ?? 0) : fold.y[set];
  const kept = spec.features
    .map((name, i) => ({ name, columns: groups[i] ?? [] }))
    .filter((f) => f.columns.length);
  const regression = spec.task === 'regression';
  const predict = async (values: Float32Array, n: number, width: number): Promise<Float32Array> => {
    const input = tf.tensor2d(values, [n, width]);
    try {
      const outputs = await predictOutputs(network, input, spec.task, classes, fold.targetScale);
      return regression ? outputs : Float32Array.from(argmaxRows(outputs, Math.max(2, classes)));
    } finally {
      input.dispose();
    }
  };
  const result = await permutationImportance(
    predict,
    xs,
    rows,
    cols,
    yTrue,
    regression
      ? { score: (t, p) => r2Score(t, p), greaterIsBetter: true }
      : { score: (t, p) => accuracy(t, p), greaterIsBetter: true },
    { repeats: IMPORTANCE_REPEATS, seed: spec.seed, groups: kept.map((f) => f.columns) }
  );
  return {
    metric: regression ? 'r2' : 'accuracy',
    baseline: result.baseline,
    features: result.features
      .map((f, i) => ({ feature: kept[i]?.name ?? String(i), mean: f.mean, std: f.std }))
      .sort((a, b) => b.mean - a.mean)
  };
}

/** k folds over the training (and validation) rows, each held out once; seeded. */
function foldSplits(split: RowSplit, k: number, seed: number): RowSplit[] {
  const pool = Uint32Array.from([...split.train, ...split.validation]).sort();
  const order = shuffleInPlace(Uint32Array.from(pool), seededRandom(mixSeed(seed, 77)));
  return Array.from({ length: k }, (_, f) => {
    const held: number[] = [];
    const rest: number[] = [];
    order.forEach((row, i) => (i % k === f ? held : rest).push(row));
    return {
      train: Uint32Array.from(rest).sort(),
      validation: new Uint32Array(0),
      test: Uint32Array.from(held).sort()
    };
  });
}

async function crossValidate(
  table: Table,
  spec: RunSpec,
  target: TargetColumn,
  split: RowSplit,
  classes: number,
  options: RunTrainingOptions
): Promise<Array<Record<string, number>> | null> {
  const k = spec.evaluation.crossValidationFolds;
  if (k < 2) return null;
  const folds: Array<Record<string, number>> = [];
  // Folds train for the run's epochs; with no validation rows there is nothing for early stopping to watch.
  const training = { ...spec.training, earlyStopping: null };
  for (const [f, rows] of foldSplits(split, k, spec.seed).entries()) {
    options.onPhase?.(`Cross-validation: fold ${f + 1} of ${k}`);
    const fold = await prepareFold(table, spec, target, rows, options.loadImages);
    const network = networkFor(spec, fold, classes);
    try {
      const outcome = await fitNetwork(network, fitDataOf(spec, fold, classes, false), training, spec.seed, {
        ...(options.isCancelled ? { isCancelled: options.isCancelled } : {}),
        ...(options.waitWhilePaused ? { waitWhilePaused: options.waitWhilePaused } : {}),
        ...(options.yieldToEventLoop ? { yieldToEventLoop: options.yieldToEventLoop } : {})
      });
      if (outcome.status === 'cancelled') return null;
      if (!fold.x.test) continue;
      const outputs = await predictOutputs(network, fold.x.test, spec.task, classes, fold.targetScale);
      folds.push(epochMetrics(spec.task, classes, fold.y.test, outputs).metrics);
    } finally {
      network.dispose();
      fold.dispose();
    }
  }
  return folds;
}

export async function trainRun(
  table: Table,
  spec: RunSpec,
  options: RunTrainingOptions = {}
): Promise<RunTrainingOutcome> {
  const target = readTarget(table, spec.target, spec.task, spec.dropMissingTarget);
  const classes = target.classes?.length ?? 0;
  if (spec.task === 'classification' && classes < 2) {
    throw new LatheError(
      'single_class',
      `The target "${spec.target}" has only one class${target.classes?.[0] !== undefined ? ` ("${target.classes[0]}")` : ''}; classification needs at least two.`
    );
  }
  const split = options.assignments
    ? splitFromAssignments(target.tableRows, options.assignments)
    : splitRows(
        target.values.length,
        spec.split.testFraction,
        spec.split.validationFraction,
        spec.split.seed
      );
  const rows = { train: split.train.length, validation: split.validation.length, test: split.test.length };
  options.onPhase?.(
    spec.image
      ? 'Decoding the images and fitting their normalization'
      : 'Fitting the preprocessing on the training rows'
  );
  const fold = await prepareFold(table, spec, target, split, options.loadImages);
  const network = networkFor(spec, fold, classes);
  try {
    const fit = await fitNetwork(
      network,
      fitDataOf(spec, fold, classes, true),
      spec.training,
      spec.seed,
      options,
      options.resume
    );
    const warnings = [...(fold.fitted.pipeline?.warnings ?? [])];
    const base = {
      series: fit.series,
      epochsCompleted: fit.epochsCompleted,
      rows,
      droppedRows: target.droppedRows,
      warnings,
      batchSize: fit.batchSize
    };
    if (fit.status === 'cancelled') {
      return { ...base, status: 'cancelled', metrics: {}, evaluation: null, model: null };
    }
    options.onPhase?.('Evaluating on the held-out rows');
    const predictions = await splitPredictions(spec, network, fold, classes, table);
    options.onPhase?.('Measuring permutation importance');
    const importance = await importanceOf(spec, network, fold, classes);
    const crossValidation = await crossValidate(table, spec, target, split, classes, options);
    if (options.isCancelled?.()) {
      return { ...base, status: 'cancelled', metrics: {}, evaluation: null, model: null };
    }
    const values = (name: string) => (fit.series[name] ?? []).map((p) => p.value);
    const evaluation = buildRunEvaluation({
      task: spec.task,
      labels: target.classes,
      predictions,
      sliceBy: spec.evaluation.sliceBy,
      importance,
      history: { loss: values('loss'), valLoss: values('val_loss') },
      bestEpoch: fit.bestEpoch,
      stoppedEarly: fit.stoppedEarly,
      crossValidation
    });
    const model = await trainedModelOf(network, {
      task: spec.task,
      target: spec.target,
      features: spec.features,
      classes: target.classes,
      inputs: fold.fitted,
      targetScale: fold.targetScale,
      seed: spec.seed
    });
    return { ...base, status: 'completed', metrics: headlineMetrics(evaluation), evaluation, model };
  } finally {
    network.dispose();
    fold.dispose();
  }
}
