/** Datasets and their immutable versions; a version's Arrow chunks are content-addressed blobs. */
import { LatheError } from '../core/errors';
import { uuidv7 } from '../core/ids';
import type { ChunkRef, ColumnSchema, Dataset, DatasetSplit, DatasetVersion } from '../core/records';
import { getDb } from './db';
import { getClock } from './meta.repository';
import { enqueue } from './outbox.repository';
import { updateSynced } from './synced-update';

export interface NewVersionInput {
  projectId: string;
  /** Add a version to this dataset, or create a dataset with `name`. */
  datasetId?: string;
  name: string;
  contentHash: string;
  rowCount: number;
  columns: ColumnSchema[];
  chunks: Array<ChunkRef & { data: ArrayBuffer }>;
  source: DatasetVersion['source'];
  parentVersionIds?: string[];
  /** Blobs the rows name (e.g. images), stored and synced with the chunks. */
  assets?: Array<{ hash: string; data: ArrayBuffer }>;
  note?: string;
  recipe?: DatasetVersion['recipe'];
  report?: DatasetVersion['report'];
}

/**
 * Store a new version: its chunk blobs, the version record, the dataset pointing at it and the
 * outbox mutations, all in one transaction — a failure (quota included) leaves nothing half-written.
 */
export async function saveVersion(
  input: NewVersionInput
): Promise<{ dataset: Dataset; version: DatasetVersion }> {
  const db = getDb();
  const clock = await getClock();
  const now = Date.now();
  return db.transaction('rw', [db.datasets, db.datasetVersions, db.blobs, db.outbox], async () => {
    const existing = input.datasetId ? await db.datasets.get(input.datasetId) : undefined;
    if (input.datasetId && !existing)
      throw new LatheError('dataset_missing', 'That dataset no longer exists.');
    const datasetId = existing?.id ?? uuidv7();
    const version: DatasetVersion = {
      id: uuidv7(),
      projectId: input.projectId,
      datasetId,
      contentHash: input.contentHash,
      rowCount: input.rowCount,
      columns: input.columns,
      chunks: input.chunks.map(({ hash, rows, bytes }) => ({ hash, rows, bytes })),
      source: input.source,
      ...(input.parentVersionIds ? { parentVersionIds: input.parentVersionIds } : {}),
      ...(input.assets?.length ? { assets: input.assets.map((a) => a.hash) } : {}),
      ...(input.note ? { note: input.note } : {}),
      ...(input.recipe ? { recipe: input.recipe } : {}),
      ...(input.report ? { report: input.report } : {}),
      createdAt: now,
      updatedAt: now
    };
    for (const blob of [...input.chunks, ...(input.assets ?? [])]) {
      if (!(await db.blobs.get(blob.hash))) {
        await db.blobs.put({
          hash: blob.hash,
          bytes: blob.data,
          size: blob.data.byteLength,
          createdAt: now,
          uploaded: 0
        });
      }
    }
    await db.datasetVersions.add(version);
    const stamp = clock.tick();
    let dataset: Dataset;
    if (existing) {
      dataset = {
        ...existing,
        latestVersionId: version.id,
        updatedAt: now,
        stamps: { ...existing.stamps, latestVersionId: stamp }
      };
      await db.datasets.put(dataset);
    } else {
      dataset = {
        id: datasetId,
        projectId: input.projectId,
        name: input.name,
        latestVersionId: version.id,
        roles: {},
        expectations: [],
        createdAt: now,
        updatedAt: now,
        stamps: { name: stamp, latestVersionId: stamp, roles: stamp, expectations: stamp }
      };
      await db.datasets.add(dataset);
      await enqueue(
        {
          entity: 'dataset',
          op: 'insert',
          recordId: datasetId,
          projectId: input.projectId,
          fields: { ...dataset, latestVersionId: null },
          blobs: []
        },
        stamp
      );
    }
    // The version goes up (after its blobs) before the dataset is pointed at it; each mutation has its
    // own stamp so the pointer update orders after the insert on every replica.
    await enqueue(
      {
        entity: 'datasetVersion',
        op: 'insert',
        recordId: version.id,
        projectId: input.projectId,
        fields: { ...version },
        blobs: [...version.chunks.map((c) => c.hash), ...(version.assets ?? [])]
      },
      clock.tick()
    );
    const pointerStamp = clock.tick();
    dataset.stamps = { ...dataset.stamps, latestVersionId: pointerStamp };
    await db.datasets.put(dataset);
    await enqueue(
      {
        entity: 'dataset',
        op: 'update',
        recordId: datasetId,
        projectId: input.projectId,
        fields: { latestVersionId: version.id },
        blobs: []
      },
      pointerStamp
    );
    return { dataset, version };
  });
}

export async function listDatasets(projectId: string): Promise<Dataset[]> {
  const rows = await getDb().datasets.where('projectId').equals(projectId).toArray();
  return rows.filter((d) => !d.deleted).sort((a, b) => b.updatedAt - a.updatedAt);
}

export async function getDataset(id: string): Promise<Dataset | undefined> {
  return getDb().datasets.get(id);
}

export async function getVersion(id: string): Promise<DatasetVersion | undefined> {
  return getDb().datasetVersions.get(id);
}

export async function listVersions(datasetId: string): Promise<DatasetVersion[]> {
  return getDb().datasetVersions.where('datasetId').equals(datasetId).reverse().sortBy('createdAt');
}

/** The Arrow IPC chunks of a version, in order. */
export async function readVersionChunks(version: DatasetVersion): Promise<ArrayBuffer[]> {
  const rows = await getDb().blobs.bulkGet(version.chunks.map((c) => c.hash));
  return rows.map((row, i) => {
    if (!row)
      throw new LatheError(
        'blob_missing',
        `Chunk ${i + 1} of this dataset version is missing from this browser.`
      );
    return row.bytes;
  });
}

export type DatasetPatch = Partial<Pick<Dataset, 'name' | 'roles' | 'expectations' | 'latestVersionId'>>;

/** Change a dataset's mutable fields (name, roles, expectations, current version), synced per field. */
export function updateDataset(id: string, patch: DatasetPatch): Promise<Dataset> {
  return updateSynced<Dataset>(getDb().datasets, 'dataset', id, patch, 'That dataset no longer exists.');
}

/** Store a split of a version: its assignment bytes as a blob and the (immutable) record. */
export async function saveSplit(
  input: Omit<DatasetSplit, 'id' | 'createdAt' | 'updatedAt' | 'assignments'> & {
    assignments: ArrayBuffer;
    assignmentsHash: string;
  }
): Promise<DatasetSplit> {
  const db = getDb();
  const clock = await getClock();
  const now = Date.now();
  const { assignments, assignmentsHash, ...rest } = input;
  const split: DatasetSplit = {
    ...rest,
    assignments: assignmentsHash,
    id: uuidv7(),
    createdAt: now,
    updatedAt: now
  };
  await db.transaction('rw', [db.datasetSplits, db.blobs, db.outbox], async () => {
    if (!(await db.blobs.get(assignmentsHash))) {
      await db.blobs.put({
        hash: assignmentsHash,
        bytes: assignments,
        size: assignments.byteLength,
        createdAt: now,
        uploaded: 0
      });
    }
    await db.datasetSplits.add(split);
    await enqueue(
      {
        entity: 'datasetSplit',
        op: 'insert',
        recordId: split.id,
        projectId: split.projectId,
        fields: { ...split },
        blobs: [assignmentsHash]
      },
      clock.tick()
    );
  });
  return split;
}

export async function getSplit(id: string): Promise<DatasetSplit | undefined> {
  return getDb().datasetSplits.get(id);
}

/** A stored split's per-row assignments (0 train, 1 validation, 2 test, or the fold index). */
export async function readSplitAssignments(split: DatasetSplit): Promise<Uint8Array> {
  const row = await getDb().blobs.get(split.assignments);
  if (!row)
    throw new LatheError('blob_missing', `The rows of split "${split.name}" are missing from this browser.`);
  return new Uint8Array(row.bytes);
}

export async function listSplits(versionId: string): Promise<DatasetSplit[]> {
  return getDb().datasetSplits.where('versionId').equals(versionId).sortBy('createdAt');
}

export async function getInsight<T>(versionId: string, kind: string): Promise<T | undefined> {
  return (await getDb().insights.get([versionId, kind]))?.value as T | undefined;
}

export async function putInsight(versionId: string, kind: string, value: unknown): Promise<void> {
  await getDb().insights.put({ versionId, kind, value, createdAt: Date.now() });
}
