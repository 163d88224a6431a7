/** Importing and reading datasets: the data worker parses, the repositories store, events announce. */
import type { RecipeStepInput } from '../core/data/recipe';
import type { Cell } from '../core/data/table-view';
import type { SplitSpec } from '../core/pipeline/splits';
import type { ColumnRole, ColumnType, Dataset, DatasetSplit, DatasetVersion, RunSpec } from '../core/records';
import {
  getDataset,
  getSplit,
  getVersion,
  listDatasets,
  listSplits,
  listVersions,
  readVersionChunks,
  saveSplit,
  getInsight,
  putInsight,
  saveVersion,
  updateDataset
} from '../db/dataset.repository';
import { expectationSchema, type Expectation } from '../core/data/expectations';
import type { VersionInsights } from '../../../workers/data-insights-api';
import { currentProjectId } from '../db/project.repository';
import { formatBytes } from '../format';
import { notices } from '../state/notices.svelte';
import {
  ensureSplitData,
  ensureVersionData,
  type DataDownloadProgress,
  type EnsureDataOptions
} from '../sync/blob-download';
import { getDataWorker, ingestFile, type IngestProgress, type IngestResult } from '../workers/data.client';
import { events } from './event-bus';

export interface SampleInfo {
  file: string;
  name: string;
  description: string;
  target: string;
  task: 'classification' | 'regression';
}

export const MAX_IMPORT_BYTES = 2 * 1024 ** 3;

/** Parse a file in the data worker and store it as a new dataset (or a new version of `datasetId`). */
export async function importFile(
  file: File,
  opts: {
    datasetId?: string;
    name?: string;
    onProgress?: (p: IngestProgress) => void;
    signal?: AbortSignal;
  } = {}
): Promise<{ dataset: Dataset; version: DatasetVersion; warnings: string[] }> {
  if (file.size > MAX_IMPORT_BYTES) {
    throw new Error(
      `${file.name} is ${(file.size / 1024 ** 3).toFixed(1)} GB; files up to 2 GB can be imported.`
    );
  }
  const result = await ingestFile(file, opts.onProgress ?? (() => {}), opts.signal);
  return storeImport(result, { name: file.name, bytes: file.size }, opts);
}

/** Import a folder of class sub-folders of images (labels from the folder names). */
export async function importFolder(
  files: File[],
  opts: { name?: string; onProgress?: (p: IngestProgress) => void; signal?: AbortSignal } = {}
): Promise<{ dataset: Dataset; version: DatasetVersion; warnings: string[] }> {
  const result = await getDataWorker().ingestFolder(files, opts.onProgress ?? (() => {}), opts.signal);
  const root = files[0]?.webkitRelativePath.split('/')[0] || 'images';
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  return storeImport(result, { name: root, bytes }, opts);
}

async function storeImport(
  result: IngestResult,
  source: { name: string; bytes: number },
  opts: { datasetId?: string; name?: string }
): Promise<{ dataset: Dataset; version: DatasetVersion; warnings: string[] }> {
  const { dataset, version } = await saveVersion({
    projectId: await currentProjectId(),
    datasetId: opts.datasetId,
    name: opts.name ?? source.name.replace(/\.[^.]+$/, ''),
    contentHash: result.contentHash,
    rowCount: result.rowCount,
    columns: result.columns,
    chunks: result.chunks,
    assets: result.blobs?.map((b) => ({ hash: b.hash, data: b.data })),
    source: { name: source.name, bytes: source.bytes, format: result.format },
    note: `Imported ${source.name}`,
    report: {
      malformed: result.report.malformed.map((m) => ({
        column: m.column,
        count: m.count,
        examples: m.examples.slice(0, 20).map((e) => ({ row: e.row, value: e.value }))
      })),
      warnings: result.report.warnings
    }
  });
  events.emit('DatasetImported', { dataset, version });
  return { dataset, version, warnings: result.report.warnings };
}

export async function listSamples(): Promise<SampleInfo[]> {
  const res = await fetch('/samples/index.json');
  if (!res.ok) throw new Error('The bundled sample list could not be loaded.');
  return (await res.json()) as SampleInfo[];
}

export async function importSample(sample: SampleInfo, onProgress?: (p: IngestProgress) => void) {
  const res = await fetch(`/samples/${sample.file}`);
  if (!res.ok) throw new Error(`The sample ${sample.name} could not be loaded.`);
  const file = new File([await res.blob()], sample.file, { type: 'text/csv' });
  return importFile(file, { name: sample.name, onProgress });
}

export async function datasetsOfProject(): Promise<Dataset[]> {
  return listDatasets(await currentProjectId());
}

export { getDataset, getVersion, listVersions };

/**
 * A plain copy of a small JSON-shaped value. Pages hold records in Svelte state, whose proxies can
 * neither be posted to a worker nor stored in IndexedDB; every service entry point copies them first.
 */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export async function openTableView(
  versionId: string,
  sort: { column: string; descending: boolean } | null,
  filter: string | null = null
) {
  await ensureVersionLocal(versionId);
  return getDataWorker().insights((api) => api.openView({ versionId, sort, filter }));
}

export function closeTableView(viewId: string): Promise<void> {
  return getDataWorker().insights((api) => api.closeView(viewId));
}

export function readTableRows(viewId: string, offset: number, limit: number): Promise<Cell[][]> {
  return getDataWorker().insights((api) => api.readRows(viewId, offset, limit));
}

export async function setRole(dataset: Dataset, column: string, role: ColumnRole): Promise<Dataset> {
  const roles = { ...dataset.roles, [column]: role };
  // One target at a time: choosing a new one makes the old target a feature again.
  if (role === 'target')
    for (const [c, r] of Object.entries(roles)) if (r === 'target' && c !== column) roles[c] = 'feature';
  const next = await updateDataset(dataset.id, { roles });
  events.emit('LocalChange', { entity: 'dataset' });
  return next;
}

export async function setCurrentVersion(dataset: Dataset, version: DatasetVersion): Promise<Dataset> {
  const next = await updateDataset(dataset.id, { latestVersionId: version.id });
  events.emit('LocalChange', { entity: 'dataset' });
  return next;
}

/**
 * Run recipe steps over a version in the worker and store the result as the dataset's new current
 * version, which names its parent and the steps that made it.
 */
export async function deriveVersion(
  dataset: Dataset,
  version: DatasetVersion,
  stepsInput: RecipeStepInput[],
  note: string
): Promise<DatasetVersion> {
  const steps = plain(stepsInput);
  const joined = steps.flatMap((s) => ('rightVersionId' in s ? [s.rightVersionId] : []));
  for (const id of [version.id, ...joined]) await ensureVersionLocal(id);
  const derived = await getDataWorker().insights((api) => api.applyRecipe(version.id, steps));
  const malformed = derived.steps.flatMap((s) =>
    s.malformed && s.malformed.count > 0
      ? [
          {
            column: s.malformed.column,
            count: s.malformed.count,
            examples: s.malformed.examples.slice(0, 20).map((e) => ({ row: e.row, value: e.value }))
          }
        ]
      : []
  );
  const { dataset: updated, version: next } = await saveVersion({
    projectId: dataset.projectId,
    datasetId: dataset.id,
    name: dataset.name,
    contentHash: derived.contentHash,
    rowCount: derived.rowCount,
    columns: derived.columns,
    chunks: derived.chunks,
    source: { ...version.source },
    parentVersionIds: [version.id],
    note,
    recipe: steps.map((step) => ({ ...step })),
    report: { malformed, warnings: derived.steps.flatMap((s) => s.warnings) }
  });
  events.emit('DatasetImported', { dataset: updated, version: next });
  return next;
}

export function changeColumnType(dataset: Dataset, version: DatasetVersion, column: string, to: ColumnType) {
  return deriveVersion(dataset, version, [{ kind: 'cast', column, to }], `Changed ${column} to ${to}`);
}

export async function diffVersions(older: DatasetVersion, newer: DatasetVersion, key?: string) {
  await ensureVersionLocal(older.id);
  await ensureVersionLocal(newer.id);
  return getDataWorker().insights((api) => api.diffVersions(older.id, newer.id, key ? { key } : {}));
}

/** Compute a split of a version in the worker and keep it with the version (synced like the data). */
export async function createSplit(
  dataset: Dataset,
  version: DatasetVersion,
  name: string,
  specInput: SplitSpec
): Promise<DatasetSplit> {
  const spec = plain(specInput);
  await ensureVersionLocal(version.id);
  const computed = await getDataWorker().insights((api) => api.computeSplit(version.id, spec));
  const split = await saveSplit({
    projectId: dataset.projectId,
    datasetId: dataset.id,
    versionId: version.id,
    name,
    spec: { ...spec },
    specHash: computed.specHash,
    counts: computed.counts,
    assignments: computed.assignments,
    assignmentsHash: computed.assignmentsHash
  });
  events.emit('LocalChange', { entity: 'datasetSplit' });
  return split;
}

export { listSplits };

/** The dataset's target column, from the roles people set. */
export function targetOf(dataset: Dataset): string | undefined {
  return Object.entries(dataset.roles ?? {}).find(([, role]) => role === 'target')?.[0];
}

export function expectationsOf(dataset: Dataset): Expectation[] {
  return (dataset.expectations ?? []).flatMap((e) => {
    const parsed = expectationSchema.safeParse(e);
    return parsed.success ? [parsed.data] : [];
  });
}

interface StoredInspection {
  request: string;
  insights: VersionInsights;
}

/**
 * Profile, validation and expectation results of a version, for the dataset's current target, roles
 * and expectations. Kept per version; recomputed in the worker whenever any of those changed.
 */
export async function inspectVersion(
  dataset: Dataset,
  version: DatasetVersion,
  force = false
): Promise<VersionInsights> {
  const req = plain({
    target: targetOf(dataset),
    roles: dataset.roles ?? {},
    expectations: expectationsOf(dataset),
    malformed: Object.fromEntries((version.report?.malformed ?? []).map((m) => [m.column, m.count]))
  });
  const request = JSON.stringify(req);
  const stored = await getInsight<StoredInspection>(version.id, 'inspection');
  if (!force && stored?.request === request) return stored.insights;
  await ensureVersionLocal(version.id);
  const insights = await getDataWorker().insights((api) => api.inspectVersion(version.id, req));
  await putInsight(version.id, 'inspection', { request, insights } satisfies StoredInspection);
  return insights;
}

export async function setExpectations(dataset: Dataset, expectations: Expectation[]): Promise<Dataset> {
  const next = await updateDataset(dataset.id, { expectations: plain(expectations) });
  events.emit('LocalChange', { entity: 'dataset' });
  return next;
}

/** First rows of a version for the table preview, decoded from its first Arrow chunk. */
export async function previewRows(
  version: DatasetVersion,
  limit = 100
): Promise<Array<Record<string, unknown>>> {
  const first = version.chunks[0];
  if (!first) return [];
  await ensureVersionLocal(version.id);
  const [bytes] = await readVersionChunks({ ...version, chunks: [first] });
  const { tableFromIPC } = await import('apache-arrow');
  const table = tableFromIPC(new Uint8Array(bytes!));
  const rows: Array<Record<string, unknown>> = [];
  const n = Math.min(limit, table.numRows);
  for (let i = 0; i < n; i++) {
    const row: Record<string, unknown> = {};
    for (const field of table.schema.fields) {
      const value: unknown = table.getChild(field.name)?.get(i);
      row[field.name] =
        value instanceof Date ? value.toISOString() : typeof value === 'bigint' ? Number(value) : value;
    }
    rows.push(row);
  }
  return rows;
}

export type { DataDownloadProgress };

/** Versions whose download was announced and is still running, so two readers say it once. */
const announced = new Set<string>();

/**
 * Makes sure a stored version's chunks (and images) are in this browser before anything reads them:
 * a version pulled from the registry server has only its record here until its data is downloaded.
 * Fails with a message naming the dataset when the server cannot be reached or lacks the data.
 */
export async function ensureVersionLocal(
  versionId: string,
  opts: Pick<EnsureDataOptions, 'onProgress' | 'signal'> = {}
): Promise<void> {
  const version = await getVersion(versionId);
  // An unknown version is the worker's to report, with the message it has for that.
  if (!version) return;
  const name = (await getDataset(version.datasetId))?.name ?? version.source.name;
  try {
    await ensureVersionData(name, version, {
      ...opts,
      onDownloadStart: ({ blobs, bytes }) => {
        if (announced.has(versionId)) return;
        announced.add(versionId);
        const size = bytes === null ? `${blobs} files` : formatBytes(bytes);
        notices.push('info', `Downloading the data of "${name}" (${size}) from the registry server…`);
      }
    });
  } finally {
    announced.delete(versionId);
  }
}

/** Everything a run reads (its dataset version and stored split) is brought into this browser. */
export async function ensureRunDataLocal(
  spec: Pick<RunSpec, 'datasetVersionId' | 'splitId'>,
  opts: Pick<EnsureDataOptions, 'onProgress' | 'signal'> = {}
): Promise<void> {
  await ensureVersionLocal(spec.datasetVersionId, opts);
  const split = spec.splitId ? await getSplit(spec.splitId) : undefined;
  if (!split) return;
  const name = (await getDataset(split.datasetId))?.name ?? 'this dataset';
  await ensureSplitData(name, split, opts);
}
