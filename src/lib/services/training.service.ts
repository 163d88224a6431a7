/**
 * Runs: create the record, queue it, train it in the train worker (one at a time: tfjs has one global
 * backend), stream progress into the run manager, and store the outcome — completed with its model and
 * evaluation, cancelled, or failed with a reason a person can act on. A run interrupted by a closed tab
 * becomes `interrupted` and resumes from its last checkpoint.
 */
import type { Run, RunSpec } from '../core/records';
import type { RunEvaluation } from '../core/metrics/run-evaluation';
import type { PreflightReport } from '../core/models/preflight';
import { getBlob } from '../db/blob.repository';
import { ensureBlobs } from '../sync/blob-download';
import { checkpointEpochs } from '../db/checkpoint.repository';
import {
  findInterruptedRuns,
  createRun,
  saveMetricSeries,
  updateRun,
  listRuns,
  getRun,
  getRunSeries
} from '../db/run.repository';
import { currentProjectId } from '../db/project.repository';
import { runManager } from '../state/run-manager.svelte';
import { getDataWorker } from '../workers/data.client';
import { TrainCancelledError, getTrainWorker, trainRun } from '../workers/train.client';
import type { TrainEvent } from '../../../workers/train-api';
import { ensureRunDataLocal } from './dataset.service';
import { describeError } from './errors';
import { events } from './event-bus';

const controllers = new Map<string, AbortController>();
/** Runs train one after another; the queue is this promise chain, its order is the run manager's. */
let queue: Promise<unknown> = Promise.resolve();

function enqueue(run: Run, resume: boolean, fromEpoch: number): void {
  runManager.track(run.id, run.name, run.spec.training.epochs, fromEpoch);
  const controller = new AbortController();
  controllers.set(run.id, controller);
  queue = queue.then(() => execute(run, controller.signal, resume)).catch(() => undefined);
}

export async function startRun(name: string, spec: RunSpec): Promise<Run> {
  const run = await createRun(await currentProjectId(), name, spec);
  enqueue(run, false, 0);
  events.emit('RunStarted', { run });
  events.emit('LocalChange', { entity: 'run' });
  return run;
}

/**
 * Puts an interrupted run back in the queue. With a checkpoint in this browser it goes on from there;
 * without one it starts again from the first epoch (same spec, same seed, so the same result).
 */
export async function resumeRun(runId: string): Promise<void> {
  const run = await getRun(runId);
  if (!run) throw new Error('This run is no longer in this browser.');
  if (controllers.has(runId)) return;
  const epoch = (await checkpointEpochs([runId])).get(runId) ?? 0;
  const queued = await updateRun(runId, { status: 'queued', error: null, finishedAt: null });
  enqueue(queued, epoch > 0, epoch);
  events.emit('LocalChange', { entity: 'run' });
}

/** The checks a run's spec must pass before it may start (`core/models/preflight.ts`, in the data worker). */
export function preflightRun(versionId: string, spec: RunSpec): Promise<PreflightReport> {
  return getDataWorker().preflight(versionId, spec);
}

/** Runs whose turn in the queue has come (`execute` began). */
const started = new Set<string>();

export function cancelRun(runId: string): void {
  const controller = controllers.get(runId);
  if (!controller || controller.signal.aborted) return;
  controller.abort();
  // A run still waiting its turn is cancelled now, not when the runs before it end; its turn then
  // finds it aborted and does nothing.
  if (!started.has(runId)) {
    void finish(runId, { status: 'cancelled', finishedAt: Date.now(), error: null });
  }
}

/** Holds a training run after its current batch, or lets it go on. */
export async function setRunPaused(runId: string, paused: boolean): Promise<void> {
  if (!controllers.has(runId)) return;
  await getTrainWorker().setPaused(runId, paused);
  runManager.update(runId, { paused });
}

async function execute(run: Run, signal: AbortSignal, resume: boolean): Promise<void> {
  if (signal.aborted) {
    // `cancelRun` has already marked it cancelled.
    controllers.delete(run.id);
    return;
  }
  started.add(run.id);
  const startedAt = run.startedAt ?? Date.now();
  await updateRun(run.id, { status: 'running', startedAt });
  runManager.update(run.id, { status: 'running', startedAt: Date.now() });
  try {
    // A pulled version's rows may still be on the registry server (a cancel during it lands just below).
    await ensureRunDataLocal(run.spec);
    // The worker applies the backend preferred in Settings itself.
    const result = await trainRun(
      { runId: run.id, spec: run.spec, resume },
      (event) => void onEvent(run.id, event),
      signal
    );
    for (const [name, points] of Object.entries(result.series)) {
      if (points.length > 0) await saveMetricSeries(run, name, points);
    }
    await finish(run.id, {
      status: result.status,
      metrics: result.metrics,
      environment: result.environment,
      ...(Object.keys(result.artifacts).length > 0 ? { artifacts: result.artifacts } : {}),
      finishedAt: Date.now(),
      error: null
    });
    runManager.update(run.id, { metrics: result.metrics, warnings: result.warnings });
  } catch (err) {
    if (err instanceof TrainCancelledError) {
      await finish(run.id, { status: 'cancelled', finishedAt: Date.now(), error: null });
      return;
    }
    const message = describeError(err, 'Training');
    await finish(run.id, { status: 'failed', error: message, finishedAt: Date.now() });
    runManager.update(run.id, { error: message });
  } finally {
    controllers.delete(run.id);
    started.delete(run.id);
  }
}

async function onEvent(runId: string, event: TrainEvent): Promise<void> {
  const now = Date.now();
  switch (event.type) {
    case 'backend':
      runManager.update(runId, { backend: event.env.backend, backendReason: event.env.backendReason });
      await updateRun(runId, { environment: event.env });
      break;
    case 'epoch':
      runManager.update(runId, {
        epoch: event.epoch,
        epochs: event.epochs,
        batch: 0,
        batches: 0,
        metrics: event.metrics,
        learningRate: event.learningRate,
        phase: null
      });
      runManager.addPoint(runId, 'loss', { step: event.epoch, value: event.loss, time: now });
      runManager.addPoint(runId, 'learning_rate', {
        step: event.epoch,
        value: event.learningRate,
        time: now
      });
      if (event.valLoss !== null) {
        runManager.addPoint(runId, 'val_loss', { step: event.epoch, value: event.valLoss, time: now });
      }
      for (const [name, value] of Object.entries(event.metrics)) {
        runManager.addPoint(runId, `val_${name}`, { step: event.epoch, value, time: now });
      }
      break;
    case 'batch':
      // `epoch` counts finished epochs; the batch belongs to the one in progress.
      runManager.update(runId, {
        batch: event.batch,
        batches: event.batches,
        epoch: event.epoch - 1,
        phase: null
      });
      break;
    case 'phase':
      runManager.update(runId, { phase: event.message });
      break;
    case 'history':
      runManager.setSeries(runId, event.series);
      break;
    case 'checkpoint':
      runManager.update(runId, { checkpointEpoch: event.epoch });
      break;
    case 'paused':
      runManager.update(runId, { paused: event.paused });
      break;
    case 'log':
      runManager.log(runId, event.message);
      break;
    case 'heartbeat':
      break;
  }
}

async function finish(runId: string, patch: Parameters<typeof updateRun>[1]): Promise<void> {
  const run = await updateRun(runId, patch);
  runManager.update(runId, { status: run.status, error: run.error, paused: false, phase: null });
  events.emit('RunFinished', { run });
  events.emit('LocalChange', { entity: 'run' });
}

/**
 * Runs left `running` or `queued` by a closed tab become `interrupted`: the runs list offers to resume
 * them (from the last checkpoint when this browser has one).
 */
export async function markInterruptedRuns(): Promise<number> {
  const stale = (await findInterruptedRuns()).filter((r) => !controllers.has(r.id));
  const epochs = await checkpointEpochs(stale.map((r) => r.id));
  for (const run of stale) {
    const epoch = epochs.get(run.id);
    await updateRun(run.id, {
      status: 'interrupted',
      error:
        `Interrupted: the tab was closed or reloaded while this run was ${run.status === 'queued' ? 'waiting in the queue' : 'training'}. ` +
        (epoch ? `Resume goes on from the checkpoint after epoch ${epoch}.` : 'Resume starts it again.'),
      finishedAt: Date.now()
    });
  }
  return stale.length;
}

/** Epochs of the checkpoints this browser holds for these runs. */
export function resumableEpochs(runIds: readonly string[]): Promise<Map<string, number>> {
  return checkpointEpochs(runIds);
}

/** The run's evaluation document, or null when it has none (not finished, or made before evaluations). */
export async function loadRunEvaluation(run: Run): Promise<RunEvaluation | null> {
  const hash = run.artifacts?.evaluation;
  if (!hash) return null;
  // A run pulled from the registry server names an evaluation this browser may not have yet.
  await ensureBlobs(`the run "${run.name}"`, [{ hash, bytes: null, label: 'its evaluation' }]);
  const bytes = await getBlob(hash);
  return JSON.parse(new TextDecoder().decode(bytes)) as RunEvaluation;
}

export async function runsOfProject(): Promise<Run[]> {
  return listRuns(await currentProjectId());
}

export { getRun, getRunSeries };
