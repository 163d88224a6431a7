/**
 * Implements `DataInsightsApi` inside the data worker: decoded tables are cached (the two most recent
 * versions), views are index permutations over them.
 */
import { tableToIPC, type Table } from 'apache-arrow';
import { transfer } from 'comlink';
import { contentHashOf, DEFAULT_CHUNK_ROWS, readChunks, type ArrowChunk } from '../src/lib/core/data/arrow';
import { diffTables } from '../src/lib/core/data/diff';
import { checkExpectations } from '../src/lib/core/data/expectations';
import { profileTable } from '../src/lib/core/data/profile';
import { validateTable } from '../src/lib/core/data/validate';
import { applyRecipe } from '../src/lib/core/data/recipe';
import { sha256Hex } from '../src/lib/core/hash';
import { computeSplit, splitHash } from '../src/lib/core/pipeline/splits';
import { LatheError } from '../src/lib/core/errors';
import { uuidv7 } from '../src/lib/core/ids';
import { evaluateExpression } from '../src/lib/core/data/expression';
import { createView, readViewRows, rowsMatching, type TableView } from '../src/lib/core/data/table-view';
import { preflightRun, type SplitCounts } from '../src/lib/core/models/preflight';
import { getDataset, getSplit, getVersion, readVersionChunks } from '../src/lib/db/dataset.repository';
import type { DataInsightsApi } from './data-insights-api';

const TABLE_CACHE_SIZE = 2;
const tables = new Map<string, Promise<Table>>();
const views = new Map<string, { versionId: string; view: TableView }>();

/** The decoded table of a stored version, from a small cache of recently used ones. */
export async function loadVersionTable(versionId: string): Promise<Table> {
  const cached = tables.get(versionId);
  if (cached) {
    tables.delete(versionId);
    tables.set(versionId, cached);
    return cached;
  }
  const loading = (async () => {
    const version = await getVersion(versionId);
    if (!version) throw new LatheError('version_missing', 'That dataset version is not in this browser.');
    return readChunks(await readVersionChunks(version));
  })();
  tables.set(versionId, loading);
  loading.catch(() => tables.delete(versionId));
  while (tables.size > TABLE_CACHE_SIZE) {
    const oldest = tables.keys().next().value;
    if (oldest === undefined) break;
    tables.delete(oldest);
    for (const [id, v] of views) if (v.versionId === oldest) views.delete(id);
  }
  return loading;
}

/** Splits a table into content-addressed Arrow IPC chunks, as an import does. */
export async function encodeTable(
  table: Table,
  maxRows = DEFAULT_CHUNK_ROWS
): Promise<{ chunks: ArrowChunk[]; contentHash: string }> {
  const chunks: ArrowChunk[] = [];
  for (let start = 0; start < table.numRows || (start === 0 && chunks.length === 0); start += maxRows) {
    const bytes = tableToIPC(table.slice(start, Math.min(table.numRows, start + maxRows)), 'stream');
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    chunks.push({
      hash: await sha256Hex(data),
      rows: Math.min(maxRows, table.numRows - start),
      bytes: data.byteLength,
      data
    });
    if (table.numRows === 0) break;
  }
  return { chunks, contentHash: await contentHashOf(chunks.map((c) => c.hash)) };
}

/**
 * The rows per set of a stored split, as a run would use it; null when the split is not stored with
 * `versionId` (the train worker refuses such a run). A k-fold split holds out its first fold for testing.
 */
async function storedSplitCounts(splitId: string, versionId: string): Promise<SplitCounts | null> {
  const split = await getSplit(splitId);
  if (!split || split.versionId !== versionId) return null;
  const { counts } = split;
  if (split.spec.kind === 'kfold') {
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const test = counts['fold 1'] ?? 0;
    return { train: total - test, validation: 0, test };
  }
  return { train: counts.train ?? 0, validation: counts.validation ?? 0, test: counts.test ?? 0 };
}

export function createDataInsightsApi(): DataInsightsApi {
  return {
    async inspectVersion(versionId, req) {
      const table = await loadVersionTable(versionId);
      const target = req.target && table.getChild(req.target) ? req.target : undefined;
      const profile = profileTable(table, { target });
      const validation = validateTable(table, {
        target,
        roles: req.roles,
        malformed: req.malformed,
        profile
      });
      const expectations = req.expectations?.length ? checkExpectations(table, req.expectations) : null;
      return { profile, validation, expectations };
    },
    async openView(req) {
      const table = await loadVersionTable(req.versionId);
      const keep = req.filter?.trim()
        ? rowsMatching(table, evaluateExpression(table, req.filter).data)
        : null;
      const view = createView(table, { sort: req.sort ?? null, keep });
      const viewId = uuidv7();
      views.set(viewId, { versionId: req.versionId, view });
      return { viewId, rowCount: view.rowCount };
    },
    async readRows(viewId, offset, limit) {
      const entry = views.get(viewId);
      if (!entry) throw new LatheError('view_closed', 'This view of the data was closed; reopen the table.');
      return readViewRows(await loadVersionTable(entry.versionId), entry.view, offset, limit);
    },
    async closeView(viewId) {
      views.delete(viewId);
    },
    async applyRecipe(versionId, steps) {
      const source = await loadVersionTable(versionId);
      const result = await applyRecipe(source, steps, { resolveTable: loadVersionTable });
      const { chunks, contentHash } = await encodeTable(result.table);
      const derived = {
        columns: result.columns,
        rowCount: result.table.numRows,
        chunks,
        contentHash,
        steps: result.report.steps
      };
      return transfer(
        derived,
        chunks.map((c) => c.data)
      );
    },
    async diffVersions(olderId, newerId, options) {
      return diffTables(await loadVersionTable(olderId), await loadVersionTable(newerId), options);
    },
    async computeSplit(versionId, spec) {
      const table = await loadVersionTable(versionId);
      const result = computeSplit(table, spec);
      const bytes = result.kind === 'holdout' ? result.assignments : result.folds;
      const assignments = bytes.buffer.slice(
        bytes.byteOffset,
        bytes.byteOffset + bytes.byteLength
      ) as ArrayBuffer;
      const counts =
        result.kind === 'holdout'
          ? { ...result.counts }
          : Object.fromEntries(result.sizes.map((size, fold) => [`fold ${fold + 1}`, size]));
      const split = {
        specHash: await splitHash(spec),
        assignments,
        assignmentsHash: await sha256Hex(assignments),
        counts
      };
      return transfer(split, [assignments]);
    },
    async preflight(versionId, spec, splitCounts) {
      const version = await getVersion(versionId);
      if (!version) throw new LatheError('version_missing', 'That dataset version is not in this browser.');
      const [table, dataset, counts] = await Promise.all([
        loadVersionTable(versionId),
        getDataset(version.datasetId),
        splitCounts ?? (spec.splitId ? storedSplitCounts(spec.splitId, versionId) : undefined)
      ]);
      return preflightRun(table, version.columns, spec, { roles: dataset?.roles, splitCounts: counts });
    }
  };
}
