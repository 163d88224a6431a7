import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readChunks, tableToColumns } from './arrow';
import { CsvError } from './csv';
import type { TextEncodingName } from './encoding';
import {
  IngestCancelledError,
  IngestContext,
  RECYCLED_PIECE_BYTES,
  blobSource,
  decodeText,
  decodeUtf8,
  ingestCsv,
  ingestSource,
  readPieces,
  warmUpIngest,
  type IngestProgress
} from './ingest';
import { seededRandom } from '../pipeline/split';

const IRIS = fileURLToPath(new URL('../../../../static/samples/iris.csv', import.meta.url));
const HOUSING = fileURLToPath(new URL('../../../../static/samples/housing.csv', import.meta.url));
const MESSY = fileURLToPath(new URL('./fixtures/messy.csv', import.meta.url));

/** A file read from disk in small pieces, as a browser's File.stream() would give it. */
function fileStream(path: string, highWaterMark = 256): AsyncIterable<Uint8Array> {
  return createReadStream(path, { highWaterMark }) as AsyncIterable<Uint8Array>;
}

function bytesOf(text: string | number[]): ReadableStream<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : new Uint8Array(text);
  return new ReadableStream({
    start(controller) {
      // Three pieces, splitting multi-byte characters, to exercise the streaming decoder.
      const third = Math.ceil(bytes.length / 3);
      for (let i = 0; i < bytes.length; i += third) controller.enqueue(bytes.slice(i, i + third));
      controller.close();
    }
  });
}

/** A text's UTF-8 in pieces of `size` bytes (characters cut between them). */
async function* fileStreamOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('ingestCsv', () => {
  it('reads the Iris sample: 150 rows, 4 float columns and a categorical species', async () => {
    const progress: IngestProgress[] = [];
    const { size } = await import('node:fs').then((fs) => fs.statSync(IRIS));
    const result = await ingestCsv(fileStream(IRIS), {
      fileName: 'iris.csv',
      fileSize: size,
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 0
    });
    expect(result.rowCount).toBe(150);
    expect(result.columns.map((c) => [c.name, c.type])).toEqual([
      ['sepal_length', 'float'],
      ['sepal_width', 'float'],
      ['petal_length', 'float'],
      ['petal_width', 'float'],
      ['species', 'categorical']
    ]);
    expect(result.columns.every((c) => c.missing === 0)).toBe(true);
    expect(result.preview).toHaveLength(50);
    expect(result.preview[0]).toEqual({
      sepal_length: 5.1,
      sepal_width: 3.5,
      petal_length: 1.4,
      petal_width: 0.2,
      species: 'setosa'
    });
    expect(result.report).toEqual({ encoding: 'utf-8', malformed: [], warnings: [] });
    expect(result.format).toBe('csv');
    expect(result.chunks).toHaveLength(1);
    expect(result.contentHash).toMatch(/^[0-9a-f]{64}$/);

    const reading = progress.filter((p) => p.phase === 'reading');
    expect(reading.length).toBeGreaterThan(1);
    expect(reading.at(-1)).toMatchObject({
      phase: 'reading',
      bytesRead: size,
      totalBytes: size,
      rowsRead: 150,
      pass: 1
    });
    expect(progress.at(-1)).toMatchObject({ phase: 'encoding', rowsEncoded: 150 });

    const table = readChunks(result.chunks.map((c) => c.data));
    const [petalLength] = tableToColumns(table, ['petal_length']);
    const mean = (petalLength ?? new Float32Array()).reduce((s, v) => s + v, 0) / 150;
    expect(mean).toBeCloseTo(3.758, 3);
  });

  it('gives the same content hash for the same file read in different piece sizes', async () => {
    const a = await ingestCsv(fileStream(IRIS, 64), { fileName: 'iris.csv', fileSize: 0 });
    const b = await ingestCsv(fileStream(IRIS, 4096), { fileName: 'iris.csv', fileSize: 0 });
    expect(b.contentHash).toBe(a.contentHash);
  });

  it('reads the messy fixture: BOM, CRLF, semicolons, quotes, missing tokens and a decimal comma', async () => {
    const result = await ingestCsv(fileStream(MESSY, 37), { fileName: 'messy.csv', fileSize: 0 });
    expect(result.rowCount).toBe(24);
    expect(Object.fromEntries(result.columns.map((c) => [c.name, [c.type, c.missing]]))).toEqual({
      id: ['identifier', 0],
      name: ['text', 0],
      price: ['float', 2],
      in_stock: ['boolean', 1],
      added: ['date', 1],
      color: ['categorical', 0],
      notes: ['text', 3]
    });
    expect(result.report.malformed).toEqual([
      {
        column: 'price',
        type: 'float',
        count: 1,
        examples: [{ row: 1, line: 3, column: 'price', value: '1,04' }]
      }
    ]);
    expect(result.report.warnings).toEqual([
      'Column “price”: 1 value could not be read as float (e.g. “1,04” on line 3) and is treated as missing.'
    ]);
    expect(result.preview[0]).toMatchObject({ id: '1', name: 'Widget; large', price: 12.5, in_stock: true });
    expect(result.preview[0]?.notes).toBe('He said "hello"');
    expect(result.preview[1]?.price).toBeNull();
    expect(result.preview[2]).toMatchObject({
      name: 'Multi\r\nline',
      in_stock: null,
      added: '2024-03-01',
      notes: null
    });
  });

  it('reads the regression sample with numeric target', async () => {
    const result = await ingestCsv(fileStream(HOUSING), { fileName: 'housing.csv', fileSize: 0 });
    expect(result.rowCount).toBe(200);
    expect(result.columns.find((c) => c.name === 'price_k')?.type).toBe('float');
    expect(result.report.malformed).toEqual([]);
  });

  it('rejects an empty file, a header-only file and binary content, naming the file', async () => {
    const empty = await rejection(ingestCsv(bytesOf(''), { fileName: 'empty.csv', fileSize: 0 }));
    expect(empty).toBeInstanceOf(CsvError);
    expect((empty as CsvError).code).toBe('empty_file');
    expect((empty as CsvError).message).toContain('empty.csv');

    const header = await rejection(ingestCsv(bytesOf('\ufeffa,b\r\n'), { fileName: 'h.csv', fileSize: 0 }));
    expect((header as CsvError).code).toBe('header_only');

    const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52];
    const binary = await rejection(ingestCsv(bytesOf(png), { fileName: 'cat.png', fileSize: 16 }));
    expect((binary as CsvError).code).toBe('binary_content');
    expect((binary as CsvError).message).toContain('cat.png');
  });

  it('reports a ragged row with its line', async () => {
    const err = await rejection(ingestCsv(bytesOf('a,b\n1,2\n3\n'), { fileName: 'r.csv', fileSize: 0 }));
    expect((err as CsvError).message).toBe('Line 3 of r.csv has 1 field; the header has 2.');
  });

  it('decodes UTF-8 split across pieces and warns about bytes that are not UTF-8', async () => {
    const ok = await ingestCsv(bytesOf('city\nZürich\nMünchen\nKøbenhavn\n'), {
      fileName: 'u.csv',
      fileSize: 0
    });
    expect(ok.preview.map((r) => r.city)).toEqual(['Zürich', 'München', 'København']);
    const latin1 = [
      ...new TextEncoder().encode('city\nZ'),
      0xfc,
      ...new TextEncoder().encode('rich\nBern\n')
    ];
    const bad = await ingestCsv(bytesOf(latin1), { fileName: 'l.csv', fileSize: 0 });
    expect(bad.report.encoding).toBe('windows-1252');
    expect(bad.preview.map((r) => r.city)).toEqual(['Zürich', 'Bern']);
    expect(bad.report.warnings).toContain(
      'l.csv is not valid UTF-8; it was read as Latin-1 (Windows-1252). Check accented characters in the preview, or save it as UTF-8.'
    );
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    const text = await readFile(IRIS);
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield text.subarray(0, 100);
      controller.abort();
      yield text.subarray(100);
    }
    const err = await rejection(
      ingestCsv(slow(), { fileName: 'iris.csv', fileSize: 0, signal: controller.signal })
    );
    expect(err).toBeInstanceOf(IngestCancelledError);
    expect((err as IngestCancelledError).code).toBe('cancelled');
  });
});

describe('distinct counts at import', () => {
  /** A CSV of `rows` rows whose columns cycle through `distinct` values, shuffled by a seeded generator. */
  function cyclingCsv(rows: number, distinct: number): string {
    const next = seededRandom(distinct);
    const lines = ['word,number,flag'];
    for (let r = 0; r < rows; r++) {
      const k = r < distinct ? r : Math.floor(next() * distinct);
      lines.push(`w${(k * 7919).toString(36)}-ü,${k * 0.25 - 100},${k % 2 === 0}`);
    }
    return `${lines.join('\n')}\n`;
  }

  it('counts 50,000 distinct strings and numbers exactly, from the bytes, in any piece size', async () => {
    const csv = cyclingCsv(120_000, 50_000);
    const small = await ingestCsv(bytesOf(csv), { fileName: 'd.csv', fileSize: 0 });
    const pieces = await ingestCsv(fileStreamOf(csv, 4093), { fileName: 'd.csv', fileSize: 0 });
    for (const result of [small, pieces]) {
      expect(result.columns.map((c) => [c.name, c.distinct, c.distinctError])).toEqual([
        ['word', 50_000, undefined],
        ['number', 50_000, undefined],
        ['flag', 2, undefined]
      ]);
    }
  });

  it('estimates 150,000 distinct strings and numbers within the error it reports', async () => {
    const result = await ingestCsv(bytesOf(cyclingCsv(150_000, 150_000)), { fileName: 'e.csv', fileSize: 0 });
    const [word, number, flag] = result.columns;
    for (const column of [word, number]) {
      const error = column?.distinctError ?? 0;
      expect(error).toBeCloseTo(0.0081, 4);
      // Four standard errors: the hashes are fixed, so this holds or fails the same way every run.
      expect(Math.abs((column?.distinct ?? 0) - 150_000) / 150_000).toBeLessThan(4 * error);
    }
    // Every value is different, so the words stay an identifier column; the flag is still exact.
    expect(word?.type).toBe('identifier');
    expect([flag?.distinct, flag?.distinctError]).toEqual([2, undefined]);
  });
});

/** Seeded (mulberry32), so a failure can be replayed. */
const random = seededRandom;

type Decoded = { pieces: string[]; warnings: string[]; encoding?: string; error?: string };

/** Runs decodeText and decodeUtf8 over the same stream and expects the same text, warnings and errors. */
async function compareDecoders(
  stream: () => AsyncIterable<Uint8Array>,
  encoding: TextEncodingName | undefined,
  canRestart: boolean,
  label: string
): Promise<Decoded> {
  const run = async <T>(
    decode: typeof decodeText | typeof decodeUtf8,
    show: (piece: T) => string
  ): Promise<Decoded> => {
    const ctx = new IngestContext({ fileName: 'd.csv', fileSize: 0 });
    const out: { encoding?: TextEncodingName; warnings: string[] } = { warnings: [] };
    const state = { hints: new Map(), encoding, canRestart };
    const pieces: string[] = [];
    try {
      for await (const piece of decode(ctx, stream(), state, out)) pieces.push(show(piece as T));
      return { pieces, warnings: out.warnings, encoding: out.encoding };
    } catch (err) {
      return { pieces, warnings: out.warnings, error: String(err) };
    }
  };
  const text = await run<string>(decodeText, (piece) => piece);
  const utf8 = await run<Uint8Array>(decodeUtf8, (piece) =>
    // Cut at character boundaries: every piece is valid UTF-8 on its own.
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(piece)
  );
  if (text.error === undefined) expect(utf8, label).toEqual(text);
  else
    expect({ error: utf8.error, warnings: utf8.warnings }, label).toEqual({
      error: text.error,
      warnings: text.warnings
    });
  return text;
}

describe('decodeUtf8', () => {
  it('holds back a character cut by a piece, and checks what follows it even when that is ASCII', async () => {
    const cases: number[][][] = [
      [
        [0x61, 0xc3],
        [0xbc, 0x62]
      ],
      [
        [0x61, 0xc3],
        [0x62, 0x63],
        [0xc3, 0xbc]
      ],
      [[0x61, 0xe2, 0x82], [0x62], [0xc3, 0xbc]],
      [
        [0xef, 0xbb],
        [0xbf, 0x61]
      ],
      [[0x61, 0xf0, 0x9f], [0x98], [0x80, 0x62]],
      [[0x61, 0xe2, 0x82]]
    ];
    for (const [n, pieces] of cases.entries()) {
      const stream = async function* (): AsyncGenerator<Uint8Array> {
        // Past the first 64 KB, which are read as one piece to detect the encoding.
        yield new TextEncoder().encode('x,y\n'.repeat(16_384));
        for (const piece of pieces) yield Uint8Array.from(piece);
      };
      for (const encoding of ['utf-8', undefined] as const) {
        for (const canRestart of [false, true])
          await compareDecoders(stream, encoding, canRestart, `case ${n}`);
      }
    }
  });

  it('gives, piece for piece, the UTF-8 of what decodeText gives, with the same warnings and restarts', async () => {
    const encoder = new TextEncoder();
    const runs: Array<{ pieces: string[]; warnings: string[]; encoding?: string; error?: string }> = [];
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed);
      // Mostly valid text with multi-byte characters; a byte-order mark; invalid bytes, early or
      // past the 64 KB the encoding is detected from; a truncated character at the very end.
      const out: number[] = [];
      if (next() < 0.3) out.push(0xef, 0xbb, 0xbf);
      const size = next() < 0.3 ? 70_000 + Math.floor(next() * 20_000) : Math.floor(next() * 3000);
      const invalid = next();
      while (out.length < size) {
        const r = next();
        if (r < 0.002 && invalid < 0.5)
          out.push(
            ...([[0xff], [0x80], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80]][Math.floor(next() * 5)] ?? [])
          );
        else if (r < 0.05)
          out.push(...encoder.encode(['ü', '€', '😀', '日本', '\ufeff'][Math.floor(next() * 5)] ?? ''));
        else out.push(...[...encoder.encode('a,b\n1;2 xyz')].slice(0, 1 + Math.floor(next() * 12)));
      }
      if (next() < 0.1) out.push(0xe2, 0x82);
      const bytes = Uint8Array.from(out);
      const cuts: number[] = [];
      for (let i = 0; i < bytes.length;) {
        i += 1 + Math.floor(next() * (next() < 0.3 ? 5 : 9000));
        cuts.push(Math.min(i, bytes.length));
      }
      const stream = async function* (): AsyncGenerator<Uint8Array> {
        let from = 0;
        for (const cut of cuts) {
          yield bytes.slice(from, cut);
          from = cut;
        }
      };
      const encoding = ([undefined, undefined, 'utf-8', 'windows-1252', 'utf-16le'] as const)[
        Math.floor(next() * 5)
      ];
      runs.push(await compareDecoders(stream, encoding, next() < 0.5, `seed ${seed}`));
    }
    // The inputs reach every branch: restarts, replacement characters, other encodings.
    expect(runs.some((r) => r.error?.includes('not UTF-8 after the first 64 KB'))).toBe(true);
    expect(runs.some((r) => r.warnings.some((w) => w.includes('replaced by')))).toBe(true);
    expect(runs.some((r) => r.encoding === 'windows-1252')).toBe(true);
  });
});

describe('readPieces with recycled buffers', () => {
  it('reads a Blob into full pieces of two buffers in turn, every byte once, and detaches a piece two reads on', async () => {
    const bytes = new Uint8Array(2.5 * RECYCLED_PIECE_BYTES + 123);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 251;
    const same = (a: Uint8Array, b: Uint8Array): boolean =>
      a.length === b.length && a.every((v, i) => v === b[i]);
    const pieces: Uint8Array[] = [];
    const seen: number[] = [];
    let at = 0;
    for await (const piece of readPieces(new Blob([bytes]).stream(), undefined, true)) {
      // Checked as it comes: a piece is good until the one after it has been read.
      expect(same(piece, bytes.subarray(at, at + piece.length))).toBe(true);
      at += piece.length;
      seen.push(piece.length);
      pieces.push(piece);
    }
    expect(at).toBe(bytes.length);
    expect(seen).toEqual([RECYCLED_PIECE_BYTES, RECYCLED_PIECE_BYTES, 0.5 * RECYCLED_PIECE_BYTES + 123]);
    // Two buffers in turn: the first piece's buffer was read into again for the third.
    expect(pieces[0]?.byteLength).toBe(0);
    expect(new Set(pieces.map((p) => p.buffer)).size).toBe(3);
  });

  it('reads a stream that is not a byte stream as it comes', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([1, 2, 3]));
        controller.enqueue(new Uint8Array([4]));
        controller.close();
      }
    });
    const pieces: number[][] = [];
    for await (const piece of readPieces(stream, undefined, true)) pieces.push([...piece]);
    expect(pieces).toEqual([[1, 2, 3], [4]]);
  });

  it('stops a Blob import read into recycled buffers when the signal aborts', async () => {
    const lines = ['a,b'];
    for (let i = 0; i < 400_000; i++) lines.push(`${i},${i % 7}`);
    const blob = new Blob([lines.join('\n')]);
    expect(blob.size).toBeGreaterThan(3 * RECYCLED_PIECE_BYTES);
    const controller = new AbortController();
    let progressed = 0;
    const err = await rejection(
      ingestSource(blobSource(blob, 'big.csv'), {
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          progressed = p.bytesRead;
          if (p.bytesRead > 0) controller.abort();
        }
      })
    );
    expect(err).toBeInstanceOf(IngestCancelledError);
    expect(progressed).toBeLessThan(blob.size);
  });

  it('imports a CSV Blob of several pieces to the same table as the same text in small pieces', async () => {
    const lines = ['id,x,name'];
    for (let i = 0; i < 60_000; i++) lines.push(`${i},${(i % 101) / 8},"n ${i % 37}, ""q"""`);
    const text = lines.join('\n');
    expect(text.length).toBeGreaterThan(RECYCLED_PIECE_BYTES);
    const fromBlob = await ingestSource(blobSource(new Blob([text]), 'big.csv'), { chunkRows: 4096 });
    const fromPieces = await ingestCsv(bytesOf(text), {
      fileName: 'big.csv',
      fileSize: text.length,
      chunkRows: 4096
    });
    expect(fromBlob.rowCount).toBe(60_000);
    expect(fromBlob.contentHash).toBe(fromPieces.contentHash);
  });
});

describe('warmUpIngest', () => {
  it('imports a column of every type, with missing and malformed cells, in several chunks after its sample', async () => {
    const [result, large] = await warmUpIngest();
    if (!result || !large) throw new Error('two warm-up imports expected');
    expect(large.rowCount).toBe(120_000);
    expect(large.chunks.length).toBeGreaterThan(10);
    expect(result.rowCount).toBe(200);
    expect(result.chunks.length).toBeGreaterThan(4);
    expect(Object.fromEntries(result.columns.map((c) => [c.name, c.type]))).toEqual({
      n: 'integer',
      x: 'float',
      key: 'identifier',
      cat: 'categorical',
      flag: 'boolean',
      day: 'date',
      when: 'datetime',
      note: 'text',
      city: 'categorical',
      score: 'float'
    });
    expect(result.report.malformed.map((m) => m.column)).toEqual(['x']);
    expect(result.columns.find((c) => c.name === 'n')?.missing).toBeGreaterThan(0);
  });
});
