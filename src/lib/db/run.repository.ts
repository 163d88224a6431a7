/** Runs and their metric series. Every write appends its outbox mutation in the same transaction. */
import { uuidv7 } from '../core/ids';
import type { MetricPoint, MetricSeries, Run, RunSpec } from '../core/records';
import { getDb } from './db';
import { getClock } from './meta.repository';
import { enqueue } from './outbox.repository';
import { updateSynced } from './synced-update';

/** Fields of a run that change after it is created. */
export type RunPatch = Partial<
  Pick<
    Run,
    'name' | 'status' | 'environment' | 'metrics' | 'error' | 'startedAt' | 'finishedAt' | 'artifacts'
  >
>;

export async function createRun(projectId: string, name: string, spec: RunSpec): Promise<Run> {
  const db = getDb();
  const clock = await getClock();
  const now = Date.now();
  const stamp = clock.tick();
  const run: Run = {
    id: uuidv7(),
    projectId,
    name,
    status: 'queued',
    spec,
    environment: null,
    metrics: {},
    error: null,
    startedAt: null,
    finishedAt: null,
    createdAt: now,
    updatedAt: now,
    stamps: Object.fromEntries(
      ['name', 'status', 'environment', 'metrics', 'error', 'startedAt', 'finishedAt'].map((f) => [f, stamp])
    )
  };
  await db.transaction('rw', db.runs, db.outbox, async () => {
    await db.runs.add(run);
    await enqueue(
      { entity: 'run', op: 'insert', recordId: run.id, projectId, fields: { ...run }, blobs: [] },
      stamp
    );
  });
  return run;
}

export function updateRun(id: string, patch: RunPatch): Promise<Run> {
  const blobs = Object.values(patch.artifacts ?? {}).filter((h): h is string => typeof h === 'string');
  return updateSynced<Run>(getDb().runs, 'run', id, patch, `Run ${id} does not exist.`, blobs);
}

/** Store a finished metric series (immutable once written). */
export async function saveMetricSeries(run: Run, name: string, points: MetricPoint[]): Promise<MetricSeries> {
  const db = getDb();
  const clock = await getClock();
  const now = Date.now();
  const series: MetricSeries = {
    id: uuidv7(),
    projectId: run.projectId,
    runId: run.id,
    name,
    points,
    createdAt: now,
    updatedAt: now
  };
  await db.transaction('rw', db.metricSeries, db.outbox, async () => {
    await db.metricSeries.add(series);
    await enqueue(
      {
        entity: 'metricSeries',
        op: 'insert',
        recordId: series.id,
        projectId: run.projectId,
        fields: { ...series },
        blobs: []
      },
      clock.tick()
    );
  });
  return series;
}

export async function listRuns(projectId: string): Promise<Run[]> {
  const rows = await getDb().runs.where('projectId').equals(projectId).toArray();
  return rows.sort((a, b) => b.createdAt - a.createdAt);
}

export async function getRun(id: string): Promise<Run | undefined> {
  return getDb().runs.get(id);
}

export async function getRunSeries(runId: string): Promise<MetricSeries[]> {
  return getDb().metricSeries.where('runId').equals(runId).toArray();
}

/** Runs left `running` or `queued` by a closed tab or a crashed worker. */
export async function findInterruptedRuns(): Promise<Run[]> {
  return getDb().runs.where('status').anyOf(['running', 'queued']).toArray();
}
