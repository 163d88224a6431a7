/**
 * The training loop: mini-batches on the active tfjs backend with the run's optimizer, schedule,
 * clipping, class weights and L2; per-epoch validation metrics; early stopping with best-weights
 * restore; pause, cancel, checkpoints and resume; a smaller batch when the device runs out of memory.
 *
 * Determinism: weights start from the run's seed, each epoch's batch order and each batch's dropout
 * masks come from (seed, epoch, batch), and nothing else is random, so the same spec on the same backend
 * gives the same weights — also when the run is resumed from a checkpoint.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core leaves gradients out so inference-only bundles stay small; training needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { LatheError, errorMessage } from '../errors';
import { accuracy, argmaxRows, logLoss } from '../metrics/classification';
import { meanAbsoluteError, r2Score, rootMeanSquaredError } from '../metrics/regression';
import { seededRandom, shuffleInPlace } from '../pipeline/split';
import type { MetricPoint, Task } from '../records';
import type { MonitoredMetric, TrainingSpec } from './model-spec';
import { l2Penalty, mixSeed, readParams, writeParams, type Network } from './network';
import { clipByGlobalNorm, createOptimizer, learningRateAt, type OptimizerState } from './optimizers';

export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  /** Null when there is no validation data. */
  valLoss: number | null;
  /** Validation metrics after this epoch: accuracy and log_loss, or rmse, mae and r2. */
  metrics: Record<string, number>;
  learningRate: number;
  /** Wall time of this epoch's batches and evaluation. */
  durationMs: number;
}

export interface BatchReport {
  epoch: number;
  batch: number;
  batches: number;
}

/** Everything needed to go on training exactly where a run stopped. */
export interface TrainingCheckpoint {
  /** Epochs completed. */
  epoch: number;
  params: Map<string, Float32Array>;
  optimizer: OptimizerState;
  best: { epoch: number; value: number; params: Map<string, Float32Array> | null } | null;
  /** Epochs since the monitored metric last improved. */
  wait: number;
  /** The batch size in use (smaller than the spec's after running out of memory). */
  batchSize: number;
  series: Record<string, MetricPoint[]>;
}

export interface TrainerHooks {
  onEpoch?: (report: EpochReport) => void;
  /** Called at most every `batchEventIntervalMs`, and for each epoch's last batch. */
  onBatch?: (report: BatchReport) => void;
  onLog?: (message: string) => void;
  isCancelled?: () => boolean;
  /** Awaited between batches: resolves when a paused run may go on. */
  waitWhilePaused?: () => Promise<void>;
  /** Awaited between batches so messages (cancel, pause) are handled; defaults to a message-channel hop. */
  yieldToEventLoop?: () => Promise<void>;
  batchEventIntervalMs?: number;
  now?: () => number;
  /** Awaited: the checkpoint is stored before training goes on. */
  onCheckpoint?: (checkpoint: TrainingCheckpoint) => Promise<void>;
  /** Test seam, called before each batch with its size. */
  beforeBatch?: (size: number) => void;
}

export interface FitData {
  task: Task;
  /** Class count (classification); 0 for regression. */
  classes: number;
  xTrain: tf.Tensor;
  /** Class indices or values, one per training row. */
  yTrain: Float32Array;
  xValidation: tf.Tensor | null;
  yValidation: Float32Array | null;
  /** Regression trains on a standardized target so one learning rate suits any scale. */
  targetScale: { mean: number; std: number };
  /** Per-class loss weights (classification), or null. */
  classWeights: Float32Array | null;
  /** Per-batch input augmentation (images), applied to training batches only. */
  augment?: (batch: tf.Tensor, seed: number) => tf.Tensor;
}

export interface FitOutcome {
  status: 'completed' | 'cancelled';
  series: Record<string, MetricPoint[]>;
  epochsCompleted: number;
  /** The epoch whose weights the network holds at the end when early stopping restored them. */
  bestEpoch: number | null;
  stoppedEarly: boolean;
  batchSize: number;
}

/**
 * Hands control back to the event loop. A message-channel hop, not `setTimeout(0)`: nested timers are
 * clamped to 4 ms, which would add seconds to an epoch of small batches.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (!yieldChannel) {
      // One channel for every hop (a new one per batch cost about 4% of a small model's epoch).
      const channel = new MessageChannel();
      const waiting: Array<() => void> = [];
      channel.port1.onmessage = () => waiting.shift()?.();
      // Node keeps a process alive while a port listens; a browser's port has no unref.
      (channel.port1 as { unref?: () => void }).unref?.();
      yieldChannel = { waiting, post: () => channel.port2.postMessage(null) };
    }
    yieldChannel.waiting.push(resolve);
    yieldChannel.post();
  });
}

let yieldChannel: { waiting: Array<() => void>; post: () => void } | null = null;

/** Backends word it differently: WebGPU "out of memory", WebGL "Failed to allocate", wasm "OOM". */
export function isOutOfMemory(err: unknown): boolean {
  return /out of memory|\bOOM\b|failed to allocate|allocation failed|exceeds the (max|limit)/i.test(
    errorMessage(err)
  );
}

/** The smallest batch tried after running out of memory before the run gives up. */
export const MIN_BATCH_SIZE = 8;
const PREDICT_BATCH = 2048;

/**
 * The network's outputs for `x` in inference mode, read back: probabilities (rows × classes; binary
 * gives two columns) or values in the target's units.
 */
export async function predictOutputs(
  network: Network,
  x: tf.Tensor,
  task: Task,
  classes: number,
  targetScale: { mean: number; std: number }
): Promise<Float32Array> {
  const n = x.shape[0] ?? 0;
  const width = task === 'regression' ? 1 : Math.max(2, classes);
  const out = new Float32Array(n * width);
  for (let start = 0; start < n; start += PREDICT_BATCH) {
    const size = Math.min(PREDICT_BATCH, n - start);
    const result = tf.tidy(() => {
      const xb = tf.slice(x, start, size);
      const logits = network.forward(xb, false, 0).output;
      if (task === 'regression') return tf.add(tf.mul(logits, targetScale.std), targetScale.mean);
      if (network.shape.outputUnits === 1) {
        const p = tf.sigmoid(logits);
        return tf.concat([tf.sub(1, p), p], 1);
      }
      return tf.softmax(logits);
    });
    out.set(await result.data(), start * width);
    result.dispose();
  }
  return out;
}

/** Held-out metrics of outputs from `predictOutputs`. */
export function epochMetrics(
  task: Task,
  classes: number,
  yTrue: Float32Array,
  outputs: Float32Array
): { loss: number; metrics: Record<string, number> } {
  if (task === 'regression') {
    const rmse = rootMeanSquaredError(yTrue, outputs);
    return {
      loss: rmse * rmse,
      metrics: { rmse, mae: meanAbsoluteError(yTrue, outputs), r2: r2Score(yTrue, outputs) }
    };
  }
  const k = Math.max(2, classes);
  const loss = logLoss(yTrue, outputs, k);
  return { loss, metrics: { accuracy: accuracy(yTrue, argmaxRows(outputs, k)), log_loss: loss } };
}

function monitoredValue(monitor: MonitoredMetric, valLoss: number, metrics: Record<string, number>): number {
  if (monitor === 'val_loss') return valLoss;
  return metrics[monitor.slice(4)] ?? NaN;
}

const GREATER_IS_BETTER: Record<MonitoredMetric, boolean> = {
  val_loss: false,
  val_accuracy: true,
  val_rmse: false,
  val_mae: false,
  val_r2: true
};

/** sklearn's `compute_class_weight('balanced')`: n / (classes × count), over the training rows. */
export function balancedClassWeights(y: Float32Array, classes: number): Float32Array {
  const counts = new Float64Array(classes);
  for (const v of y) counts[v] = (counts[v] ?? 0) + 1;
  return Float32Array.from(counts, (c) => (c > 0 ? y.length / (classes * c) : 0));
}

export async function fitNetwork(
  network: Network,
  data: FitData,
  training: TrainingSpec,
  seed: number,
  hooks: TrainerHooks = {},
  resume?: TrainingCheckpoint
): Promise<FitOutcome> {
  const now = hooks.now ?? (() => performance.now());
  const pause = hooks.yieldToEventLoop ?? yieldToEventLoop;
  const batchInterval = hooks.batchEventIntervalMs ?? 100;
  const log = hooks.onLog ?? (() => undefined);
  const { task, classes } = data;
  const trainRows = data.yTrain.length;
  if (trainRows === 0) {
    throw new LatheError('too_few_rows', 'No rows are left to train on after the split.');
  }
  const early = training.earlyStopping;
  if (early && (!data.xValidation || !data.yValidation?.length)) {
    throw new LatheError(
      'early_stopping_needs_validation',
      'Early stopping watches the validation split, and this run has none; set a validation fraction.'
    );
  }
  const binary = task === 'classification' && network.shape.outputUnits === 1;
  const l2 = network.spec.l2;
  const optimizer = createOptimizer(training.optimizer);
  const trainable = network.params.filter((p) => p.trainable);
  const kept: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    kept.push(t);
    return t;
  };

  const startedAt = Date.now();
  const series: Record<string, MetricPoint[]> = resume
    ? structuredClone(resume.series)
    : { loss: [], val_loss: [], learning_rate: [] };
  const record = (name: string, step: number, value: number) => {
    (series[name] ??= []).push({ step, value, time: Math.max(startedAt, Date.now()) });
  };
  let best = resume?.best ?? null;
  let wait = resume?.wait ?? 0;
  let batchSize = resume?.batchSize ?? training.batchSize;
  let lastCheckpointEpoch = resume?.epoch ?? 0;
  if (resume) {
    writeParams(network, resume.params);
    optimizer.restore(resume.optimizer);
  }

  try {
    const yTrain = keep(
      task === 'regression'
        ? tf.tensor2d(
            data.yTrain.map((v) => (v - data.targetScale.mean) / data.targetScale.std),
            [trainRows, 1]
          )
        : binary
          ? tf.tensor2d(data.yTrain, [trainRows, 1])
          : tf.tensor1d(Int32Array.from(data.yTrain), 'int32')
    );
    const yIndex =
      task === 'classification' ? keep(tf.tensor1d(Int32Array.from(data.yTrain), 'int32')) : null;
    const classWeights = data.classWeights ? keep(tf.tensor1d(data.classWeights)) : null;

    const lossOf = (output: tf.Tensor2D, y: tf.Tensor, rows: tf.Tensor1D): tf.Scalar => {
      const weights = classWeights && yIndex ? tf.gather(classWeights, tf.gather(yIndex, rows)) : undefined;
      if (task === 'regression') return tf.losses.meanSquaredError(y, output);
      if (binary) {
        return tf.losses.sigmoidCrossEntropy(y, output, weights ? tf.reshape(weights, [-1, 1]) : undefined);
      }
      return tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, classes), output, weights);
    };
    // Losses are reported in the target's own units: MSE of a standardized target times its variance.
    const lossUnits = task === 'regression' ? data.targetScale.std ** 2 : 1;

    const { epochs } = training;
    let status: FitOutcome['status'] = 'completed';
    let stoppedEarly = false;
    let epochsCompleted = resume?.epoch ?? 0;

    // Training proper starts: batch 0 tells the page (which clears the preprocessing phase it shows),
    // and a pause asked for during preprocessing holds here, before any weights change.
    hooks.onBatch?.({ epoch: epochsCompleted + 1, batch: 0, batches: Math.ceil(trainRows / batchSize) });
    if (hooks.waitWhilePaused) await hooks.waitWhilePaused();

    for (
      let epoch = epochsCompleted + 1;
      epoch <= epochs && status === 'completed' && !stoppedEarly;
      epoch++
    ) {
      const epochStart = now();
      const learningRate = learningRateAt(
        training.optimizer.learningRate,
        training.schedule,
        epoch - 1,
        epochs
      );
      const order = tf.tensor1d(
        shuffleInPlace(
          Int32Array.from({ length: trainRows }, (_, i) => i),
          seededRandom(mixSeed(seed, epoch))
        ),
        'int32'
      );
      // The epoch's loss is summed on the device and read once, so batches never wait for the GPU.
      let lossSum: tf.Scalar = tf.scalar(0);
      let lastBatchEvent = -Infinity;
      let start = 0;
      let batch = 0;
      try {
        while (start < trainRows) {
          const size = Math.min(batchSize, trainRows - start);
          const batches = batch + Math.ceil((trainRows - start) / batchSize);
          const stepSeed = mixSeed(seed, epoch, batch);
          try {
            hooks.beforeBatch?.(size);
            const next = tf.tidy(() => {
              const rows = tf.slice(order, [start], [size]);
              let xb = tf.gather(data.xTrain, rows);
              if (data.augment) xb = data.augment(xb, stepSeed);
              const yb = tf.gather(yTrain, rows);
              let dataLoss: tf.Scalar | null = null;
              let updates: ReturnType<Network['forward']>['updates'] = [];
              const { value, grads } = tf.variableGrads(
                () => {
                  const result = network.forward(xb, true, stepSeed);
                  updates = result.updates;
                  const loss = lossOf(result.output, yb, rows);
                  dataLoss = tf.keep(loss);
                  return l2 > 0 ? tf.add(loss, tf.mul(l2Penalty(network), l2)) : loss;
                },
                trainable.map((p) => p.variable)
              );
              // Without L2 the total is the data loss itself: keep that one tensor alive.
              if (value !== dataLoss) value.dispose();
              const byParam: Record<string, tf.Tensor> = {};
              for (const p of trainable) {
                const g = grads[p.variable.name];
                if (g) byParam[p.name] = g;
              }
              const clipped =
                training.gradientClipNorm !== null
                  ? clipByGlobalNorm(byParam, training.gradientClipNorm)
                  : byParam;
              optimizer.apply(trainable, clipped, learningRate);
              for (const u of updates) {
                u.variable.assign(u.value);
                u.value.dispose();
              }
              const batchLoss = dataLoss as tf.Scalar | null;
              if (!batchLoss) throw new Error('the loss was not computed');
              const total = tf.add(lossSum, tf.mul(batchLoss, size)) as tf.Scalar;
              batchLoss.dispose();
              return total;
            });
            lossSum.dispose();
            lossSum = next;
          } catch (err) {
            if (!isOutOfMemory(err)) throw err;
            if (batchSize <= MIN_BATCH_SIZE) {
              throw new LatheError(
                'out_of_memory',
                `Training ran out of device memory even with batches of ${batchSize}. Use a smaller model (fewer units or filters), smaller images, or choose the wasm backend in Settings.`
              );
            }
            const smaller = Math.max(MIN_BATCH_SIZE, Math.floor(batchSize / 2));
            log(`Ran out of device memory with batches of ${batchSize}; going on with ${smaller}.`);
            batchSize = smaller;
            continue;
          }
          start += size;
          batch += 1;
          const t = now();
          if (hooks.onBatch && (t - lastBatchEvent >= batchInterval || start >= trainRows)) {
            lastBatchEvent = t;
            hooks.onBatch({ epoch, batch, batches });
          }
          await pause();
          if (hooks.waitWhilePaused) await hooks.waitWhilePaused();
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
              (lastCheckpointEpoch > 0
                ? `The last good checkpoint (epoch ${lastCheckpointEpoch}) is kept. `
                : '') +
              'Try a lower learning rate, gradient clipping, or scaling the features.',
            { epoch, lastCheckpointEpoch }
          );
        }
        let valLoss: number | null = null;
        let metrics: Record<string, number> = {};
        if (data.xValidation && data.yValidation && data.yValidation.length > 0) {
          const outputs = await predictOutputs(network, data.xValidation, task, classes, data.targetScale);
          ({ loss: valLoss, metrics } = epochMetrics(task, classes, data.yValidation, outputs));
        }
        epochsCompleted = epoch;
        record('loss', epoch, loss);
        record('learning_rate', epoch, learningRate);
        if (valLoss !== null) {
          record('val_loss', epoch, valLoss);
          for (const [name, value] of Object.entries(metrics)) record(`val_${name}`, epoch, value);
        }

        if (early && valLoss !== null) {
          const value = monitoredValue(early.monitor, valLoss, metrics);
          const sign = GREATER_IS_BETTER[early.monitor] ? 1 : -1;
          if (best === null || sign * (value - best.value) > early.minDelta) {
            best = { epoch, value, params: early.restoreBest ? await readParams(network) : null };
            wait = 0;
          } else {
            wait += 1;
            if (wait >= early.patience) {
              stoppedEarly = true;
              log(
                `Early stopping at epoch ${epoch}: ${early.monitor} has not improved for ${early.patience} epochs (best ${best.value.toPrecision(4)} at epoch ${best.epoch}).`
              );
            }
          }
        }

        hooks.onEpoch?.({
          epoch,
          epochs,
          loss,
          valLoss,
          metrics,
          learningRate,
          durationMs: now() - epochStart
        });

        const last = epoch === epochs || stoppedEarly;
        if (hooks.onCheckpoint && !last && epoch % training.checkpointEvery === 0) {
          await hooks.onCheckpoint({
            epoch,
            params: await readParams(network),
            optimizer: await optimizer.state(),
            best,
            wait,
            batchSize,
            series: structuredClone(series)
          });
          lastCheckpointEpoch = epoch;
        }
      } finally {
        tf.dispose([order, lossSum]);
      }
    }

    let bestEpoch: number | null = null;
    if (status === 'completed' && early?.restoreBest && best?.params && best.epoch !== epochsCompleted) {
      writeParams(network, best.params);
      bestEpoch = best.epoch;
      log(`Restored the weights of epoch ${best.epoch}, the best by ${early.monitor}.`);
    }
    return { status, series, epochsCompleted, bestEpoch, stoppedEarly, batchSize };
  } finally {
    optimizer.dispose();
    tf.dispose(kept);
  }
}
