/**
 * `lathe eval PREDICTIONS.csv --task classification|regression [--json] [--group COLUMN] [--positive CLASS]`
 *
 * Scores a CSV of predictions with every evaluation metric Lathe has. Columns: `y_true`, `y_pred`
 * (optional for classification when probabilities are given), and for classification optional
 * probability columns `proba_<class>` or `p_<class>`, and the column named by `--group` for per-slice
 * metrics. Exit codes: 0 done, 1 the file could not be read or scored, 2 bad usage.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseCsv } from '../lib/core/data/csv';
import { LatheError } from '../lib/core/errors';
import {
  evaluateClassification,
  evaluateRegression,
  type ClassificationReport,
  type RegressionReport
} from '../lib/core/metrics/evaluate';
import type { CliIo } from './main';

export const EVAL_USAGE = `Usage: lathe eval PREDICTIONS.csv --task classification|regression [--json] [--group COLUMN] [--positive CLASS]

Scores predictions: columns y_true and y_pred, and for classification optional probabilities
proba_<class> (or p_<class>) and a --group column for per-slice fairness metrics.`;

export class EvalInputError extends LatheError<'eval_input'> {
  constructor(message: string) {
    super('eval_input', message);
  }
}

interface PredictionTable {
  header: string[];
  rows: string[][];
}

function column(table: PredictionTable, name: string, required: true): string[];
function column(table: PredictionTable, name: string, required: false): string[] | undefined;
function column(table: PredictionTable, name: string, required: boolean): string[] | undefined {
  const index = table.header.findIndex((h) => h.trim() === name);
  if (index < 0) {
    if (required)
      throw new EvalInputError(`the file has no “${name}” column (columns: ${table.header.join(', ')})`);
    return undefined;
  }
  return table.rows.map((r) => (r[index] ?? '').trim());
}

function parseNumbers(values: readonly string[], name: string): Float64Array {
  return Float64Array.from(values, (v, i) => {
    const x = v === '' ? NaN : Number(v);
    if (!Number.isFinite(x)) throw new EvalInputError(`${name} on data row ${i + 1} is not a number: “${v}”`);
    return x;
  });
}

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Classes sorted as scikit-learn's `unique_labels` sorts them (numerically when all are numbers, else by
 * code point), so index 1 of a binary problem is the greater label, its default positive class.
 */
function sortClasses(names: Iterable<string>): string[] {
  const unique = [...new Set(names)];
  if (unique.every((n) => NUMERIC.test(n))) return unique.sort((a, b) => Number(a) - Number(b));
  return unique.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function canonical(name: string, numeric: boolean): string {
  return numeric && NUMERIC.test(name) ? String(Number(name)) : name;
}

export function classificationFromTable(
  table: PredictionTable,
  options: { group?: string; positive?: string } = {}
): ClassificationReport {
  const trueNames = column(table, 'y_true', true);
  const predNames = column(table, 'y_pred', false);
  const probaColumns = table.header
    .map((h, index) => ({ match: /^(?:proba|p)_(.+)$/.exec(h.trim()), index }))
    .filter((c): c is { match: RegExpExecArray; index: number } => c.match !== null)
    .map((c) => ({ name: c.match[1] ?? '', index: c.index }));
  if (!predNames && probaColumns.length === 0)
    throw new EvalInputError('the file needs a “y_pred” column or probability columns (proba_<class>)');
  const raw = [...trueNames, ...(predNames ?? []), ...probaColumns.map((c) => c.name)];
  const numeric = raw.every((n) => NUMERIC.test(n));
  const labels = sortClasses(raw.map((n) => canonical(n, numeric)));
  const indexOf = new Map(labels.map((l, i) => [l, i]));
  const toIndex = (names: readonly string[]): Int32Array =>
    Int32Array.from(names, (n) => indexOf.get(canonical(n, numeric)) ?? -1);
  const blank = [...trueNames, ...(predNames ?? [])].findIndex((n) => n === '');
  if (blank >= 0)
    throw new EvalInputError(`data row ${(blank % trueNames.length) + 1} has an empty class label`);
  let proba: Float64Array | undefined;
  if (probaColumns.length > 0) {
    const byClass = new Map(probaColumns.map((c) => [canonical(c.name, numeric), c.index]));
    const missing = labels.filter((l) => !byClass.has(l));
    if (missing.length > 0)
      throw new EvalInputError(
        `no probability column for class${missing.length > 1 ? 'es' : ''} ${missing.join(', ')}`
      );
    const k = labels.length;
    const matrix = new Float64Array(table.rows.length * k);
    labels.forEach((label, c) => {
      const values = parseNumbers(
        table.rows.map((r) => (r[byClass.get(label) ?? -1] ?? '').trim()),
        `probability of ${label}`
      );
      values.forEach((v, i) => (matrix[i * k + c] = v));
    });
    proba = matrix;
  }
  const positiveName = options.positive === undefined ? undefined : canonical(options.positive, numeric);
  const positiveClass = positiveName === undefined ? undefined : indexOf.get(positiveName);
  if (positiveName !== undefined && positiveClass === undefined)
    throw new EvalInputError(`--positive ${positiveName} is not one of the classes (${labels.join(', ')})`);
  return evaluateClassification({
    yTrue: toIndex(trueNames),
    yPred: predNames ? toIndex(predNames) : undefined,
    proba,
    labels,
    groups: options.group ? column(table, options.group, true) : undefined,
    positiveClass
  });
}

export function regressionFromTable(table: PredictionTable): RegressionReport {
  return evaluateRegression(
    parseNumbers(column(table, 'y_true', true), 'y_true'),
    parseNumbers(column(table, 'y_pred', true), 'y_pred')
  );
}

export async function evalCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        task: { type: 'string' },
        json: { type: 'boolean', default: false },
        group: { type: 'string' },
        positive: { type: 'string' }
      }
    });
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n\n${EVAL_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [file, ...extra] = positionals;
  const task = values.task;
  if (!file || extra.length > 0 || (task !== 'classification' && task !== 'regression')) {
    io.err(EVAL_USAGE);
    return 2;
  }
  let report: ClassificationReport | RegressionReport;
  try {
    const text = await readFile(file, 'utf8').catch(() => {
      throw new EvalInputError(`${file} cannot be read`);
    });
    const table = parseCsv(text, { fileName: path.basename(file), header: true });
    report =
      task === 'classification'
        ? classificationFromTable(table, { group: values.group, positive: values.positive })
        : regressionFromTable(table);
  } catch (err) {
    const code = err instanceof LatheError ? err.code : 'eval_failed';
    io.err(`error [${code}]: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  io.out(values.json ? JSON.stringify(report, null, 2) : formatEval(report));
  return 0;
}

function num(v: number | null): string {
  if (v === null) return '—';
  if (Number.isNaN(v)) return 'NaN';
  return v.toFixed(4);
}

export function formatEval(report: ClassificationReport | RegressionReport): string {
  const lines: string[] = [];
  if (report.task === 'regression') {
    lines.push(`regression, ${report.samples} samples`);
    for (const [name, v] of [
      ['MAE', report.mae],
      ['MSE', report.mse],
      ['RMSE', report.rmse],
      ['R²', report.r2],
      ['MAPE', report.mape]
    ] as const)
      lines.push(`  ${name.padEnd(5)} ${num(v)}`);
    return lines.join('\n');
  }
  lines.push(`classification, ${report.samples} samples, ${report.labels.length} classes`);
  lines.push(`  accuracy           ${num(report.accuracy)}`);
  lines.push(`  balanced accuracy  ${num(report.balancedAccuracy)}`);
  lines.push(`  log loss           ${num(report.logLoss)}`);
  if (report.labels.length === 2) {
    lines.push(`  ROC AUC            ${num(report.rocAuc.binary)}`);
    lines.push(`  average precision  ${num(report.averagePrecision.binary)}`);
  } else {
    lines.push(
      `  ROC AUC (ovr)      macro ${num(report.rocAuc.macro)}  weighted ${num(report.rocAuc.weighted)}`
    );
    lines.push(`  average precision  macro ${num(report.averagePrecision.macro)}`);
  }
  const width = Math.max(12, ...report.labels.map((l) => l.length));
  lines.push('', `  ${'class'.padEnd(width)}  precision     recall         f1    support`);
  const row = (name: string, s: { precision: number; recall: number; f1: number; support: number }): string =>
    `  ${name.padEnd(width)}  ${num(s.precision).padStart(9)}  ${num(s.recall).padStart(9)}  ${num(s.f1).padStart(9)}  ${String(s.support).padStart(9)}`;
  report.perClass.forEach((s) => lines.push(row(s.label, s)));
  lines.push(
    row('macro avg', report.macro),
    row('micro avg', report.micro),
    row('weighted avg', report.weighted)
  );
  lines.push('', '  confusion matrix (rows true, columns predicted)');
  const cell = Math.max(5, ...report.labels.map((l) => l.length));
  lines.push(`  ${''.padEnd(width)}  ${report.labels.map((l) => l.padStart(cell)).join(' ')}`);
  report.confusionMatrix.forEach((r, i) =>
    lines.push(
      `  ${(report.labels[i] ?? '').padEnd(width)}  ${r.map((v) => String(v).padStart(cell)).join(' ')}`
    )
  );
  if (report.slices) {
    lines.push('', `  slices (positive class ${report.labels[report.slices.positiveClass] ?? ''})`);
    lines.push(
      `  ${'group'.padEnd(width)}  ${['count', 'selected', 'TPR', 'FPR', 'accuracy'].map((h) => h.padStart(9)).join('')}`
    );
    for (const g of report.slices.groups)
      lines.push(
        `  ${g.group.padEnd(width)}  ${[String(g.count), num(g.selectionRate), num(g.truePositiveRate), num(g.falsePositiveRate), num(g.accuracy)].map((v) => v.padStart(9)).join('')}`
      );
    lines.push(`  demographic parity difference  ${num(report.slices.demographicParityDifference)}`);
    lines.push(`  equalized odds difference      ${num(report.slices.equalizedOddsDifference)}`);
  }
  if (report.warnings.length > 0) {
    lines.push('', 'Warnings:');
    for (const w of report.warnings) lines.push(`  - ${w}`);
  }
  return lines.join('\n');
}
