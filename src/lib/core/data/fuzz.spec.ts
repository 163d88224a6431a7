/**
 * Generative tests: thousands of seeded random and mutated CSV inputs. Whatever the bytes, an import
 * either succeeds with a consistent table or fails with one of Lathe's typed errors, quickly; and the
 * result never depends on how the bytes were split into pieces.
 */
import { describe, expect, it } from 'vitest';
import { LatheError } from '../errors';
import { readChunks } from './arrow';
import { CsvParser } from './csv';
import { ingestSource, type IngestResult, type IngestSource } from './ingest';
import { seededRandom } from '../pipeline/split';

/** Seeded (mulberry32), so a failure can be replayed. */
const random = seededRandom;

const CELLS = [
  '',
  '0',
  '-1',
  '3.14',
  '1e5',
  '1,04',
  'n/a',
  'NA',
  '?',
  'true',
  'no',
  '2024-02-29',
  '2024-02-30',
  '2024-01-01T10:00:00Z',
  'x',
  'hello world',
  '"quoted"',
  '"with ""doubled"" quotes"',
  '"has, comma"',
  '"multi\nline"',
  'a"b',
  'Zürich',
  '日本',
  '😀',
  '\t',
  ' padded ',
  'NaN',
  '99999999999'
];
/** Cells that usually make a file unreadable: rarer, so most files exercise the successful path. */
const NASTY = ['"open', '\u0000', '\ufeff', '\r', '\u0001\u0002\u0003'];
const DELIMITERS = [',', ';', '\t', '|'];
const ENDINGS = ['\n', '\r\n', '\r'];

function randomCsv(next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const delimiter = pick(DELIMITERS);
  const ending = pick(ENDINGS);
  const columns = 1 + Math.floor(next() * 6);
  const rows = Math.floor(next() * 40);
  const lines: string[] = [];
  if (next() < 0.8) lines.push(Array.from({ length: columns }, (_, c) => `c${c}`).join(delimiter));
  for (let r = 0; r < rows; r++) {
    // Mostly well-formed rows, sometimes ragged.
    const width = next() < 0.9 ? columns : Math.floor(next() * (columns + 2));
    lines.push(
      Array.from({ length: width }, () => (next() < 0.01 ? pick(NASTY) : pick(CELLS))).join(delimiter)
    );
  }
  return (next() < 0.1 ? '\ufeff' : '') + lines.join(ending) + (next() < 0.5 ? ending : '');
}

function mutate(bytes: Uint8Array, next: () => number): Uint8Array {
  const out = [...bytes];
  const edits = 1 + Math.floor(next() * 8);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(next() * (out.length + 1));
    const op = next();
    if (op < 0.4) out.splice(at, 0, Math.floor(next() * 256));
    else if (op < 0.7) out.splice(at, 1);
    else if (at < out.length) out[at] = Math.floor(next() * 256);
  }
  return Uint8Array.from(out);
}

/** A source that hands out the bytes in random-sized pieces. */
function source(bytes: Uint8Array, name: string, next: () => number): IngestSource {
  const sizes: number[] = [];
  for (let i = 0; i < bytes.length;) {
    const size = 1 + Math.floor(next() * 64);
    sizes.push(size);
    i += size;
  }
  return {
    name,
    size: bytes.length,
    read: async (start, end) => bytes.slice(start, end).buffer,
    stream: () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          let offset = 0;
          for (const size of sizes) {
            controller.enqueue(bytes.slice(offset, offset + size));
            offset += size;
          }
          controller.close();
        }
      })
  };
}

/** Runs an import and classifies the outcome; anything but a LatheError fails the test with the seed. */
async function outcome(run: () => Promise<IngestResult>, seed: number): Promise<IngestResult | LatheError> {
  const started = performance.now();
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof LatheError)) {
      throw new Error(`seed ${seed}: threw ${String(err)} instead of a typed error`, { cause: err });
    }
    expect(err.message.length, `seed ${seed}`).toBeGreaterThan(10);
    return err;
  } finally {
    expect(performance.now() - started, `seed ${seed} took too long`).toBeLessThan(2000);
  }
}

function checkTable(result: IngestResult, seed: number): void {
  expect(
    result.chunks.reduce((s, c) => s + c.rows, 0),
    `seed ${seed}`
  ).toBe(result.rowCount);
  if (result.chunks.length > 0) {
    const table = readChunks(result.chunks.map((c) => c.data));
    expect(table.numRows, `seed ${seed}`).toBe(result.rowCount);
    expect(table.numCols, `seed ${seed}`).toBe(result.columns.length);
  }
}

describe('CSV fuzzing', () => {
  it('imports 1500 random CSVs or refuses them with a typed error, independent of piece sizes', async () => {
    let succeeded = 0;
    for (let seed = 1; seed <= 1500; seed++) {
      const next = random(seed);
      const bytes = new TextEncoder().encode(randomCsv(next));
      const raggedRows = next() < 0.5 ? 'pad' : 'error';
      const a = await outcome(
        () => ingestSource(source(bytes, 'fuzz.csv', next), { raggedRows, chunkRows: 16 }),
        seed
      );
      const b = await outcome(
        () => ingestSource(source(bytes, 'fuzz.csv', next), { raggedRows, chunkRows: 16 }),
        seed
      );
      if (a instanceof LatheError || b instanceof LatheError) {
        expect(b instanceof LatheError && a instanceof LatheError && b.code === a.code, `seed ${seed}`).toBe(
          true
        );
        continue;
      }
      succeeded++;
      checkTable(a, seed);
      expect(b.contentHash, `seed ${seed}`).toBe(a.contentHash);
    }
    // The generator makes mostly valid files; if nearly all failed, the test would prove little.
    expect(succeeded).toBeGreaterThan(500);
  }, 120_000);

  it('survives 1500 byte-level mutations of valid CSVs, under any name', async () => {
    const names = ['m.csv', 'm.tsv', 'm.json', 'm.ndjson', 'm', 'm.txt'];
    for (let seed = 10_001; seed <= 11_500; seed++) {
      const next = random(seed);
      const bytes = mutate(new TextEncoder().encode(randomCsv(next)), next);
      const name = names[Math.floor(next() * names.length)] ?? 'm.csv';
      const result = await outcome(
        () => ingestSource(source(bytes, name, next), { raggedRows: 'pad' }),
        seed
      );
      if (!(result instanceof LatheError)) checkTable(result, seed);
    }
  }, 120_000);

  it('never throws anything but CsvError from the parser, whatever the text and piece sizes', () => {
    for (let seed = 20_001; seed <= 22_000; seed++) {
      const next = random(seed);
      let text = randomCsv(next);
      if (next() < 0.5) text = new TextDecoder().decode(mutate(new TextEncoder().encode(text), next));
      const parser = new CsvParser({ fileName: 'p.csv', raggedRows: next() < 0.5 ? 'pad' : 'error' });
      try {
        for (let i = 0; i < text.length;) {
          const size = 1 + Math.floor(next() * 50);
          parser.push(text.slice(i, i + size));
          i += size;
        }
        parser.end();
      } catch (err) {
        if (!(err instanceof LatheError)) throw new Error(`seed ${seed}: ${String(err)}`, { cause: err });
      }
    }
  });
});
