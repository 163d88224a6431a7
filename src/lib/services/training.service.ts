/**
 * Runs: create the record, train in the train worker, stream progress into the run manager, and
 * store the outcome — completed, cancelled or failed with a reason a person can act on.
 */
import type { Run, RunSpec } from '../core/records';
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
import { TrainCancelledError, trainRun } from '../workers/train.client';
import type { TrainEvent } from '../../../workers/train-api';
import { describeError } from './errors';
import { events } from './event-bus';

const controllers = new Map<string, AbortController>();
/** Runs train one after another; the queue is this promise chain. */
let queue: Promise<unknown> = Promise.resolve();

export async function startRun(name: string, spec: RunSpec): Promise<Run> {
  const run = await createRun(await currentProjectId(), name, spec);
  runManager.track(run.id, spec.training.epochs);
  const controller = new AbortController();
  controllers.set(run.id, controller);
  events.emit('RunStarted', { run });
  events.emit('LocalChange', { entity: 'run' });
  queue = queue.then(() => execute(run, controller.signal)).catch(() => undefined);
  return run;
}

export function cancelRun(runId: string): void {
  controllers.get(runId)?.abort();
}

async function execute(run: Run, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    await finish(run.id, { status: 'cancelled', finishedAt: Date.now(), error: null });
    return;
  }
  const startedAt = Date.now();
  await updateRun(run.id, { status: 'running', startedAt });
  runManager.update(run.id, { status: 'running', startedAt });
  try {
    // The worker applies the backend preferred in Settings itself.
    const result = await trainRun(
      { runId: run.id, spec: run.spec },
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
      finishedAt: Date.now(),
      error: null
    });
    runManager.update(run.id, { metrics: result.metrics });
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
        batch: 1,
        batches: 1,
        metrics: event.metrics
      });
      runManager.addPoint(runId, 'loss', { step: event.epoch, value: event.loss, time: now });
      if (event.valLoss !== undefined && event.valLoss !== null) {
        runManager.addPoint(runId, 'val_loss', { step: event.epoch, value: event.valLoss, time: now });
      }
      for (const [name, value] of Object.entries(event.metrics)) {
        runManager.addPoint(runId, `val_${name}`, { step: event.epoch, value, time: now });
      }
      break;
    case 'batch':
      runManager.update(runId, { epoch: event.epoch, batch: event.batch, batches: event.batches });
      break;
    case 'log':
      break;
  }
}

async function finish(runId: string, patch: Parameters<typeof updateRun>[1]): Promise<void> {
  const run = await updateRun(runId, patch);
  runManager.update(runId, { status: run.status, error: run.error });
  events.emit('RunFinished', { run });
  events.emit('LocalChange', { entity: 'run' });
}

/**
 * Runs left `running` by a closed tab cannot continue in this slice; mark them failed with the reason
 * so the list never shows a run that is not actually training.
 */
export async function failInterruptedRuns(): Promise<number> {
  const stale = (await findInterruptedRuns()).filter((r) => !controllers.has(r.id));
  for (const run of stale) {
    await updateRun(run.id, {
      status: 'failed',
      error: 'Interrupted: the tab was closed or reloaded while this run was training.',
      finishedAt: Date.now()
    });
  }
  return stale.length;
}

export async function runsOfProject(): Promise<Run[]> {
  return listRuns(await currentProjectId());
}

export { getRun, getRunSeries };
