/**
 * What changed between two versions of a dataset: schema, rows, and how each shared column's values
 * shifted. The result is plain JSON (no NaN, no typed arrays) so it can be stored and sent as is.
 *
 * Rows are matched by a key column when one is given (added, removed, changed, unchanged keys), else as
 * a multiset of whole-row hashes over the columns both versions share with the same kind of values
 * (a row counts as removed and another as added when any of those values differ).
 *
 * Drift per column:
 * - numeric (integer, float, date, datetime): PSI over ten bins cut at the deciles of the *before*
 *   values, and the two-sample Kolmogorov–Smirnov statistic (the largest gap between the two empirical
 *   CDFs, 0–1). Missing values are left out of both and reported as their own count.
 * - categorical, boolean, text, identifier: PSI over the union of categories, the top values' share
 *   before and after, and the categories that appeared or vanished.
 * PSI = Σ (after − before) · ln(after / before) over bin shares, each share floored at 1e-4; a common
 * reading is < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 large shift.
 */
import type { Table } from 'apache-arrow';
import { LatheError } from '../errors';
import type { ColumnType } from '../records';
import {
  BOOL_NULL,
  cellText,
  rowHashes,
  tableToFrame,
  type ColumnData,
  type Frame,
  type FrameColumn
} from './frame';

export interface NumericStats {
  count: number;
  missing: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
}

export interface CategoryStats {
  count: number;
  missing: number;
  distinct: number;
}

export interface NumericShift {
  name: string;
  kind: 'numeric';
  type: ColumnType;
  before: NumericStats;
  after: NumericStats;
  /** Population stability index over the before-deciles; null when either side has no values. */
  psi: number | null;
  /** Two-sample Kolmogorov–Smirnov statistic; null when either side has no values. */
  ks: number | null;
}

export interface CategoryShare {
  value: string;
  /** Share of the non-missing values, 0–1. */
  before: number;
  after: number;
}

export interface CategoricalShift {
  name: string;
  kind: 'categorical';
  type: ColumnType;
  before: CategoryStats;
  after: CategoryStats;
  /** The most common values across both versions (up to 10), by their larger share. */
  topValues: CategoryShare[];
  /** Values only in the after version (up to 20; `newCount` has them all). */
  newCategories: string[];
  newCount: number;
  vanishedCategories: string[];
  vanishedCount: number;
  psi: number | null;
}

export type ColumnShift = NumericShift | CategoricalShift;

export interface VersionDiff {
  rowCount: { before: number; after: number };
  schema: {
    added: Array<{ name: string; type: ColumnType }>;
    removed: Array<{ name: string; type: ColumnType }>;
    typeChanged: Array<{ name: string; before: ColumnType; after: ColumnType }>;
  };
  rows:
    | {
        method: 'key';
        key: string;
        added: number;
        removed: number;
        /** Keys in both whose values differ in a compared column. */
        changed: number;
        unchanged: number;
        /** Rows whose key repeats an earlier row's (only the first is compared) or is missing. */
        duplicateKeys: { before: number; after: number };
        comparedColumns: string[];
      }
    | {
        method: 'row_hash';
        added: number;
        removed: number;
        unchanged: number;
        comparedColumns: string[];
      };
  columns: ColumnShift[];
}

export interface DiffOptions {
  /** A column identifying rows in both versions. */
  key?: string;
}

const TOP_VALUES = 10;
const LISTED_CATEGORIES = 20;
const PSI_BINS = 10;
const PSI_FLOOR = 1e-4;

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

function presentNumbers(data: Extract<ColumnData, { kind: 'number' }>): Float64Array {
  let count = 0;
  for (const v of data.values) if (!Number.isNaN(v)) count++;
  const out = new Float64Array(count);
  let j = 0;
  for (const v of data.values) if (!Number.isNaN(v)) out[j++] = v;
  return out.sort();
}

function numericStats(sorted: Float64Array, missing: number): NumericStats {
  const n = sorted.length;
  if (n === 0) return { count: 0, missing, mean: null, std: null, min: null, max: null };
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / n;
  let squares = 0;
  for (const v of sorted) squares += (v - mean) * (v - mean);
  return {
    count: n,
    missing,
    mean: finiteOrNull(mean),
    std: n > 1 ? finiteOrNull(Math.sqrt(squares / (n - 1))) : 0,
    min: sorted[0] as number,
    max: sorted[n - 1] as number
  };
}

function psi(before: readonly number[], after: readonly number[]): number {
  const totalBefore = before.reduce((a, b) => a + b, 0);
  const totalAfter = after.reduce((a, b) => a + b, 0);
  let sum = 0;
  for (let i = 0; i < before.length; i++) {
    const p = Math.max(PSI_FLOOR, (before[i] as number) / totalBefore);
    const q = Math.max(PSI_FLOOR, (after[i] as number) / totalAfter);
    sum += (q - p) * Math.log(q / p);
  }
  return sum;
}

/** Counts of ascending values per bin (-∞, e1], (e1, e2], …, (e_k, ∞). */
function binCounts(sorted: Float64Array, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let bin = 0;
  for (const v of sorted) {
    while (bin < edges.length && v > (edges[bin] as number)) bin++;
    counts[bin] = (counts[bin] as number) + 1;
  }
  return counts;
}

function numericPsi(before: Float64Array, after: Float64Array): number {
  const edges: number[] = [];
  for (let i = 1; i < PSI_BINS; i++) {
    const e = before[Math.min(before.length - 1, Math.floor((i * before.length) / PSI_BINS))] as number;
    if (edges.length === 0 || e > (edges[edges.length - 1] as number)) edges.push(e);
  }
  return psi(binCounts(before, edges), binCounts(after, edges));
}

function ksStatistic(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const x = Math.min(a[i] as number, b[j] as number);
    while (i < a.length && (a[i] as number) <= x) i++;
    while (j < b.length && (b[j] as number) <= x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

function numericShift(before: FrameColumn, after: FrameColumn): NumericShift {
  const a = presentNumbers(before.data as Extract<ColumnData, { kind: 'number' }>);
  const b = presentNumbers(after.data as Extract<ColumnData, { kind: 'number' }>);
  const both = a.length > 0 && b.length > 0;
  return {
    name: after.name,
    kind: 'numeric',
    type: after.type,
    before: numericStats(a, before.data.values.length - a.length),
    after: numericStats(b, after.data.values.length - b.length),
    psi: both ? finiteOrNull(numericPsi(a, b)) : null,
    ks: both ? ksStatistic(a, b) : null
  };
}

function valueCounts(column: FrameColumn): { counts: Map<string, number>; missing: number } {
  const counts = new Map<string, number>();
  let missing = 0;
  const { data } = column;
  for (let i = 0; i < data.values.length; i++) {
    let value: string | null;
    if (data.kind === 'string') value = data.values[i] ?? null;
    else if (data.kind === 'boolean')
      value = data.values[i] === BOOL_NULL ? null : data.values[i] === 1 ? 'true' : 'false';
    else value = Number.isNaN(data.values[i] as number) ? null : cellText(column, i);
    if (value === null) missing++;
    else counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return { counts, missing };
}

function categoricalShift(before: FrameColumn, after: FrameColumn): CategoricalShift {
  const a = valueCounts(before);
  const b = valueCounts(after);
  const totalA = before.data.values.length - a.missing;
  const totalB = after.data.values.length - b.missing;
  const share = (count: number | undefined, total: number): number => (total > 0 ? (count ?? 0) / total : 0);
  const union = new Set([...a.counts.keys(), ...b.counts.keys()]);
  const shares = [...union].map((value) => ({
    value,
    before: share(a.counts.get(value), totalA),
    after: share(b.counts.get(value), totalB)
  }));
  const topValues = shares
    .slice()
    .sort((x, y) => Math.max(y.before, y.after) - Math.max(x.before, x.after) || (x.value < y.value ? -1 : 1))
    .slice(0, TOP_VALUES);
  const added = [...b.counts.keys()].filter((v) => !a.counts.has(v)).sort();
  const vanished = [...a.counts.keys()].filter((v) => !b.counts.has(v)).sort();
  return {
    name: after.name,
    kind: 'categorical',
    type: after.type,
    before: { count: totalA, missing: a.missing, distinct: a.counts.size },
    after: { count: totalB, missing: b.missing, distinct: b.counts.size },
    topValues,
    newCategories: added.slice(0, LISTED_CATEGORIES),
    newCount: added.length,
    vanishedCategories: vanished.slice(0, LISTED_CATEGORIES),
    vanishedCount: vanished.length,
    psi:
      totalA > 0 && totalB > 0
        ? finiteOrNull(
            psi(
              shares.map((s) => s.before),
              shares.map((s) => s.after)
            )
          )
        : null
  };
}

type KeyValue = string | number;

function keyValue(data: ColumnData, i: number): KeyValue | null {
  const v = data.values[i] as string | number | null;
  if (
    v === null ||
    (typeof v === 'number' && Number.isNaN(v)) ||
    (data.kind === 'boolean' && v === BOOL_NULL)
  )
    return null;
  return v;
}

function firstRowByKey(frame: Frame, key: FrameColumn): { rows: Map<KeyValue, number>; duplicates: number } {
  const rows = new Map<KeyValue, number>();
  let duplicates = 0;
  for (let i = 0; i < frame.rowCount; i++) {
    const k = keyValue(key.data, i);
    if (k === null || rows.has(k)) duplicates++;
    else rows.set(k, i);
  }
  return { rows, duplicates };
}

/** Compares two tables (before `a`, after `b`). Throws when `opts.key` is not a column of both. */
export function diffTables(a: Table, b: Table, opts: DiffOptions = {}): VersionDiff {
  const before = tableToFrame(a);
  const after = tableToFrame(b);
  const beforeByName = new Map(before.columns.map((c) => [c.name, c]));
  const afterByName = new Map(after.columns.map((c) => [c.name, c]));
  const schema: VersionDiff['schema'] = {
    added: after.columns
      .filter((c) => !beforeByName.has(c.name))
      .map((c) => ({ name: c.name, type: c.type })),
    removed: before.columns
      .filter((c) => !afterByName.has(c.name))
      .map((c) => ({ name: c.name, type: c.type })),
    typeChanged: []
  };
  const compared: Array<[FrameColumn, FrameColumn]> = [];
  const columns: ColumnShift[] = [];
  for (const next of after.columns) {
    const prev = beforeByName.get(next.name);
    if (!prev) continue;
    if (prev.type !== next.type)
      schema.typeChanged.push({ name: next.name, before: prev.type, after: next.type });
    if (prev.data.kind !== next.data.kind) continue;
    compared.push([prev, next]);
    columns.push(next.data.kind === 'number' ? numericShift(prev, next) : categoricalShift(prev, next));
  }
  const comparedColumns = compared.map(([, c]) => c.name);
  const beforeData = compared.map(([c]) => c.data);
  const afterData = compared.map(([, c]) => c.data);
  const hashesBefore = rowHashes(beforeData, before.rowCount);
  const hashesAfter = rowHashes(afterData, after.rowCount);
  let rows: VersionDiff['rows'];
  if (opts.key !== undefined) {
    const keyBefore = beforeByName.get(opts.key);
    const keyAfter = afterByName.get(opts.key);
    if (!keyBefore || !keyAfter) {
      throw new LatheError(
        'diff_invalid',
        `The key column '${opts.key}' is not in ${keyBefore ? 'the newer' : 'the older'} version.`
      );
    }
    const first = firstRowByKey(before, keyBefore);
    const second = firstRowByKey(after, keyAfter);
    let removed = 0;
    let changed = 0;
    let unchanged = 0;
    for (const [k, i] of first.rows) {
      const j = second.rows.get(k);
      if (j === undefined) removed++;
      else if (hashesBefore[i] === hashesAfter[j]) unchanged++;
      else changed++;
    }
    rows = {
      method: 'key',
      key: opts.key,
      added: second.rows.size - changed - unchanged,
      removed,
      changed,
      unchanged,
      duplicateKeys: { before: first.duplicates, after: second.duplicates },
      comparedColumns
    };
  } else {
    const counts = new Map<number, number>();
    for (const h of hashesBefore) counts.set(h, (counts.get(h) ?? 0) + 1);
    let added = 0;
    let unchanged = 0;
    for (const h of hashesAfter) {
      const left = counts.get(h) ?? 0;
      if (left > 0) {
        counts.set(h, left - 1);
        unchanged++;
      } else added++;
    }
    rows = { method: 'row_hash', added, removed: before.rowCount - unchanged, unchanged, comparedColumns };
  }
  return { rowCount: { before: before.rowCount, after: after.rowCount }, schema, rows, columns };
}
