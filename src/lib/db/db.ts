/**
 * The studio's IndexedDB schema. Every schema change is a new `version(n)` with an upgrade function;
 * versions are never edited once released.
 */
import Dexie, { type EntityTable } from 'dexie';
import type { Dataset, DatasetSplit, DatasetVersion, MetricSeries, Project, Run } from '../core/records';
import type { Mutation } from '../core/sync/mutation';

export interface BlobRow {
  /** SHA-256 of `bytes`. */
  hash: string;
  bytes: ArrayBuffer;
  size: number;
  createdAt: number;
  /** Set once the registry server is known to have this blob. */
  uploaded?: 0 | 1;
}

export interface OutboxRow {
  seq?: number;
  mutation: Mutation;
  createdAt: number;
  attempts: number;
  lastError: string | null;
}

/** Derived data about a version (profile, validation), recomputable, so it is kept locally only. */
export interface VersionInsightRow {
  versionId: string;
  /** `profile`, `validation`, … */
  kind: string;
  value: unknown;
  createdAt: number;
}

/** The last checkpoint of a run, local to this browser: it lets an interrupted run go on. */
export interface CheckpointRow {
  runId: string;
  /** Epochs completed when it was saved. */
  epoch: number;
  /** Hash of the run spec it belongs to (`core/models/checkpoint.ts` refuses any other). */
  specHash: string;
  bytes: ArrayBuffer;
  savedAt: number;
}

export interface MetaRow {
  key: string;
  value: unknown;
}

export class LatheDB extends Dexie {
  projects!: EntityTable<Project, 'id'>;
  datasets!: EntityTable<Dataset, 'id'>;
  datasetVersions!: EntityTable<DatasetVersion, 'id'>;
  datasetSplits!: EntityTable<DatasetSplit, 'id'>;
  insights!: Dexie.Table<VersionInsightRow, [string, string]>;
  blobs!: EntityTable<BlobRow, 'hash'>;
  runs!: EntityTable<Run, 'id'>;
  metricSeries!: EntityTable<MetricSeries, 'id'>;
  outbox!: EntityTable<OutboxRow, 'seq'>;
  meta!: EntityTable<MetaRow, 'key'>;
  checkpoints!: EntityTable<CheckpointRow, 'runId'>;

  constructor(name = 'lathe') {
    super(name);
    this.version(1).stores({
      projects: 'id',
      datasets: 'id, projectId, updatedAt',
      datasetVersions: 'id, datasetId, contentHash, createdAt',
      blobs: 'hash, uploaded',
      runs: 'id, projectId, datasetId, status, createdAt',
      metricSeries: 'id, runId',
      outbox: '++seq, mutation.id',
      meta: 'key'
    });
    // v2: stored splits (synced) and per-version insights such as profiles (local, recomputable);
    // datasets gain column roles and expectations, which older rows simply lack.
    this.version(2)
      .stores({
        datasetSplits: 'id, versionId, datasetId, specHash',
        insights: '[versionId+kind], versionId'
      })
      .upgrade(async (tx) => {
        await tx
          .table<Dataset, string>('datasets')
          .toCollection()
          .modify((d) => {
            d.roles ??= {};
            d.expectations ??= [];
          });
      });
    // v3: checkpoints. Run specs of v2 keep their shape on disk; `runSpec` reads them into today's.
    this.version(3).stores({ checkpoints: 'runId' });
  }
}

let instance: LatheDB | null = null;

/** The studio's database, opened on first use (main thread and workers each hold their own handle). */
export function getDb(): LatheDB {
  instance ??= new LatheDB();
  return instance;
}

/** Tests open a fresh database per case. */
export function useDb(db: LatheDB): void {
  instance = db;
}

/** A quota error from any IndexedDB write, recognised across browsers and Dexie's wrapping. */
export function isQuotaError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const inner = (err as Error & { inner?: unknown }).inner;
  return (
    err.name === 'QuotaExceededError' ||
    /quota/i.test(err.message) ||
    (inner instanceof Error && isQuotaError(inner))
  );
}
