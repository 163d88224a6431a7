/**
 * Writes pulled changes into IndexedDB with the same merge rules the server uses, and advances the
 * pull cursor in the same transaction, so a crash mid-page re-pulls the page instead of skipping it.
 * The sync client is its only user.
 */
import type { Dataset, DatasetSplit, DatasetVersion, MetricSeries, Project, Run } from '../core/records';
import type { PullChange } from '../core/sync/contract';
import {
  isImmutable,
  latestStamp,
  mergeStates,
  RECORD_SCHEMAS,
  recordFromState,
  stateFromRecord
} from '../core/sync/merge';
import type { SyncEntity } from '../core/sync/mutation';
import { getDb } from './db';
import { getClock } from './meta.repository';

export const LAST_SEQ_KEY = 'sync.lastSeq';

export interface ApplyReport {
  applied: number;
  /** Changes whose record did not pass the local schema; skipped so one bad record cannot block sync. */
  invalid: Array<{ entity: SyncEntity; recordId: string; message: string }>;
}

/** The two table operations a merge needs; every record table of `LatheDB` has them. */
interface RecordTable<T> {
  get(id: string): Promise<T | undefined>;
  put(record: T): Promise<unknown>;
}

async function mergeInto<T extends { id: string }>(
  table: RecordTable<T>,
  entity: SyncEntity,
  remote: Record<string, unknown>,
  parse: (value: unknown) => T
): Promise<boolean> {
  const remoteRecord = parse(remote);
  const local = await table.get(remoteRecord.id);
  if (isImmutable(entity)) {
    if (local) return false;
    await table.put(remoteRecord);
    return true;
  }
  const merged = mergeStates(
    entity,
    local ? stateFromRecord({ ...local }) : undefined,
    stateFromRecord({ ...remoteRecord })
  );
  if (!merged.changed) return false;
  await table.put(parse(recordFromState(merged.state)));
  return true;
}

/**
 * A browser opened before it signed in made itself an empty project; when the pull brings datasets or
 * runs of another project, that one becomes the current project ("one project per user" for now), so
 * a second browser shows the team's work rather than its own empty project.
 */
async function adoptProjectWithContent(projectId: unknown): Promise<void> {
  if (typeof projectId !== 'string') return;
  const db = getDb();
  const current = (await db.meta.get('projectId'))?.value;
  if (current === projectId) return;
  if (typeof current === 'string') {
    const [datasets, runs] = await Promise.all([
      db.datasets.where('projectId').equals(current).count(),
      db.runs.where('projectId').equals(current).count()
    ]);
    if (datasets + runs > 0) return;
  }
  if (await db.projects.get(projectId)) await db.meta.put({ key: 'projectId', value: projectId });
}

export async function applyRemoteChanges(
  changes: readonly PullChange[],
  nextSince: number
): Promise<ApplyReport> {
  const db = getDb();
  const clock = await getClock();
  const report: ApplyReport = { applied: 0, invalid: [] };
  // `loose` keeps fields the schema does not list, such as the `deleted` tombstone on runs.
  const parsers = {
    project: (v: unknown) => RECORD_SCHEMAS.project.loose().parse(v),
    dataset: (v: unknown) => RECORD_SCHEMAS.dataset.loose().parse(v),
    datasetVersion: (v: unknown) => RECORD_SCHEMAS.datasetVersion.loose().parse(v),
    datasetSplit: (v: unknown) => RECORD_SCHEMAS.datasetSplit.loose().parse(v),
    run: (v: unknown) => RECORD_SCHEMAS.run.loose().parse(v),
    metricSeries: (v: unknown) => RECORD_SCHEMAS.metricSeries.loose().parse(v)
  };
  await db.transaction(
    'rw',
    [db.projects, db.datasets, db.datasetVersions, db.datasetSplits, db.runs, db.metricSeries, db.meta],
    async () => {
      for (const change of changes) {
        try {
          let changed: boolean;
          switch (change.entity) {
            case 'project':
              changed = await mergeInto<Project>(db.projects, 'project', change.record, parsers.project);
              // A browser with no project yet adopts the one it pulled ("one project per user" for now).
              if (!(await db.meta.get('projectId')))
                await db.meta.put({ key: 'projectId', value: change.recordId });
              break;
            case 'dataset':
              changed = await mergeInto<Dataset>(db.datasets, 'dataset', change.record, parsers.dataset);
              await adoptProjectWithContent(change.record.projectId);
              break;
            case 'datasetVersion':
              changed = await mergeInto<DatasetVersion>(
                db.datasetVersions,
                'datasetVersion',
                change.record,
                parsers.datasetVersion
              );
              break;
            case 'datasetSplit':
              changed = await mergeInto<DatasetSplit>(
                db.datasetSplits,
                'datasetSplit',
                change.record,
                parsers.datasetSplit
              );
              break;
            case 'run':
              changed = await mergeInto<Run>(db.runs, 'run', change.record, parsers.run);
              await adoptProjectWithContent(change.record.projectId);
              break;
            case 'metricSeries':
              changed = await mergeInto<MetricSeries>(
                db.metricSeries,
                'metricSeries',
                change.record,
                parsers.metricSeries
              );
              break;
          }
          if (changed) report.applied += 1;
        } catch (err) {
          report.invalid.push({
            entity: change.entity,
            recordId: change.recordId,
            message: err instanceof Error ? err.message : String(err)
          });
          continue;
        }
        // Later local stamps must order after everything seen from other clients.
        const stamp = latestStamp(stateFromRecord(change.record));
        try {
          if (stamp) clock.observe(stamp);
        } catch {
          // A malformed stamp cannot order anything; the server validates them, so just skip it.
        }
      }
      await db.meta.put({ key: LAST_SEQ_KEY, value: nextSince });
    }
  );
  return report;
}
