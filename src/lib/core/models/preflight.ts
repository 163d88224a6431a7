/**
 * Checks of a run spec against its data before training starts, so a person reads one clear sentence
 * (what is wrong, in which column, how many rows, what to do) instead of a stack trace from the middle
 * of a run. Errors block the run; warnings are shown and the run may go on. Where the remedy is
 * mechanical, an issue carries a `fix` the page can offer as a button.
 *
 * Leakage ("a feature that predicts the target almost perfectly") is judged by validation's own rule
 * (`TargetCheck` in `data/validate.ts`); this module adds the exact cases that rule leaves out: a copy
 * of the target, and a one-to-one relabelling of it.
 */
import type { Table } from 'apache-arrow';
import {
  columnTypeOf,
  hashString,
  isNumericType,
  readColumn,
  valueCounts,
  type ColumnData,
  type ValueCount
} from '../data/column-stats';
import { profileColumn } from '../data/profile';
import { percent, plural, TargetCheck } from '../data/validate';
import type { ColumnRole, ColumnSchema, ColumnType, RunSpec } from '../records';

export const PREFLIGHT_CODES = [
  'no_rows',
  'target_not_found',
  'feature_not_found',
  'target_as_feature',
  'target_all_missing',
  'target_missing',
  'target_missing_dropped',
  'single_class',
  'too_many_classes',
  'many_classes',
  'rare_classes',
  'regression_target_not_numeric',
  'identifier_feature',
  'text_as_number',
  'target_copy',
  'target_mapping',
  'target_leakage',
  'split_missing',
  'too_few_train_rows',
  'batch_larger_than_data',
  'empty_test_split',
  'empty_validation_split',
  'early_stopping_without_validation',
  'cnn_without_image',
  'image_without_cnn',
  'image_column_missing',
  'text_embedding_without_text'
] as const;
export type PreflightCode = (typeof PREFLIGHT_CODES)[number];

export type PreflightFix =
  | { kind: 'drop_missing_target'; rows: number }
  | { kind: 'use_regression' }
  | { kind: 'remove_feature'; column: string }
  | { kind: 'lower_batch_size'; batchSize: number };

export interface PreflightIssue {
  code: PreflightCode;
  severity: 'error' | 'warning';
  /** For people: what is wrong, where, and what to do. */
  message: string;
  column?: string;
  /** A remedy the page can apply to the spec for the person. */
  fix?: PreflightFix;
}

export interface PreflightReport {
  /** True when no issue is an error: the run may start. */
  ok: boolean;
  /** Errors first, then warnings, each in the order the checks ran. */
  issues: PreflightIssue[];
}

export interface SplitCounts {
  train: number;
  validation: number;
  test: number;
}

export interface PreflightContext {
  /** What each column is for (`Dataset.roles`); a column with role `identifier` cannot be a feature. */
  roles?: Record<string, ColumnRole>;
  /**
   * Rows per set of the stored split `spec.splitId` names (a k-fold split as its training and held-out
   * fold); null when that split is not stored for this version. Ignored when the spec names no split.
   */
  splitCounts?: SplitCounts | null;
}

/** Fewer training rows than this cannot fit, or score, anything worth keeping. */
export const MIN_TRAIN_ROWS = 10;
/** A classification target with at least this many classes gets a warning. */
export const MANY_CLASSES = 20;
/** A classification target with more classes than this is refused. */
export const MAX_RUN_CLASSES = 100;
/** A one-to-one relabelling of the target counts as one only over this many rows (both present). */
export const ONE_TO_ONE_MIN_ROWS = 10;

const quote = (name: string): string => `“${name}”`;

/** Checks `spec` against the table it would train on (`columns`: the version's column schemas). */
export function preflightRun(
  table: Table,
  columns: readonly ColumnSchema[],
  spec: RunSpec,
  context: PreflightContext = {}
): PreflightReport {
  const issues: PreflightIssue[] = [];
  const types = columnTypes(table, columns);
  const total = table.numRows;

  issues.push(...modelInputIssues(spec, types));
  const features = featureIssues(spec, types, context.roles ?? {}, issues);

  const targetType = types.get(spec.target);
  const target = targetType !== undefined ? readColumn(table, spec.target) : null;
  if (total === 0) {
    issues.push({
      code: 'no_rows',
      severity: 'error',
      message: 'This dataset version has no rows; import data with rows before training.'
    });
  } else if (!target || targetType === undefined) {
    issues.push({
      code: 'target_not_found',
      severity: 'error',
      column: spec.target,
      message: `The target column ${quote(spec.target)} is not in this dataset version; pick a target from its columns.`
    });
  } else {
    const classes = targetIssues(target, targetType, spec, issues);
    if (target.missing < total) {
      issues.push(...leakageIssues(table, target, features));
      issues.push(...rowIssues(spec, total - target.missing, context, classes));
    }
  }

  const ordered = [
    ...issues.filter((i) => i.severity === 'error'),
    ...issues.filter((i) => i.severity === 'warning')
  ];
  return { ok: !ordered.some((i) => i.severity === 'error'), issues: ordered };
}

/** The type of every column in the table: the version's schema, else the one its Arrow field implies. */
function columnTypes(table: Table, columns: readonly ColumnSchema[]): Map<string, ColumnType> {
  const declared = new Map(columns.map((c) => [c.name, c.type]));
  return new Map(table.schema.fields.map((f) => [f.name, declared.get(f.name) ?? columnTypeOf(f)]));
}

function modelInputIssues(spec: RunSpec, types: ReadonlyMap<string, ColumnType>): PreflightIssue[] {
  const kind = spec.model.kind;
  const issues: PreflightIssue[] = [];
  if (kind === 'cnn' && !spec.image) {
    issues.push({
      code: 'cnn_without_image',
      severity: 'error',
      message:
        'A convolutional network reads images, but this run has no image input; choose the column of image hashes (usually “image_hash”), or pick a model for tabular data.'
    });
  }
  if (spec.image && kind !== 'cnn') {
    issues.push({
      code: 'image_without_cnn',
      severity: 'error',
      column: spec.image.column,
      message: `The run reads images from ${quote(spec.image.column)}, but a ${kind} model does not take images; pick the convolutional network (cnn), or remove the image input.`
    });
  }
  if (kind === 'cnn' && spec.image && !types.has(spec.image.column)) {
    issues.push({
      code: 'image_column_missing',
      severity: 'error',
      column: spec.image.column,
      message: `The image column ${quote(spec.image.column)} is not in this dataset version; pick the column that holds the images' hashes.`
    });
  }
  if (kind === 'text_embedding') {
    const features = new Set(spec.features);
    const pipeline = spec.preprocessing.pipeline;
    const hasText = pipeline
      ? pipeline.groups.some(
          (g) =>
            g.kind === 'text' &&
            g.columns.some((c) => features.has(c)) &&
            g.steps.some((s) => s.kind === 'vectorize' && s.method === 'token_ids')
        )
      : spec.features.some((f) => types.get(f) === 'text');
    if (!hasText) {
      issues.push({
        code: 'text_embedding_without_text',
        severity: 'error',
        message: pipeline
          ? 'The text-embedding model reads token ids, but no text group of the pipeline turns a feature into token ids; give a text feature a text group that vectorizes as token ids, or pick another model.'
          : 'The text-embedding model needs a text feature, and none of the features is a text column; add one, or pick another model.'
      });
    }
  }
  return issues;
}

/** Adds the issues of the feature list to `issues` and returns the features whose cells can be checked. */
function featureIssues(
  spec: RunSpec,
  types: ReadonlyMap<string, ColumnType>,
  roles: Record<string, ColumnRole>,
  issues: PreflightIssue[]
): string[] {
  const imageColumn = spec.model.kind === 'cnn' ? spec.image?.column : undefined;
  const numericGroup = new Set(
    (spec.preprocessing.pipeline?.groups ?? []).filter((g) => g.kind === 'numeric').flatMap((g) => g.columns)
  );
  const usable: string[] = [];
  for (const name of new Set(spec.features)) {
    const remove = { kind: 'remove_feature', column: name } as const;
    const type = types.get(name);
    if (name === spec.target) {
      issues.push({
        code: 'target_as_feature',
        severity: 'error',
        column: name,
        message: `${quote(name)} is the target, so it cannot also be a feature; remove it from the features.`,
        fix: remove
      });
    } else if (type === undefined) {
      issues.push({
        code: 'feature_not_found',
        severity: 'error',
        column: name,
        message: `The feature ${quote(name)} is not in this dataset version; remove it from the features.`,
        fix: remove
      });
    } else if (name === imageColumn) {
      // The image input: read as pixels, not as a table cell.
    } else if (type === 'identifier' || roles[name] === 'identifier') {
      issues.push({
        code: 'identifier_feature',
        severity: 'error',
        column: name,
        message: `${quote(name)} is ${type === 'identifier' ? 'an identifier column' : 'marked as an identifier'}: its values name rows rather than describe them, so a model could only memorise them. Remove it from the features.`,
        fix: remove
      });
    } else if (numericGroup.has(name) && (type === 'text' || type === 'categorical')) {
      issues.push({
        code: 'text_as_number',
        severity: 'error',
        column: name,
        message: `${quote(name)} holds ${type === 'text' ? 'text' : 'categories'}, but the pipeline puts it in a numeric group, which needs numbers; move it to a ${type === 'text' ? 'text' : 'categorical'} group, or remove it from the features.`,
        fix: remove
      });
    } else {
      usable.push(name);
    }
  }
  return usable;
}

/**
 * Adds the issues of the target column to `issues`; returns the class counts of a classification
 * target with a usable number of classes (null otherwise), for the split checks.
 */
function targetIssues(
  target: ColumnData,
  type: ColumnType,
  spec: RunSpec,
  issues: PreflightIssue[]
): ValueCount[] | null {
  const name = target.name;
  const rows = target.length;
  const present = rows - target.missing;
  if (present === 0) {
    issues.push({
      code: 'target_all_missing',
      severity: 'error',
      column: name,
      message: `The target ${quote(name)} is empty in all ${plural(rows, 'row')}, so there is nothing to learn; pick another target.`
    });
    return null;
  }
  if (target.missing > 0) {
    const share = percent(target.missing / rows);
    issues.push(
      spec.dropMissingTarget
        ? {
            code: 'target_missing_dropped',
            severity: 'warning',
            column: name,
            message: `${plural(target.missing, 'row')} of ${rows.toLocaleString('en-US')} (${share}) have no ${quote(name)} and will be left out; the run uses the other ${plural(present, 'row')}.`
          }
        : {
            code: 'target_missing',
            severity: 'error',
            column: name,
            message: `The target ${quote(name)} is missing in ${plural(target.missing, 'row')} of ${rows.toLocaleString('en-US')} (${share}). Drop those rows and train on the other ${plural(present, 'row')}, or fill in the target first.`,
            fix: { kind: 'drop_missing_target', rows: target.missing }
          }
    );
  }
  const numeric = isNumericType(type);
  if (spec.task === 'regression') {
    if (!numeric) {
      issues.push({
        code: 'regression_target_not_numeric',
        severity: 'error',
        column: name,
        message: `The target ${quote(name)} is a ${type} column, but regression predicts numbers; choose classification, or pick a numeric target.`
      });
    }
    return null;
  }
  const counts = valueCounts(target, MAX_RUN_CLASSES + 1);
  const only = counts.top[0];
  if (counts.distinct === 1 && only) {
    issues.push({
      code: 'single_class',
      severity: 'error',
      column: name,
      message: `Every ${target.missing > 0 ? 'row with a target' : 'row'} has the same ${quote(name)}, ${quote(only.value)}: a classifier needs at least two classes. Pick another target, or add rows of other classes.`
    });
    return null;
  }
  if (counts.distinct > MAX_RUN_CLASSES) {
    issues.push({
      code: 'too_many_classes',
      severity: 'error',
      column: name,
      message: numeric
        ? `The target ${quote(name)} has ${plural(counts.distinct, 'distinct value')}; as classification each would be a class with too few rows to learn. Its values are numbers: train a regression instead.`
        : `The target ${quote(name)} has ${plural(counts.distinct, 'distinct value')}; a classifier cannot learn that many classes from ${plural(present, 'row')}. Group the rare classes into one (a recipe step), or pick another target.`,
      ...(numeric ? { fix: { kind: 'use_regression' } as const } : {})
    });
    return null;
  }
  if (counts.distinct >= MANY_CLASSES) {
    issues.push({
      code: 'many_classes',
      severity: 'warning',
      column: name,
      message: `The target ${quote(name)} has ${plural(counts.distinct, 'class', 'classes')} over ${plural(present, 'row')}; rare classes will be learnt poorly. Consider grouping them${numeric ? ', or training a regression if the values are quantities' : ''}.`
    });
  }
  return counts.top;
}

/** Per row, a number that is equal exactly when two cells read the same, across columns; NaN where missing. */
function comparableKeys(column: ColumnData): { keys: Float64Array; numbers: boolean } {
  switch (column.storage) {
    case 'number':
      return { keys: column.values, numbers: true };
    case 'string':
      return { keys: column.hashes, numbers: false };
    case 'codes': {
      // Codes are private to a column; the hash of the label is what `readColumn` gives a string cell.
      const labels = column.labels.map(hashString);
      const keys = new Float64Array(column.length);
      for (let i = 0; i < keys.length; i++) {
        const code = column.codes[i] ?? -1;
        keys[i] = code < 0 ? Number.NaN : (labels[code] ?? Number.NaN);
      }
      return { keys, numbers: false };
    }
  }
}

/** Same values and same missing cells in every row. */
function identical(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x !== y && !(x !== x && y !== y)) return false; // NaN equals only NaN here
  }
  return true;
}

/**
 * The number of target values when each feature value goes with one target value and back, over
 * the rows where both are present; null otherwise. Values must repeat (on average twice) for the
 * pairing to mean anything: two columns of all-different values always pair up.
 */
function oneToOne(feature: Float64Array, target: Float64Array): { levels: number; rows: number } | null {
  const forward = new Map<number, number>();
  const backward = new Map<number, number>();
  let rows = 0;
  for (let i = 0; i < feature.length; i++) {
    const f = feature[i] as number;
    const t = target[i] as number;
    if (f !== f || t !== t) continue;
    rows++;
    const mapped = forward.get(f);
    if (mapped === undefined) forward.set(f, t);
    else if (mapped !== t) return null;
    const back = backward.get(t);
    if (back === undefined) backward.set(t, f);
    else if (back !== f) return null;
  }
  const levels = backward.size;
  return levels >= 2 && rows >= ONE_TO_ONE_MIN_ROWS && rows >= 2 * levels ? { levels, rows } : null;
}

/** Features that are the target in disguise: a copy, a relabelling, or (validation's rule) a near-perfect predictor. */
function leakageIssues(table: Table, target: ColumnData, features: readonly string[]): PreflightIssue[] {
  if (features.length === 0) return [];
  const targetKeys = comparableKeys(target);
  const check = new TargetCheck(table, profileColumn(target, { maxTopValues: 1 }));
  const issues: PreflightIssue[] = [];
  const t = quote(target.name);
  for (const name of features) {
    const feature = readColumn(table, name);
    const keys = comparableKeys(feature);
    const fix = { kind: 'remove_feature', column: name } as const;
    if (keys.numbers === targetKeys.numbers && identical(keys.keys, targetKeys.keys)) {
      issues.push({
        code: 'target_copy',
        severity: 'error',
        column: name,
        message: `${quote(name)} is a copy of the target ${t}: the model would read the answer from it. Remove it from the features.`,
        fix
      });
      continue;
    }
    const pairing = oneToOne(keys.keys, targetKeys.keys);
    if (pairing) {
      issues.push({
        code: 'target_mapping',
        severity: 'error',
        column: name,
        message: `Each value of ${quote(name)} goes with exactly one value of the target ${t} (${plural(pairing.levels, 'value')} over ${plural(pairing.rows, 'row')}): it is the target under other names. Remove it from the features.`,
        fix
      });
      continue;
    }
    const leak = check.leakage(feature, profileColumn(feature, { maxTopValues: 1 }));
    if (leak) {
      // A warning, not an error: a strong honest feature (petal width for Iris species) can look like this too.
      issues.push({
        code: 'target_leakage',
        severity: 'warning',
        column: name,
        message: `${leak.message} If it is, remove it from the features: a model trained on it will fail on new rows.`,
        fix
      });
    }
  }
  return issues;
}

/** The split sizes and what they mean for training, batches, stratification and early stopping. */
function rowIssues(
  spec: RunSpec,
  rows: number,
  context: PreflightContext,
  classes: ValueCount[] | null
): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const { testFraction, validationFraction } = spec.split;
  const stored = spec.splitId ? context.splitCounts : undefined;
  if (stored === null) {
    issues.push({
      code: 'split_missing',
      severity: 'error',
      message:
        'The stored split this run names is not kept with this dataset version in this browser; pick another split, or split by fractions.'
    });
  }
  const test = stored ? stored.test : Math.round(rows * testFraction);
  const validation = stored ? stored.validation : Math.round(rows * validationFraction);
  const train = stored ? stored.train : Math.max(0, rows - test - validation);
  const source = stored
    ? 'The stored split'
    : `Holding out ${plural(test, 'test row')} (${percent(testFraction)})${validationFraction > 0 ? ` and ${plural(validation, 'validation row')} (${percent(validationFraction)})` : ''} of ${plural(rows, 'row')}`;

  if (test === 0) {
    issues.push({
      code: 'empty_test_split',
      severity: 'error',
      message: stored
        ? 'The stored split has no test rows, so the model could not be scored; pick a split with a test set.'
        : `A test fraction of ${percent(testFraction)} of ${plural(rows, 'row')} is 0 rows, so the model could not be scored; raise it to at least ${minimumPercent(rows)}%.`
    });
  }
  if (!stored && validationFraction > 0 && validation === 0) {
    issues.push({
      code: 'empty_validation_split',
      severity: 'error',
      message: `A validation fraction of ${percent(validationFraction)} of ${plural(rows, 'row')} is 0 rows; raise it to at least ${minimumPercent(rows)}%, or set it to 0.`
    });
  }
  if (train < MIN_TRAIN_ROWS) {
    issues.push({
      code: 'too_few_train_rows',
      severity: 'error',
      message: `${source} leaves ${plural(train, 'row')} to train on; a model needs at least ${MIN_TRAIN_ROWS}. Add rows${stored ? ', or pick a split with a larger training set' : ', or lower the test and validation fractions'}.`
    });
  } else if (train < spec.training.batchSize) {
    issues.push({
      code: 'batch_larger_than_data',
      severity: 'warning',
      message: `The batch size (${spec.training.batchSize.toLocaleString('en-US')}) is larger than the ${plural(train, 'training row')}, so each epoch is one step; lower it to ${train.toLocaleString('en-US')} or less.`,
      fix: { kind: 'lower_batch_size', batchSize: train }
    });
  }

  const rare = (classes ?? []).filter((c) => c.count < 2);
  if (rare.length > 0) {
    const shown = rare.slice(0, 5).map((c) => quote(c.value));
    const names = rare.length > 5 ? `${shown.join(', ')} and ${rare.length - 5} more` : shown.join(', ');
    issues.push({
      code: 'rare_classes',
      severity: 'warning',
      column: spec.target,
      message:
        rare.length === 1
          ? `The class ${names} of ${quote(spec.target)} has a single row, so it cannot be in both the training and the test set; add rows of it, or group it with another class.`
          : `${rare.length} classes of ${quote(spec.target)} have a single row (${names}), so they cannot be in both the training and the test set; add rows of them, or group rare classes together.`
    });
  }

  const early = spec.training.earlyStopping;
  const noValidation = stored ? stored.validation === 0 : validationFraction === 0;
  if (early && noValidation) {
    issues.push({
      code: 'early_stopping_without_validation',
      severity: 'error',
      message: `Early stopping watches ${early.monitor} on validation rows, but ${stored ? 'the stored split has none' : 'this run holds none out'}; ${stored ? 'pick a split with a validation set' : 'set a validation fraction (10% is usual)'}, or turn early stopping off.`
    });
  }
  return issues;
}

/** The smallest whole percentage of `rows` that rounds to at least one row. */
function minimumPercent(rows: number): number {
  return Math.max(1, Math.ceil(50 / Math.max(1, rows)));
}
