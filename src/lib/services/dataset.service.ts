/** Importing and reading datasets: the data worker parses, the repositories store, events announce. */
import type { Dataset, DatasetVersion } from '../core/records';
import {
  getDataset,
  getVersion,
  listDatasets,
  listVersions,
  readVersionChunks,
  saveVersion
} from '../db/dataset.repository';
import { currentProjectId } from '../db/project.repository';
import { ingestFile, type IngestProgress } from '../workers/data.client';
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
  const projectId = await currentProjectId();
  const { dataset, version } = await saveVersion({
    projectId,
    datasetId: opts.datasetId,
    name: opts.name ?? file.name.replace(/\.[^.]+$/, ''),
    contentHash: result.contentHash,
    rowCount: result.rowCount,
    columns: result.columns,
    chunks: result.chunks,
    source: { name: file.name, bytes: file.size, format: 'csv' }
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

/** First rows of a version for the table preview, decoded from its first Arrow chunk. */
export async function previewRows(
  version: DatasetVersion,
  limit = 100
): Promise<Array<Record<string, unknown>>> {
  const first = version.chunks[0];
  if (!first) return [];
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
