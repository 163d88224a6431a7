/**
 * Dataset splits as data: a `SplitSpec` (random, stratified, group, time or k-fold) computed over a
 * table gives one byte per row — 0 train, 1 validation, 2 test — or a fold index per row. A spec has
 * a canonical JSON form and a hash, so a split stored with a dataset version can be named by runs, and
 * the same spec over the same table gives the same rows on every machine (seeded, no Math.random).
 */
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { LatheError } from '../errors';
import { sha256Hex } from '../hash';
import { BOOL_NULL, readColumn, type ColumnData, type FrameColumn } from '../data/frame';
import { seededRandom, shuffleInPlace } from './split';

export const TRAIN = 0;
export const VALIDATION = 1;
export const TEST = 2;

const fraction = z.number().gt(0).lt(1);
const seed = z.number().int();
const column = z.string().min(1);

const holdout = { testFraction: fraction, validationFraction: z.number().gte(0).lt(1).optional() };

export const splitSpec = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('random'), ...holdout, seed }),
    z.object({ kind: z.literal('stratified'), column, ...holdout, seed }),
    z.object({ kind: z.literal('group'), column, ...holdout, seed }),
    z.object({ kind: z.literal('time'), column, ...holdout }),
    z.object({
      kind: z.literal('kfold'),
      k: z.number().int().min(2).max(255),
      seed,
      stratifyBy: column.optional()
    })
  ])
  .superRefine((spec, ctx) => {
    if (spec.kind !== 'kfold' && spec.testFraction + (spec.validationFraction ?? 0) >= 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['validationFraction'],
        message: 'test and validation fractions must add up to less than 1'
      });
    }
  });
export type SplitSpec = z.infer<typeof splitSpec>;

export type SplitResult =
  | {
      kind: 'holdout';
      /** Per row: 0 train, 1 validation, 2 test. */
      assignments: Uint8Array;
      counts: { train: number; validation: number; test: number };
    }
  | {
      kind: 'folds';
      /** Per row: the index of the fold it is held out in, 0..k-1. */
      folds: Uint8Array;
      sizes: number[];
    };

export class SplitError extends LatheError<'invalid_split'> {
  constructor(message: string) {
    super('invalid_split', message);
    this.name = 'SplitError';
  }
}

/** Validates a spec, throwing a `SplitError` that names the field. */
export function parseSplitSpec(input: unknown): SplitSpec {
  const parsed = splitSpec.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.');
  throw new SplitError(
    `Invalid split: ${field ? `field '${field}' — ` : ''}${issue?.message ?? 'unknown problem'}`
  );
}

/** JSON with object keys sorted at every level: equal specs give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 of the spec's canonical JSON (after validation, so equivalent specs hash the same). */
export async function splitHash(spec: SplitSpec): Promise<string> {
  return sha256Hex(new TextEncoder().encode(canonicalJson(parseSplitSpec(spec))));
}

/** The cache key of a split of one dataset version: hash of the spec and the version's content hash. */
export async function splitCacheKey(spec: SplitSpec, contentHash: string): Promise<string> {
  return sha256Hex(
    new TextEncoder().encode(canonicalJson({ split: parseSplitSpec(spec), data: contentHash }))
  );
}

/** Ascending row indices whose assignment (or fold) equals `value`. */
export function rowsWhere(assignments: Uint8Array, value: number): Uint32Array {
  let count = 0;
  for (const a of assignments) if (a === value) count++;
  const out = new Uint32Array(count);
  let j = 0;
  for (let i = 0; i < assignments.length; i++) if (assignments[i] === value) out[j++] = i;
  return out;
}

/** Computes the split of `table`'s rows. Throws `SplitError` for specs that cannot apply to it. */
export function computeSplit(table: Table, input: SplitSpec): SplitResult {
  const spec = parseSplitSpec(input);
  const n = table.numRows;
  switch (spec.kind) {
    case 'random':
      return holdoutResult(randomSplit(n, spec.testFraction, spec.validationFraction ?? 0, spec.seed));
    case 'stratified':
      return holdoutResult(
        stratifiedSplit(
          classesOf(readSplitColumn(table, spec.column, 'stratify by')),
          n,
          spec.testFraction,
          spec.validationFraction ?? 0,
          spec.seed
        )
      );
    case 'group':
      return holdoutResult(
        groupSplit(
          readSplitColumn(table, spec.column, 'group by'),
          n,
          spec.testFraction,
          spec.validationFraction ?? 0,
          spec.seed
        )
      );
    case 'time':
      return holdoutResult(
        timeSplit(
          readSplitColumn(table, spec.column, 'order by'),
          n,
          spec.testFraction,
          spec.validationFraction ?? 0
        )
      );
    case 'kfold':
      return kfold(table, n, spec.k, spec.seed, spec.stratifyBy);
  }
}

function readSplitColumn(table: Table, name: string, purpose: string): FrameColumn {
  if (!table.schema.fields.some((f) => f.name === name)) {
    const names = table.schema.fields.map((f) => `'${f.name}'`).join(', ');
    throw new SplitError(`Cannot ${purpose} '${name}': the dataset has no such column (it has ${names}).`);
  }
  const column = readColumn(table, name);
  if (
    purpose === 'stratify by' &&
    (column.type === 'float' || column.type === 'date' || column.type === 'datetime')
  ) {
    throw new SplitError(
      `Cannot stratify by '${name}': it is ${column.type}; stratify by a categorical, boolean, integer or text column (bin it first).`
    );
  }
  return column;
}

function holdoutResult(assignments: Uint8Array): SplitResult {
  const counts = { train: 0, validation: 0, test: 0 };
  for (const a of assignments) {
    if (a === TRAIN) counts.train++;
    else if (a === VALIDATION) counts.validation++;
    else counts.test++;
  }
  return { kind: 'holdout', assignments, counts };
}

/**
 * Seeded shuffle; the first round(n·test) rows go to test and the next round(n·validation) to
 * validation. Without validation the test rows are exactly those of `splitIndices(n, test, seed)`.
 */
function randomSplit(n: number, test: number, validation: number, seedValue: number): Uint8Array {
  if (n < 2) throw new SplitError(`A split needs at least 2 rows; the dataset has ${n}.`);
  let testSize = Math.min(n - 1, Math.max(1, Math.round(n * test)));
  let validationSize = validation > 0 ? Math.max(1, Math.round(n * validation)) : 0;
  if (testSize + validationSize > n - 1) {
    if (validation > 0 && n < 3)
      throw new SplitError(`A split with validation needs at least 3 rows; the dataset has ${n}.`);
    validationSize = Math.max(validation > 0 ? 1 : 0, n - 1 - testSize);
    testSize = Math.min(testSize, n - 1 - validationSize);
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffleInPlace(order, seededRandom(seedValue));
  const out = new Uint8Array(n);
  for (let i = 0; i < testSize; i++) out[order[i] as number] = TEST;
  for (let i = testSize; i < testSize + validationSize; i++) out[order[i] as number] = VALIDATION;
  return out;
}

/** Rows grouped by value, groups in order of first appearance; missing values form one group. */
function classesOf(column: FrameColumn): number[][] {
  const groups = new Map<string | number, number[]>();
  const { data } = column;
  for (let i = 0; i < data.values.length; i++) {
    const key = groupKey(data, i);
    const rows = groups.get(key);
    if (rows) rows.push(i);
    else groups.set(key, [i]);
  }
  return [...groups.values()];
}

const MISSING_KEY = '\u0000missing';

function groupKey(data: ColumnData, i: number): string | number {
  const v = data.values[i] as string | number | null;
  if (
    v === null ||
    (typeof v === 'number' && Number.isNaN(v)) ||
    (data.kind === 'boolean' && v === BOOL_NULL)
  )
    return MISSING_KEY;
  return data.kind === 'string' ? `s${v}` : v;
}

/**
 * Per-class sizes by largest remainder: each class gets ⌊m·f⌋ or ⌈m·f⌉ rows and the total is round(n·f).
 */
function allocate(sizes: readonly number[], fractionValue: number, total: number): number[] {
  const exact = sizes.map((m) => m * fractionValue);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    if ((out[i] as number) < (sizes[i] as number)) {
      out[i] = (out[i] as number) + 1;
      left--;
    }
  }
  return out;
}

/**
 * Each class is shuffled and cut on its own, so every class keeps the overall proportions to within one
 * row, and a class with at least 2 rows always keeps at least one row in train.
 */
function stratifiedSplit(
  classes: number[][],
  n: number,
  test: number,
  validation: number,
  seedValue: number
): Uint8Array {
  if (n < 2) throw new SplitError(`A split needs at least 2 rows; the dataset has ${n}.`);
  const sizes = classes.map((c) => c.length);
  const testSizes = allocate(sizes, test, Math.round(n * test));
  const validationSizes = allocate(sizes, validation, Math.round(n * validation));
  const random = seededRandom(seedValue);
  const out = new Uint8Array(n);
  classes.forEach((rows, c) => {
    const m = rows.length;
    let t = testSizes[c] as number;
    let v = validationSizes[c] as number;
    // Keep a row in train for every class (a single-row class stays in train).
    const room = m - 1;
    while (t + v > room) {
      if (v >= t && v > 0) v--;
      else t--;
    }
    const order = Uint32Array.from(rows);
    shuffleInPlace(order, random);
    for (let i = 0; i < t; i++) out[order[i] as number] = TEST;
    for (let i = t; i < t + v; i++) out[order[i] as number] = VALIDATION;
  });
  return out;
}

/** Whole groups go to one set: groups are shuffled and taken into test (then validation) until each is near its size. */
function groupSplit(
  column: FrameColumn,
  n: number,
  test: number,
  validation: number,
  seedValue: number
): Uint8Array {
  const groups = classesOf(column);
  const needed = validation > 0 ? 3 : 2;
  if (groups.length < needed) {
    throw new SplitError(
      `Column '${column.name}' has ${groups.length} group${groups.length === 1 ? '' : 's'}; a group split needs at least ${needed} so that no group is in two sets.`
    );
  }
  const order = Array.from(groups.keys());
  const random = seededRandom(seedValue);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const out = new Uint8Array(n);
  let next = 0;
  const take = (target: number, label: number, keepForLater: number): void => {
    let taken = 0;
    while (next < order.length - keepForLater) {
      const size = (groups[order[next] as number] as number[]).length;
      // Take a group when the set is empty or when taking it brings the set closer to its target.
      if (taken > 0 && Math.abs(taken + size - target) >= Math.abs(taken - target)) break;
      for (const row of groups[order[next] as number] as number[]) out[row] = label;
      taken += size;
      next++;
    }
  };
  take(Math.round(n * test), TEST, validation > 0 ? 2 : 1);
  if (validation > 0) take(Math.round(n * validation), VALIDATION, 1);
  return out;
}

/**
 * Train is strictly earlier than validation, which is strictly earlier than test: rows are ordered by
 * time and cut between distinct times, so rows sharing a time stay together.
 */
function timeSplit(column: FrameColumn, n: number, test: number, validation: number): Uint8Array {
  if (column.data.kind !== 'number') {
    throw new SplitError(
      `Column '${column.name}' is ${column.type}; a time split needs a date, datetime or number column.`
    );
  }
  const times = column.data.values;
  let missing = 0;
  for (const t of times) if (Number.isNaN(t)) missing++;
  if (missing > 0) {
    throw new SplitError(
      `Column '${column.name}' has ${missing} missing values; a time split needs a time on every row. Filter or fill them first.`
    );
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  // Cut positions: indices in `order` where the time changes.
  const cuts: number[] = [];
  for (let i = 1; i < n; i++) if (times[order[i] as number] !== times[order[i - 1] as number]) cuts.push(i);
  const needed = validation > 0 ? 2 : 1;
  if (cuts.length < needed) {
    throw new SplitError(
      `Column '${column.name}' has too few distinct times for this split (${cuts.length + 1}).`
    );
  }
  const nearest = (target: number, lo: number, hi: number): number => {
    // The cut (index into `cuts`, within [lo, hi]) closest to the target position.
    let best = lo;
    for (let c = lo; c <= hi; c++) {
      if (Math.abs((cuts[c] as number) - target) < Math.abs((cuts[best] as number) - target)) best = c;
    }
    return best;
  };
  const testCut = nearest(n - Math.round(n * test), needed - 1, cuts.length - 1);
  const out = new Uint8Array(n);
  for (let i = cuts[testCut] as number; i < n; i++) out[order[i] as number] = TEST;
  if (validation > 0) {
    const validationCut = nearest((cuts[testCut] as number) - Math.round(n * validation), 0, testCut - 1);
    for (let i = cuts[validationCut] as number; i < (cuts[testCut] as number); i++)
      out[order[i] as number] = VALIDATION;
  }
  return out;
}

/**
 * Rows are shuffled (within each class when stratified, classes one after another) and dealt to the
 * folds in turn, so fold sizes differ by at most one row, and per class by at most one too.
 */
function kfold(
  table: Table,
  n: number,
  k: number,
  seedValue: number,
  stratifyBy: string | undefined
): SplitResult {
  if (k > n)
    throw new SplitError(`Cannot make ${k} folds of ${n} rows; k must be at most the number of rows.`);
  const random = seededRandom(seedValue);
  const classes = stratifyBy
    ? classesOf(readSplitColumn(table, stratifyBy, 'stratify by'))
    : [Array.from({ length: n }, (_, i) => i)];
  const folds = new Uint8Array(n);
  const sizes = new Array<number>(k).fill(0);
  let dealt = 0;
  for (const rows of classes) {
    const order = Uint32Array.from(rows);
    shuffleInPlace(order, random);
    for (const row of order) {
      const fold = dealt++ % k;
      folds[row] = fold;
      sizes[fold] = (sizes[fold] as number) + 1;
    }
  }
  return { kind: 'folds', folds, sizes };
}
