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
  correlations,
  finitePart,
  histogram,
  isNumericType,
  isTemporalType,
  lowerBound,
  numberLabel,
  pearson,
  readColumn,
  sortedPresent,
  type BoxStats,
  topLevels,
  topNumbers,
  valueCounts,
  type ColumnData,
  type Levels,
  type NumberColumn,
  type StringColumn,
  upperBound
} from './column-stats';
import { mulberry32, mulberry32Step } from '../pipeline/split';
import { SortScratch } from './sort-numbers';

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
  const { target } = options;
  if (target !== undefined && !names.includes(target)) {
    throw new LatheError('column_missing', `The dataset has no target column “${target}”.`);
  }
  // Every column is read once: the target first, then the others in order. A feature's plot against
  // the target is drawn while the feature is in hand; the correlation matrix's columns are kept.
  const scratch = new SortScratch();
  const correlation = new CorrelationColumns(settings.correlationColumns);
  let plots: TargetPlots | null = null;
  let targetProfile: ColumnProfile | null = null;
  if (target !== undefined) {
    const data = readColumn(table, target);
    targetProfile = profileColumn(data, settings, scratch);
    correlation.offer(targetProfile, data);
    plots = new TargetPlots(data, targetProfile, settings);
  }
  const columns = names.map((name) => {
    if (name === target && targetProfile) return targetProfile;
    const data = readColumn(table, name);
    const profile = profileColumn(data, settings, scratch);
    correlation.offer(profile, data);
    plots?.offer(profile, data);
    return profile;
  });
  return {
    version: 1,
    rows: table.numRows,
    columns,
    correlation: correlation.matrix(),
    target: plots?.result() ?? null
  };
}

/** The profile of each column alone (no correlations or target plots): what validation needs. */
export function profileColumns(table: Table, options: Omit<ProfileOptions, 'target'> = {}): ColumnProfile[] {
  const settings = settingsOf(options);
  const scratch = new SortScratch();
  return table.schema.fields.map((f) => profileColumn(readColumn(table, f.name), settings, scratch));
}

/** The profile of one column read by `readColumn`; `scratch` lends memory for sorting its values. */
export function profileColumn(
  column: ColumnData,
  options: Omit<ProfileOptions, 'target'> = {},
  scratch?: SortScratch
): ColumnProfile {
  const settings = settingsOf(options);
  const base = { name: column.name, type: column.type, count: column.length, missing: column.missing };
  const k = settings.maxTopValues;
  if (column.storage === 'number') {
    const sorted = sortedPresent(column, scratch);
    const finite = finitePart(sorted);
    const { distinct, top } = topNumbers(sorted, Math.max(k, 1));
    const first = top[0];
    const mostCommon = first ? { value: numberLabel(column.type, first.value), count: first.count } : null;
    const common = { ...base, distinct, mostCommon };
    if (isNumericType(column.type)) {
      return { kind: 'numeric', ...common, stats: numericStats(sorted, finite, column, settings) };
    }
    if (isTemporalType(column.type)) {
      const unit = column.type === 'date' && isWhole(finite, DAY_MS) ? DAY_MS : 0;
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
  const counts = valueCounts(column, Math.max(k, 1), undefined, scratch);
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
    column.type === 'integer' && isWhole(finite, 1) ? 1 : 0
  );
  if (!box || !bins) return null;
  // Sorted, the negatives come first, then the zeros (−0 among them).
  const negatives = lowerBound(finite, 0);
  const zeros = upperBound(finite, 0) - negatives;
  // `boxStats` summed the same values in the same order as `moments` would: the same mean.
  const std =
    finite.length > 1 ? Math.sqrt(squaredDeviations(finite, box.mean) / (finite.length - 1)) : Number.NaN;
  return {
    ...box,
    std: orNull(std),
    zeros,
    negatives,
    infinite: sorted.length - finite.length,
    histogram: bins
  };
}

/** Σ(x − mean)², in index order, as `moments` sums it. */
function squaredDeviations(values: Float64Array, mean: number): number {
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const d = (values[i] as number) - mean;
    squares += d * d;
  }
  return squares;
}

/** Whether every value is a whole number of `unit`s. */
function isWhole(values: Float64Array, unit: number): boolean {
  // Math.floor is much cheaper than a floating-point remainder, and the same test for whole numbers.
  if (unit === 1) {
    for (let i = 0; i < values.length; i++) {
      const x = values[i] as number;
      if (x !== Math.floor(x)) return false;
    }
    return true;
  }
  for (let i = 0; i < values.length; i++) if ((values[i] as number) % unit !== 0) return false;
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

type NumericProfile = Extract<ColumnProfile, { kind: 'numeric' }>;

/**
 * The numeric columns of the correlation matrix, offered in its order (the target first, then table
 * order): the first `cap` with statistics are kept, the rest only named.
 */
class CorrelationColumns {
  readonly #chosen: Array<{ profile: NumericProfile; values: Float64Array }> = [];
  readonly #omitted: string[] = [];
  constructor(private readonly cap: number) {}

  offer(profile: ColumnProfile, data: ColumnData): void {
    if (profile.kind !== 'numeric' || profile.stats === null || data.storage !== 'number') return;
    if (this.#chosen.length < this.cap) this.#chosen.push({ profile, values: data.values });
    else this.#omitted.push(profile.name);
  }

  matrix(): CorrelationMatrix | null {
    const chosen = this.#chosen;
    if (chosen.length === 0) return null;
    const { r } = correlations(
      chosen.map((c) => c.values),
      chosen.map((c) => c.profile.stats?.mean ?? 0)
    );
    return {
      method: 'pearson',
      columns: chosen.map((c) => c.profile.name),
      matrix: r.map((row) => row.map(orNull)),
      omitted: this.#omitted
    };
  }
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

/** Plots of features against the target, drawn one feature at a time as they are offered in table order. */
class TargetPlots {
  readonly #task: 'classification' | 'regression';
  readonly #classes: Levels | null;
  readonly #plots: TargetPlot[] = [];
  /** Plottable features offered so far, the ones without a plot included. */
  #features = 0;

  constructor(
    private readonly target: ColumnData,
    private readonly targetProfile: ColumnProfile,
    private readonly settings: Settings
  ) {
    this.#task = targetTask(targetProfile);
    this.#classes =
      this.#task === 'classification' ? topLevels(target, Math.max(1, settings.maxTopValues)) : null;
  }

  offer(feature: ColumnProfile, data: ColumnData): void {
    if (feature.name === this.target.name || !(isPlottableNumeric(feature) || isPlottableCategory(feature)))
      return;
    if (this.#features++ >= this.settings.targetPlotColumns) return;
    const { settings, targetProfile, target } = this;
    const classes = this.#classes;
    const k = Math.max(1, settings.maxTopValues);
    if (classes) {
      const edges = binEdges(feature);
      if (data.storage === 'number' && edges)
        this.#plots.push(classHistograms(data, edges, classes, settings.seed));
      else if (isPlottableCategory(feature)) {
        const truncated = feature.distinct > k || targetProfile.distinct > k;
        this.#plots.push(contingency(feature.name, topLevels(data, k), classes, truncated));
      }
    } else if (target.storage === 'number') {
      if (data.storage === 'number' && isPlottableNumeric(feature)) {
        this.#plots.push(scatter(data, target, [centreOf(feature), centreOf(targetProfile)], settings));
      } else if (isPlottableCategory(feature)) {
        this.#plots.push(
          categoryBox(feature.name, topLevels(data, k), target, feature.distinct > k, settings.seed)
        );
      }
    }
  }

  result(): TargetProfile {
    const classes = this.#classes;
    return {
      column: this.target.name,
      task: this.#task,
      classes: classes ? classes.labels.map((value, i) => ({ value, count: classes.counts[i] ?? 0 })) : null,
      plots: this.#plots
    };
  }
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
  binEdges?: readonly number[]
): Array<{ box: BoxStats | null; counts: number[] }> {
  // A typed array: a plain array of edges is of whole numbers for some columns and fractions for
  // others, and reading both kinds at one place in the loop is slower.
  const edges = binEdges ? Float64Array.from(binEdges) : null;
  const k = levels.labels.length;
  const sizes = new Float64Array(k);
  const sums = new Float64Array(k);
  const mins = new Float64Array(k).fill(Number.POSITIVE_INFINITY);
  const maxs = new Float64Array(k).fill(Number.NEGATIVE_INFINITY);
  const bins = edges ? edges.length - 1 : 0;
  const counts = new Float64Array(k * bins);
  const low = edges?.[0] ?? 0;
  const high = edges?.[bins] ?? 0;
  const perUnit = high > low ? bins / (high - low) : 0;
  // Reservoir sampling (Algorithm R) per level: every value is kept with the same probability. A
  // level has at most `levels.counts` finite values, so its reservoir is never larger than needed.
  // The random numbers are `seededRandom(seed)`'s, drawn inline.
  let state = seed >>> 0;
  const samples = Array.from(
    { length: k },
    (_, level) => new Float64Array(Math.min(levels.counts[level] ?? 0, BOX_SAMPLE))
  );
  const codes = levels.codes;
  const capacity = BOX_SAMPLE;
  for (let i = 0; i < values.length; i++) {
    const level = codes[i] ?? -1;
    const x = values[i] as number;
    // False for NaN and ±Infinity alike.
    if (level < 0 || x - x !== 0) continue;
    const n = sizes[level] as number;
    sizes[level] = n + 1;
    sums[level] = (sums[level] as number) + x;
    if (x < (mins[level] as number)) mins[level] = x;
    if (x > (maxs[level] as number)) maxs[level] = x;
    if (edges && x >= low && x <= high) {
      // The bin `binOf` gives, found from an estimate for evenly spaced edges rather than a search.
      let bin = Math.min(bins - 1, Math.max(0, Math.floor((x - low) * perUnit)));
      while (bin > 0 && (edges[bin] as number) > x) bin--;
      while (bin < bins - 1 && (edges[bin + 1] as number) <= x) bin++;
      counts[level * bins + bin] = (counts[level * bins + bin] as number) + 1;
    }
    const sample = samples[level] as Float64Array;
    if (n < capacity) sample[n] = x;
    else {
      state = mulberry32Step(state);
      const j = Math.floor(mulberry32(state) * (n + 1));
      if (j < capacity) sample[j] = x;
    }
  }
  return samples.map((reservoir, level) => {
    const size = sizes[level] ?? 0;
    const quartiles = boxStats(reservoir.subarray(0, Math.min(size, BOX_SAMPLE)).sort());
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
  // The random numbers are `seededRandom(seed)`'s, drawn inline.
  let state = settings.seed >>> 0;
  const sample: number[] = [];
  let total = 0;
  const x = feature.values;
  const y = target.values;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) continue;
    // Reservoir sampling (Algorithm R): every eligible row is kept with the same probability.
    if (total < k) sample.push(i);
    else {
      state = mulberry32Step(state);
      const j = Math.floor(mulberry32(state) * (total + 1));
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
