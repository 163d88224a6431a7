/**
 * A dataset's profile: per-column statistics and chart data, a correlation matrix, and plots of each
 * feature against the target. Plain JSON (no NaN, no Infinity: undefined statistics are null), so it
 * can be stored in IndexedDB, synced, and sent from the data worker as it is.
 *
 * Methods, so the numbers can be checked by hand:
 * - `distinct` is exact for numbers and categories; strings are counted by a 53-bit hash of their bytes
 *   (exact unless two strings collide: about 1 in 18,000 for a million distinct values);
 * - quartiles interpolate linearly between order statistics (numpy's default);
 * - `std` is the sample standard deviation (n − 1), as in pandas;
 * - NaN counts as missing; ±Infinity counts as `infinite` and stays out of the other statistics;
 * - histograms: equal-width bins, Freedman–Diaconis (Sturges when the IQR is zero), at most
 *   `histogramBins`; integer columns get whole-number bins and dates whole-day bins;
 * - correlation: Pearson over the rows where both columns have a finite value;
 * - scatter samples are uniform (reservoir) samples drawn with a seeded generator.
 */
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { LatheError } from '../errors';
import { columnType } from '../records';
import {
  boxStats,
  binOf,
  correlations,
  finitePart,
  histogram,
  isNumericType,
  isTemporalType,
  moments,
  numberLabel,
  pearson,
  readColumn,
  seededRandom,
  sortedPresent,
  type BoxStats,
  topLevels,
  topNumbers,
  valueCounts,
  type ColumnData,
  type Levels,
  type NumberColumn,
  type StringColumn
} from './column-stats';

const count = z.number().int().nonnegative();

export const histogramSchema = z.object({
  /** `counts.length + 1` ascending edges; bins are [edge, next edge), the last one closed. */
  edges: z.array(z.number()),
  counts: z.array(count)
});

export const valueCountSchema = z.object({ value: z.string(), count });
export type ValueCountProfile = z.infer<typeof valueCountSchema>;

export const topValuesSchema = z.object({
  /** Most frequent first; ties by value. */
  values: z.array(valueCountSchema),
  /** Non-missing cells whose value is not listed. */
  otherCount: count
});
export type TopValues = z.infer<typeof topValuesSchema>;

export const boxStatsSchema = z.object({
  count,
  mean: z.number(),
  min: z.number(),
  q1: z.number(),
  median: z.number(),
  q3: z.number(),
  max: z.number()
});

export const numericStatsSchema = boxStatsSchema.extend({
  /** Sample standard deviation; null with fewer than two values. */
  std: z.number().nullable(),
  zeros: count,
  negatives: count,
  /** ±Infinity cells, left out of every other statistic. */
  infinite: count,
  histogram: histogramSchema
});
export type NumericStats = z.infer<typeof numericStatsSchema>;

const columnBase = {
  name: z.string(),
  type: columnType,
  /** Rows in the table. */
  count,
  missing: count,
  distinct: count,
  /** The most frequent value and its count; null when every cell is missing. */
  mostCommon: valueCountSchema.nullable()
};

/** Integer and float columns. `stats` is null when the column has no finite value. */
export const numericColumnProfile = z.object({
  kind: z.literal('numeric'),
  ...columnBase,
  stats: numericStatsSchema.nullable()
});

/** Date and date-time columns; times are epoch milliseconds (UTC). */
export const temporalColumnProfile = z.object({
  kind: z.literal('temporal'),
  ...columnBase,
  min: z.number().nullable(),
  max: z.number().nullable(),
  histogram: histogramSchema.nullable()
});

/** Categorical, boolean and identifier columns. */
export const categoricalColumnProfile = z.object({
  kind: z.literal('categorical'),
  ...columnBase,
  topValues: topValuesSchema
});

export const lengthStatsSchema = z.object({
  min: count,
  mean: z.number(),
  median: z.number(),
  max: count
});

/** Free-text columns; lengths are in Unicode code points. */
export const textColumnProfile = z.object({
  kind: z.literal('text'),
  ...columnBase,
  topValues: topValuesSchema,
  length: lengthStatsSchema.nullable()
});

export const columnProfileSchema = z.discriminatedUnion('kind', [
  numericColumnProfile,
  temporalColumnProfile,
  categoricalColumnProfile,
  textColumnProfile
]);
export type ColumnProfile = z.infer<typeof columnProfileSchema>;

export const correlationSchema = z.object({
  method: z.literal('pearson'),
  columns: z.array(z.string()),
  /** Symmetric, `columns.length` square; null where undefined (a constant column, < 2 shared rows). */
  matrix: z.array(z.array(z.number().nullable())),
  /** Numeric columns left out by the `correlationColumns` cap. */
  omitted: z.array(z.string())
});
export type CorrelationMatrix = z.infer<typeof correlationSchema>;

/** A numeric (or date) feature against a categorical target: one histogram and box per class. */
export const classHistogramsPlot = z.object({
  kind: z.literal('class_histograms'),
  feature: z.string(),
  edges: z.array(z.number()),
  classes: z.array(z.object({ value: z.string(), counts: z.array(count), box: boxStatsSchema.nullable() }))
});

/** A numeric feature against a numeric target: a seeded uniform sample of the rows where both are present. */
export const scatterPlot = z.object({
  kind: z.literal('scatter'),
  feature: z.string(),
  x: z.array(z.number()),
  y: z.array(z.number()),
  /** Rows where both are finite; `x.length` of them were sampled. */
  total: count,
  correlation: z.number().nullable()
});

/** A categorical feature against a categorical target: `counts[featureValue][class]`. */
export const contingencyPlot = z.object({
  kind: z.literal('contingency'),
  feature: z.string(),
  featureValues: z.array(z.string()),
  classes: z.array(z.string()),
  counts: z.array(z.array(count)),
  /** True when rarer feature values or classes were left out. */
  truncated: z.boolean()
});

/** A categorical feature against a numeric target: the target's box per feature value. */
export const categoryBoxPlot = z.object({
  kind: z.literal('category_box'),
  feature: z.string(),
  categories: z.array(z.object({ value: z.string(), box: boxStatsSchema.nullable() })),
  truncated: z.boolean()
});

export const targetPlotSchema = z.discriminatedUnion('kind', [
  classHistogramsPlot,
  scatterPlot,
  contingencyPlot,
  categoryBoxPlot
]);
export type TargetPlot = z.infer<typeof targetPlotSchema>;

export const targetProfileSchema = z.object({
  column: z.string(),
  task: z.enum(['classification', 'regression']),
  /** Classification: the classes and their counts, most frequent first. */
  classes: z.array(valueCountSchema).nullable(),
  plots: z.array(targetPlotSchema)
});
export type TargetProfile = z.infer<typeof targetProfileSchema>;

export const datasetProfileSchema = z.object({
  version: z.literal(1),
  rows: count,
  columns: z.array(columnProfileSchema),
  correlation: correlationSchema.nullable(),
  target: targetProfileSchema.nullable()
});
export type DatasetProfile = z.infer<typeof datasetProfileSchema>;

export interface ProfileOptions {
  /** Adds plots of every feature against this column. */
  target?: string;
  /** Top values kept per column, classes per target and levels per categorical feature (default 20). */
  maxTopValues?: number;
  /** Upper bound on histogram bins (default 50). */
  histogramBins?: number;
  /** At most this many numeric columns in the correlation matrix, the target first (default 30). */
  correlationColumns?: number;
  /** Points per scatter plot (default 2000). */
  scatterPoints?: number;
  /** Features plotted against the target, in table order (default 50). */
  targetPlotColumns?: number;
  /** Seed of the scatter samples (default 0). */
  seed?: number;
}

export const PROFILE_DEFAULTS = {
  maxTopValues: 20,
  histogramBins: 50,
  correlationColumns: 30,
  scatterPoints: 2000,
  targetPlotColumns: 50,
  seed: 0
} as const;

/** An integer target with at most this many distinct values is treated as classes. */
export const MAX_INTEGER_CLASSES = 20;

type Settings = Required<Omit<ProfileOptions, 'target'>>;

function settingsOf(options: ProfileOptions): Settings {
  return {
    maxTopValues: options.maxTopValues ?? PROFILE_DEFAULTS.maxTopValues,
    histogramBins: Math.max(1, options.histogramBins ?? PROFILE_DEFAULTS.histogramBins),
    correlationColumns: options.correlationColumns ?? PROFILE_DEFAULTS.correlationColumns,
    scatterPoints: options.scatterPoints ?? PROFILE_DEFAULTS.scatterPoints,
    targetPlotColumns: options.targetPlotColumns ?? PROFILE_DEFAULTS.targetPlotColumns,
    seed: options.seed ?? PROFILE_DEFAULTS.seed
  };
}

const DAY_MS = 86_400_000;

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Profiles every column of `table`, the correlations of its numeric columns and, with a target, the feature plots. */
export function profileTable(table: Table, options: ProfileOptions = {}): DatasetProfile {
  const settings = settingsOf(options);
  const names = table.schema.fields.map((f) => f.name);
  if (options.target !== undefined && !names.includes(options.target)) {
    throw new LatheError('column_missing', `The dataset has no target column “${options.target}”.`);
  }
  const columns = names.map((name) => profileColumn(readColumn(table, name), settings));
  return {
    version: 1,
    rows: table.numRows,
    columns,
    correlation: correlationMatrix(table, columns, options.target, settings.correlationColumns),
    target: options.target === undefined ? null : profileTarget(table, columns, options.target, settings)
  };
}

/** The profile of each column alone (no correlations or target plots): what validation needs. */
export function profileColumns(table: Table, options: Omit<ProfileOptions, 'target'> = {}): ColumnProfile[] {
  const settings = settingsOf(options);
  return table.schema.fields.map((f) => profileColumn(readColumn(table, f.name), settings));
}

/** The profile of one column read by `readColumn`. */
export function profileColumn(
  column: ColumnData,
  options: Omit<ProfileOptions, 'target'> = {}
): ColumnProfile {
  const settings = settingsOf(options);
  const base = { name: column.name, type: column.type, count: column.length, missing: column.missing };
  const k = settings.maxTopValues;
  if (column.storage === 'number') {
    const sorted = sortedPresent(column);
    const finite = finitePart(sorted);
    const { distinct, top } = topNumbers(sorted, Math.max(k, 1));
    const first = top[0];
    const mostCommon = first ? { value: numberLabel(column.type, first.value), count: first.count } : null;
    const common = { ...base, distinct, mostCommon };
    if (isNumericType(column.type)) {
      return { kind: 'numeric', ...common, stats: numericStats(sorted, finite, column, settings) };
    }
    if (isTemporalType(column.type)) {
      const unit = column.type === 'date' && finite.every((t) => t % DAY_MS === 0) ? DAY_MS : 0;
      return {
        kind: 'temporal',
        ...common,
        min: orNull(finite[0] ?? Number.NaN),
        max: orNull(finite[finite.length - 1] ?? Number.NaN),
        histogram: histogram(finite, settings.histogramBins, unit)
      };
    }
    const present = column.length - column.missing;
    const values = top.slice(0, k).map((t) => ({ value: numberLabel(column.type, t.value), count: t.count }));
    return {
      kind: 'categorical',
      ...common,
      topValues: { values, otherCount: present - values.reduce((s, v) => s + v.count, 0) }
    };
  }
  const counts = valueCounts(column, Math.max(k, 1));
  const values = counts.top.slice(0, k);
  const topValues = { values, otherCount: column.length - column.missing - sumCounts(values) };
  const common = { ...base, distinct: counts.distinct, mostCommon: counts.top[0] ?? null };
  if (column.type === 'text' && column.storage === 'string') {
    return { kind: 'text', ...common, topValues, length: lengthStats(column) };
  }
  return { kind: 'categorical', ...common, topValues };
}

function sumCounts(values: ReadonlyArray<{ count: number }>): number {
  return values.reduce((sum, v) => sum + v.count, 0);
}

function numericStats(
  sorted: Float64Array,
  finite: Float64Array,
  column: NumberColumn,
  settings: Settings
): NumericStats | null {
  const box = boxStats(finite);
  const bins = histogram(
    finite,
    settings.histogramBins,
    column.type === 'integer' && isWhole(finite) ? 1 : 0
  );
  if (!box || !bins) return null;
  let zeros = 0;
  let negatives = 0;
  for (let i = 0; i < finite.length; i++) {
    const x = finite[i] ?? 0;
    if (x === 0) zeros++;
    else if (x < 0) negatives++;
  }
  const { mean, std } = moments(finite);
  return {
    ...box,
    mean,
    std: orNull(std),
    zeros,
    negatives,
    infinite: sorted.length - finite.length,
    histogram: bins
  };
}

function isWhole(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isInteger(values[i])) return false;
  return true;
}

function lengthStats(column: StringColumn): z.infer<typeof lengthStatsSchema> | null {
  let max = -1;
  let min = Number.POSITIVE_INFINITY;
  let sum = 0;
  let n = 0;
  const lengths = column.lengths;
  for (let i = 0; i < lengths.length; i++) {
    const len = lengths[i] ?? -1;
    if (len < 0) continue;
    n++;
    sum += len;
    if (len > max) max = len;
    if (len < min) min = len;
  }
  if (n === 0) return null;
  // A counting pass finds the median without sorting: lengths are small whole numbers.
  const perLength = new Uint32Array(max + 1);
  for (let i = 0; i < lengths.length; i++) {
    const len = lengths[i] ?? -1;
    if (len >= 0) perLength[len] = (perLength[len] ?? 0) + 1;
  }
  const at = (rank: number): number => {
    let seen = 0;
    for (let len = 0; len <= max; len++) {
      seen += perLength[len] ?? 0;
      if (seen > rank) return len;
    }
    return max;
  };
  const h = (n - 1) / 2;
  const median = at(Math.floor(h)) + (h - Math.floor(h)) * (at(Math.ceil(h)) - at(Math.floor(h)));
  return { min, mean: sum / n, median, max };
}

function correlationMatrix(
  table: Table,
  columns: readonly ColumnProfile[],
  target: string | undefined,
  cap: number
): CorrelationMatrix | null {
  const numeric = columns.filter(
    (c): c is Extract<ColumnProfile, { kind: 'numeric' }> => c.kind === 'numeric' && c.stats !== null
  );
  if (numeric.length === 0 || cap <= 0) return null;
  const ordered = [...numeric.filter((c) => c.name === target), ...numeric.filter((c) => c.name !== target)];
  const chosen = ordered.slice(0, cap);
  const data = chosen.map((c) => (readColumn(table, c.name) as NumberColumn).values);
  const { r } = correlations(
    data,
    chosen.map((c) => c.stats?.mean ?? 0)
  );
  const matrix = r.map((row) => row.map(orNull));
  return {
    method: 'pearson',
    columns: chosen.map((c) => c.name),
    matrix,
    omitted: ordered.slice(cap).map((c) => c.name)
  };
}

/** Classification when the target is categorical, boolean, text, or an integer with few distinct values. */
export function targetTask(profile: ColumnProfile): 'classification' | 'regression' {
  if (profile.kind === 'numeric') {
    return profile.type === 'integer' && profile.distinct <= MAX_INTEGER_CLASSES
      ? 'classification'
      : 'regression';
  }
  return profile.kind === 'temporal' ? 'regression' : 'classification';
}

function isPlottableNumeric(profile: ColumnProfile): boolean {
  return profile.kind === 'numeric' || profile.kind === 'temporal';
}

function isPlottableCategory(profile: ColumnProfile): boolean {
  return profile.kind === 'categorical' && profile.type !== 'identifier';
}

/** A value near the middle of a number column, to shift correlation sums by. */
function centreOf(profile: ColumnProfile): number {
  if (profile.kind === 'numeric') return profile.stats?.mean ?? 0;
  if (profile.kind === 'temporal') return profile.min ?? 0;
  return 0;
}

function binEdges(profile: ColumnProfile): number[] | null {
  if (profile.kind === 'numeric') return profile.stats?.histogram.edges ?? null;
  if (profile.kind === 'temporal') return profile.histogram?.edges ?? null;
  return null;
}

function profileTarget(
  table: Table,
  columns: readonly ColumnProfile[],
  target: string,
  settings: Settings
): TargetProfile {
  const targetProfile = columns.find((c) => c.name === target);
  if (!targetProfile) throw new LatheError('column_missing', `The dataset has no target column “${target}”.`);
  const targetData = readColumn(table, target);
  const task = targetTask(targetProfile);
  const k = Math.max(1, settings.maxTopValues);
  const classes = task === 'classification' ? topLevels(targetData, k) : null;
  const plots: TargetPlot[] = [];
  const features = columns.filter(
    (c) => c.name !== target && (isPlottableNumeric(c) || isPlottableCategory(c))
  );
  for (const feature of features.slice(0, settings.targetPlotColumns)) {
    const data = readColumn(table, feature.name);
    if (classes) {
      const edges = binEdges(feature);
      if (data.storage === 'number' && edges)
        plots.push(classHistograms(data, edges, classes, settings.seed));
      else if (isPlottableCategory(feature)) {
        const truncated = feature.distinct > k || targetProfile.distinct > k;
        plots.push(contingency(feature.name, topLevels(data, k), classes, truncated));
      }
    } else if (targetData.storage === 'number') {
      if (data.storage === 'number' && isPlottableNumeric(feature)) {
        plots.push(scatter(data, targetData, [centreOf(feature), centreOf(targetProfile)], settings));
      } else if (isPlottableCategory(feature)) {
        plots.push(
          categoryBox(feature.name, topLevels(data, k), targetData, feature.distinct > k, settings.seed)
        );
      }
    }
  }
  return {
    column: target,
    task,
    classes: classes ? classes.labels.map((value, i) => ({ value, count: classes.counts[i] ?? 0 })) : null,
    plots
  };
}

/** Box quartiles per group come from at most this many values (a seeded uniform sample beyond it). */
export const BOX_SAMPLE = 20_000;

/**
 * Box statistics of the finite `values` of each level and, with `edges`, their histogram counts.
 * Counts, means, minima, maxima and histograms are exact; quartiles are exact for groups of up to
 * `BOX_SAMPLE` values and come from a seeded uniform sample of that many in larger groups.
 */
function groupStats(
  values: Float64Array,
  levels: Levels,
  seed: number,
  edges?: readonly number[]
): Array<{ box: BoxStats | null; counts: number[] }> {
  const k = levels.labels.length;
  const sizes = new Float64Array(k);
  const sums = new Float64Array(k);
  const mins = new Float64Array(k).fill(Number.POSITIVE_INFINITY);
  const maxs = new Float64Array(k).fill(Number.NEGATIVE_INFINITY);
  const bins = edges ? edges.length - 1 : 0;
  const counts = new Float64Array(k * bins);
  for (let i = 0; i < values.length; i++) {
    const level = levels.codes[i] ?? -1;
    const x = values[i] ?? Number.NaN;
    if (level < 0 || !Number.isFinite(x)) continue;
    sizes[level] = (sizes[level] ?? 0) + 1;
    sums[level] = (sums[level] ?? 0) + x;
    if (x < (mins[level] ?? 0)) mins[level] = x;
    if (x > (maxs[level] ?? 0)) maxs[level] = x;
    if (edges) {
      const bin = binOf(edges, x);
      if (bin >= 0) counts[level * bins + bin] = (counts[level * bins + bin] ?? 0) + 1;
    }
  }
  // Reservoir sampling (Algorithm R) per level: every value is kept with the same probability.
  const random = seededRandom(seed);
  const samples = Array.from(sizes, (size) => new Float64Array(Math.min(size, BOX_SAMPLE)));
  const seen = new Float64Array(k);
  for (let i = 0; i < values.length; i++) {
    const level = levels.codes[i] ?? -1;
    const x = values[i] ?? Number.NaN;
    if (level < 0 || !Number.isFinite(x)) continue;
    const sample = samples[level] as Float64Array;
    const n = seen[level] ?? 0;
    seen[level] = n + 1;
    if (n < sample.length) sample[n] = x;
    else {
      const j = Math.floor(random() * (n + 1));
      if (j < sample.length) sample[j] = x;
    }
  }
  return samples.map((sample, level) => {
    const size = sizes[level] ?? 0;
    const quartiles = boxStats(sample.sort());
    const box = quartiles && {
      ...quartiles,
      count: size,
      mean: (sums[level] ?? 0) / size,
      min: mins[level] ?? quartiles.min,
      max: maxs[level] ?? quartiles.max
    };
    return { box, counts: Array.from(counts.subarray(level * bins, (level + 1) * bins)) };
  });
}

function classHistograms(feature: NumberColumn, edges: number[], classes: Levels, seed: number): TargetPlot {
  const stats = groupStats(feature.values, classes, seed, edges);
  return {
    kind: 'class_histograms',
    feature: feature.name,
    edges,
    classes: classes.labels.map((value, i) => ({
      value,
      counts: stats[i]?.counts ?? [],
      box: stats[i]?.box ?? null
    }))
  };
}

function contingency(name: string, levels: Levels, classes: Levels, truncated: boolean): TargetPlot {
  const counts = levels.labels.map(() => classes.labels.map(() => 0));
  for (let i = 0; i < levels.codes.length; i++) {
    const row = counts[levels.codes[i] ?? -1];
    const c = classes.codes[i] ?? -1;
    if (row && c >= 0) row[c] = (row[c] ?? 0) + 1;
  }
  return {
    kind: 'contingency',
    feature: name,
    featureValues: levels.labels,
    classes: classes.labels,
    counts,
    truncated
  };
}

function scatter(
  feature: NumberColumn,
  target: NumberColumn,
  centres: readonly [number, number],
  settings: Settings
): TargetPlot {
  const k = Math.max(0, settings.scatterPoints);
  const random = seededRandom(settings.seed);
  const sample: number[] = [];
  let total = 0;
  const x = feature.values;
  const y = target.values;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) continue;
    // Reservoir sampling (Algorithm R): every eligible row is kept with the same probability.
    if (total < k) sample.push(i);
    else {
      const j = Math.floor(random() * (total + 1));
      if (j < k) sample[j] = i;
    }
    total++;
  }
  sample.sort((a, b) => a - b);
  const { r } = pearson(x, y, centres[0], centres[1]);
  return {
    kind: 'scatter',
    feature: feature.name,
    x: sample.map((i) => x[i] ?? 0),
    y: sample.map((i) => y[i] ?? 0),
    total,
    correlation: orNull(r)
  };
}

function categoryBox(
  name: string,
  levels: Levels,
  target: NumberColumn,
  truncated: boolean,
  seed: number
): TargetPlot {
  const stats = groupStats(target.values, levels, seed);
  return {
    kind: 'category_box',
    feature: name,
    categories: levels.labels.map((value, i) => ({ value, box: stats[i]?.box ?? null })),
    truncated
  };
}
