/**
 * Logistic and linear regression trained with Adam on whichever tfjs backend is active. Kept out of
 * the worker so Node tests train the very same code on the cpu backend.
 *
 * Determinism: the split and the batch order come from the run's seeds and the weights start at zero,
 * so the same spec on the same backend gives the same weights and metrics.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core leaves gradients out so inference-only bundles stay small; training needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { LatheError } from '../errors';
import { accuracy, argmaxRows, binaryToTwoColumns, logLoss } from '../metrics/classification';
import { meanAbsoluteError, r2Score, rootMeanSquaredError } from '../metrics/regression';
import { seededRandom, shuffleInPlace, splitIndices } from '../pipeline/split';
import type { MetricPoint, RunSpec } from '../records';
import type { DesignMatrix } from './design-matrix';

export type LinearModelKind = 'binary-logistic' | 'softmax' | 'linear';

/** Everything needed to predict again: weights plus the preprocessing fitted on the training split. */
export interface FittedLinearModel {
  kind: LinearModelKind;
  features: string[];
  classes: string[] | null;
  /** features × outputs, row-major. */
  weights: Float32Array;
  bias: Float32Array;
  /** Per-feature training mean, used for missing cells. */
  imputeMean: Float32Array;
  /** Standardization; mean 0 and std 1 when the spec does not standardize. */
  featureMean: Float32Array;
  featureStd: Float32Array;
  /** Regression trains on a standardized target so one learning rate suits any target scale. */
  targetMean: number;
  targetStd: number;
}

export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  /** Null when the held-out split is empty. */
  valLoss: number | null;
  metrics: Record<string, number>;
  /** Wall time of the epoch's batches and its evaluation. */
  durationMs: number;
}

export interface BatchReport {
  epoch: number;
  batch: number;
  batches: number;
}

export interface TrainHooks {
  onEpoch?: (report: EpochReport) => void;
  /** Called at most every {@link batchEventIntervalMs}, and for each epoch's last batch. */
  onBatch?: (report: BatchReport) => void;
  isCancelled?: () => boolean;
  /** Awaited between batches so a cancel message can be handled; defaults to a message-channel hop. */
  yieldToEventLoop?: () => Promise<void>;
  batchEventIntervalMs?: number;
  now?: () => number;
  /**
   * A stored split of the dataset version, one byte per table row (0 train, 1 validation, 2 test, as
   * `core/pipeline/splits` makes them); when given it replaces the seeded split of `spec.split`.
   * Validation rows are not used by this model.
   */
  assignments?: Uint8Array;
}

/** Matrix rows per set, from a stored split's per-table-row assignments. */
export function splitFromAssignments(
  data: DesignMatrix,
  assignments: Uint8Array
): { train: Uint32Array; test: Uint32Array } {
  if (assignments.length < data.sourceRows.length) {
    throw new LatheError(
      'split_mismatch',
      'The stored split does not cover every row of this dataset version.'
    );
  }
  const train: number[] = [];
  const test: number[] = [];
  data.sourceRows.forEach((row, r) => {
    const set = assignments[row];
    if (set === 0) train.push(r);
    else if (set === 2) test.push(r);
  });
  return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
}

export interface TrainOutcome {
  status: 'completed' | 'cancelled';
  /** Held-out metrics of the final model; empty when cancelled or when there is no held-out split. */
  metrics: Record<string, number>;
  series: Record<string, MetricPoint[]>;
  model: FittedLinearModel;
  epochsCompleted: number;
  trainRows: number;
  testRows: number;
}

/**
 * Hands control back to the event loop. A message-channel hop, not `setTimeout(0)`: nested timers are
 * clamped to 4 ms, which would add seconds to an epoch of small batches.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

function gatherRows(x: Float32Array, width: number, rows: Uint32Array): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, r) => out.set(x.subarray(row * width, (row + 1) * width), r * width));
  return out;
}

function gatherValues(y: Float32Array, rows: Uint32Array): Float32Array {
  return Float32Array.from(rows, (row) => y[row] ?? 0);
}

/** Column means over the finite cells of the training rows; 0 for a column with none. */
export function fitImputeMean(x: Float32Array, width: number): Float32Array {
  const sum = new Float64Array(width);
  const count = new Float64Array(width);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] ?? NaN;
    if (Number.isFinite(v)) {
      const f = i % width;
      sum[f] = (sum[f] ?? 0) + v;
      count[f] = (count[f] ?? 0) + 1;
    }
  }
  return Float32Array.from(sum, (s, f) => ((count[f] ?? 0) > 0 ? s / (count[f] ?? 1) : 0));
}

/** Replaces non-finite cells in place with the column's value from `fill`. */
export function imputeInPlace(x: Float32Array, width: number, fill: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i] ?? NaN)) x[i] = fill[i % width] ?? 0;
  }
}

function meanAndStd(values: Float32Array): { mean: number; std: number } {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= Math.max(1, values.length);
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  variance /= Math.max(1, values.length);
  const std = Math.sqrt(variance);
  return { mean, std: std > 0 ? std : 1 };
}

function modelKind(spec: RunSpec, data: DesignMatrix): LinearModelKind {
  if (spec.task === 'regression') {
    if (spec.model !== 'linear')
      throw new LatheError('model_task_mismatch', 'Regression needs the linear model.');
    return 'linear';
  }
  if (spec.model !== 'logistic') {
    throw new LatheError('model_task_mismatch', 'Classification needs the logistic model.');
  }
  const classes = data.classes ?? [];
  if (classes.length < 2) {
    throw new LatheError(
      'single_class',
      `The target "${spec.target}" has only one class${classes[0] !== undefined ? ` ("${classes[0]}")` : ''}; classification needs at least two.`
    );
  }
  return classes.length === 2 ? 'binary-logistic' : 'softmax';
}

interface Evaluation {
  loss: number;
  metrics: Record<string, number>;
}

export async function trainLinearModel(
  data: DesignMatrix,
  spec: RunSpec,
  hooks: TrainHooks = {}
): Promise<TrainOutcome> {
  const now = hooks.now ?? (() => performance.now());
  const pause = hooks.yieldToEventLoop ?? yieldToEventLoop;
  const batchInterval = hooks.batchEventIntervalMs ?? 100;
  const kind = modelKind(spec, data);
  const width = data.features.length;
  const outputs = kind === 'softmax' ? (data.classes?.length ?? 0) : 1;
  const classCount = data.classes?.length ?? 0;

  const split = hooks.assignments
    ? splitFromAssignments(data, hooks.assignments)
    : splitIndices(data.rows, spec.split.testFraction, spec.split.seed);
  const trainRows = split.train.length;
  const testRows = split.test.length;
  if (trainRows === 0) {
    throw new LatheError(
      'too_few_rows',
      `${data.rows} rows leave none to train on after the split; add rows or lower the test fraction.`
    );
  }

  // Imputation and standardization are fitted on the training rows only: the held-out rows must not
  // leak into anything the model sees.
  const xTrainRaw = gatherRows(data.x, width, split.train);
  const xTestRaw = gatherRows(data.x, width, split.test);
  const imputeMean = fitImputeMean(xTrainRaw, width);
  imputeInPlace(xTrainRaw, width, imputeMean);
  imputeInPlace(xTestRaw, width, imputeMean);
  const yTrainRaw = gatherValues(data.y, split.train);
  const yTestRaw = gatherValues(data.y, split.test);
  const targetScale = kind === 'linear' ? meanAndStd(yTrainRaw) : { mean: 0, std: 1 };
  const standardize = spec.preprocessing.some((step) => step.kind === 'standardize');

  const kept: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    kept.push(t);
    return t;
  };
  const optimizer = tf.train.adam(spec.training.learningRate);
  const startedAt = Date.now();
  const series: Record<string, MetricPoint[]> = { loss: [], val_loss: [] };
  const record = (name: string, step: number, value: number) => {
    (series[name] ??= []).push({ step, value, time: Math.max(startedAt, Date.now()) });
  };

  try {
    // Tensors go to the backend once; batches are gathered on the device from a shuffled index.
    const xTrainInput = keep(tf.tensor2d(xTrainRaw, [trainRows, width]));
    let featureMean = keep(tf.zeros([width]));
    let featureStd = keep(tf.ones([width]));
    if (standardize) {
      const moments = tf.tidy(() => {
        const { mean, variance } = tf.moments(xTrainInput, 0);
        const std = tf.sqrt(variance);
        // A constant column would divide by zero; leave it unscaled (it only shifts the bias).
        return { mean, std: tf.where(tf.greater(std, 1e-12), std, tf.onesLike(std)) };
      });
      featureMean = keep(moments.mean);
      featureStd = keep(moments.std);
    }
    const scale = (x: tf.Tensor2D) => tf.div(tf.sub(x, featureMean), featureStd) as tf.Tensor2D;
    const xTrain = keep(tf.tidy(() => scale(xTrainInput)));
    const xTest = keep(tf.tidy(() => scale(tf.tensor2d(xTestRaw, [testRows, width]))));
    const targets = (values: Float32Array, n: number): tf.Tensor =>
      kind === 'softmax'
        ? tf.tensor1d(Int32Array.from(values), 'int32')
        : tf.tensor2d(
            values.map((v) => (v - targetScale.mean) / targetScale.std),
            [n, 1]
          );
    const yTrain = keep(targets(yTrainRaw, trainRows));
    const yTest = keep(targets(yTestRaw, testRows));

    const zeroWeights = tf.zeros([width, outputs]);
    const zeroBias = tf.zeros([outputs]);
    const weights = keep(tf.variable(zeroWeights, true, 'weights'));
    const bias = keep(tf.variable(zeroBias, true, 'bias'));
    // A variable keeps its own reference to the data; the initial tensors would otherwise leak.
    tf.dispose([zeroWeights, zeroBias]);
    const forward = (x: tf.Tensor2D) => tf.add(tf.matMul(x, weights), bias) as tf.Tensor2D;
    const lossOf = (logits: tf.Tensor2D, y: tf.Tensor): tf.Scalar => {
      if (kind === 'softmax')
        return tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, outputs), logits);
      if (kind === 'binary-logistic') return tf.losses.sigmoidCrossEntropy(y, logits);
      return tf.losses.meanSquaredError(y, logits);
    };
    // Losses are reported in the target's own units: MSE of a standardized target times its variance.
    const lossUnits = kind === 'linear' ? targetScale.std ** 2 : 1;

    const evaluate = async (): Promise<Evaluation | null> => {
      if (testRows === 0) return null;
      const [lossT, outputT] = tf.tidy(() => {
        const logits = forward(xTest);
        const out =
          kind === 'softmax'
            ? tf.softmax(logits)
            : kind === 'binary-logistic'
              ? tf.sigmoid(logits)
              : tf.add(tf.mul(logits, targetScale.std), targetScale.mean);
        return [lossOf(logits, yTest), out];
      });
      const [lossData, output] = await Promise.all([lossT.data(), outputT.data()]);
      tf.dispose([lossT, outputT]);
      const loss = (lossData[0] ?? NaN) * lossUnits;
      if (kind === 'linear') {
        return {
          loss,
          metrics: {
            rmse: rootMeanSquaredError(yTestRaw, output),
            mae: meanAbsoluteError(yTestRaw, output),
            r2: r2Score(yTestRaw, output)
          }
        };
      }
      const probabilities = kind === 'binary-logistic' ? binaryToTwoColumns(output) : output;
      return {
        loss,
        metrics: {
          accuracy: accuracy(yTestRaw, argmaxRows(probabilities, classCount)),
          log_loss: logLoss(yTestRaw, probabilities, classCount)
        }
      };
    };

    const random = seededRandom(spec.seed);
    const { epochs, batchSize } = spec.training;
    const batches = Math.ceil(trainRows / batchSize);
    let status: TrainOutcome['status'] = 'completed';
    let epochsCompleted = 0;
    let lastEvaluation: Evaluation | null = null;

    for (let epoch = 1; epoch <= epochs && status === 'completed'; epoch++) {
      const epochStart = now();
      // The batch order comes from the run's seed, so it is the same on every backend and every run.
      const order = tf.tensor1d(
        shuffleInPlace(
          Int32Array.from({ length: trainRows }, (_, i) => i),
          random
        ),
        'int32'
      );
      // The epoch's loss is summed on the device and read once, so batches never wait for the GPU.
      let lossSum: tf.Scalar = tf.scalar(0);
      let lastBatchEvent = -Infinity;
      try {
        for (let batch = 0; batch < batches; batch++) {
          const start = batch * batchSize;
          const size = Math.min(batchSize, trainRows - start);
          const next = tf.tidy(() => {
            const rows = tf.slice(order, [start], [size]);
            const xb = tf.gather(xTrain, rows) as tf.Tensor2D;
            const yb = tf.gather(yTrain, rows);
            const cost = optimizer.minimize(() => lossOf(forward(xb), yb), true, [weights, bias]);
            if (!cost) throw new Error('the optimizer returned no loss');
            return tf.add(lossSum, tf.mul(cost, size)) as tf.Scalar;
          });
          lossSum.dispose();
          lossSum = next;
          const t = now();
          if (hooks.onBatch && (t - lastBatchEvent >= batchInterval || batch === batches - 1)) {
            lastBatchEvent = t;
            hooks.onBatch({ epoch, batch: batch + 1, batches });
          }
          await pause();
          if (hooks.isCancelled?.()) {
            status = 'cancelled';
            break;
          }
        }
        if (status === 'cancelled') break;
        const loss = (((await lossSum.data())[0] ?? NaN) / trainRows) * lossUnits;
        if (!Number.isFinite(loss)) {
          throw new LatheError(
            'loss_not_finite',
            `Training stopped at epoch ${epoch}: the loss became ${Number.isNaN(loss) ? 'NaN (not a number)' : 'infinite'}. ` +
              'Try a lower learning rate, or standardize the features.'
          );
        }
        lastEvaluation = await evaluate();
        epochsCompleted = epoch;
        record('loss', epoch, loss);
        if (lastEvaluation) {
          record('val_loss', epoch, lastEvaluation.loss);
          for (const [name, value] of Object.entries(lastEvaluation.metrics))
            record(`val_${name}`, epoch, value);
        }
        hooks.onEpoch?.({
          epoch,
          epochs,
          loss,
          valLoss: lastEvaluation?.loss ?? null,
          metrics: lastEvaluation?.metrics ?? {},
          durationMs: now() - epochStart
        });
      } finally {
        tf.dispose([order, lossSum]);
      }
    }

    const [w, b, mean, std] = await Promise.all([
      weights.data(),
      bias.data(),
      featureMean.data(),
      featureStd.data()
    ]);
    return {
      status,
      metrics: status === 'completed' && lastEvaluation ? lastEvaluation.metrics : {},
      series,
      model: {
        kind,
        features: data.features,
        classes: data.classes,
        weights: Float32Array.from(w),
        bias: Float32Array.from(b),
        imputeMean,
        featureMean: Float32Array.from(mean),
        featureStd: Float32Array.from(std),
        targetMean: targetScale.mean,
        targetStd: targetScale.std
      },
      epochsCompleted,
      trainRows,
      testRows
    };
  } finally {
    optimizer.dispose();
    tf.dispose(kept);
  }
}
