import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BOOL_NULL, type ColumnData, type Frame } from '../data/frame';
import type { ColumnType } from '../records';
import { LatheError } from '../errors';
import { parseFittedPipeline } from './fitted-pipeline';
import { describeFitted, fitPipeline, transformPipeline } from './prep-pipeline';
import type { PrepPipelineInput } from './prep-steps';
import { boxCoxLogLikelihood, yeoJohnsonLogLikelihood } from './prep-stats';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function frame(columns: Record<string, Array<number | null> | Array<string | null> | boolean[]>): Frame {
  const entries = Object.entries(columns);
  return {
    rowCount: entries[0]?.[1].length ?? 0,
    columns: entries.map(([name, values]) => {
      let data: ColumnData;
      let type: ColumnType;
      if (values.some((v) => typeof v === 'string')) {
        data = { kind: 'string', values: values as Array<string | null> };
        type = 'categorical';
      } else if (values.some((v) => typeof v === 'boolean')) {
        data = { kind: 'boolean', values: Uint8Array.from(values as boolean[], (v) => (v ? 1 : 0)) };
        type = 'boolean';
      } else {
        data = { kind: 'number', values: Float64Array.from(values as Array<number | null>, (v) => v ?? NaN) };
        type = 'float';
      }
      return { name, type, data };
    })
  };
}

async function run(f: Frame, pipeline: PrepPipelineInput, apply: Frame = f): Promise<number[][]> {
  const fitted = await fitPipeline(f, pipeline);
  const out = transformPipeline(fitted, apply);
  const values = out.arraySync();
  out.dispose();
  return values;
}

function expectClose(actual: number[][], expected: number[][], digits = 4): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    expect(row.length).toBe(expected[i]?.length);
    row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]?.[j] ?? NaN, digits));
  });
}

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof LatheError) return err.code;
    throw err;
  }
  return undefined;
}

const numeric = (columns: string[], steps: PrepPipelineInput['groups'][number]['steps']): PrepPipelineInput =>
  ({ groups: [{ kind: 'numeric', columns, steps }] }) as PrepPipelineInput;

describe('impute', () => {
  const f = frame({ a: [1, null, 3, 10], b: [2, 2, null, 5] });

  it('fills with the training mean, median, most frequent or a constant', async () => {
    expectClose(await run(f, numeric(['a'], [{ kind: 'impute', strategy: 'mean' }])), [
      [1],
      [14 / 3],
      [3],
      [10]
    ]);
    expectClose(await run(f, numeric(['a'], [{ kind: 'impute', strategy: 'median' }])), [
      [1],
      [3],
      [3],
      [10]
    ]);
    expectClose(await run(f, numeric(['b'], [{ kind: 'impute', strategy: 'most_frequent' }])), [
      [2],
      [2],
      [2],
      [5]
    ]);
    expectClose(await run(f, numeric(['b'], [{ kind: 'impute', strategy: 'constant', fillValue: -1 }])), [
      [2],
      [2],
      [-1],
      [5]
    ]);
  });

  it('appends indicator columns for the columns that had missing cells', async () => {
    const fitted = await fitPipeline(
      f,
      numeric(['a', 'b'], [{ kind: 'impute', strategy: 'median', addIndicator: true }])
    );
    expect(fitted.outputNames).toEqual(['a', 'b', 'a__missing', 'b__missing']);
    const x = transformPipeline(fitted, frame({ a: [null], b: [7] }));
    expectClose(x.arraySync(), [[3, 7, 1, 0]]);
    x.dispose();
  });

  it('refuses an all-missing column for mean, naming it, and allows a constant', async () => {
    const empty = frame({ gone: [null, null] });
    const error = await fitPipeline(empty, numeric(['gone'], [{ kind: 'impute', strategy: 'mean' }])).catch(
      (err: unknown) => err
    );
    expect(error).toBeInstanceOf(LatheError);
    expect((error as LatheError).code).toBe('prep_all_missing');
    expect((error as LatheError).message).toContain('"gone"');
    expectClose(await run(empty, numeric(['gone'], [{ kind: 'impute', strategy: 'constant' }])), [[0], [0]]);
  });

  it('reads booleans as 0/1', async () => {
    const bools = frame({ flag: [true, false, true] });
    expectClose(await run(bools, numeric(['flag'], [])), [[1], [0], [1]]);
    const withNull: Frame = {
      rowCount: 2,
      columns: [
        { name: 'flag', type: 'boolean', data: { kind: 'boolean', values: Uint8Array.from([1, BOOL_NULL]) } }
      ]
    };
    expectClose(
      await run(withNull, numeric(['flag'], [{ kind: 'impute', strategy: 'constant', fillValue: 0.5 }])),
      [[1], [0.5]]
    );
  });
});

describe('scale', () => {
  const f = frame({ x: [1, 2, 3, 4, 100] });

  it('standard: population mean and std', async () => {
    // mean 22, population variance ((21²+20²+19²+18²+78²)/5) = 1522, std 39.0128…
    const std = Math.sqrt(1522);
    expectClose(
      await run(f, numeric(['x'], [{ kind: 'scale', method: 'standard' }])),
      [1, 2, 3, 4, 100].map((v) => [(v - 22) / std])
    );
  });

  it('minmax maps the training range to [0, 1]', async () => {
    expectClose(
      await run(f, numeric(['x'], [{ kind: 'scale', method: 'minmax' }])),
      [1, 2, 3, 4, 100].map((v) => [(v - 1) / 99])
    );
  });

  it('robust: median 3 and IQR 4 − 2 = 2 (numpy linear quantiles)', async () => {
    expectClose(await run(f, numeric(['x'], [{ kind: 'scale', method: 'robust' }])), [
      [-1],
      [-0.5],
      [0],
      [0.5],
      [48.5]
    ]);
  });

  it('a constant column keeps scale 1 and says so', async () => {
    const constant = frame({ c: [5, 5, 5] });
    const fitted = await fitPipeline(constant, numeric(['c'], [{ kind: 'scale', method: 'standard' }]));
    expect(fitted.warnings).toHaveLength(1);
    const x = transformPipeline(fitted, frame({ c: [5, 7] }));
    expectClose(x.arraySync(), [[0], [2]]);
    x.dispose();
  });

  it('ignores missing cells when fitting and keeps them missing', async () => {
    const out = await run(
      frame({ x: [0, null, 2] }),
      numeric(['x'], [{ kind: 'scale', method: 'standard' }])
    );
    expect(out[0]?.[0]).toBeCloseTo(-1);
    expect(out[1]?.[0]).toBeNaN();
  });
});

describe('log1p and power transforms', () => {
  it('log1p', async () => {
    expectClose(await run(frame({ x: [0, Math.E - 1] }), numeric(['x'], [{ kind: 'log1p' }])), [[0], [1]]);
    expect(await codeOf(() => fitPipeline(frame({ x: [-1, 2] }), numeric(['x'], [{ kind: 'log1p' }])))).toBe(
      'prep_log1p_domain'
    );
  });

  it('Yeo-Johnson matches sklearn PowerTransformer docs ([1, 3, 4] → lambda 1.386…, printed truncated)', async () => {
    const f = frame({ a: [1, 3, 4], b: [2, 2, 5] });
    const fitted = await fitPipeline(f, numeric(['a', 'b'], [{ kind: 'power' }]));
    const power = fitted.groups[0]?.kind === 'numeric' ? fitted.groups[0].steps[0] : undefined;
    expect(power?.kind === 'power' && power.lambdas[0]).toBeCloseTo(1.3867, 3);
    expect(power?.kind === 'power' && power.lambdas[1]).toBeCloseTo(-3.1, 2);
    const x = transformPipeline(fitted, f);
    expectClose(
      x.arraySync(),
      [
        [-1.316, -0.707],
        [0.209, -0.707],
        [1.106, 1.414]
      ],
      2
    );
    x.dispose();
  });

  it('Yeo-Johnson on symmetric data has lambda 1 (the likelihood is symmetric about 1)', async () => {
    const fitted = await fitPipeline(
      frame({ x: [-2, 0, 2] }),
      numeric(['x'], [{ kind: 'power', standardize: false }])
    );
    const step = fitted.groups[0]?.kind === 'numeric' ? fitted.groups[0].steps[0] : undefined;
    expect(step?.kind === 'power' && step.lambdas[0]).toBeCloseTo(1, 5);
  });

  it('fitted lambdas are maxima of the log-likelihood', async () => {
    const values = Float64Array.from([0.5, 1, 2, 8, 30]);
    const fitted = await fitPipeline(
      frame({ x: [...values] }),
      numeric(['x'], [{ kind: 'power', method: 'box-cox' }])
    );
    const step = fitted.groups[0]?.kind === 'numeric' ? fitted.groups[0].steps[0] : undefined;
    const lambda = step?.kind === 'power' ? (step.lambdas[0] ?? NaN) : NaN;
    const at = (l: number): number => boxCoxLogLikelihood(values, l);
    expect(at(lambda)).toBeGreaterThan(at(lambda + 1e-3));
    expect(at(lambda)).toBeGreaterThan(at(lambda - 1e-3));
    const yj = (l: number): number => yeoJohnsonLogLikelihood(values, l);
    const fittedYj = await fitPipeline(frame({ x: [...values] }), numeric(['x'], [{ kind: 'power' }]));
    const yjStep = fittedYj.groups[0]?.kind === 'numeric' ? fittedYj.groups[0].steps[0] : undefined;
    const yjLambda = yjStep?.kind === 'power' ? (yjStep.lambdas[0] ?? NaN) : NaN;
    expect(yj(yjLambda)).toBeGreaterThan(yj(yjLambda + 1e-3));
    expect(yj(yjLambda)).toBeGreaterThan(yj(yjLambda - 1e-3));
  });

  it('Box-Cox of [1/e, 1, e] is the log (lambda 0), and refuses non-positive data', async () => {
    const f = frame({ x: [Math.exp(-1), 1, Math.E] });
    const fitted = await fitPipeline(
      f,
      numeric(['x'], [{ kind: 'power', method: 'box-cox', standardize: false }])
    );
    const step = fitted.groups[0]?.kind === 'numeric' ? fitted.groups[0].steps[0] : undefined;
    expect(step?.kind === 'power' && step.lambdas[0]).toBeCloseTo(0, 5);
    const x = transformPipeline(fitted, f);
    expectClose(x.arraySync(), [[-1], [0], [1]]);
    x.dispose();
    expect(
      await codeOf(() =>
        fitPipeline(frame({ x: [0, 1] }), numeric(['x'], [{ kind: 'power', method: 'box-cox' }]))
      )
    ).toBe('prep_box_cox_domain');
  });
});

describe('categorical encoding', () => {
  const f = frame({ color: ['red', 'blue', null, 'red'] });

  it('one-hot with an unknown bucket for unseen categories and unimputed missing cells', async () => {
    const pipeline: PrepPipelineInput = {
      groups: [{ kind: 'categorical', columns: ['color'], steps: [{ kind: 'encode', method: 'one_hot' }] }]
    };
    const fitted = await fitPipeline(f, pipeline);
    expect(fitted.outputNames).toEqual(['color=blue', 'color=red', 'color=<unknown>']);
    const x = transformPipeline(fitted, frame({ color: ['blue', 'green', null, 'red'] }));
    expectClose(x.arraySync(), [
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 1],
      [0, 1, 0]
    ]);
    x.dispose();
  });

  it('ordinal with the most frequent fill and a reserved code for unknowns', async () => {
    const pipeline: PrepPipelineInput = {
      groups: [
        {
          kind: 'categorical',
          columns: ['color'],
          steps: [
            { kind: 'impute', strategy: 'most_frequent', addIndicator: true },
            { kind: 'encode', method: 'ordinal' }
          ]
        }
      ]
    };
    // categories [blue, red]: blue 0, red 1, unknown 2; missing → red.
    expectClose(await run(f, pipeline, frame({ color: [null, 'blue', 'purple'] })), [
      [1, 1],
      [0, 0],
      [2, 0]
    ]);
  });

  it('a constant fill becomes a category when training had missing cells', async () => {
    const pipeline: PrepPipelineInput = {
      groups: [
        {
          kind: 'categorical',
          columns: ['color'],
          steps: [
            { kind: 'impute', strategy: 'constant' },
            { kind: 'encode', method: 'one_hot' }
          ]
        }
      ]
    };
    const fitted = await fitPipeline(f, pipeline);
    expect(fitted.outputNames).toEqual(['color=blue', 'color=missing', 'color=red', 'color=<unknown>']);
  });
});

describe('text', () => {
  const corpus = frame({ doc: ['The cat sat.', 'the DOG sat', 'The cat, ran!', ''] });
  const tfidf: PrepPipelineInput = {
    groups: [
      {
        kind: 'text',
        columns: ['doc'],
        steps: [
          { kind: 'normalize' },
          { kind: 'tokenize' },
          { kind: 'vocabulary' },
          { kind: 'vectorize', method: 'tfidf' }
        ]
      }
    ]
  };

  it('TF-IDF matches sklearn (smooth idf, raw tf, l2 norm) on a 3-document corpus', async () => {
    const train = {
      ...corpus,
      rowCount: 3,
      columns: [
        {
          ...corpus.columns[0]!,
          data: { kind: 'string' as const, values: ['The cat sat.', 'the DOG sat', 'The cat, ran!'] }
        }
      ]
    };
    const fitted = await fitPipeline(train, tfidf);
    expect(fitted.outputNames).toEqual(['doc:cat', 'doc:dog', 'doc:ran', 'doc:sat', 'doc:the']);
    // idf: the ln(4/4)+1 = 1, cat/sat ln(4/3)+1, dog/ran ln(4/2)+1; each row then l2-normalized.
    const x = transformPipeline(fitted, corpus);
    expectClose(
      x.arraySync(),
      [
        [0.619805, 0, 0, 0.619805, 0.481334],
        [0, 0.720333, 0, 0.547832, 0.425441],
        [0.547832, 0, 0.720333, 0, 0.425441],
        [0, 0, 0, 0, 0]
      ],
      5
    );
    x.dispose();
  });

  it('bag of words counts, drops unknown tokens, and caps the vocabulary', async () => {
    const pipeline: PrepPipelineInput = {
      groups: [
        {
          kind: 'text',
          columns: ['doc'],
          steps: [
            { kind: 'tokenize', pattern: 'whitespace' },
            { kind: 'vocabulary', minFrequency: 2, maxSize: 1 },
            { kind: 'vectorize', method: 'bag_of_words' }
          ]
        }
      ]
    };
    const f = frame({ doc: ['a a b', 'a b c', 'b'] });
    // df: a 2, b 3, c 1; min 2 keeps a, b; max 1 keeps the more frequent over the corpus (a 3 = b 3 → a).
    const fitted = await fitPipeline(f, pipeline);
    expect(fitted.outputNames).toEqual(['doc:a']);
    const x = transformPipeline(fitted, frame({ doc: ['a a a z', null] }));
    expectClose(x.arraySync(), [[3], [0]]);
    x.dispose();
  });

  it('token ids pad with 0, map unknowns to 1 and truncate', async () => {
    const pipeline: PrepPipelineInput = {
      groups: [
        {
          kind: 'text',
          columns: ['doc'],
          steps: [
            { kind: 'normalize' },
            { kind: 'tokenize' },
            { kind: 'vocabulary' },
            { kind: 'vectorize', method: 'token_ids', maxLength: 3 }
          ]
        }
      ]
    };
    // vocabulary [cat, dog]: cat 2, dog 3.
    expectClose(
      await run(frame({ doc: ['cat dog', 'dog'] }), pipeline, frame({ doc: ['Dog bird cat cat', ''] })),
      [
        [3, 1, 2],
        [0, 0, 0]
      ]
    );
  });

  it('an empty vocabulary is an error naming the column', async () => {
    const pipeline: PrepPipelineInput = {
      groups: [
        {
          kind: 'text',
          columns: ['doc'],
          steps: [
            { kind: 'tokenize' },
            { kind: 'vocabulary', minFrequency: 5 },
            { kind: 'vectorize', method: 'tfidf' }
          ]
        }
      ]
    };
    expect(await codeOf(() => fitPipeline(corpus, pipeline))).toBe('prep_empty_vocabulary');
  });
});

describe('pipeline', () => {
  const f = frame({
    age: [20, null, 40, 60, 1000],
    city: ['a', 'b', 'a', null, 'zzz'],
    note: ['good day', 'bad day', 'good', '', 'unseen words']
  });
  const pipeline: PrepPipelineInput = {
    groups: [
      {
        kind: 'numeric',
        columns: ['age'],
        steps: [
          { kind: 'impute', strategy: 'median', addIndicator: true },
          { kind: 'power' },
          { kind: 'scale', method: 'robust' }
        ]
      },
      {
        kind: 'categorical',
        columns: ['city'],
        steps: [
          { kind: 'impute', strategy: 'most_frequent' },
          { kind: 'encode', method: 'one_hot' }
        ]
      },
      {
        kind: 'text',
        columns: ['note'],
        steps: [{ kind: 'tokenize' }, { kind: 'vocabulary' }, { kind: 'vectorize', method: 'tfidf' }]
      }
    ]
  };
  const trainRows = [0, 1, 2, 3];

  it('fits on the train rows only: changing a test row leaves the fitted state alone', async () => {
    const fitted = await fitPipeline(f, pipeline, { rows: trainRows });
    expect(fitted.trainRows).toBe(4);
    const changed = frame({
      age: [20, null, 40, 60, -5],
      city: ['a', 'b', 'a', null, 'new'],
      note: ['good day', 'bad day', 'good', '', 'other text']
    });
    expect(await fitPipeline(changed, pipeline, { rows: trainRows })).toEqual(fitted);
    expect(fitted.outputNames).not.toContain('city=zzz');
    expect(fitted.outputNames).not.toContain('note:unseen');
  });

  it('round-trips through JSON to the same tensor, and describes itself', async () => {
    const fitted = await fitPipeline(f, pipeline, { rows: trainRows });
    const restored = parseFittedPipeline(JSON.parse(JSON.stringify(fitted)));
    const a = transformPipeline(fitted, f);
    const b = transformPipeline(restored, f);
    expect(a.shape).toEqual([5, fitted.outputNames.length]);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);
    const lines = describeFitted(fitted);
    expect(lines.map((l) => l.step)).toEqual([
      'impute (median)',
      'power (yeo-johnson)',
      'scale (robust)',
      'impute (most_frequent)',
      'encode (one_hot)',
      'text (tfidf)'
    ]);
    expect(lines[0]?.detail).toContain('age 40');
  });

  it('rejects damaged fitted state', async () => {
    expect(await codeOf(() => parseFittedPipeline({ version: 1, groups: 'nope' }))).toBe(
      'prep_fitted_invalid'
    );
  });

  it('rejects invalid pipelines', async () => {
    expect(
      await codeOf(() =>
        fitPipeline(f, {
          groups: [
            {
              kind: 'categorical',
              columns: ['city'],
              steps: [
                { kind: 'impute', strategy: 'mean' },
                { kind: 'encode', method: 'one_hot' }
              ]
            }
          ]
        })
      )
    ).toBe('prep_invalid');
    expect(await codeOf(() => fitPipeline(f, numeric(['city'], [])))).toBe('prep_column_type');
  });

  it('leaks no tensors in fit or transform', async () => {
    const before = tf.memory().numTensors;
    const fitted = await fitPipeline(f, pipeline, { rows: trainRows });
    const x = transformPipeline(fitted, f);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
