/**
 * Fits a preprocessing pipeline on the training rows only and applies the very same fitted state to
 * any rows later (evaluation, prediction on raw rows), as tensor operations on the active tfjs backend.
 *
 * Fitting goes step by step: a step's statistics are computed (float64, on the CPU) from the training
 * values as the previous fitted steps left them, and the step is then applied with the same tensor code
 * `transformPipeline` uses, so fit and transform cannot drift apart.
 *
 * Documented behaviour:
 * - an all-missing training column cannot be imputed with mean/median/most_frequent, scaled or
 *   power-transformed: that throws `prep_all_missing` naming the column (use `constant`);
 * - zero variance (standard), zero range (minmax) or zero IQR (robust) scale by 1, like sklearn, with a warning;
 * - categories unseen in training (and missing cells that no impute step fills) go to the "unknown"
 *   bucket (one-hot) or the reserved code k, one past the last category (ordinal);
 * - empty or missing text gives a zero row (bag of words, TF-IDF) or all padding (token ids); tokens
 *   outside the vocabulary are dropped (counts) or mapped to id 1 (token ids; 0 is padding);
 * - a vocabulary left empty by `minFrequency` throws `prep_empty_vocabulary`;
 * - log1p needs training values > −1 and Box-Cox positive ones; at transform time values outside the
 *   domain give NaN (or −Infinity at the boundary) rather than an error.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Table } from 'apache-arrow';
import { LatheError } from '../errors';
import { BOOL_NULL, readColumn, takeRows, type ColumnData, type Frame } from '../data/frame';
import type {
  FittedCategoricalGroup,
  FittedGroup,
  FittedNumericGroup,
  FittedNumericStep,
  FittedPipeline,
  FittedTextGroup
} from './fitted-pipeline';
import { PrepPipelineSchema, type NumericStep, type PrepGroup, type PrepPipelineInput } from './prep-steps';
import { fitPowerLambda, mean, mostFrequent, quantileSorted, sortedPresent, variance } from './prep-stats';
import { buildVocabulary, normalizeText, tokenize } from './text-prep';

export type { FittedPipeline } from './fitted-pipeline';

export interface FitOptions {
  /** Train rows of `frame`; all rows when left out. Nothing outside them is read. */
  rows?: ArrayLike<number>;
}

/** The columns a pipeline reads, unpacked from an Arrow table. */
export function frameForPipeline(table: Table, pipeline: PrepPipelineInput | FittedPipeline): Frame {
  const names = pipeline.groups.flatMap((g) => g.columns);
  return { rowCount: table.numRows, columns: names.map((name) => readColumn(table, name)) };
}

function columnData(frame: Frame, name: string): ColumnData {
  const column = frame.columns.find((c) => c.name === name);
  if (!column) throw new LatheError('column_missing', `The column "${name}" is not in these rows.`);
  return column.data;
}

function numericValues(frame: Frame, name: string): Float32Array {
  const data = columnData(frame, name);
  if (data.kind === 'number') return Float32Array.from(data.values);
  if (data.kind === 'boolean') return Float32Array.from(data.values, (v) => (v === BOOL_NULL ? NaN : v));
  throw new LatheError('prep_column_type', `The column "${name}" holds text; a numeric group needs numbers.`);
}

function stringValues(frame: Frame, name: string): Array<string | null> {
  const data = columnData(frame, name);
  if (data.kind === 'string') return data.values;
  if (data.kind === 'boolean')
    return Array.from(data.values, (v) => (v === BOOL_NULL ? null : v ? 'true' : 'false'));
  return Array.from(data.values, (v) => (Number.isNaN(v) ? null : String(v)));
}

function allMissing(column: string, what: string): LatheError {
  return new LatheError(
    'prep_all_missing',
    `The column "${column}" has no values in the training rows, so it cannot be ${what}. Impute it with a constant, or leave it out.`,
    { column }
  );
}

// ---------------------------------------------------------------------------------------------------
// Numeric groups

function numericInput(frame: Frame, columns: readonly string[]): tf.Tensor2D {
  return tf.tidy(
    () =>
      tf.stack(
        columns.map((c) => tf.tensor1d(numericValues(frame, c))),
        1
      ) as tf.Tensor2D
  );
}

const LAMBDA_EPS = 1e-7;

function applyNumericStep(x: tf.Tensor2D, step: FittedNumericStep, extras: tf.Tensor2D[]): tf.Tensor2D {
  const [n, k] = x.shape;
  switch (step.kind) {
    case 'impute': {
      const mask = tf.isNaN(x);
      if (step.indicatorColumns.length > 0) {
        extras.push(tf.gather(tf.cast(mask, 'float32'), step.indicatorColumns, 1) as tf.Tensor2D);
      }
      return tf.where(mask, tf.broadcastTo(tf.tensor2d([step.fill], [1, k]), [n, k]), x);
    }
    case 'scale':
      return tf.div(tf.sub(x, tf.tensor2d([step.center], [1, k])), tf.tensor2d([step.scale], [1, k]));
    case 'log1p':
      return tf.log1p(x);
    case 'power': {
      const row = (values: number[]): tf.Tensor2D => tf.broadcastTo(tf.tensor2d([values], [1, k]), [n, k]);
      const isZero = (values: number[]): tf.Tensor =>
        tf.cast(row(values.map((l) => (Math.abs(l) < LAMBDA_EPS ? 1 : 0))), 'bool');
      const safe = (values: number[]): number[] => values.map((l) => (Math.abs(l) < LAMBDA_EPS ? 1 : l));
      const lambda = step.lambdas;
      let y: tf.Tensor2D;
      if (step.method === 'box-cox') {
        const logX = tf.log(x);
        y = tf.where(isZero(lambda), logX, tf.div(tf.expm1(tf.mul(row(lambda), logX)), row(safe(lambda))));
      } else {
        const twoMinus = lambda.map((l) => 2 - l);
        const logPos = tf.log1p(x);
        const logNeg = tf.log1p(tf.neg(x));
        const positive = tf.where(
          isZero(lambda),
          logPos,
          tf.div(tf.expm1(tf.mul(row(lambda), logPos)), row(safe(lambda)))
        );
        const negative = tf.neg(
          tf.where(
            isZero(twoMinus),
            logNeg,
            tf.div(tf.expm1(tf.mul(row(twoMinus), logNeg)), row(safe(twoMinus)))
          )
        );
        y = tf.where(tf.greaterEqual(x, 0), positive, negative);
      }
      if (step.mean && step.std) y = tf.div(tf.sub(y, row(step.mean)), row(step.std));
      return y;
    }
  }
}

/**
 * Column j of a [n, k] tensor's values, as float64. Read asynchronously: WebGPU cannot read GPU
 * tensors synchronously, and fitting runs on whatever backend the run trains on.
 */
async function columnsOf(x: tf.Tensor2D): Promise<Float64Array[]> {
  const [n, k] = x.shape;
  const transposed = tf.transpose(x);
  const data = await transposed.data();
  transposed.dispose();
  return Array.from({ length: k }, (_, j) => Float64Array.from(data.subarray(j * n, (j + 1) * n)));
}

function fitScale(
  method: 'standard' | 'minmax' | 'robust',
  columns: readonly string[],
  values: Float64Array[],
  warnings: string[]
): Extract<FittedNumericStep, { kind: 'scale' }> {
  const center: number[] = [];
  const scale: number[] = [];
  values.forEach((v, j) => {
    const name = columns[j] ?? '';
    const present = sortedPresent(v);
    if (present.length === 0) throw allMissing(name, 'scaled');
    let c: number;
    let s: number;
    if (method === 'standard') {
      c = mean(present);
      s = Math.sqrt(variance(present));
    } else if (method === 'minmax') {
      c = present[0] as number;
      s = (present[present.length - 1] as number) - c;
    } else {
      c = quantileSorted(present, 0.5);
      s = quantileSorted(present, 0.75) - quantileSorted(present, 0.25);
    }
    if (!(s > 0)) {
      warnings.push(`"${name}" is constant in the training rows; ${method} scaling leaves its scale at 1.`);
      s = 1;
    }
    center.push(c);
    scale.push(s);
  });
  return { kind: 'scale', method, center, scale };
}

async function fitNumericStep(
  step: NumericStep,
  columns: readonly string[],
  values: Float64Array[],
  warnings: string[]
): Promise<FittedNumericStep> {
  switch (step.kind) {
    case 'impute': {
      const indicatorColumns: number[] = [];
      const fill = values.map((v, j) => {
        const name = columns[j] ?? '';
        const present = sortedPresent(v);
        if (present.length < v.length && step.addIndicator) indicatorColumns.push(j);
        if (step.strategy === 'constant') {
          if (typeof step.fillValue === 'string') {
            throw new LatheError('prep_fill_type', `The fill value for "${name}" must be a number.`, {
              column: name
            });
          }
          return step.fillValue ?? 0;
        }
        if (present.length === 0)
          throw allMissing(name, `imputed with the ${step.strategy.replace('_', ' ')}`);
        if (step.strategy === 'mean') return mean(present);
        if (step.strategy === 'median') return quantileSorted(present, 0.5);
        return mostFrequent(present) ?? 0;
      });
      return { kind: 'impute', strategy: step.strategy, fill, indicatorColumns };
    }
    case 'scale':
      return fitScale(step.method, columns, values, warnings);
    case 'log1p':
      values.forEach((v, j) => {
        if ((sortedPresent(v)[0] ?? 0) <= -1) {
          throw new LatheError(
            'prep_log1p_domain',
            `log1p needs values above −1, but "${columns[j]}" has smaller ones.`,
            {
              column: columns[j]
            }
          );
        }
      });
      return { kind: 'log1p' };
    case 'power': {
      const lambdas = values.map((v, j) => {
        const present = sortedPresent(v);
        if (present.length === 0) throw allMissing(columns[j] ?? '', 'power-transformed');
        if (step.method === 'box-cox' && (present[0] as number) <= 0) {
          throw new LatheError(
            'prep_box_cox_domain',
            `Box-Cox needs positive values, but "${columns[j]}" has zero or negative ones; use Yeo-Johnson.`,
            { column: columns[j] }
          );
        }
        return fitPowerLambda(present, step.method);
      });
      if (!step.standardize) return { kind: 'power', method: step.method, lambdas, mean: null, std: null };
      // Standardize what the transform itself produces (float32 on the backend), as sklearn does.
      const transformed = tf.tidy(() => {
        const x = tf.stack(
          values.map((v) => tf.tensor1d(Float32Array.from(v))),
          1
        ) as tf.Tensor2D;
        return applyNumericStep(
          x,
          { kind: 'power', method: step.method, lambdas, mean: null, std: null },
          []
        );
      });
      const after = await columnsOf(transformed);
      transformed.dispose();
      const scale = fitScale('standard', columns, after, warnings);
      return { kind: 'power', method: step.method, lambdas, mean: scale.center, std: scale.scale };
    }
  }
}

async function fitNumericGroup(
  group: Extract<PrepGroup, { kind: 'numeric' }>,
  train: Frame,
  warnings: string[]
): Promise<FittedNumericGroup> {
  const steps: FittedNumericStep[] = [];
  let x = numericInput(train, group.columns);
  for (const step of group.steps) {
    const fitted = await fitNumericStep(step, group.columns, await columnsOf(x), warnings);
    steps.push(fitted);
    const next = tf.tidy(() => applyNumericStep(x, fitted, []));
    x.dispose();
    x = next;
  }
  x.dispose();
  return { kind: 'numeric', columns: [...group.columns], steps };
}

function transformNumericGroup(group: FittedNumericGroup, frame: Frame): tf.Tensor2D {
  return tf.tidy(() => {
    const extras: tf.Tensor2D[] = [];
    let x = numericInput(frame, group.columns);
    for (const step of group.steps) x = applyNumericStep(x, step, extras);
    return tf.concat([x, ...extras], 1);
  });
}

function numericNames(group: FittedNumericGroup): string[] {
  const indicators = group.steps.flatMap((s) =>
    s.kind === 'impute' ? s.indicatorColumns.map((j) => `${group.columns[j]}__missing`) : []
  );
  return [...group.columns, ...indicators];
}

// ---------------------------------------------------------------------------------------------------
// Categorical groups

const MISSING_CODE = -1;

function fitCategoricalGroup(
  group: Extract<PrepGroup, { kind: 'categorical' }>,
  train: Frame
): FittedCategoricalGroup {
  const imputeStep = group.steps.find((s) => s.kind === 'impute');
  const encode = group.steps.find((s) => s.kind === 'encode');
  const indicatorColumns: number[] = [];
  const fill: string[] = [];
  const categories = group.columns.map((name, j) => {
    const values = stringValues(train, name);
    const present = values.filter((v): v is string => v !== null);
    const seen = new Set(present);
    if (imputeStep && imputeStep.kind === 'impute') {
      if (present.length < values.length && imputeStep.addIndicator) indicatorColumns.push(j);
      let value: string;
      if (imputeStep.strategy === 'constant') value = String(imputeStep.fillValue ?? 'missing');
      else {
        const frequent = mostFrequent(present);
        if (frequent === undefined) throw allMissing(name, 'imputed with the most frequent value');
        value = frequent;
      }
      fill.push(value);
      if (present.length < values.length) seen.add(value);
    }
    return [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  });
  const impute =
    imputeStep && imputeStep.kind === 'impute'
      ? {
          strategy: imputeStep.strategy === 'constant' ? ('constant' as const) : ('most_frequent' as const),
          fill,
          indicatorColumns
        }
      : null;
  return {
    kind: 'categorical',
    columns: [...group.columns],
    method: encode && encode.kind === 'encode' ? encode.method : 'one_hot',
    categories,
    impute
  };
}

function transformCategoricalGroup(group: FittedCategoricalGroup, frame: Frame): tf.Tensor2D {
  // Strings to codes is the one step that must be JS; imputing and encoding the codes is tensor work.
  const codes = group.columns.map((name, j) => {
    const index = new Map((group.categories[j] ?? []).map((c, i) => [c, i]));
    const unknown = index.size;
    return Int32Array.from(stringValues(frame, name), (v) =>
      v === null ? MISSING_CODE : (index.get(v) ?? unknown)
    );
  });
  return tf.tidy((): tf.Tensor2D => {
    const n = frame.rowCount;
    const k = group.columns.length;
    const sizes = group.categories.map((c) => c.length);
    const x = tf.stack(
      codes.map((c) => tf.tensor1d(c, 'int32')),
      1
    ) as tf.Tensor2D;
    const mask = tf.equal(x, MISSING_CODE);
    const extras: tf.Tensor2D[] = [];
    const fillCodes = sizes.map((size, j) => {
      const fill = group.impute?.fill[j];
      const at = fill === undefined ? -1 : (group.categories[j] ?? []).indexOf(fill);
      return at < 0 ? size : at;
    });
    if (group.impute && group.impute.indicatorColumns.length > 0) {
      extras.push(tf.gather(tf.cast(mask, 'float32'), group.impute.indicatorColumns, 1) as tf.Tensor2D);
    }
    const filled = tf.where(mask, tf.broadcastTo(tf.tensor2d([fillCodes], [1, k], 'int32'), [n, k]), x);
    if (group.method === 'ordinal')
      return tf.concat([tf.cast(filled, 'float32') as tf.Tensor2D, ...extras], 1);
    const columns = tf
      .unstack(filled, 1)
      .map((c, j) => tf.cast(tf.oneHot(c as tf.Tensor1D, (sizes[j] ?? 0) + 1), 'float32') as tf.Tensor2D);
    return tf.concat([...columns, ...extras], 1);
  });
}

function categoricalNames(group: FittedCategoricalGroup): string[] {
  const indicators = (group.impute?.indicatorColumns ?? []).map((j) => `${group.columns[j]}__missing`);
  if (group.method === 'ordinal') return [...group.columns, ...indicators];
  const encoded = group.columns.flatMap((name, j) => [
    ...(group.categories[j] ?? []).map((c) => `${name}=${c}`),
    `${name}=<unknown>`
  ]);
  return [...encoded, ...indicators];
}

// ---------------------------------------------------------------------------------------------------
// Text groups

function documents(
  group: Pick<FittedTextGroup, 'normalize' | 'tokenize'>,
  values: Array<string | null>
): string[][] {
  const { normalize } = group;
  return values.map((v) =>
    tokenize(v === null || normalize === null ? v : normalizeText(v, normalize), group.tokenize)
  );
}

function fitTextGroup(group: Extract<PrepGroup, { kind: 'text' }>, train: Frame): FittedTextGroup {
  const normalize = group.steps.find((s) => s.kind === 'normalize') ?? null;
  const tokenizeStep = group.steps.find((s) => s.kind === 'tokenize');
  const vocabularyStep = group.steps.find((s) => s.kind === 'vocabulary');
  const vectorize = group.steps.find((s) => s.kind === 'vectorize');
  if (
    tokenizeStep?.kind !== 'tokenize' ||
    vocabularyStep?.kind !== 'vocabulary' ||
    vectorize?.kind !== 'vectorize' ||
    (normalize !== null && normalize.kind !== 'normalize')
  ) {
    throw new LatheError('prep_invalid', 'A text group needs tokenize, vocabulary and vectorize steps.');
  }
  const shape = { normalize, tokenize: tokenizeStep };
  const vocabularies: string[][] = [];
  const idf: number[][] = [];
  for (const name of group.columns) {
    const docs = documents(shape, stringValues(train, name));
    const { tokens, documentFrequency } = buildVocabulary(docs, vocabularyStep);
    if (tokens.length === 0) {
      throw new LatheError(
        'prep_empty_vocabulary',
        `No token of "${name}" appears in at least ${vocabularyStep.minFrequency} training rows, so its vocabulary is empty.`,
        { column: name }
      );
    }
    vocabularies.push(tokens);
    // sklearn's smooth_idf: ln((1 + n) / (1 + df)) + 1.
    idf.push(documentFrequency.map((df) => Math.log((1 + docs.length) / (1 + df)) + 1));
  }
  return {
    kind: 'text',
    columns: [...group.columns],
    normalize,
    tokenize: tokenizeStep,
    vectorize,
    vocabularies,
    idf: vectorize.method === 'tfidf' ? idf : null
  };
}

function transformTextColumn(group: FittedTextGroup, j: number, frame: Frame): tf.Tensor2D {
  const name = group.columns[j] ?? '';
  const vocabulary = group.vocabularies[j] ?? [];
  const index = new Map(vocabulary.map((t, i) => [t, i]));
  const docs = documents(group, stringValues(frame, name));
  const n = docs.length;
  const { vectorize } = group;
  if (vectorize.method === 'token_ids') {
    // 0 pads, 1 is out-of-vocabulary, token i of the vocabulary is i + 2; long documents keep their start.
    const ids = new Int32Array(n * vectorize.maxLength);
    docs.forEach((tokens, r) => {
      tokens.slice(0, vectorize.maxLength).forEach((t, p) => {
        ids[r * vectorize.maxLength + p] = (index.get(t) ?? -1) + 2;
      });
    });
    return tf.tidy(() => tf.cast(tf.tensor2d(ids, [n, vectorize.maxLength], 'int32'), 'float32'));
  }
  const coordinates: number[] = [];
  docs.forEach((tokens, r) => {
    for (const t of tokens) {
      const id = index.get(t);
      if (id !== undefined) coordinates.push(r, id);
    }
  });
  return tf.tidy(() => {
    const v = vocabulary.length;
    const nnz = coordinates.length / 2;
    // scatterND sums duplicate coordinates, which is exactly a term count.
    let counts: tf.Tensor2D =
      nnz === 0
        ? tf.zeros([n, v])
        : tf.scatterND(tf.tensor2d(coordinates, [nnz, 2], 'int32'), tf.ones([nnz]), [n, v]);
    if (vectorize.method === 'bag_of_words') return vectorize.binary ? tf.minimum(counts, 1) : counts;
    counts = tf.mul(counts, tf.tensor2d([group.idf?.[j] ?? []], [1, v]));
    const norm = tf.sqrt(tf.sum(tf.square(counts), 1, true));
    return tf.div(counts, tf.where(tf.equal(norm, 0), tf.onesLike(norm), norm));
  });
}

function transformTextGroup(group: FittedTextGroup, frame: Frame): tf.Tensor2D {
  const parts = group.columns.map((_, j) => transformTextColumn(group, j, frame));
  const out = tf.concat(parts, 1);
  tf.dispose(parts);
  return out;
}

function textNames(group: FittedTextGroup): string[] {
  return group.columns.flatMap((name, j) =>
    group.vectorize.method === 'token_ids'
      ? Array.from({ length: group.vectorize.maxLength }, (_, p) => `${name}[${p}]`)
      : (group.vocabularies[j] ?? []).map((t) => `${name}:${t}`)
  );
}

// ---------------------------------------------------------------------------------------------------

/** The output column names one fitted group contributes, in tensor order. */
export function groupOutputNames(group: FittedGroup): string[] {
  if (group.kind === 'numeric') return numericNames(group);
  if (group.kind === 'categorical') return categoricalNames(group);
  return textNames(group);
}

/** Fits `pipeline` on the training rows of `frame` (`options.rows`, else every row). */
export async function fitPipeline(
  frame: Frame,
  pipeline: PrepPipelineInput,
  options: FitOptions = {}
): Promise<FittedPipeline> {
  const parsed = PrepPipelineSchema.safeParse(pipeline);
  if (!parsed.success) {
    throw new LatheError(
      'prep_invalid',
      parsed.error.issues[0]?.message ?? 'The preprocessing pipeline is invalid.'
    );
  }
  const train: Frame = options.rows
    ? {
        rowCount: options.rows.length,
        columns: frame.columns.map((c) => ({ ...c, data: takeRows(c.data, options.rows ?? []) }))
      }
    : frame;
  if (train.rowCount === 0)
    throw new LatheError('prep_no_rows', 'There are no training rows to fit preprocessing on.');
  const warnings: string[] = [];
  const groups: FittedGroup[] = [];
  for (const group of parsed.data.groups) {
    if (group.kind === 'numeric') groups.push(await fitNumericGroup(group, train, warnings));
    else if (group.kind === 'categorical') groups.push(fitCategoricalGroup(group, train));
    else groups.push(fitTextGroup(group, train));
  }
  return {
    version: 1,
    groups,
    outputNames: groups.flatMap(groupOutputNames),
    warnings,
    trainRows: train.rowCount
  };
}

/** The feature matrix of `frame`'s rows, rows × `fitted.outputNames.length`, float32. The caller disposes it. */
export function transformPipeline(fitted: FittedPipeline, frame: Frame): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  try {
    for (const group of fitted.groups) {
      if (group.kind === 'numeric') parts.push(transformNumericGroup(group, frame));
      else if (group.kind === 'categorical') parts.push(transformCategoricalGroup(group, frame));
      else parts.push(transformTextGroup(group, frame));
    }
    return tf.concat(parts, 1);
  } finally {
    tf.dispose(parts);
  }
}

export interface FittedStepSummary {
  columns: string[];
  step: string;
  detail: string;
}

const round = (v: number): string => String(Number(v.toPrecision(4)));

/** One line per fitted step, for the UI. */
export function describeFitted(fitted: FittedPipeline): FittedStepSummary[] {
  return fitted.groups.flatMap((group): FittedStepSummary[] => {
    const columns = group.columns;
    const perColumn = (values: number[]): string =>
      values.map((v, j) => `${columns[j]} ${round(v)}`).join(', ');
    if (group.kind === 'numeric') {
      return group.steps.map((s) => {
        if (s.kind === 'impute') {
          const indicators = s.indicatorColumns.length
            ? `; indicators for ${s.indicatorColumns.length} column(s)`
            : '';
          return {
            columns,
            step: `impute (${s.strategy})`,
            detail: `fill ${perColumn(s.fill)}${indicators}`
          };
        }
        if (s.kind === 'scale') {
          return {
            columns,
            step: `scale (${s.method})`,
            detail: `center ${perColumn(s.center)}; scale ${perColumn(s.scale)}`
          };
        }
        if (s.kind === 'log1p') return { columns, step: 'log1p', detail: 'log(1 + x)' };
        return {
          columns,
          step: `power (${s.method})`,
          detail: `lambda ${perColumn(s.lambdas)}${s.mean ? '; standardized' : ''}`
        };
      });
    }
    if (group.kind === 'categorical') {
      const out: FittedStepSummary[] = [];
      if (group.impute) {
        out.push({
          columns,
          step: `impute (${group.impute.strategy})`,
          detail: group.impute.fill.map((f, j) => `${columns[j]} "${f}"`).join(', ')
        });
      }
      out.push({
        columns,
        step: `encode (${group.method})`,
        detail: group.categories.map((c, j) => `${columns[j]}: ${c.length} categories + unknown`).join(', ')
      });
      return out;
    }
    return [
      {
        columns,
        step: `text (${group.vectorize.method})`,
        detail: group.vocabularies.map((v, j) => `${columns[j]}: ${v.length} tokens`).join(', ')
      }
    ];
  });
}
