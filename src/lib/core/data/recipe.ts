/**
 * Recipes: ordered, declarative steps that turn one dataset version's table into a new one (derive,
 * bin, cast, filter, drop, rename, deduplicate, join, fill). The steps are plain JSON validated with
 * zod, so a recipe can be stored beside the version it produced and replayed. The caller encodes the
 * resulting table into a new immutable version (see `tableToCells` + `encodeChunks`).
 */
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { LatheError } from '../errors';
import { columnType, type ColumnSchema, type ColumnType } from '../records';
import { compileExpression, ExpressionError } from './expression';
import {
  BOOL_NULL,
  cellText,
  columnSchemaOf,
  emptyColumn,
  frameToTable,
  kindOf,
  rowHashes,
  rowsEqual,
  tableToFrame,
  takeFrameRows,
  takeRows,
  type ColumnData,
  type Frame,
  type FrameColumn
} from './frame';
import { MALFORMED_EXAMPLES, parseCell, type ColumnMalformed } from './infer';

const columnName = z.string().min(1, 'a column name is required');

export const deriveStep = z.object({
  kind: z.literal('derive'),
  name: columnName,
  expression: z.string().min(1, 'an expression is required')
});
export const binStep = z
  .object({
    kind: z.literal('bin'),
    column: columnName,
    name: columnName,
    method: z.enum(['equal_width', 'quantile', 'edges']),
    bins: z.number().int().min(2).max(1000).optional(),
    edges: z.array(z.number().finite()).min(2).optional()
  })
  .superRefine((step, ctx) => {
    if (step.method === 'edges') {
      if (!step.edges)
        ctx.addIssue({ code: 'custom', path: ['edges'], message: 'edges are required for the edges method' });
      else if (step.edges.some((e, i) => i > 0 && e <= (step.edges?.[i - 1] ?? -Infinity))) {
        ctx.addIssue({ code: 'custom', path: ['edges'], message: 'edges must be strictly increasing' });
      }
    } else if (step.bins === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['bins'],
        message: `bins is required for the ${step.method} method`
      });
    }
  });
export const castStep = z.object({ kind: z.literal('cast'), column: columnName, to: columnType });
export const filterStep = z.object({
  kind: z.literal('filter'),
  expression: z.string().min(1, 'an expression is required')
});
export const dropColumnsStep = z.object({
  kind: z.literal('drop_columns'),
  columns: z.array(columnName).min(1, 'name at least one column')
});
export const renameStep = z.object({ kind: z.literal('rename'), from: columnName, to: columnName });
export const deduplicateStep = z.object({
  kind: z.literal('deduplicate'),
  columns: z.array(columnName).min(1).optional()
});
export const joinStep = z.object({
  kind: z.literal('join'),
  rightVersionId: z.string().min(1),
  leftKey: columnName,
  rightKey: columnName,
  how: z.enum(['inner', 'left']),
  /** Added to the right table's column names that clash with the left's. */
  suffix: z.string().min(1).default('_right')
});
export const fillMissingStep = z.object({
  kind: z.literal('fill_missing'),
  column: columnName,
  value: z.union([z.number().finite(), z.string(), z.boolean()])
});

export const recipeStep = z.discriminatedUnion('kind', [
  deriveStep,
  binStep,
  castStep,
  filterStep,
  dropColumnsStep,
  renameStep,
  deduplicateStep,
  joinStep,
  fillMissingStep
]);
/** A step as written (join's `suffix` may be left out). */
export type RecipeStepInput = z.input<typeof recipeStep>;
export type RecipeStep = z.output<typeof recipeStep>;
export const recipe = z.array(recipeStep);

export interface RecipeContext {
  /** Loads the table of another dataset version, for `join`. */
  resolveTable?(versionId: string): Promise<Table>;
  signal?: AbortSignal;
}

export interface RecipeStepReport {
  index: number;
  step: RecipeStep;
  rowsBefore: number;
  rowsAfter: number;
  warnings: string[];
  /** For `cast`: the values that could not be read as the new type and became missing. */
  malformed?: ColumnMalformed;
}

export interface RecipeResult {
  table: Table;
  /** The schema of the result, with missing and distinct counts, for the new version's record. */
  columns: ColumnSchema[];
  report: { steps: RecipeStepReport[] };
}

export type RecipeErrorCode = 'recipe_invalid';

/** A step that cannot run; the message names the step (1-based, as people count) and the field. */
export class RecipeError extends LatheError<RecipeErrorCode> {
  constructor(
    readonly stepIndex: number,
    readonly field: string | undefined,
    message: string
  ) {
    super('recipe_invalid', message, { stepIndex, field });
    this.name = 'RecipeError';
  }
}

function stepLabel(index: number, kind: string): string {
  return `Step ${index + 1} (${kind})`;
}

/** One line for the UI, e.g. "Derive total = price * qty". */
export function describeStep(step: RecipeStepInput): string {
  switch (step.kind) {
    case 'derive':
      return `Derive ${step.name} = ${step.expression}`;
    case 'bin': {
      const how =
        step.method === 'edges'
          ? `at ${(step.edges ?? []).join(', ')}`
          : `into ${step.bins ?? '?'} ${step.method === 'quantile' ? 'quantile' : 'equal-width'} bins`;
      return `Bin ${step.column} ${how} as ${step.name}`;
    }
    case 'cast':
      return `Cast ${step.column} to ${step.to}`;
    case 'filter':
      return `Keep rows where ${step.expression}`;
    case 'drop_columns':
      return `Drop ${step.columns.length === 1 ? 'column' : 'columns'} ${step.columns.join(', ')}`;
    case 'rename':
      return `Rename ${step.from} → ${step.to}`;
    case 'deduplicate':
      return step.columns
        ? `Remove duplicate rows by ${step.columns.join(', ')} (keep first)`
        : 'Remove duplicate rows (keep first)';
    case 'join':
      return `${step.how === 'inner' ? 'Inner' : 'Left'} join version ${step.rightVersionId} on ${step.leftKey} = ${step.rightKey}`;
    case 'fill_missing':
      return `Fill missing ${step.column} with ${JSON.stringify(step.value)}`;
  }
}

/** Runs the steps in order over `table`. Throws `RecipeError` naming the first step that cannot run. */
export async function applyRecipe(
  table: Table,
  steps: readonly RecipeStepInput[],
  ctx: RecipeContext = {}
): Promise<RecipeResult> {
  let frame = tableToFrame(table);
  const reports: RecipeStepReport[] = [];
  for (let index = 0; index < steps.length; index++) {
    ctx.signal?.throwIfAborted();
    const raw = steps[index];
    const parsed = recipeStep.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || undefined;
      const kind = typeof raw === 'object' && raw !== null && 'kind' in raw ? String(raw.kind) : 'unknown';
      throw new RecipeError(
        index,
        field,
        `${stepLabel(index, kind)}: ${field ? `field '${field}' — ` : ''}${issue?.message ?? 'invalid step'}`
      );
    }
    const step = parsed.data;
    const rowsBefore = frame.rowCount;
    const report: RecipeStepReport = { index, step, rowsBefore, rowsAfter: rowsBefore, warnings: [] };
    const runner = new StepRunner(index, step.kind, report);
    frame = await runner.run(frame, step, ctx);
    report.rowsAfter = frame.rowCount;
    reports.push(report);
  }
  return {
    table: frameToTable(frame),
    columns: frame.columns.map(columnSchemaOf),
    report: { steps: reports }
  };
}

class StepRunner {
  constructor(
    private readonly index: number,
    private readonly kind: string,
    private readonly report: RecipeStepReport
  ) {}

  fail(field: string | undefined, message: string): never {
    throw new RecipeError(
      this.index,
      field,
      `${stepLabel(this.index, this.kind)}: ${field ? `field '${field}' — ` : ''}${message}`
    );
  }

  warn(message: string): void {
    this.report.warnings.push(message);
  }

  column(frame: Frame, name: string, field: string): FrameColumn {
    const column = frame.columns.find((c) => c.name === name);
    if (!column) this.fail(field, `no column '${name}'${hintFor(name, frame)}`);
    return column;
  }

  expression(frame: Frame, source: string) {
    try {
      return compileExpression(source, frame.columns);
    } catch (err) {
      if (err instanceof ExpressionError) this.fail('expression', err.message);
      throw err;
    }
  }

  async run(frame: Frame, step: RecipeStep, ctx: RecipeContext): Promise<Frame> {
    switch (step.kind) {
      case 'derive':
        return this.derive(frame, step);
      case 'bin':
        return this.bin(frame, step);
      case 'cast':
        return this.cast(frame, step);
      case 'filter':
        return this.filter(frame, step);
      case 'drop_columns':
        return this.drop(frame, step);
      case 'rename':
        return this.rename(frame, step);
      case 'deduplicate':
        return this.deduplicate(frame, step);
      case 'join':
        return this.join(frame, step, ctx);
      case 'fill_missing':
        return this.fill(frame, step);
    }
  }

  private derive(frame: Frame, step: z.output<typeof deriveStep>): Frame {
    const compiled = this.expression(frame, step.expression);
    if (compiled.type === 'null') this.fail('expression', 'the expression is always missing (null)');
    const data = compiled.evaluate(frameInput(frame));
    const column: FrameColumn = { name: step.name, type: compiled.columnTypeOf(data), data };
    return replaceOrAppend(frame, column, () => this.warn(`Replaced the existing column '${step.name}'.`));
  }

  private filter(frame: Frame, step: z.output<typeof filterStep>): Frame {
    const compiled = this.expression(frame, step.expression);
    if (compiled.type !== 'boolean')
      this.fail('expression', `a filter needs a true/false expression, got ${compiled.type}`);
    const keep = compiled.evaluate(frameInput(frame)).values as Uint8Array;
    const rows: number[] = [];
    let unknown = 0;
    for (let i = 0; i < keep.length; i++) {
      if (keep[i] === 1) rows.push(i);
      else if (keep[i] === BOOL_NULL) unknown++;
    }
    if (unknown > 0) this.warn(`${unknown} rows were dropped because the condition was missing for them.`);
    if (rows.length === 0) this.warn('No rows matched the filter; the result is empty.');
    return takeFrameRows(frame, rows);
  }

  private drop(frame: Frame, step: z.output<typeof dropColumnsStep>): Frame {
    for (const name of step.columns) this.column(frame, name, 'columns');
    const drop = new Set(step.columns);
    const columns = frame.columns.filter((c) => !drop.has(c.name));
    if (columns.length === 0) this.fail('columns', 'dropping these would leave no columns');
    return { ...frame, columns };
  }

  private rename(frame: Frame, step: z.output<typeof renameStep>): Frame {
    this.column(frame, step.from, 'from');
    if (step.from === step.to) return frame;
    if (frame.columns.some((c) => c.name === step.to))
      this.fail('to', `a column named '${step.to}' already exists`);
    return {
      ...frame,
      columns: frame.columns.map((c) => (c.name === step.from ? { ...c, name: step.to } : c))
    };
  }

  private fill(frame: Frame, step: z.output<typeof fillMissingStep>): Frame {
    const column = this.column(frame, step.column, 'column');
    const { data } = column;
    const value = step.value;
    let filled = 0;
    let out: ColumnData;
    if (data.kind === 'number') {
      let v: number | null = null;
      if (typeof value === 'number') v = value;
      else if (typeof value === 'string' && (column.type === 'date' || column.type === 'datetime'))
        v = parseCell(column.type, value) as number | null;
      if (v === null)
        this.fail(
          'value',
          `'${String(value)}' is not ${column.type === 'date' || column.type === 'datetime' ? 'an ISO date' : 'a number'} (column '${column.name}' is ${column.type})`
        );
      if (column.type === 'integer' && !Number.isInteger(v))
        this.fail('value', `${v} is not a whole number (column '${column.name}' is integer)`);
      const values = new Float64Array(data.values);
      for (let i = 0; i < values.length; i++) {
        if (Number.isNaN(values[i] as number)) {
          values[i] = v;
          filled++;
        }
      }
      out = { kind: 'number', values };
    } else if (data.kind === 'boolean') {
      if (typeof value !== 'boolean')
        this.fail('value', `column '${column.name}' is boolean; fill it with true or false`);
      const values = new Uint8Array(data.values);
      for (let i = 0; i < values.length; i++) {
        if (values[i] === BOOL_NULL) {
          values[i] = value ? 1 : 0;
          filled++;
        }
      }
      out = { kind: 'boolean', values };
    } else {
      if (typeof value !== 'string')
        this.fail('value', `column '${column.name}' holds text; fill it with a string`);
      const values = data.values.slice();
      for (let i = 0; i < values.length; i++) {
        if (values[i] == null) {
          values[i] = value;
          filled++;
        }
      }
      out = { kind: 'string', values };
    }
    if (filled === 0) this.warn(`Column '${column.name}' had no missing values.`);
    return replaceOrAppend(frame, { ...column, data: out }, () => undefined);
  }

  private cast(frame: Frame, step: z.output<typeof castStep>): Frame {
    const column = this.column(frame, step.column, 'column');
    const to: ColumnType = step.to;
    if (column.type === to) {
      this.warn(`Column '${column.name}' is already ${to}.`);
      return frame;
    }
    const n = frame.rowCount;
    const malformed: ColumnMalformed = { column: column.name, type: to, count: 0, examples: [] };
    const bad = (row: number): void => {
      malformed.count++;
      if (malformed.examples.length < MALFORMED_EXAMPLES) {
        malformed.examples.push({ row, column: column.name, value: cellText(column, row) });
      }
    };
    const from = column.data;
    let out: ColumnData;
    const kind = kindOf(to);
    if (kind === 'string') {
      const values = new Array<string | null>(n);
      for (let i = 0; i < n; i++) {
        if (from.kind === 'string') values[i] = from.values[i] ?? null;
        else {
          const text = cellText(column, i);
          values[i] = text === '' ? null : text;
        }
      }
      out = { kind: 'string', values };
    } else if (kind === 'boolean') {
      const values = new Uint8Array(n).fill(BOOL_NULL);
      for (let i = 0; i < n; i++) {
        if (from.kind === 'number') {
          const v = from.values[i] as number;
          if (Number.isNaN(v)) continue;
          if (v === 0 || v === 1) values[i] = v;
          else bad(i);
        } else {
          const s = from.kind === 'string' ? from.values[i] : null;
          if (s == null) continue;
          const parsed = parseCell('boolean', s);
          if (typeof parsed === 'boolean') values[i] = parsed ? 1 : 0;
          else if (parsed !== null || s.trim() !== '') bad(i);
        }
      }
      out = { kind: 'boolean', values };
    } else {
      const values = new Float64Array(n).fill(Number.NaN);
      const temporal = (t: ColumnType): boolean => t === 'date' || t === 'datetime';
      for (let i = 0; i < n; i++) {
        if (from.kind === 'boolean') {
          const b = from.values[i] as number;
          if (b === BOOL_NULL) continue;
          if (temporal(to)) bad(i);
          else values[i] = b;
          continue;
        }
        if (from.kind === 'number') {
          const v = from.values[i] as number;
          if (Number.isNaN(v)) continue;
          if (temporal(to) !== temporal(column.type)) bad(i);
          else if (to === 'integer' && !Number.isInteger(v)) bad(i);
          else values[i] = to === 'date' ? Math.floor(v / 86_400_000) * 86_400_000 : v;
          continue;
        }
        const s = from.values[i];
        if (s == null) continue;
        const parsed = parseCell(to, s);
        if (typeof parsed === 'number' && (to !== 'integer' || Number.isInteger(parsed))) values[i] = parsed;
        else if (parsed !== null || s.trim() !== '') bad(i);
      }
      out = { kind: 'number', values };
    }
    if (malformed.count > 0) {
      this.report.malformed = malformed;
      const examples = malformed.examples.map((e) => `'${e.value}'`).join(', ');
      this.warn(
        `${malformed.count} value${malformed.count === 1 ? '' : 's'} of '${column.name}' could not be read as ${to} and became missing (e.g. ${examples}).`
      );
    }
    return replaceOrAppend(frame, { name: column.name, type: to, data: out }, () => undefined);
  }

  private bin(frame: Frame, step: z.output<typeof binStep>): Frame {
    const column = this.column(frame, step.column, 'column');
    if (column.data.kind !== 'number' || column.type === 'date' || column.type === 'datetime') {
      this.fail('column', `'${column.name}' is ${column.type}; only integer and float columns can be binned`);
    }
    const values = column.data.values;
    const present: number[] = [];
    for (const v of values) if (!Number.isNaN(v)) present.push(v);
    if (present.length === 0) this.fail('column', `'${column.name}' has no values to bin`);
    present.sort((a, b) => a - b);
    const lo = present[0] as number;
    const hi = present[present.length - 1] as number;
    let edges: number[];
    if (step.method === 'edges') edges = step.edges ?? [];
    else if (step.method === 'equal_width') {
      const bins = step.bins ?? 2;
      edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + ((hi - lo) * i) / bins));
      if (hi === lo) {
        edges = [lo, hi];
        this.warn(`All values of '${column.name}' are equal; they share one bin.`);
      }
    } else {
      const bins = step.bins ?? 2;
      const raw = Array.from({ length: bins + 1 }, (_, i) => quantileSorted(present, i / bins));
      edges = raw.filter((e, i) => i === 0 || e !== raw[i - 1]);
      if (edges.length - 1 < bins) {
        this.warn(
          `Repeated values left ${Math.max(1, edges.length - 1)} distinct quantile bins instead of ${bins}.`
        );
      }
      if (edges.length === 1) edges = [lo, hi];
    }
    const labels = edges.slice(0, -1).map((e, i) => {
      const last = i === edges.length - 2;
      return `[${formatEdge(e)}, ${formatEdge(edges[i + 1] as number)}${last ? ']' : ')'}`;
    });
    const out = new Array<string | null>(values.length).fill(null);
    let outside = 0;
    for (let r = 0; r < values.length; r++) {
      const v = values[r] as number;
      if (Number.isNaN(v)) continue;
      const bin = findBin(edges, v);
      if (bin < 0) outside++;
      else out[r] = labels[bin] ?? null;
    }
    if (outside > 0)
      this.warn(`${outside} values of '${column.name}' fall outside the edges and became missing.`);
    return replaceOrAppend(
      frame,
      { name: step.name, type: 'categorical', data: { kind: 'string', values: out } },
      () => this.warn(`Replaced the existing column '${step.name}'.`)
    );
  }

  private deduplicate(frame: Frame, step: z.output<typeof deduplicateStep>): Frame {
    const keyColumns = step.columns
      ? step.columns.map((name) => this.column(frame, name, 'columns'))
      : frame.columns;
    const data = keyColumns.map((c) => c.data);
    const hashes = rowHashes(data, frame.rowCount);
    const firstByHash = new Map<number, number[]>();
    const keep: number[] = [];
    for (let i = 0; i < frame.rowCount; i++) {
      const hash = hashes[i] as number;
      const seen = firstByHash.get(hash);
      if (seen?.some((j) => rowsEqual(data, j, data, i))) continue;
      if (seen) seen.push(i);
      else firstByHash.set(hash, [i]);
      keep.push(i);
    }
    const removed = frame.rowCount - keep.length;
    if (removed === 0) return frame;
    this.warn(`Removed ${removed} duplicate row${removed === 1 ? '' : 's'}.`);
    return takeFrameRows(frame, keep);
  }

  private async join(frame: Frame, step: z.output<typeof joinStep>, ctx: RecipeContext): Promise<Frame> {
    const leftKey = this.column(frame, step.leftKey, 'leftKey');
    if (!ctx.resolveTable)
      this.fail('rightVersionId', 'joins need a way to load the other version (resolveTable)');
    let right: Frame;
    try {
      right = tableToFrame(await ctx.resolveTable(step.rightVersionId));
    } catch (err) {
      if (err instanceof RecipeError) throw err;
      this.fail(
        'rightVersionId',
        `could not load version ${step.rightVersionId}: ${err instanceof Error ? err.message : String(err)}`
      );
    }
    const rightKey = this.column(right, step.rightKey, 'rightKey');
    const temporal = (t: ColumnType): boolean => t === 'date' || t === 'datetime';
    if (leftKey.data.kind !== rightKey.data.kind || temporal(leftKey.type) !== temporal(rightKey.type)) {
      this.fail(
        'rightKey',
        `the keys have different types: '${leftKey.name}' is ${leftKey.type}, '${rightKey.name}' is ${rightKey.type}`
      );
    }
    // Right rows by key value; missing keys never match.
    const index = new Map<string | number, number[]>();
    const keyAt = (data: ColumnData, i: number): string | number | null => {
      const v = data.values[i] as string | number | null;
      if (
        v === null ||
        (typeof v === 'number' && Number.isNaN(v)) ||
        (data.kind === 'boolean' && v === BOOL_NULL)
      )
        return null;
      return v;
    };
    for (let j = 0; j < right.rowCount; j++) {
      const key = keyAt(rightKey.data, j);
      if (key === null) continue;
      const rows = index.get(key);
      if (rows) rows.push(j);
      else index.set(key, [j]);
    }
    const leftRows: number[] = [];
    const rightRows: number[] = [];
    let multi = 0;
    let unmatched = 0;
    for (let i = 0; i < frame.rowCount; i++) {
      const key = keyAt(leftKey.data, i);
      const matches = key === null ? undefined : index.get(key);
      if (!matches) {
        unmatched++;
        if (step.how === 'left') {
          leftRows.push(i);
          rightRows.push(-1);
        }
        continue;
      }
      if (matches.length > 1) multi++;
      for (const j of matches) {
        leftRows.push(i);
        rightRows.push(j);
      }
    }
    if (multi > 0) this.warn(`${multi} left rows matched more than one right row, so they were repeated.`);
    if (unmatched > 0) {
      this.warn(
        step.how === 'inner'
          ? `${unmatched} left rows had no match and were dropped.`
          : `${unmatched} left rows had no match; their right-hand columns are missing.`
      );
    }
    const names = new Set(frame.columns.map((c) => c.name));
    const columns: FrameColumn[] = frame.columns.map((c) => ({ ...c, data: takeRows(c.data, leftRows) }));
    for (const c of right.columns) {
      if (c.name === step.rightKey) continue;
      let name = c.name;
      if (names.has(name)) name = `${c.name}${step.suffix}`;
      if (names.has(name))
        this.fail('suffix', `the right column '${c.name}' clashes with '${name}' even with the suffix`);
      names.add(name);
      columns.push({ name, type: c.type, data: takeRows(c.data, rightRows) });
    }
    return { rowCount: leftRows.length, columns };
  }
}

function frameInput(frame: Frame) {
  const byName = new Map(frame.columns.map((c) => [c.name, c.data]));
  return {
    rowCount: frame.rowCount,
    column(name: string): ColumnData {
      return byName.get(name) ?? emptyColumn('number', frame.rowCount);
    }
  };
}

function replaceOrAppend(frame: Frame, column: FrameColumn, onReplace: () => void): Frame {
  const at = frame.columns.findIndex((c) => c.name === column.name);
  if (at < 0) return { ...frame, columns: [...frame.columns, column] };
  onReplace();
  const columns = frame.columns.slice();
  columns[at] = column;
  return { ...frame, columns };
}

function hintFor(name: string, frame: Frame): string {
  const lower = name.toLowerCase();
  const close = frame.columns.find((c) => c.name.toLowerCase() === lower);
  return close ? ` (did you mean '${close.name}'?)` : '';
}

/** Linear-interpolated quantile of ascending values. */
function quantileSorted(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  const a = sorted[lo] as number;
  return a + ((sorted[hi] as number) - a) * (at - lo);
}

/** The bin of `v` for ascending `edges`: [e0, e1), [e1, e2), …, [e_{k-1}, e_k]; -1 outside. */
function findBin(edges: readonly number[], v: number): number {
  const last = edges.length - 1;
  if (v < (edges[0] as number) || v > (edges[last] as number)) return -1;
  if (v === edges[last]) return last - 1;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (v < (edges[mid] as number)) hi = mid;
    else lo = mid;
  }
  return lo;
}

function formatEdge(v: number): string {
  return String(Number(v.toPrecision(6)));
}
