import { Type, type DataType } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { ColumnSchema } from '../records';
import { categoriesOf, contentHashOf, encodeChunks, latheTypeOf, readChunks, tableToColumns } from './arrow';
import { inferSchema } from './infer';

const names = ['id', 'x', 'n', 'big', 'ok', 'day', 'at', 'species', 'note'];
/** Column-major cells of `rows` rows, with a missing cell in every column somewhere. */
function makeCells(rows: number): string[][] {
  const species = ['setosa', 'versicolor', 'virginica'];
  const cells: string[][] = names.map(() => []);
  for (let r = 0; r < rows; r++) {
    const row = [
      `row-${r}`,
      r % 7 === 3 ? 'NA' : String(r / 4),
      r % 11 === 5 ? '' : String(r - 50),
      String(3_000_000_000 + r),
      r % 5 === 0 ? 'n/a' : r % 2 === 0 ? 'yes' : 'no',
      r % 13 === 1 ? '' : `2024-01-${String((r % 28) + 1).padStart(2, '0')}`,
      `2024-02-01T00:00:${String(r % 60).padStart(2, '0')}Z`,
      r % 17 === 2 ? '?' : (species[r % 3] ?? ''),
      `free text ${r}`
    ];
    row.forEach((value, c) => cells[c]?.push(value));
  }
  return cells;
}

describe('encodeChunks / readChunks', () => {
  const rows = 1000;
  const cells = makeCells(rows);
  const { columns } = inferSchema(names, cells);

  it('infers the intended types for the fixture', () => {
    expect(columns.map((c) => c.type)).toEqual([
      'identifier',
      'float',
      'integer',
      'integer',
      'boolean',
      'date',
      'datetime',
      'categorical',
      'text'
    ]);
  });

  it('round-trips every cell through several IPC chunks', async () => {
    const { chunks } = await encodeChunks(columns, cells, { maxRows: 300 });
    expect(chunks.map((c) => c.rows)).toEqual([300, 300, 300, 100]);
    for (const chunk of chunks) {
      expect(chunk.bytes).toBe(chunk.data.byteLength);
      expect(chunk.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    const table = readChunks(chunks.map((c) => c.data));
    expect(table.numRows).toBe(rows);
    const typeIds = table.schema.fields.map((f) => (f.type as DataType).typeId);
    expect(typeIds).toEqual([
      Type.Utf8,
      Type.Float,
      Type.Int,
      Type.Float, // 3e9 does not fit Int32
      Type.Bool,
      Type.Date,
      Type.Timestamp,
      Type.Dictionary,
      Type.Utf8
    ]);
    expect(table.schema.fields.map(latheTypeOf)).toEqual(columns.map((c) => c.type));
    for (const r of [0, 1, 2, 3, 5, 299, 300, 301, 777, 999]) {
      const row = table.get(r)?.toJSON() as Record<string, unknown>;
      expect(row.id).toBe(`row-${r}`);
      expect(row.x).toBe(r % 7 === 3 ? null : r / 4);
      expect(row.n).toBe(r % 11 === 5 ? null : r - 50);
      expect(row.big).toBe(3_000_000_000 + r);
      expect(row.ok).toBe(r % 5 === 0 ? null : r % 2 === 0);
      expect(row.day).toBe(r % 13 === 1 ? null : Date.UTC(2024, 0, (r % 28) + 1));
      expect(row.at).toBe(Date.UTC(2024, 1, 1, 0, 0, r % 60));
      expect(row.species).toBe(r % 17 === 2 ? null : ['setosa', 'versicolor', 'virginica'][r % 3]);
      expect(row.note).toBe(`free text ${r}`);
    }
  });

  it('gives the same chunk hashes for the same input and a new content hash when one cell changes', async () => {
    const first = await encodeChunks(columns, cells, { maxRows: 300 });
    const again = await encodeChunks(columns, makeCells(rows), { maxRows: 300 });
    expect(again.chunks.map((c) => c.hash)).toEqual(first.chunks.map((c) => c.hash));
    expect(again.contentHash).toBe(first.contentHash);
    expect(first.contentHash).toBe(await contentHashOf(first.chunks.map((c) => c.hash)));

    const changed = makeCells(rows);
    (changed[1] as string[])[650] = '123.25';
    const edited = await encodeChunks(columns, changed, { maxRows: 300 });
    expect(edited.contentHash).not.toBe(first.contentHash);
    // Only the chunk holding the changed row differs.
    expect(edited.chunks.map((c, i) => c.hash === first.chunks[i]?.hash)).toEqual([true, true, false, true]);
  });

  it('keeps chunks to about the target size for wide rows', async () => {
    const wide: ColumnSchema[] = [{ name: 'blob', type: 'text', missing: 0 }];
    const text = 'x'.repeat(1000);
    const { chunks } = await encodeChunks(wide, [Array.from({ length: 50 }, () => text)], {
      targetBytes: 10_000
    });
    expect(chunks.length).toBeGreaterThan(4);
    expect(chunks.reduce((n, c) => n + c.rows, 0)).toBe(50);
  });
});

describe('tableToColumns', () => {
  it('gives numeric features as Float32 with nulls as NaN and categories as codes', async () => {
    const cells = makeCells(40);
    const { columns } = inferSchema(names, cells);
    const { chunks } = await encodeChunks(columns, cells, { maxRows: 16 });
    const table = readChunks(chunks.map((c) => c.data));
    const [x, n, ok, species] = tableToColumns(table, ['x', 'n', 'ok', 'species']);
    expect(x?.[1]).toBe(0.25);
    expect(Number.isNaN(x?.[3])).toBe(true);
    expect(n?.[20]).toBe(-30);
    expect(Number.isNaN(n?.[16])).toBe(true);
    expect([ok?.[1], ok?.[2]]).toEqual([0, 1]);
    expect(Number.isNaN(ok?.[0])).toBe(true);
    expect(categoriesOf(table, 'species')).toEqual(['setosa', 'versicolor', 'virginica']);
    expect([species?.[0], species?.[1], species?.[20]]).toEqual([0, 1, 2]);
    expect(Number.isNaN(species?.[2])).toBe(true);
    expect(() => tableToColumns(table, ['note'])).toThrow(/text/);
    expect(() => tableToColumns(table, ['nope'])).toThrow(/no column/);
  });
});
