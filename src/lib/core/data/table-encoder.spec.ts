/**
 * The CSV fast path of `TableEncoder` (`pushBatch`: cells read from bytes, a column at a time) must
 * write exactly what the general path (`push` of the same cells as strings, a row at a time) writes:
 * the same chunks byte for byte, schema, malformed reports, warnings and restart errors.
 */
import { describe, expect, it } from 'vitest';
import { CsvParser } from './csv';
import { LocalChunkWriter, type ChunkWriter } from './chunk-writer';
import { BufferPool, MAX_STREAM_CATEGORIES, TableEncoder, type TableEncoderOptions } from './table-encoder';
import { seededRandom } from '../pipeline/split';

/** Seeded (mulberry32), so a failure can be replayed. */
const random = seededRandom;

type Kind = 'integer' | 'float' | 'date' | 'boolean' | 'category' | 'text' | 'id';

/** A cell for a column of `kind` in row `r`: mostly typical, sometimes odd, sometimes wrong (`odd` of the time). */
function cell(kind: Kind, r: number, next: () => number, odd: number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  if (next() < odd) {
    return pick([
      '',
      'NA',
      'n/a',
      ' null ',
      '?',
      'NaN',
      'x',
      ' 7',
      '8 ',
      '1e3',
      '0x1f',
      '-0',
      '+5',
      '.5',
      '5.',
      '1.5',
      '99999999999',
      '2147483648',
      '-2147483649',
      '1234567890123456789',
      '2024-02-30',
      '2024-01-01T10:00:00Z',
      '2024-01-01 10:30',
      ' 2024-03-01',
      'yes',
      'TRUE',
      ' no',
      'maybe',
      'Zürich',
      '日本',
      '"q ""x"""',
      '"a,b"',
      '"l\nm"',
      '\u00a0na',
      'nä',
      '\ufeffz',
      'İ'
    ]);
  }
  switch (kind) {
    case 'integer':
      return String(Math.floor(next() * 2000) - 1000);
    case 'float':
      return (next() * 100 - 50).toFixed(Math.floor(next() * 6));
    case 'date':
      return `20${String(10 + Math.floor(next() * 20))}-0${1 + Math.floor(next() * 9)}-1${Math.floor(next() * 9)}`;
    case 'boolean':
      return pick(['true', 'false', 'True', 'NO', 'yes']);
    case 'category':
      // A few categories in the sample; later rows may bring many new ones.
      return r < 40 || next() < 0.5
        ? pick(['red', 'green', 'blue', 'Grün', 'x y'])
        : `c${Math.floor(next() * 1500)}`;
    case 'text':
      return pick(['alpha beta', 'gamma', ' padded ', 'naïve', '"with, comma"', '"say ""hi"""', 'k-9']);
    case 'id':
      return `id${r}`;
  }
}

interface Outcome {
  error?: string;
  table?: unknown;
}

/** Encodes the rows of `csv` both ways and returns both outcomes. */
async function encodeBoth(
  csv: string,
  pieceSize: number,
  options: TableEncoderOptions
): Promise<{ batch: Outcome; strings: Outcome }> {
  const parser = new CsvParser({ raggedRows: 'pad', header: true });
  let fast: TableEncoder | undefined;
  let slow: TableEncoder | undefined;
  let fastError: string | undefined;
  let slowError: string | undefined;
  parser.sendTo({
    batch(batch) {
      fast ??= new TableEncoder(parser.header ?? [], options);
      slow ??= new TableEncoder(parser.header ?? [], options);
      if (fastError === undefined) {
        try {
          fast.pushBatch(batch);
        } catch (err) {
          fastError = String(err);
        }
      }
      for (let r = batch.from; r < batch.rows && slowError === undefined; r++) {
        const cells = Array.from({ length: batch.rowFields[r] ?? 0 }, (_, k) => batch.field(r, k));
        try {
          slow.push(cells, batch.lines[r] ?? 0);
        } catch (err) {
          slowError = String(err);
        }
      }
    }
  });
  const bytes = new TextEncoder().encode(csv);
  for (let i = 0; i < bytes.length; i += pieceSize) {
    // Cut at a character boundary, as the import's decoder does.
    let end = Math.min(bytes.length, i + pieceSize);
    while (end < bytes.length && ((bytes[end] ?? 0) & 0xc0) === 0x80) end++;
    parser.pushBytes(bytes.subarray(i, end));
    i = end - pieceSize;
  }
  parser.end();
  const settle = async (encoder: TableEncoder | undefined, error: string | undefined): Promise<Outcome> => {
    if (error !== undefined || !encoder) return { error };
    const { chunks, ...rest } = await encoder.finish();
    return { table: { ...rest, chunks: chunks.map((c) => [c.hash, c.rows]) } };
  };
  return { batch: await settle(fast, fastError), strings: await settle(slow, slowError) };
}

function randomCsv(seed: number, rows: number): string {
  const next = random(seed);
  const kinds: Kind[] = ['integer', 'float', 'date', 'boolean', 'category', 'text', 'id'];
  const columns = Array.from(
    { length: 2 + Math.floor(next() * 5) },
    () => kinds[Math.floor(next() * kinds.length)] ?? 'text'
  );
  // How often a cell is odd: from clean columns to ones past the 5% malformed limit.
  const odd = [0, 0.01, 0.04, 0.1][Math.floor(next() * 4)] ?? 0;
  const header = columns.map((kind, c) => (kind === 'id' ? `row_id_${c}` : `${kind}_${c}`)).join(',');
  const lines = [header];
  for (let r = 0; r < rows; r++) {
    lines.push(columns.map((kind) => cell(kind, r, next, odd)).join(','));
    // Now and then a repeated identifier, which makes an identifier column text at the end.
    if (next() < 0.001) lines.push(lines[lines.length - 1] ?? '');
  }
  return `${lines.join('\n')}\n`;
}

describe('TableEncoder.pushBatch', () => {
  it('writes exactly what push writes for the same cells as strings', async () => {
    for (let seed = 1; seed <= 400; seed++) {
      const next = random(seed * 7919);
      const rows = seed % 20 === 0 ? 2500 : 20 + Math.floor(next() * 200);
      const options: TableEncoderOptions = {
        fileName: 'f.csv',
        sampleRows: 1 + Math.floor(next() * 60),
        maxChunkRows: [7, 64, 300, 65_536][Math.floor(next() * 4)],
        canRestart: next() < 0.5
      };
      const { batch, strings } = await encodeBoth(
        randomCsv(seed, rows),
        16 + Math.floor(next() * 4000),
        options
      );
      expect(batch, `seed ${seed}`).toEqual(strings);
    }
  }, 120_000);

  it('covers what it claims to: widening, too many categories, malformed cells, restarts', async () => {
    // A float after integers, a date-time after dates, more categories than a dictionary takes.
    const rows = ['n,d,c,q'];
    for (let r = 0; r < 1200 + MAX_STREAM_CATEGORIES; r++) {
      const category = r < 100 ? ['a', 'b'][r % 2] : `c${r}`;
      rows.push(
        `${r === 700 ? '1.5' : r},${r === 900 ? '2024-01-01T10:00:00Z' : '2024-01-01'},${category},${r > 100 && r % 10 === 7 ? 'oops' : r}`
      );
    }
    const csv = `${rows.join('\n')}\n`;
    const { batch, strings } = await encodeBoth(csv, 5000, { fileName: 'w.csv', sampleRows: 50 });
    expect(batch).toEqual(strings);
    const table = batch.table as {
      columns: Array<{ name: string; type: string }>;
      warnings: string[];
      malformed: unknown[];
    };
    expect(table.columns.map((c) => c.type)).toEqual(['float', 'datetime', 'text', 'integer']);
    expect(table.warnings.join(' ')).toContain('distinct values');
    expect(table.malformed).toHaveLength(1);
    expect(table.warnings.join(' ')).toContain('Re-import the file to read the column as text');
    const restarted = await encodeBoth(csv, 5000, { fileName: 'w.csv', sampleRows: 50, canRestart: true });
    expect(restarted.batch).toEqual(restarted.strings);
    expect(restarted.batch.error).toMatch(
      /^TableRestartError: Column “q” of w.csv has too many values that are not integer \(line \d+: “oops”\)/
    );
  });
});

describe('chunk buffers handed to the writer and back', () => {
  /** A writer that keeps the buffers it is given (`recycle: false`) or gives them back in a scrambled order. */
  function writerThat(recycle: boolean): ChunkWriter {
    const local = new LocalChunkWriter();
    let held: ArrayBuffer[] = [];
    return {
      async write(columns, length) {
        const written = await local.write(columns, length);
        if (!recycle) return { ...written, spent: [] };
        // Back later and out of order: what this chunk gave, with the last chunk's, reversed.
        const spent = [...held, ...(written.spent ?? [])].reverse();
        held = written.spent ?? [];
        return { ...written, spent: spent.slice(0, held.length) };
      },
      close: () => local.close()
    };
  }

  async function encode(csv: string, writer: ChunkWriter): Promise<string[]> {
    const parser = new CsvParser({ fileName: 'f.csv' });
    let encoder: TableEncoder | undefined;
    parser.sendTo({
      batch(batch) {
        encoder ??= new TableEncoder(parser.header ?? [], {
          fileName: 'f.csv',
          sampleRows: 20,
          maxChunkRows: 50,
          writer
        });
        encoder.pushBatch(batch);
      }
    });
    // In pieces, with the writes settling between them, as an import reads: buffers come back.
    const bytes = new TextEncoder().encode(csv);
    for (let i = 0; i < bytes.length; i += 997) {
      parser.pushBytes(bytes.subarray(i, i + 997));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    parser.end();
    const table = await (encoder as TableEncoder).finish();
    return table.chunks.map((c) => c.hash);
  }

  it('writes the same chunks whichever earlier chunk a buffer held: missing values are zeros', async () => {
    const next = random(42);
    const lines = ['n,x,s,c'];
    for (let r = 0; r < 1000; r++) {
      const gap = next() < 0.3;
      lines.push(
        `${gap ? '' : Math.floor(next() * 1000)},${gap ? 'n/a' : (next() * 100).toFixed(3)},${gap ? '' : `s${r}`},${next() < 0.5 ? 'a' : 'b'}`
      );
    }
    const csv = lines.join('\n');
    const fresh = await encode(csv, writerThat(false));
    // The 20-row sample, then 980 rows in chunks of 50.
    expect(fresh.length).toBe(21);
    expect(await encode(csv, writerThat(true))).toEqual(fresh);
  });

  it('pools buffers: the smallest that fits, never a detached one, at most its limit', () => {
    const pool = new BufferPool(2);
    const small = new ArrayBuffer(8);
    const large = new ArrayBuffer(64);
    const detached = new ArrayBuffer(32);
    structuredClone(detached, { transfer: [detached] });
    pool.give([large, detached, small, new ArrayBuffer(16)]);
    expect(pool.take(4)).toBe(small);
    expect(pool.take(4)).toBe(large);
    expect(pool.take(4).byteLength).toBe(4);
  });
});
