import type { Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { ColumnSchema } from '../records';
import { buildTable, encodeChunks, latheTypeOf, readChunks } from './arrow';
import { tableToCells } from './frame';
import { applyRecipe, describeStep, RecipeError, type RecipeStepInput } from './recipe';

const columns: ColumnSchema[] = [
  { name: 'id', type: 'identifier', missing: 0 },
  { name: 'price', type: 'float', missing: 0 },
  { name: 'qty', type: 'integer', missing: 0 },
  { name: 'city', type: 'categorical', missing: 0 },
  { name: 'code', type: 'text', missing: 0 }
];
const orders = buildTable(columns, [
  ['o1', 'o2', 'o3', 'o4', 'o5', 'o6'],
  ['10', '20', '', '40', '20', '5.5'],
  ['1', '2', '3', '', '2', '1'],
  ['Paris', 'Lyon', 'Paris', '', 'Lyon', 'Nice'],
  ['12', '7', 'x9', '', '7', '3.5']
]);
const cities = buildTable(
  [
    { name: 'city', type: 'categorical', missing: 0 },
    { name: 'country', type: 'categorical', missing: 0 },
    { name: 'price', type: 'float', missing: 0 }
  ],
  [
    ['Paris', 'Lyon', 'Lyon', 'Berlin'],
    ['FR', 'FR', 'FR-dup', 'DE'],
    ['1', '2', '3', '4']
  ]
);

const rows = (table: Table) => table.toArray().map((r) => r.toJSON() as Record<string, unknown>);
const column = (table: Table, name: string) => rows(table).map((r) => r[name]);
const resolveTable = async (id: string): Promise<Table> => {
  if (id === 'cities') return cities;
  throw new Error(`no version ${id}`);
};
const apply = (steps: RecipeStepInput[]) => applyRecipe(orders, steps, { resolveTable });

async function failure(steps: RecipeStepInput[]): Promise<RecipeError> {
  try {
    await apply(steps);
  } catch (err) {
    if (err instanceof RecipeError) return err;
    throw err;
  }
  throw new Error('expected the recipe to fail');
}

describe('applyRecipe', () => {
  it('derives a column with an inferred type and reports rows per step', async () => {
    const {
      table,
      report,
      columns: schema
    } = await apply([
      { kind: 'derive', name: 'total', expression: 'price * qty' },
      { kind: 'derive', name: 'big', expression: 'total > 30' }
    ]);
    expect(column(table, 'total')).toEqual([10, 40, null, null, 40, 5.5]);
    expect(column(table, 'big')).toEqual([false, true, null, null, true, false]);
    expect(schema.find((c) => c.name === 'total')).toMatchObject({ type: 'float', missing: 2 });
    expect(schema.find((c) => c.name === 'big')?.type).toBe('boolean');
    expect(report.steps.map((s) => [s.rowsBefore, s.rowsAfter])).toEqual([
      [6, 6],
      [6, 6]
    ]);
  });

  it('filters rows, dropping rows whose condition is missing with a warning', async () => {
    const { table, report } = await apply([{ kind: 'filter', expression: 'price >= 20' }]);
    expect(column(table, 'id')).toEqual(['o2', 'o4', 'o5']);
    expect(report.steps[0]).toMatchObject({ rowsBefore: 6, rowsAfter: 3 });
    expect(report.steps[0]?.warnings.join(' ')).toMatch(
      /1 rows were dropped because the condition was missing/
    );
  });

  it('bins by equal width, quantile and edges into categorical labels', async () => {
    const { table } = await apply([
      { kind: 'bin', column: 'price', name: 'w', method: 'equal_width', bins: 2 },
      { kind: 'bin', column: 'price', name: 'e', method: 'edges', edges: [0, 10, 30] },
      { kind: 'bin', column: 'qty', name: 'q', method: 'quantile', bins: 2 }
    ]);
    expect(column(table, 'w')).toEqual([
      '[5.5, 22.75)',
      '[5.5, 22.75)',
      null,
      '[22.75, 40]',
      '[5.5, 22.75)',
      '[5.5, 22.75)'
    ]);
    expect(column(table, 'e')).toEqual(['[10, 30]', '[10, 30]', null, null, '[10, 30]', '[0, 10)']);
    expect(column(table, 'q')).toEqual(['[1, 2)', '[2, 3]', '[2, 3]', null, '[2, 3]', '[1, 2)']);
    expect(table.schema.fields.filter((f) => ['w', 'e', 'q'].includes(f.name)).map(latheTypeOf)).toEqual([
      'categorical',
      'categorical',
      'categorical'
    ]);
  });

  it('warns when values fall outside the bin edges', async () => {
    const { report } = await apply([
      { kind: 'bin', column: 'price', name: 'e', method: 'edges', edges: [0, 10, 30] }
    ]);
    expect(report.steps[0]?.warnings).toEqual([
      "1 values of 'price' fall outside the edges and became missing."
    ]);
  });

  it('casts text to numbers, counting malformed values like ingest', async () => {
    const { table, report } = await apply([{ kind: 'cast', column: 'code', to: 'integer' }]);
    expect(column(table, 'code')).toEqual([12, 7, null, null, 7, null]);
    expect(report.steps[0]?.malformed).toEqual({
      column: 'code',
      type: 'integer',
      count: 2,
      examples: [
        { row: 2, column: 'code', value: 'x9' },
        { row: 5, column: 'code', value: '3.5' }
      ]
    });
    expect(report.steps[0]?.warnings[0]).toMatch(/2 values of 'code' could not be read as integer/);
  });

  it('casts numbers to text and categorical, and floats to integers when whole', async () => {
    const { table } = await apply([
      { kind: 'cast', column: 'qty', to: 'categorical' },
      { kind: 'cast', column: 'price', to: 'integer' }
    ]);
    expect(column(table, 'qty')).toEqual(['1', '2', '3', null, '2', '1']);
    expect(column(table, 'price')).toEqual([10, 20, null, 40, 20, null]);
    expect(table.schema.fields.map(latheTypeOf)).toEqual([
      'identifier',
      'integer',
      'categorical',
      'categorical',
      'text'
    ]);
  });

  it('drops and renames columns', async () => {
    const { table } = await apply([
      { kind: 'drop_columns', columns: ['code', 'qty'] },
      { kind: 'rename', from: 'city', to: 'town' }
    ]);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['id', 'price', 'town']);
    expect(column(table, 'town')).toEqual(['Paris', 'Lyon', 'Paris', null, 'Lyon', 'Nice']);
  });

  it('deduplicates on whole rows and on chosen columns, keeping the first', async () => {
    const whole = await apply([{ kind: 'drop_columns', columns: ['id'] }, { kind: 'deduplicate' }]);
    expect(whole.table.numRows).toBe(5);
    expect(whole.report.steps[1]?.warnings).toEqual(['Removed 1 duplicate row.']);
    const byCity = await apply([{ kind: 'deduplicate', columns: ['city'] }]);
    expect(column(byCity.table, 'id')).toEqual(['o1', 'o2', 'o4', 'o6']);
  });

  it('fills missing values with a constant of the column type', async () => {
    const { table, report } = await apply([
      { kind: 'fill_missing', column: 'price', value: 0 },
      { kind: 'fill_missing', column: 'city', value: 'Unknown' }
    ]);
    expect(column(table, 'price')).toEqual([10, 20, 0, 40, 20, 5.5]);
    expect(column(table, 'city')).toEqual(['Paris', 'Lyon', 'Paris', 'Unknown', 'Lyon', 'Nice']);
    expect(report.steps.every((s) => s.warnings.length === 0)).toBe(true);
  });

  it('inner-joins another version, suffixing clashing names and repeating many-matches', async () => {
    const { table, report } = await apply([
      {
        kind: 'join',
        rightVersionId: 'cities',
        leftKey: 'city',
        rightKey: 'city',
        how: 'inner',
        suffix: '_city'
      }
    ]);
    expect(table.schema.fields.map((f) => f.name)).toEqual([
      'id',
      'price',
      'qty',
      'city',
      'code',
      'country',
      'price_city'
    ]);
    expect(rows(table).map((r) => [r.id, r.country, r.price_city])).toEqual([
      ['o1', 'FR', 1],
      ['o2', 'FR', 2],
      ['o2', 'FR-dup', 3],
      ['o3', 'FR', 1],
      ['o5', 'FR', 2],
      ['o5', 'FR-dup', 3]
    ]);
    expect(report.steps[0]?.warnings).toEqual([
      '2 left rows matched more than one right row, so they were repeated.',
      '2 left rows had no match and were dropped.'
    ]);
  });

  it('left-joins, keeping unmatched rows with missing right columns', async () => {
    const { table } = await apply([
      { kind: 'deduplicate', columns: ['city'] },
      { kind: 'join', rightVersionId: 'cities', leftKey: 'city', rightKey: 'city', how: 'left' }
    ]);
    expect(rows(table).map((r) => [r.id, r.country, r.price_right])).toEqual([
      ['o1', 'FR', 1],
      ['o2', 'FR', 2],
      ['o2', 'FR-dup', 3],
      ['o4', null, null],
      ['o6', null, null]
    ]);
  });

  it('names the step and field of invalid steps', async () => {
    expect((await failure([{ kind: 'derive', name: 'x', expression: 'prcie * 2' }])).message).toBe(
      "Step 1 (derive): field 'expression' — Unknown column 'prcie' at 1:1 — did you mean 'price'?"
    );
    const bins = await failure([
      { kind: 'rename', from: 'qty', to: 'n' },
      { kind: 'bin', column: 'price', name: 'b', method: 'quantile' }
    ]);
    expect(bins.message).toBe("Step 2 (bin): field 'bins' — bins is required for the quantile method");
    expect(bins).toMatchObject({ stepIndex: 1, field: 'bins', code: 'recipe_invalid' });
    expect((await failure([{ kind: 'rename', from: 'qty', to: 'price' }])).message).toMatch(
      /field 'to' — a column named 'price' already exists/
    );
    expect((await failure([{ kind: 'filter', expression: 'price + 1' }])).message).toMatch(
      /a filter needs a true\/false expression, got float/
    );
    expect((await failure([{ kind: 'drop_columns', columns: ['Price'] }])).message).toMatch(
      /no column 'Price' \(did you mean 'price'\?\)/
    );
    expect((await failure([{ kind: 'fill_missing', column: 'qty', value: 'none' }])).message).toMatch(
      /'none' is not a number/
    );
    expect(
      (
        await failure([
          { kind: 'join', rightVersionId: 'nope', leftKey: 'city', rightKey: 'city', how: 'inner' }
        ])
      ).message
    ).toMatch(/could not load version nope/);
    expect(
      (
        await failure([
          { kind: 'join', rightVersionId: 'cities', leftKey: 'qty', rightKey: 'city', how: 'inner' }
        ])
      ).message
    ).toMatch(/the keys have different types: 'qty' is integer, 'city' is categorical/);
    const unknownKind = await failure([{ kind: 'explode' } as unknown as RecipeStepInput]);
    expect(unknownKind.message).toMatch(/^Step 1 \(explode\)/);
  });

  it('gives a table that encodes into a version and reads back the same', async () => {
    const { table } = await apply([
      { kind: 'derive', name: 'total', expression: 'price * qty' },
      { kind: 'filter', expression: 'not is_null(total)' }
    ]);
    const { columns: schema, cells } = tableToCells(table);
    const { chunks } = await encodeChunks(schema, cells);
    const back = readChunks(chunks.map((c) => c.data));
    expect(rows(back)).toEqual(rows(table));
    expect(back.schema.fields.map(latheTypeOf)).toEqual(table.schema.fields.map(latheTypeOf));
  });
});

describe('describeStep', () => {
  it('writes one line per step kind', () => {
    expect(describeStep({ kind: 'derive', name: 't', expression: 'a * b' })).toBe('Derive t = a * b');
    expect(describeStep({ kind: 'bin', column: 'age', name: 'ab', method: 'quantile', bins: 4 })).toBe(
      'Bin age into 4 quantile bins as ab'
    );
    expect(describeStep({ kind: 'filter', expression: 'x > 1' })).toBe('Keep rows where x > 1');
    expect(describeStep({ kind: 'drop_columns', columns: ['a', 'b'] })).toBe('Drop columns a, b');
    expect(describeStep({ kind: 'deduplicate' })).toBe('Remove duplicate rows (keep first)');
    expect(
      describeStep({ kind: 'join', rightVersionId: 'v2', leftKey: 'a', rightKey: 'b', how: 'left' })
    ).toBe('Left join version v2 on a = b');
    expect(describeStep({ kind: 'fill_missing', column: 'c', value: 'none' })).toBe(
      'Fill missing c with "none"'
    );
  });
});
