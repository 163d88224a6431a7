/**
 * Validation: findings about a table that people should know before training on it, each with a
 * code, a severity and a sentence. Thresholds are the exported constants below.
 *
 * Column roles default to: the target → 'target', identifier columns → 'identifier', the rest →
 * 'feature'. Ignored columns are not checked; identifier and ignored columns are left out when rows
 * are compared for duplicates (two records that differ only in their id are still duplicates).
 */
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import {
  isNumericType,
  lowerBoundFinder,
  pearson,
  quantile,
  readColumn,
  rowKeys,
  topLevels,
  type ColumnData,
  type Levels,
  type NumberColumn
} from './column-stats';
import { profileColumns, targetTask, type ColumnProfile } from './profile';
import { sortNumbers } from './sort-numbers';

import type { ColumnRole } from '../records';

export { COLUMN_ROLES, columnRole, type ColumnRole } from '../records';

export const FINDING_CODES = [
  'empty_table',
  'target_not_found',
  'missing_values',
  'all_missing',
  'target_missing_values',
  'type_errors',
  'outliers_iqr',
  'outliers_zscore',
  'duplicate_rows',
  'constant_column',
  'near_constant_column',
  'high_cardinality',
  'class_imbalance',
  'single_class_target',
  'likely_leakage',
  'identifier_as_feature'
] as const;
export const findingCode = z.enum(FINDING_CODES);
export type FindingCode = z.infer<typeof findingCode>;

export const severity = z.enum(['info', 'warning', 'error']);
export type Severity = z.infer<typeof severity>;

export const findingSchema = z.object({
  code: findingCode,
  severity,
  /** Absent for dataset-level findings. */
  column: z.string().optional(),
  message: z.string(),
  /** The headline number: a count, a share, a ratio or an accuracy, as the code says. */
  value: z.number().optional(),
  details: z
    .record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null(), z.array(z.number())]))
    .optional()
});
export type Finding = z.infer<typeof findingSchema>;

export const validationReportSchema = z.object({
  rows: z.number().int().nonnegative(),
  /** Errors first, then warnings, then info; dataset-level before column findings within each. */
  findings: z.array(findingSchema),
  counts: z.object({
    error: z.number().int().nonnegative(),
    warning: z.number().int().nonnegative(),
    info: z.number().int().nonnegative()
  })
});
export type ValidationReport = z.infer<typeof validationReportSchema>;

export interface ValidateOptions {
  target?: string;
  roles?: Record<string, ColumnRole>;
  /** Cells per column that ingest could not read as the column's type. */
  malformed?: Record<string, number>;
  /** The table's column profiles, when already computed (saves a pass over the data). */
  profile?: { columns: readonly ColumnProfile[] };
}

/** A column missing at least this share of its cells gets a warning (below it, info). */
export const MISSING_WARNING_SHARE = 0.2;
export const IQR_FACTOR = 1.5;
export const Z_THRESHOLD = 3;
/** A column whose most common value holds at least this share of its present cells is near-constant. */
export const NEAR_CONSTANT_SHARE = 0.99;
/** A categorical column with more distinct values than this and than `HIGH_CARDINALITY_SHARE` of its rows. */
export const HIGH_CARDINALITY_DISTINCT = 50;
export const HIGH_CARDINALITY_SHARE = 0.5;
/** Majority:minority class ratios for info and warning. */
export const IMBALANCE_INFO_RATIO = 3;
export const IMBALANCE_WARNING_RATIO = 10;
/** Leakage: accuracy of a value → class mapping, or |Pearson r| with a numeric target, on enough rows. */
export const LEAKAGE_ACCURACY = 0.98;
export const LEAKAGE_CORRELATION = 0.98;
export const LEAKAGE_MIN_ROWS = 20;
/** A mapping must use at most one level per this many rows, or it only memorises rows. */
export const LEAKAGE_ROWS_PER_LEVEL = 5;
/** Numeric features with more distinct values are cut into this many quantile bins for the mapping. */
export const LEAKAGE_BINS = 20;
export const DUPLICATE_EXAMPLES = 5;
/** A categorical target with more classes than this is not checked for imbalance or leakage. */
export const MAX_CLASSES = 1000;

/** A share as people read it: “8%”, “0.4%”, “0.05%”. */
export const percent = (share: number): string =>
  `${(share * 100).toFixed(share < 0.001 && share > 0 ? 2 : share < 0.1 ? 1 : 0)}%`;
/** “1 row”, “1,204 rows”: a count with its noun, for messages. */
export const plural = (n: number, one: string, many = `${one}s`): string =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Checks `table` and returns its findings, most severe first. */
export function validateTable(table: Table, options: ValidateOptions = {}): ValidationReport {
  const rows = table.numRows;
  const findings: Finding[] = [];
  const names = table.schema.fields.map((f) => f.name);
  const target =
    options.target ?? Object.entries(options.roles ?? {}).find(([, role]) => role === 'target')?.[0];
  const profiles = options.profile?.columns ?? profileColumns(table, { maxTopValues: 1 });
  const profileOf = new Map(profiles.map((p) => [p.name, p]));
  const roleOf = (p: ColumnProfile): ColumnRole =>
    options.roles?.[p.name] ??
    (p.name === target ? 'target' : p.type === 'identifier' ? 'identifier' : 'feature');

  if (rows === 0) {
    findings.push({ code: 'empty_table', severity: 'error', message: 'The dataset has no rows.', value: 0 });
  }
  if (target !== undefined && !profileOf.has(target)) {
    findings.push({
      code: 'target_not_found',
      severity: 'error',
      column: target,
      message: `The target column “${target}” is not in the dataset.`
    });
  }

  for (const [column, count] of Object.entries(options.malformed ?? {})) {
    if (count <= 0) continue;
    const share = rows > 0 ? count / rows : 0;
    findings.push({
      code: 'type_errors',
      severity: 'warning',
      column,
      message: `${plural(count, 'cell')} (${percent(share)}) of “${column}” could not be read as its type and were treated as missing.`,
      value: count,
      details: { share }
    });
  }

  const targetProfile = target !== undefined ? profileOf.get(target) : undefined;
  const targetCheck =
    targetProfile && targetProfile.count > targetProfile.missing
      ? new TargetCheck(table, targetProfile)
      : null;
  if (targetCheck) findings.push(...targetCheck.findings());
  const duplicates = rows > 1 ? new DuplicateRows(rows) : null;

  // Each column is read at most once, and every check that needs its cells runs while it is in hand.
  for (const profile of profiles) {
    const role = roleOf(profile);
    if (role === 'ignore' || rows === 0) continue;
    findings.push(...missingFindings(profile, role));
    const present = profile.count - profile.missing;
    if (present === 0) continue;
    if (role === 'feature' || role === 'target') findings.push(...constancyFindings(profile, role));
    if (role !== 'identifier' && isHighCardinality(profile, options.roles?.[profile.name])) {
      findings.push({
        code: 'high_cardinality',
        severity: 'warning',
        column: profile.name,
        message: `“${profile.name}” has ${plural(profile.distinct, 'distinct value')} in ${plural(present, 'row')}; one-hot encoding it would add a column per value and most values are too rare to learn from.`,
        value: profile.distinct,
        details: { share: profile.distinct / present }
      });
    }
    if (role === 'feature' && looksLikeIdentifier(profile)) {
      findings.push({
        code: 'identifier_as_feature',
        severity: 'warning',
        column: profile.name,
        message:
          profile.type === 'identifier'
            ? `“${profile.name}” is an identifier but is used as a feature; a model can only memorise it.`
            : `Every value of “${profile.name}” is different, like an identifier; as a feature a model can only memorise it.`,
        value: profile.distinct
      });
    }
    if (role === 'identifier') continue;
    const data = readColumn(table, profile.name);
    if (data.storage === 'number' && isNumericType(profile.type) && profile.kind === 'numeric') {
      findings.push(...outlierFindings(data, profile));
    }
    duplicates?.add(rowKeys(data));
    if (role === 'feature' && targetCheck) {
      const leak = targetCheck.leakage(data, profile);
      if (leak) findings.push(leak);
    }
  }
  if (duplicates) findings.push(...duplicates.findings());

  const rank = { error: 0, warning: 1, info: 2 } as const;
  const order = new Map(names.map((n, i) => [n, i]));
  findings.sort(
    (a, b) =>
      rank[a.severity] - rank[b.severity] ||
      (a.column === undefined ? -1 : (order.get(a.column) ?? names.length)) -
        (b.column === undefined ? -1 : (order.get(b.column) ?? names.length))
  );
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  return { rows, findings, counts };
}

function missingFindings(profile: ColumnProfile, role: ColumnRole): Finding[] {
  const { name, missing, count } = profile;
  if (missing === 0) return [];
  const share = missing / count;
  if (role === 'target') {
    return [
      {
        code: missing === count ? 'all_missing' : 'target_missing_values',
        severity: missing === count ? 'error' : 'warning',
        column: name,
        message:
          missing === count
            ? `The target “${name}” has no values.`
            : `The target “${name}” is missing in ${plural(missing, 'row')} (${percent(share)}); those rows cannot be used for training.`,
        value: missing,
        details: { share }
      }
    ];
  }
  if (missing === count) {
    return [
      {
        code: 'all_missing',
        severity: 'warning',
        column: name,
        message: `“${name}” has no values in any row.`,
        value: missing,
        details: { share }
      }
    ];
  }
  return [
    {
      code: 'missing_values',
      severity: share >= MISSING_WARNING_SHARE ? 'warning' : 'info',
      column: name,
      message: `“${name}” is missing in ${plural(missing, 'row')} (${percent(share)}).`,
      value: missing,
      details: { share }
    }
  ];
}

function outlierFindings(
  column: NumberColumn,
  profile: Extract<ColumnProfile, { kind: 'numeric' }>
): Finding[] {
  const stats = profile.stats;
  if (!stats) return [];
  const iqr = stats.q3 - stats.q1;
  const lower = stats.q1 - IQR_FACTOR * iqr;
  const upper = stats.q3 + IQR_FACTOR * iqr;
  const std = stats.std ?? 0;
  let iqrCount = 0;
  let zCount = 0;
  const values = column.values;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] ?? Number.NaN;
    if (!Number.isFinite(x)) continue;
    if (x < lower || x > upper) iqrCount++;
    if (std > 0 && Math.abs(x - stats.mean) / std > Z_THRESHOLD) zCount++;
  }
  const findings: Finding[] = [];
  const n = stats.count;
  if (iqrCount > 0) {
    findings.push({
      code: 'outliers_iqr',
      severity: 'info',
      column: column.name,
      message: `${plural(iqrCount, 'value')} of “${column.name}” (${percent(iqrCount / n)}) lie outside [${round(lower)}, ${round(upper)}], ${IQR_FACTOR} IQR beyond the quartiles.`,
      value: iqrCount,
      details: { share: iqrCount / n, lower, upper }
    });
  }
  if (zCount > 0) {
    findings.push({
      code: 'outliers_zscore',
      severity: 'info',
      column: column.name,
      message: `${plural(zCount, 'value')} of “${column.name}” (${percent(zCount / n)}) are more than ${Z_THRESHOLD} standard deviations from the mean.`,
      value: zCount,
      details: { share: zCount / n, mean: stats.mean, std }
    });
  }
  return findings;
}

function round(x: number): string {
  return Number(x.toPrecision(6)).toString();
}

function constancyFindings(profile: ColumnProfile, role: ColumnRole): Finding[] {
  const present = profile.count - profile.missing;
  const top = profile.mostCommon;
  if (profile.distinct === 1) {
    return [
      {
        code: 'constant_column',
        severity: role === 'target' ? 'error' : 'warning',
        column: profile.name,
        message:
          role === 'target'
            ? `The target “${profile.name}” has the same value (${top?.value ?? ''}) in every row; there is nothing to learn.`
            : `“${profile.name}” has the same value (${top?.value ?? ''}) in every row; it cannot help a model.`,
        value: 1,
        details: { value: top?.value ?? null }
      }
    ];
  }
  if (!top || role === 'target') return [];
  const share = top.count / present;
  if (share < NEAR_CONSTANT_SHARE) return [];
  return [
    {
      code: 'near_constant_column',
      severity: 'info',
      column: profile.name,
      message: `“${profile.name}” is “${top.value}” in ${percent(share)} of rows; it carries little information.`,
      value: share,
      details: { value: top.value }
    }
  ];
}

function isHighCardinality(profile: ColumnProfile, declaredRole: ColumnRole | undefined): boolean {
  const considered =
    profile.type === 'categorical' || (profile.type === 'text' && declaredRole === 'feature');
  const present = profile.count - profile.missing;
  return (
    considered &&
    profile.distinct > HIGH_CARDINALITY_DISTINCT &&
    profile.distinct > HIGH_CARDINALITY_SHARE * present
  );
}

function looksLikeIdentifier(profile: ColumnProfile): boolean {
  if (profile.type === 'identifier') return true;
  const present = profile.count - profile.missing;
  const discrete = profile.type === 'integer' || profile.type === 'categorical';
  return discrete && present >= LEAKAGE_MIN_ROWS && profile.distinct === present;
}

/** The words of `NaN` as a `Float64Array` stores it, in memory order. */
const CANONICAL_NAN = new Uint32Array(Float64Array.of(Number.NaN).buffer);

/** Hashes every row over the columns added and counts rows equal to an earlier one. */
class DuplicateRows {
  private readonly h1: Uint32Array;
  private readonly h2: Uint32Array;
  constructor(private readonly rows: number) {
    this.h1 = new Uint32Array(rows).fill(0x811c9dc5);
    this.h2 = new Uint32Array(rows).fill(0x9747b28c);
  }

  /** Adds a column's `rowKeys`. */
  add(keys: Float64Array): void {
    const { h1, h2 } = this;
    // The keys' own bits, two 32-bit words per key in memory order.
    const words = new Uint32Array(keys.buffer, keys.byteOffset, 2 * keys.length);
    for (let r = 0; r < this.rows; r++) {
      const key = keys[r] ?? Number.NaN;
      let lo = words[2 * r] ?? 0;
      let hi = words[2 * r + 1] ?? 0;
      // One NaN pattern for every missing cell, and +0 for −0.
      if (key !== key) {
        lo = CANONICAL_NAN[0] as number;
        hi = CANONICAL_NAN[1] as number;
      } else if (key === 0) {
        lo = 0;
        hi = 0;
      }
      h1[r] = Math.imul(Math.imul((h1[r] ?? 0) ^ lo, 0x01000193) ^ hi, 0x85ebca6b);
      const b = Math.imul(((h2[r] ?? 0) ^ hi) + lo, 0x5bd1e995);
      h2[r] = b ^ (b >>> 13);
    }
  }

  findings(): Finding[] {
    const { rows, h1, h2 } = this;
    const hashes = new Float64Array(rows);
    for (let r = 0; r < rows; r++) hashes[r] = (h1[r] ?? 0) * 2_097_152 + ((h2[r] ?? 0) >>> 11);
    const sorted = sortNumbers(hashes.slice());
    let duplicates = 0;
    for (let i = 1; i < rows; i++) if (sorted[i] === sorted[i - 1]) duplicates++;
    if (duplicates === 0) return [];
    const seen = new Map<number, number>();
    const examples: number[] = [];
    for (let r = 0; r < rows && examples.length < DUPLICATE_EXAMPLES; r++) {
      const h = hashes[r] ?? 0;
      if (seen.has(h)) examples.push(r);
      else seen.set(h, r);
    }
    const share = duplicates / rows;
    return [
      {
        code: 'duplicate_rows',
        severity: 'warning',
        message: `${plural(duplicates, 'row')} (${percent(share)}) repeat an earlier row; duplicates can leak between training and test splits.`,
        value: duplicates,
        details: {
          share,
          exampleRows: examples,
          firstRows: examples.map((r) => seen.get(hashes[r] ?? 0) ?? -1)
        }
      }
    ];
  }
}

/**
 * Checks of the target alone (classes), and of each feature against it (leakage). Exported so the
 * checks before a run (`models/preflight.ts`) judge leakage by the same rule as validation.
 */
export class TargetCheck {
  private readonly data: ColumnData;
  private readonly classes: Levels | null;
  constructor(
    table: Table,
    private readonly target: ColumnProfile
  ) {
    this.data = readColumn(table, target.name);
    const classify = targetTask(target) === 'classification' && target.distinct <= MAX_CLASSES;
    this.classes = classify ? topLevels(this.data, MAX_CLASSES) : null;
  }

  findings(): Finding[] {
    const { classes, target } = this;
    if (!classes) return [];
    const total = classes.counts.reduce((s, c) => s + c, 0);
    const majority = classes.counts[0] ?? 0;
    const minority = classes.counts[classes.counts.length - 1] ?? 0;
    if (classes.labels.length === 1) {
      return [
        {
          code: 'single_class_target',
          severity: 'error',
          column: target.name,
          message: `The target “${target.name}” has a single class (${classes.labels[0] ?? ''}); a classifier needs at least two.`,
          value: 1
        }
      ];
    }
    const ratio = majority / minority;
    if (!(ratio >= IMBALANCE_INFO_RATIO)) return [];
    const minorityClass = classes.labels[classes.labels.length - 1] ?? '';
    return [
      {
        code: 'class_imbalance',
        severity: ratio >= IMBALANCE_WARNING_RATIO ? 'warning' : 'info',
        column: target.name,
        message: `Classes of “${target.name}” are imbalanced: “${minorityClass}” has ${percent(minority / total)} of rows, ${round(ratio)} times fewer than “${classes.labels[0] ?? ''}”; accuracy alone will flatter a model.`,
        value: ratio,
        details: {
          minorityClass,
          minorityShare: minority / total,
          majorityClass: classes.labels[0] ?? '',
          majorityShare: majority / total,
          classes: classes.labels.length
        }
      }
    ];
  }

  /** A finding when `feature` predicts the target almost perfectly: by a value → class mapping, or by correlation. */
  leakage(feature: ColumnData, profile: ColumnProfile): Finding | null {
    const { classes, target, data } = this;
    if (profile.name === target.name) return null;
    if (classes && classes.labels.length > 1) {
      const found = mappingAccuracy(feature, profile, classes.codes, classes.labels.length);
      if (found) {
        return {
          code: 'likely_leakage',
          severity: 'warning',
          column: profile.name,
          message: `“${profile.name}” alone predicts “${target.name}” for ${percent(found.accuracy)} of ${plural(found.rows, 'row')}; check that it is not derived from the target or only known after it.`,
          value: found.accuracy,
          details: { method: 'mapping', rows: found.rows, baseline: found.baseline }
        };
      }
    }
    if (
      data.storage !== 'number' ||
      target.kind !== 'numeric' ||
      !isNumericType(target.type) ||
      feature.storage !== 'number' ||
      profile.kind !== 'numeric'
    ) {
      return null;
    }
    const { r: rho, n: rows } = pearson(
      feature.values,
      data.values,
      profile.stats?.mean ?? 0,
      target.stats?.mean ?? 0
    );
    if (rows < LEAKAGE_MIN_ROWS || !(Math.abs(rho) >= LEAKAGE_CORRELATION)) return null;
    return {
      code: 'likely_leakage',
      severity: 'warning',
      column: profile.name,
      message: `“${profile.name}” has a correlation of ${rho.toFixed(3)} with “${target.name}” over ${plural(rows, 'row')}; check that it is not derived from the target.`,
      value: rho,
      details: { method: 'correlation', rows }
    };
  }
}

/** Rows sampled (evenly spaced) to place the quantile cuts of a numeric feature. */
const CUT_SAMPLE = 20_000;

/**
 * Cut points that split the non-missing `values` into about `LEAKAGE_BINS` bins of equal counts (at
 * most one bin per `LEAKAGE_ROWS_PER_LEVEL` rows), placed from an evenly spaced sample: the bins only
 * need to be roughly equal for the mapping test, and sorting a sample is much cheaper than the column.
 */
function quantileCuts(values: Float64Array, present: number): number[] {
  const step = Math.max(1, Math.floor(present / CUT_SAMPLE));
  const sample: number[] = [];
  let seen = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] ?? Number.NaN;
    if (Number.isNaN(x)) continue;
    if (seen++ % step === 0) sample.push(x);
  }
  const sorted = Float64Array.from(sample).sort();
  const bins = Math.max(1, Math.min(LEAKAGE_BINS, Math.floor(present / LEAKAGE_ROWS_PER_LEVEL)));
  return Array.from({ length: bins - 1 }, (_, i) => quantile(sorted, (i + 1) / bins));
}

/**
 * How well "predict the most common class of this feature value" does, when it beats both the
 * thresholds and the majority-class baseline (it must remove ≥ 90% of the baseline's errors);
 * null otherwise. Numeric features with many values are cut into quantile bins first.
 */
function mappingAccuracy(
  column: ColumnData,
  profile: ColumnProfile,
  classCodes: Int32Array,
  classCount: number
): { accuracy: number; baseline: number; rows: number } | null {
  if (profile.type === 'text' || profile.type === 'identifier') return null;
  let table: Int32Array;
  let levelCount: number;
  if (column.storage === 'number' && profile.distinct > LEAKAGE_BINS) {
    const values = column.values;
    const cuts = quantileCuts(values, profile.count - profile.missing);
    levelCount = cuts.length + 1;
    const levelOf = lowerBoundFinder(cuts);
    table = new Int32Array(levelCount * classCount);
    // Each row is counted in its bin as the bin is found, with no array of bins in between.
    for (let i = 0; i < values.length; i++) {
      const x = values[i] as number;
      const c = classCodes[i] ?? -1;
      if (x !== x || c < 0) continue; // only NaN differs from itself
      const cell = levelOf(x) * classCount + c;
      table[cell] = (table[cell] as number) + 1;
    }
  } else {
    let levels: Int32Array;
    if (column.storage === 'number') {
      levels = new Int32Array(column.length).fill(-1);
      const values = column.values;
      // Levels in order of first appearance. A list this short is searched faster than a Map is
      // looked up; the Map takes over should the profile have undercounted the values.
      const seen: number[] = [];
      let levelOf: Map<number, number> | null = null;
      for (let i = 0; i < values.length; i++) {
        const x = values[i] as number;
        if (x !== x) continue;
        let level = levelOf ? (levelOf.get(x) ?? -1) : seen.indexOf(x);
        if (level < 0) {
          level = seen.push(x) - 1;
          levelOf?.set(x, level);
          if (!levelOf && seen.length > 4 * LEAKAGE_BINS) levelOf = new Map(seen.map((v, j) => [v, j]));
        }
        levels[i] = level;
      }
      levelCount = seen.length;
    } else {
      // Too many values for a mapping to generalise: skip before counting them.
      if (profile.distinct * LEAKAGE_ROWS_PER_LEVEL > profile.count - profile.missing) return null;
      const top = topLevels(column, Number.MAX_SAFE_INTEGER);
      levels = top.codes;
      levelCount = top.labels.length;
    }
    table = new Int32Array(levelCount * classCount);
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i] ?? -1;
      const c = classCodes[i] ?? -1;
      if (level < 0 || c < 0) continue;
      table[level * classCount + c] = (table[level * classCount + c] ?? 0) + 1;
    }
  }
  const perClass = new Int32Array(classCount);
  let rows = 0;
  for (let cell = 0; cell < table.length; cell++) {
    const n = table[cell] as number;
    perClass[cell % classCount] = (perClass[cell % classCount] as number) + n;
    rows += n;
  }
  if (rows < LEAKAGE_MIN_ROWS) return null;
  let used = 0;
  let correct = 0;
  for (let level = 0; level < levelCount; level++) {
    let best = 0;
    let any = false;
    for (let c = 0; c < classCount; c++) {
      const n = table[level * classCount + c] ?? 0;
      if (n > 0) any = true;
      if (n > best) best = n;
    }
    if (any) used++;
    correct += best;
  }
  if (used * LEAKAGE_ROWS_PER_LEVEL > rows) return null;
  const accuracy = correct / rows;
  const baseline = Math.max(...perClass) / rows;
  if (accuracy < LEAKAGE_ACCURACY || baseline >= 1 || (accuracy - baseline) / (1 - baseline) < 0.9)
    return null;
  return { accuracy, baseline, rows };
}
