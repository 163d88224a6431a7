import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Table, tableToIPC, vectorFromArray, Dictionary, Utf8, Int32, makeTable } from 'apache-arrow';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { categoriesOf, readChunks } from './arrow';
import { CsvError } from './csv';
import { detectEncoding, isValidUtf8 } from './encoding';
import { IngestError, detectFormat, sniffMagic } from './formats';
import { imageSize } from './images';
import {
  IngestCancelledError,
  blobSource,
  ingestImageFolder,
  ingestSource,
  type IngestOptions,
  type IngestResult
} from './ingest';
import { writeParquet } from './fixtures/parquet-writer';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

function fixture(name: string): Blob {
  return new Blob([readFileSync(FIXTURES + name)]);
}

function ingestBytes(
  bytes: Uint8Array | string,
  name: string,
  options: Partial<IngestOptions> = {}
): Promise<IngestResult> {
  const blob = new Blob([
    typeof bytes === 'string' ? new TextEncoder().encode(bytes) : new Uint8Array(bytes)
  ]);
  return ingestSource(blobSource(blob, name), options);
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code: string };
  }
  throw new Error('expected a rejection');
}

const types = (r: IngestResult): Record<string, string> =>
  Object.fromEntries(r.columns.map((c) => [c.name, c.type]));

/** A 1×1 PNG: signature, IHDR (width 3, height 2) and nothing else; enough for sniffing and sizing. */
function png(width: number, height: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(40);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
  new DataView(bytes.buffer).setUint32(16, width);
  new DataView(bytes.buffer).setUint32(20, height);
  bytes[39] = seed;
  return bytes;
}

describe('encoding detection', () => {
  it('tells UTF-8, UTF-16 by BOM or NUL pattern, and Latin-1 apart', () => {
    expect(detectEncoding(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]))).toMatchObject({
      encoding: 'utf-8',
      bomLength: 3
    });
    expect(detectEncoding(new Uint8Array([0xff, 0xfe, 0x61, 0]))).toMatchObject({ encoding: 'utf-16le' });
    expect(detectEncoding(new Uint8Array([0xfe, 0xff, 0, 0x61]))).toMatchObject({ encoding: 'utf-16be' });
    expect(detectEncoding(new Uint8Array([0x61, 0, 0x2c, 0, 0x62, 0, 0x0a, 0]))).toMatchObject({
      encoding: 'utf-16le',
      reason: 'nul-pattern'
    });
    expect(detectEncoding(new TextEncoder().encode('Zürich'), true).encoding).toBe('utf-8');
    expect(detectEncoding(new Uint8Array([0x5a, 0xfc, 0x72]), true).encoding).toBe('windows-1252');
  });

  it('accepts a multi-byte character cut by the end of a sample, but not a bad byte', () => {
    const euro = new TextEncoder().encode('a€');
    expect(isValidUtf8(euro.subarray(0, 3), true)).toBe(true);
    expect(isValidUtf8(euro.subarray(0, 3), false)).toBe(false);
    expect(isValidUtf8(new Uint8Array([0xc0, 0x80]))).toBe(false);
    expect(isValidUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(false);
  });
});

describe('format detection', () => {
  it('trusts magic bytes first, then the extension, then the first character', () => {
    expect(detectFormat(new TextEncoder().encode('PAR1....'), 'data.bin').format).toBe('parquet');
    expect(detectFormat(new TextEncoder().encode('ARROW1\0\0'), 'x.arrow').format).toBe('arrow');
    expect(detectFormat(new TextEncoder().encode('a\tb\n'), 'x.tsv').format).toBe('tsv');
    expect(detectFormat(new TextEncoder().encode(' [{"a":1}]'), 'export')).toEqual({ format: 'json' });
    expect(detectFormat(new TextEncoder().encode('{"a":1}\n'), 'export')).toEqual({ format: 'ndjson' });
    expect(detectFormat(new TextEncoder().encode('a,b\n'), 'export')).toEqual({ format: 'csv' });
    const note = detectFormat(new TextEncoder().encode('PAR1....'), 'data.csv').note;
    expect(note).toContain('“data.csv” is named like a CSV file but is a Parquet file');
  });

  it('recognises common binaries', () => {
    expect(sniffMagic(png(1, 1))).toBe('png');
    expect(sniffMagic(new Uint8Array([0x50, 0x4b, 3, 4]))).toBe('zip');
    expect(sniffMagic(new Uint8Array([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(sniffMagic(new TextEncoder().encode('%PDF-1.7'))).toBe('pdf');
    expect(sniffMagic(new TextEncoder().encode('BMW,Audi\n1,2\n'))).toBeUndefined();
  });
});

describe('ingestSource: CSV and TSV', () => {
  it('refuses a PNG named .csv, naming the file and what it is', async () => {
    const err = await rejection(ingestSource(blobSource(fixture('image.csv'), 'image.csv')));
    expect(err).toBeInstanceOf(IngestError);
    expect(err.code).toBe('wrong_format');
    expect(err.message).toBe(
      '“image.csv” cannot be imported: its first bytes show a PNG image, not a CSV file.'
    );
  });

  it('refuses an empty file and a .parquet that is not Parquet', async () => {
    const empty = await rejection(ingestBytes('', 'empty.csv'));
    expect(empty.code).toBe('empty_file');
    expect(empty.message).toContain('empty.csv');
    const fake = await rejection(ingestSource(blobSource(fixture('not-parquet.parquet'), 'sales.parquet')));
    expect(fake).toBeInstanceOf(IngestError);
    expect(fake.code).toBe('not_parquet');
    expect(fake.message).toContain(
      '“sales.parquet” is named like a Parquet file but does not start with the Parquet mark “PAR1”'
    );
  });

  it('gives a headerless numeric file generated column names', async () => {
    const result = await ingestSource(blobSource(fixture('headerless.csv'), 'headerless.csv'));
    expect(result.rowCount).toBe(3);
    expect(types(result)).toEqual({ col_1: 'integer', col_2: 'float', col_3: 'integer' });
    expect(result.report.warnings[0]).toContain('looks like data, not column names');
    expect(result.preview[0]).toEqual({ col_1: 1, col_2: 2.5, col_3: 3 });
  });

  it('reads Latin-1, UTF-16 LE with BOM and UTF-16 BE without, naming the encoding', async () => {
    const latin = await ingestSource(blobSource(fixture('latin1.csv'), 'latin1.csv'));
    expect(latin.report.encoding).toBe('windows-1252');
    expect(latin.preview.map((r) => r.city)).toEqual(['Zürich', 'München', 'København']);
    expect(latin.report.warnings.join(' ')).toContain('Latin-1 (Windows-1252)');

    const le = await ingestSource(blobSource(fixture('utf16le.csv'), 'utf16le.csv'));
    expect(le.report.encoding).toBe('utf-16le');
    expect(le.preview).toEqual([
      { name: 'Zoë', score: 1.5 },
      { name: 'Åsa', score: 2 }
    ]);
    expect(le.report.warnings.join(' ')).toContain('UTF-16 LE');

    const be = await ingestSource(blobSource(fixture('utf16be-nobom.csv'), 'utf16be-nobom.csv'));
    expect(be.report.encoding).toBe('utf-16be');
    expect(be.preview.map((r) => r.name)).toEqual(['Zoë', 'Åsa']);
  });

  it('re-reads the file as Latin-1 when a bad byte comes after the sampled start', async () => {
    const head = 'city,n\n' + 'Bern,1\n'.repeat(12_000);
    const bytes = new Uint8Array([
      ...new TextEncoder().encode(head),
      0x5a,
      0xfc,
      0x72,
      0x69,
      0x63,
      0x68,
      0x2c,
      0x32,
      0x0a
    ]);
    const result = await ingestBytes(bytes, 'late.csv');
    expect(result.report.encoding).toBe('windows-1252');
    expect(result.report.restarts).toBe(1);
    const table = readChunks(result.chunks.map((c) => c.data));
    expect(String(table.getChild('city')?.get(12_000))).toBe('Zürich');
  });

  it('reports ragged rows as an error by default, or pads them with a count', async () => {
    const err = await rejection(ingestSource(blobSource(fixture('ragged.csv'), 'ragged.csv')));
    expect(err).toBeInstanceOf(CsvError);
    expect(err.message).toBe('Line 3 of ragged.csv has 2 fields; the header has 3.');
    const padded = await ingestSource(blobSource(fixture('ragged.csv'), 'ragged.csv'), { raggedRows: 'pad' });
    expect(padded.rowCount).toBe(4);
    expect(padded.report.raggedRows).toBe(2);
    expect(padded.preview[1]).toEqual({ a: 4, b: 5, c: null });
    expect(padded.preview[2]).toEqual({ a: 6, b: 7, c: 8 });
    expect(padded.report.warnings.join(' ')).toContain(
      '2 rows of “ragged.csv” had a different number of fields'
    );
  });

  it('names an unterminated quote with its line', async () => {
    const err = await rejection(ingestBytes('a,b\n1,"open\n2,3\n', 'q.csv'));
    expect(err.code).toBe('unterminated_quote');
    expect(err.message).toContain('Line 2 of q.csv opens a quoted field');
  });

  it('streams past the sample into several chunks with the same types and hash for any piece size', async () => {
    const lines = ['id,x,label'];
    for (let i = 0; i < 30_000; i++) lines.push(`${i},${(i % 97) / 4},${i % 3 === 0 ? 'a' : 'b'}`);
    const text = lines.join('\n');
    const a = await ingestBytes(text, 'big.csv', { chunkRows: 8192 });
    expect(a.rowCount).toBe(30_000);
    // The 10k-row sample ends a chunk of its own (8192 + 1808 rows), then 8192, 8192 and 3616.
    expect(a.chunks.length).toBe(5);
    expect(types(a)).toEqual({ id: 'identifier', x: 'float', label: 'categorical' });
    const table = readChunks(a.chunks.map((c) => c.data));
    expect(table.numRows).toBe(30_000);
    expect(categoriesOf(table, 'label')).toEqual(['a', 'b']);
    const piecewise = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(text);
        for (let i = 0; i < bytes.length; i += 777) controller.enqueue(bytes.slice(i, i + 777));
        controller.close();
      }
    });
    const b = await ingestSource(
      { name: 'big.csv', size: text.length, stream: () => piecewise },
      { chunkRows: 8192 }
    );
    expect(b.contentHash).toBe(a.contentHash);
  });

  it('widens an integer column to float, and a date column to datetime, after the sample', async () => {
    const lines = ['n,d'];
    for (let i = 0; i < 200; i++) lines.push(`${i},2024-01-${String((i % 28) + 1).padStart(2, '0')}`);
    lines.push('2.5,2024-02-01T10:30:00Z');
    const result = await ingestBytes(lines.join('\n'), 'w.csv', { sampleRows: 50, chunkRows: 64 });
    expect(types(result)).toEqual({ n: 'float', d: 'datetime' });
    const table = readChunks(result.chunks.map((c) => c.data));
    expect(table.getChild('n')?.get(3)).toBe(3);
    expect(table.getChild('n')?.get(200)).toBe(2.5);
    expect(Number(table.getChild('d')?.get(200))).toBe(Date.UTC(2024, 1, 1, 10, 30));
    expect(result.report.malformed).toEqual([]);
  });

  it('counts a few bad cells after the sample as malformed, but re-reads a column that is mostly not numbers as text', async () => {
    const few = ['v'];
    for (let i = 0; i < 200; i++) few.push(i === 150 ? 'oops' : String(i));
    const ok = await ingestBytes(few.join('\n'), 'few.csv', { sampleRows: 100 });
    expect(types(ok)).toEqual({ v: 'integer' });
    expect(ok.report.malformed).toEqual([
      {
        column: 'v',
        type: 'integer',
        count: 1,
        examples: [{ row: 150, line: 152, column: 'v', value: 'oops' }]
      }
    ]);

    const many = ['v'];
    for (let i = 0; i < 300; i++) many.push(i < 100 ? String(i) : `code-${i}`);
    const text = await ingestBytes(many.join('\n'), 'many.csv', { sampleRows: 100 });
    expect(text.report.restarts).toBe(1);
    expect(types(text)).toEqual({ v: 'identifier' });
    expect(text.report.malformed).toEqual([]);
    expect(text.report.warnings[0]).toContain(
      'Column “v” of many.csv has too many values that are not integer'
    );
  });

  it('keeps long free text as a text column', async () => {
    const lines = ['review,stars'];
    for (let i = 0; i < 60; i++)
      lines.push(`"This product number ${i} was fine, I would buy it again",${(i % 5) + 1}`);
    const result = await ingestBytes(lines.join('\n'), 'reviews.csv');
    expect(types(result)).toEqual({ review: 'text', stars: 'integer' });
  });

  it('stops with a cancelled error when the signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await rejection(ingestBytes('a\n1\n', 'c.csv', { signal: controller.signal }));
    expect(err).toBeInstanceOf(IngestCancelledError);
  });
});

describe('ingestSource: JSON and NDJSON', () => {
  it('reads an array of objects: union of keys, nested values as JSON text, malformed numbers flagged', async () => {
    const result = await ingestSource(blobSource(fixture('people.json'), 'people.json'));
    expect(result.format).toBe('json');
    expect(result.rowCount).toBe(4);
    expect(types(result)).toMatchObject({
      id: 'identifier',
      age: 'float',
      member: 'boolean',
      joined: 'date',
      tags: 'text'
    });
    expect(result.columns.map((c) => c.name)).toEqual([
      'id',
      'name',
      'age',
      'member',
      'joined',
      'tags',
      'address'
    ]);
    expect(result.preview[0]?.tags).toBe('["math","engines"]');
    expect(result.preview[2]?.address).toBe('{"city":"Helsinki"}');
    expect(result.preview[3]?.age).toBeNull();
  });

  it('reads NDJSON line by line, skipping blank lines, with keys added later', async () => {
    const result = await ingestSource(blobSource(fixture('events.ndjson'), 'events.ndjson'));
    expect(result.format).toBe('ndjson');
    expect(result.rowCount).toBe(3);
    expect(result.columns.map((c) => c.name)).toEqual(['event', 'value', 'ok', 'extra']);
    expect(result.preview[1]).toEqual({ event: 'view', value: 2, ok: null, extra: null });
    expect(result.preview[2]?.extra).toBe('x');
  });

  it('names the line and column of invalid JSON', async () => {
    const nd = await rejection(ingestBytes('{"a":1}\n{"a":2,}\n', 'bad.ndjson'));
    expect(nd).toBeInstanceOf(IngestError);
    expect(nd.code).toBe('invalid_json');
    expect(nd.message).toMatch(/^bad\.ndjson is not valid JSON at line 2, column \d+/);
    const arr = await rejection(ingestBytes('[\n  {"a": 1},\n  {"a": 2\n]', 'bad.json'));
    expect(arr.code).toBe('invalid_json');
    expect(arr.message).toContain('bad.json is not valid JSON at line');
    const open = await rejection(ingestBytes('[{"a": 1},', 'open.json'));
    expect(open.message).toContain('the array is not closed');
    const notObject = await rejection(ingestBytes('[1, 2]', 'nums.json'));
    expect(notObject.message).toContain('is a number; expected an object');
  });

  it('re-reads NDJSON whose key turns out not to be typed after the sample', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) lines.push(JSON.stringify({ k: i }));
    for (let i = 0; i < 50; i++) lines.push(JSON.stringify({ k: `w${i}` }));
    const result = await ingestBytes(lines.join('\n'), 'k.ndjson', { sampleRows: 20 });
    expect(result.report.restarts).toBe(1);
    expect(result.columns[0]?.type).not.toBe('integer');
    expect(result.preview[0]?.k).toBe('0');
  });
});

describe('ingestSource: Arrow IPC', () => {
  const table = makeTable({
    n: Int32Array.from([1, 2, 3]),
    x: Float64Array.from([0.5, 1.5, Number.NaN])
  });

  it('reads the file and the stream format, keeping numeric types', async () => {
    for (const format of ['file', 'stream'] as const) {
      const bytes = tableToIPC(table, format);
      const result = await ingestBytes(bytes, `t.${format === 'file' ? 'arrow' : 'arrows'}`);
      expect(result.format).toBe('arrow');
      expect(types(result)).toEqual({ n: 'integer', x: 'float' });
      expect(result.preview).toEqual([
        { n: 1, x: 0.5 },
        { n: 2, x: 1.5 },
        { n: 3, x: null }
      ]);
    }
  });

  it('maps dictionaries to categories and strings to inferred string types', async () => {
    const t = new Table({
      species: vectorFromArray(['a', 'b', 'a', 'a'], new Dictionary(new Utf8(), new Int32())),
      note: vectorFromArray(['x', 'y', 'z', 'w'], new Utf8())
    });
    const result = await ingestBytes(tableToIPC(t, 'stream'), 'd.arrow');
    expect(types(result)).toEqual({ species: 'categorical', note: 'identifier' });
  });

  it('reads the flights-200k sample', async () => {
    const bytes = readFileSync(
      fileURLToPath(
        new URL('../../../../node_modules/vega-datasets/data/flights-200k.arrow', import.meta.url)
      )
    );
    const result = await ingestBytes(bytes, 'flights-200k.arrow');
    expect(result.rowCount).toBe(200_000);
    expect(types(result)).toEqual({ delay: 'integer', distance: 'integer', time: 'float' });
  });

  it('refuses a .arrow file that is not Arrow', async () => {
    const err = await rejection(ingestBytes('a,b\n1,2\n', 'x.arrow'));
    expect(err.code).toBe('not_arrow');
  });
});

describe('ingestSource: Parquet', () => {
  it('reads a small file with nulls, strings, booleans and timestamps', async () => {
    const bytes = writeParquet([
      { name: 'id', type: 'int64', values: [1, 2, 3, 4] },
      { name: 'price', type: 'double', values: [1.5, null, 3.25, 4] },
      { name: 'city', type: 'string', values: ['Bern', 'Zürich', null, 'Bern'] },
      { name: 'ok', type: 'boolean', values: [true, false, true, true] },
      { name: 'at', type: 'timestamp-millis', values: [0, 86_400_000, null, 1000] }
    ]);
    const result = await ingestBytes(bytes, 'tiny.parquet');
    expect(result.format).toBe('parquet');
    expect(types(result)).toEqual({
      id: 'integer',
      price: 'float',
      city: 'text',
      ok: 'boolean',
      at: 'datetime'
    });
    expect(result.preview[1]).toEqual({
      id: 2,
      price: null,
      city: 'Zürich',
      ok: false,
      at: '1970-01-02T00:00:00.000Z'
    });
    expect(result.columns.find((c) => c.name === 'price')?.missing).toBe(1);
  });

  it('reports a corrupt footer as invalid Parquet', async () => {
    const bytes = writeParquet([{ name: 'a', type: 'int32', values: [1] }]);
    bytes[bytes.length - 6] = 0x7f;
    const err = await rejection(ingestBytes(bytes, 'broken.parquet'));
    expect(err.code).toBe('invalid_parquet');
    expect(err.message).toContain('broken.parquet could not be read as Parquet');
  });
});

describe('image datasets', () => {
  it('reads a ZIP of class folders into path, label, image hash and size', async () => {
    const zip = zipSync({
      'pets/cat/1.png': png(3, 2, 1),
      'pets/cat/2.png': png(4, 4, 2),
      'pets/dog/1.png': png(3, 2, 1),
      'pets/dog/readme.txt': new TextEncoder().encode('hi'),
      '__MACOSX/pets/._1.png': new Uint8Array([0])
    });
    const result = await ingestBytes(zip, 'pets.zip');
    expect(result.format).toBe('images');
    expect(result.rowCount).toBe(3);
    expect(types(result)).toMatchObject({ path: 'identifier', label: 'categorical', width: 'integer' });
    expect(result.preview.map((r) => [r.path, r.label, r.width, r.height])).toEqual([
      ['pets/cat/1.png', 'cat', 3, 2],
      ['pets/cat/2.png', 'cat', 4, 4],
      ['pets/dog/1.png', 'dog', 3, 2]
    ]);
    // The same bytes twice are one blob.
    expect(result.blobs).toHaveLength(2);
    expect(result.preview[0]?.image_hash).toBe(result.preview[2]?.image_hash);
    expect(result.report.warnings.join(' ')).toContain('1 file was not an image');
  });

  it('reads a dropped folder, labels from sub-folders, in path order', async () => {
    const files = [
      { path: 'set/b/x.png', file: new Blob([new Uint8Array(png(1, 1, 5))]) },
      { path: 'set/a/y.png', file: new Blob([new Uint8Array(png(2, 2, 6))]) }
    ];
    const result = await ingestImageFolder(files);
    expect(result.preview.map((r) => [r.path, r.label])).toEqual([
      ['a/y.png', 'a'],
      ['b/x.png', 'b']
    ]);
  });

  it('refuses an archive without images', async () => {
    const err = await rejection(ingestBytes(zipSync({ 'a.txt': new Uint8Array([65]) }), 'docs.zip'));
    expect(err.code).toBe('no_images');
  });

  it('reads sizes from JPEG, GIF and BMP headers', () => {
    const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 5, 0, 7, 0, 0, 0]);
    expect(imageSize(gif)).toEqual({ width: 5, height: 7 });
    const jpeg = new Uint8Array([
      0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0, 20, 0, 30, 3, 0, 0, 0, 0
    ]);
    expect(imageSize(jpeg)).toEqual({ width: 30, height: 20 });
  });
});
