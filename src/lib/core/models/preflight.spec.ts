import { tableFromArrays, type Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { columnSchemaOf, tableToFrame } from '../data/frame';
import { seededRandom } from '../pipeline/split';
import { runSpec, type ColumnSchema, type ColumnType, type RunSpec, type RunSpecInput } from '../records';
import type { ModelSpecInput } from './model-spec';
import { preflightRun, type PreflightContext, type PreflightIssue, type PreflightReport } from './preflight';

const ID = '01920000-0000-7000-8000-000000000000';
const SPLIT_ID = '01920000-0000-7000-8000-000000000001';

/** A logistic-regression run on x1, x2 → label with a 20% test split, batch size 16. */
function spec(overrides: Partial<RunSpecInput> = {}): RunSpec {
  return runSpec.parse({
    datasetId: ID,
    datasetVersionId: ID,
    target: 'label',
    features: ['x1', 'x2'],
    task: 'classification',
    model: { kind: 'logistic' },
    split: { testFraction: 0.2, seed: 1 },
    preprocessing: { pipeline: null },
    training: { epochs: 5, batchSize: 16, optimizer: { kind: 'adam', learningRate: 0.01 } },
    seed: 1,
    ...overrides
  });
}

function noise(n: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  return Float64Array.from({ length: n }, () => random() * 2 - 1);
}

/** Labels that no feature predicts: a seeded coin per row. */
function coin(n: number, seed: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => (random() < 0.5 ? 'yes' : 'no'));
}

/** n rows of two noise features and a random yes/no label, plus `extra` columns. */
function data(n: number, extra: Record<string, Float64Array | ReadonlyArray<string | null>> = {}): Table {
  return tableFromArrays({ x1: noise(n, 1), x2: noise(n, 2), label: coin(n, 3), ...extra });
}

/** The version's column schemas as import would record them, with some types overridden. */
function columnsOf(table: Table, types: Record<string, ColumnType> = {}): ColumnSchema[] {
  return tableToFrame(table).columns.map((c) => ({ ...columnSchemaOf(c), type: types[c.name] ?? c.type }));
}

function check(
  table: Table,
  runSpecValue: RunSpec,
  types: Record<string, ColumnType> = {},
  context: PreflightContext = {}
): PreflightReport {
  return preflightRun(table, columnsOf(table, types), runSpecValue, context);
}

function issue(report: PreflightReport, code: PreflightIssue['code']): PreflightIssue | undefined {
  return report.issues.find((i) => i.code === code);
}

const codes = (report: PreflightReport): string[] => report.issues.map((i) => i.code);

describe('preflightRun', () => {
  it('passes a sound run without issues', () => {
    const report = check(data(200), spec());
    expect(report).toEqual({ ok: true, issues: [] });
  });

  it('refuses a target with missing values, offering to drop those rows, and warns once they will be', () => {
    const table = tableFromArrays({
      x1: noise(60, 1),
      x2: noise(60, 2),
      label: coin(60, 3).map((v, i) => (i % 20 === 0 ? null : v))
    });
    const refused = check(table, spec());
    expect(refused.ok).toBe(false);
    expect(issue(refused, 'target_missing')).toMatchObject({
      severity: 'error',
      column: 'label',
      fix: { kind: 'drop_missing_target', rows: 3 }
    });
    expect(issue(refused, 'target_missing')?.message).toContain('“label” is missing in 3 rows of 60');

    const dropped = check(table, spec({ dropMissingTarget: true }));
    expect(dropped.ok).toBe(true);
    expect(dropped.issues).toHaveLength(1);
    expect(issue(dropped, 'target_missing_dropped')).toMatchObject({ severity: 'warning', column: 'label' });
    expect(issue(dropped, 'target_missing_dropped')?.message).toContain('the other 57 rows');
  });

  it('refuses a target that is empty in every row', () => {
    const table = tableFromArrays({
      x1: noise(20, 1),
      x2: noise(20, 2),
      label: new Float64Array(20).fill(NaN)
    });
    const report = check(table, spec({ task: 'regression', dropMissingTarget: true }));
    expect(codes(report)).toEqual(['target_all_missing']);
    expect(report.issues[0]?.message).toContain('“label” is empty in all 20 rows');
  });

  it('names a target or feature that is not in the data', () => {
    const report = check(data(50), spec({ target: 'outcome', features: ['x1', 'x9'] }));
    expect(report.ok).toBe(false);
    expect(issue(report, 'target_not_found')).toMatchObject({ severity: 'error', column: 'outcome' });
    expect(issue(report, 'target_not_found')?.message).toContain('“outcome”');
    expect(issue(report, 'feature_not_found')).toMatchObject({
      severity: 'error',
      column: 'x9',
      fix: { kind: 'remove_feature', column: 'x9' }
    });
    expect(report.issues.filter((i) => i.code === 'feature_not_found')).toHaveLength(1);
  });

  it('refuses the target listed as a feature', () => {
    const report = check(data(50), spec({ features: ['x1', 'label'] }));
    expect(issue(report, 'target_as_feature')).toMatchObject({
      severity: 'error',
      fix: { kind: 'remove_feature', column: 'label' }
    });
  });

  it('refuses a single-class target, naming the class, counted after dropping missing targets', () => {
    const labels = Array.from({ length: 40 }, (_, i) => (i % 10 === 0 ? null : 'spam'));
    const single = tableFromArrays({ x1: noise(40, 1), x2: noise(40, 2), label: labels });
    const report = check(single, spec({ dropMissingTarget: true }));
    expect(issue(report, 'single_class')).toMatchObject({ severity: 'error', column: 'label' });
    expect(issue(report, 'single_class')?.message).toContain('“spam”');

    const two = tableFromArrays({
      x1: noise(40, 1),
      x2: noise(40, 2),
      label: labels.map((v, i) => v && (i % 2 ? v : 'ham'))
    });
    expect(issue(check(two, spec({ dropMissingTarget: true })), 'single_class')).toBeUndefined();
  });

  it('refuses hundreds of classes, offering regression for a numeric target', () => {
    const n = 300;
    const numeric = tableFromArrays({
      x1: noise(n, 1),
      x2: noise(n, 2),
      label: Int32Array.from({ length: n }, (_, i) => i % 150)
    });
    const report = check(numeric, spec());
    expect(issue(report, 'too_many_classes')).toMatchObject({
      severity: 'error',
      column: 'label',
      fix: { kind: 'use_regression' }
    });
    expect(issue(report, 'too_many_classes')?.message).toContain('150 distinct values');

    const words = Array.from({ length: n }, (_, i) => `word ${i % 150}`);
    const text = check(tableFromArrays({ x1: noise(n, 1), x2: noise(n, 2), label: words }), spec());
    expect(issue(text, 'too_many_classes')?.fix).toBeUndefined();
    expect(issue(text, 'too_many_classes')?.message).toContain('Group the rare classes');
  });

  it('warns about 20 to 100 classes and says nothing about a few', () => {
    const n = 300;
    const many = tableFromArrays({
      x1: noise(n, 1),
      x2: noise(n, 2),
      label: Array.from({ length: n }, (_, i) => `c${i % 30}`)
    });
    const report = check(many, spec());
    expect(report.ok).toBe(true);
    expect(issue(report, 'many_classes')).toMatchObject({ severity: 'warning', column: 'label' });
    expect(issue(report, 'many_classes')?.message).toContain('30 classes');

    const few = tableFromArrays({
      x1: noise(n, 1),
      x2: noise(n, 2),
      label: Array.from({ length: n }, (_, i) => `c${(i * 7) % 5}`)
    });
    expect(check(few, spec()).issues).toEqual([]);
  });

  it('refuses regression on a non-numeric target', () => {
    const report = check(data(50), spec({ task: 'regression', model: { kind: 'linear' } }));
    expect(issue(report, 'regression_target_not_numeric')).toMatchObject({
      severity: 'error',
      column: 'label'
    });
    expect(issue(report, 'regression_target_not_numeric')?.message).toContain(
      '“label” is a categorical column'
    );

    const numeric = tableFromArrays({ x1: noise(50, 1), x2: noise(50, 2), label: noise(50, 7) });
    expect(check(numeric, spec({ task: 'regression', model: { kind: 'linear' } })).issues).toEqual([]);
  });

  it('refuses an identifier as a feature, by its type or by its role', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `cust-${i}`);
    const table = data(50, { customer: ids });
    const byType = check(table, spec({ features: ['x1', 'customer'] }), { customer: 'identifier' });
    expect(issue(byType, 'identifier_feature')).toMatchObject({
      severity: 'error',
      column: 'customer',
      fix: { kind: 'remove_feature', column: 'customer' }
    });
    expect(issue(byType, 'identifier_feature')?.message).toContain('“customer” is an identifier column');

    const byRole = check(table, spec({ features: ['x1', 'x2'] }), {}, { roles: { x2: 'identifier' } });
    expect(issue(byRole, 'identifier_feature')).toMatchObject({ column: 'x2' });
    expect(check(table, spec({ features: ['x1', 'x2'] })).ok).toBe(true);
  });

  it('accepts a text feature under the automatic pipeline and refuses it inside a numeric group', () => {
    const random = seededRandom(5);
    const words = ['good', 'bad', 'fine', 'slow', 'fast', 'late', 'cheap'];
    const reviews = Array.from(
      { length: 80 },
      (_, i) => `${words[Math.floor(random() * 7)]} ${words[Math.floor(random() * 7)]} ${i}`
    );
    const table = data(80, { review: reviews });
    const types = { review: 'text' } as const;
    const models: ModelSpecInput[] = [{ kind: 'logistic' }, { kind: 'mlp', layers: [] }];
    for (const model of models) {
      expect(check(table, spec({ features: ['x1', 'review'], model }), types).issues).toEqual([]);
    }
    const numericGroup = spec({
      features: ['x1', 'review'],
      preprocessing: {
        pipeline: {
          groups: [
            { kind: 'numeric', columns: ['x1', 'review'], steps: [{ kind: 'scale', method: 'standard' }] }
          ]
        }
      }
    });
    const report = check(table, numericGroup, types);
    expect(issue(report, 'text_as_number')).toMatchObject({
      severity: 'error',
      column: 'review',
      fix: { kind: 'remove_feature', column: 'review' }
    });
    expect(issue(report, 'text_as_number')?.message).toContain('“review” holds text');

    const textGroup = spec({
      features: ['x1', 'review'],
      preprocessing: {
        pipeline: {
          groups: [
            { kind: 'numeric', columns: ['x1'], steps: [] },
            {
              kind: 'text',
              columns: ['review'],
              steps: [{ kind: 'tokenize' }, { kind: 'vocabulary' }, { kind: 'vectorize', method: 'tfidf' }]
            }
          ]
        }
      }
    });
    expect(check(table, textGroup, types).issues).toEqual([]);
  });

  it('refuses fewer than 10 training rows', () => {
    const report = check(
      data(8),
      spec({ training: { epochs: 1, batchSize: 4, optimizer: { kind: 'sgd', learningRate: 0.1 } } })
    );
    expect(report.ok).toBe(false);
    expect(issue(report, 'too_few_train_rows')?.message).toContain('leaves 6 rows to train on');
    expect(
      check(
        data(13),
        spec({ training: { epochs: 1, batchSize: 4, optimizer: { kind: 'sgd', learningRate: 0.1 } } })
      ).ok
    ).toBe(true);
  });

  it('warns when one batch is larger than the training rows, offering the training row count', () => {
    const report = check(
      data(40),
      spec({ training: { epochs: 1, batchSize: 64, optimizer: { kind: 'sgd', learningRate: 0.1 } } })
    );
    expect(report.ok).toBe(true);
    expect(issue(report, 'batch_larger_than_data')).toMatchObject({
      severity: 'warning',
      fix: { kind: 'lower_batch_size', batchSize: 32 }
    });
    expect(issue(report, 'batch_larger_than_data')?.message).toContain(
      '(64) is larger than the 32 training rows'
    );
    // A batch of 16 over 32 rows: the last batch may be smaller, which is fine.
    expect(check(data(40), spec()).issues).toEqual([]);
  });

  it('warns about classes with a single row', () => {
    const labels = coin(40, 3);
    labels[5] = 'maybe';
    const report = check(data(40, { label: labels }), spec());
    expect(report.ok).toBe(true);
    expect(issue(report, 'rare_classes')).toMatchObject({ severity: 'warning', column: 'label' });
    expect(issue(report, 'rare_classes')?.message).toContain('The class “maybe” of “label” has a single row');
  });

  it('refuses a test or validation fraction that leaves no rows', () => {
    const test = check(data(30), spec({ split: { testFraction: 0.01, seed: 1 } }));
    expect(issue(test, 'empty_test_split')).toMatchObject({ severity: 'error' });
    expect(issue(test, 'empty_test_split')?.message).toContain('raise it to at least 2%');
    const validation = check(
      data(30),
      spec({ split: { testFraction: 0.2, validationFraction: 0.01, seed: 1 } })
    );
    expect(codes(validation)).toEqual(['empty_validation_split']);
    expect(check(data(30), spec({ split: { testFraction: 0.2, validationFraction: 0.1, seed: 1 } })).ok).toBe(
      true
    );
  });

  it("judges rows by a stored split's counts, and refuses a split that is not stored", () => {
    const stored = spec({ splitId: SPLIT_ID });
    const small = check(data(200), stored, {}, { splitCounts: { train: 6, validation: 0, test: 194 } });
    expect(issue(small, 'too_few_train_rows')?.message).toContain('The stored split leaves 6 rows');
    const noTest = check(data(200), stored, {}, { splitCounts: { train: 200, validation: 0, test: 0 } });
    expect(codes(noTest)).toEqual(['empty_test_split']);
    expect(codes(check(data(200), stored, {}, { splitCounts: null }))).toEqual(['split_missing']);
    expect(
      check(data(200), stored, {}, { splitCounts: { train: 150, validation: 10, test: 40 } }).issues
    ).toEqual([]);
  });

  it('refuses early stopping without validation rows', () => {
    const training = {
      epochs: 50,
      batchSize: 16,
      optimizer: { kind: 'adam', learningRate: 0.01 },
      earlyStopping: { monitor: 'val_loss' }
    } as const;
    const report = check(data(100), spec({ training }));
    expect(issue(report, 'early_stopping_without_validation')).toMatchObject({ severity: 'error' });
    expect(issue(report, 'early_stopping_without_validation')?.message).toContain('watches val_loss');
    expect(
      check(data(100), spec({ training, split: { testFraction: 0.2, validationFraction: 0.1, seed: 1 } })).ok
    ).toBe(true);
    const stored = spec({ training, splitId: SPLIT_ID });
    expect(check(data(100), stored, {}, { splitCounts: { train: 70, validation: 10, test: 20 } }).ok).toBe(
      true
    );
    expect(
      codes(check(data(100), stored, {}, { splitCounts: { train: 80, validation: 0, test: 20 } }))
    ).toEqual(['early_stopping_without_validation']);
  });

  describe('a feature that is the target in disguise', () => {
    it('refuses a copy of the target', () => {
      const labels = coin(60, 3);
      const report = check(data(60, { verdict: labels }), spec({ features: ['x1', 'verdict'] }));
      expect(issue(report, 'target_copy')).toMatchObject({
        severity: 'error',
        column: 'verdict',
        fix: { kind: 'remove_feature', column: 'verdict' }
      });
      expect(issue(report, 'target_copy')?.message).toContain('“verdict” is a copy of the target “label”');

      // With holes it is no longer a copy, but still the target under another name.
      const holes = data(60, { verdict: labels.map((v, i) => (i % 6 === 0 ? null : v)) });
      expect(codes(check(holes, spec({ features: ['x1', 'verdict'] })))).toEqual(['target_mapping']);
    });

    it('refuses a one-to-one relabelling, even of a regression target with few values', () => {
      const stars = Int32Array.from({ length: 60 }, (_, i) => (i * 7) % 5);
      const grades = Array.from(stars, (s) => 'EDCBA'[s] ?? '');
      const table = tableFromArrays({ x1: noise(60, 1), grade: grades, label: Float64Array.from(stars) });
      const report = check(
        table,
        spec({ task: 'regression', model: { kind: 'linear' }, features: ['x1', 'grade'] })
      );
      expect(issue(report, 'target_mapping')).toMatchObject({
        severity: 'error',
        column: 'grade',
        fix: { kind: 'remove_feature', column: 'grade' }
      });
      expect(issue(report, 'target_mapping')?.message).toContain('5 values over 60 rows');
    });

    it("warns about a near-perfect predictor by validation's leakage rule, without blocking", () => {
      // Half the rows of each class, so the class boundary falls between two of validation's quantile bins.
      const labels = Array.from({ length: 200 }, (_, i) => (i % 2 ? 'yes' : 'no'));
      const random = seededRandom(9);
      const score = Float64Array.from(labels, (l) => (l === 'yes' ? 10 : 0) + random());
      const table = tableFromArrays({ x1: noise(200, 1), score, label: labels });
      const report = check(table, spec({ features: ['x1', 'score'] }));
      expect(report.ok).toBe(true);
      expect(issue(report, 'target_leakage')).toMatchObject({
        severity: 'warning',
        column: 'score',
        fix: { kind: 'remove_feature', column: 'score' }
      });
      expect(issue(report, 'target_leakage')?.message).toContain('“score” alone predicts “label”');

      const price = noise(200, 4);
      const cents = Float64Array.from(price, (p) => Math.round(p * 100) + 0.3);
      const regression = tableFromArrays({ x1: noise(200, 1), cents, label: price });
      const leak = check(
        regression,
        spec({ task: 'regression', model: { kind: 'linear' }, features: ['x1', 'cents'] })
      );
      expect(codes(leak)).toEqual(['target_leakage']);
      expect(leak.issues[0]?.message).toContain('“cents” has a correlation of 1.000 with “label”');
    });

    it('leaves honest features alone, including all-distinct values beside a continuous target', () => {
      const table = tableFromArrays({ x1: noise(100, 1), x2: noise(100, 2), label: noise(100, 3) });
      expect(check(table, spec({ task: 'regression', model: { kind: 'linear' } })).issues).toEqual([]);
    });
  });

  it('checks that the model and its input match', () => {
    const images = data(40, { image_hash: Array.from({ length: 40 }, (_, i) => `hash-${i}`) });
    const cnn: ModelSpecInput = { kind: 'cnn', layers: [{ kind: 'flatten' }] };
    const noImage = check(images, spec({ model: cnn, features: ['image_hash'] }));
    expect(codes(noImage)).toEqual(['cnn_without_image']);
    const withImage = spec({ model: cnn, features: ['image_hash'], image: { column: 'image_hash' } });
    expect(check(images, withImage, { image_hash: 'text' }).issues).toEqual([]);
    const mlpImage = check(
      images,
      spec({ model: { kind: 'mlp', layers: [] }, image: { column: 'image_hash' } })
    );
    expect(issue(mlpImage, 'image_without_cnn')).toMatchObject({ severity: 'error', column: 'image_hash' });
    const elsewhere = spec({ model: cnn, features: ['image_hash'], image: { column: 'pixels' } });
    expect(issue(check(images, elsewhere), 'image_column_missing')?.message).toContain('“pixels”');
  });

  it('refuses a text-embedding model without a text feature', () => {
    const words = ['good', 'bad', 'fine', 'slow'];
    const table = data(40, { review: Array.from({ length: 40 }, (_, i) => `${words[i % 4]} ${i}`) });
    const model: ModelSpecInput = { kind: 'text_embedding', layers: [] };
    expect(codes(check(table, spec({ model })))).toEqual(['text_embedding_without_text']);
    expect(check(table, spec({ model, features: ['review'] }), { review: 'text' }).issues).toEqual([]);
  });

  it('puts errors before warnings', () => {
    const report = check(
      data(40),
      spec({
        features: ['x1', 'x9'],
        training: { epochs: 1, batchSize: 64, optimizer: { kind: 'sgd', learningRate: 0.1 } }
      })
    );
    expect(codes(report)).toEqual(['feature_not_found', 'batch_larger_than_data']);
  });
});
