import { describe, expect, it } from 'vitest';
import {
  CsvError,
  CsvParser,
  looksBinary,
  parseCsv,
  sniffDelimiter,
  sniffDelimiterBytes,
  type CsvByteBatch,
  type CsvParserOptions,
  type CsvRow
} from './csv';
import { seededRandom } from '../pipeline/split';

/** Feeds `text` in the given pieces and collects every row with its line. */
function feed(pieces: string[], options: CsvParserOptions = {}): { header: string[]; rows: CsvRow[] } {
  const parser = new CsvParser(options);
  const rows: CsvRow[] = [];
  for (const piece of pieces) rows.push(...parser.push(piece));
  rows.push(...parser.end());
  return { header: [...(parser.header ?? [])], rows };
}

function csvError(fn: () => unknown): CsvError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CsvError) return err;
    throw err;
  }
  throw new Error('expected a CsvError');
}

describe('CsvParser', () => {
  it('reads quoted fields with embedded delimiters, doubled quotes and line breaks', () => {
    const { header, rows } = parseCsv('a,b,c\n"x, y","say ""hi""","two\nlines"\n1,2,3\n');
    expect(header).toEqual(['a', 'b', 'c']);
    expect(rows).toEqual([
      ['x, y', 'say "hi"', 'two\nlines'],
      ['1', '2', '3']
    ]);
  });

  it('reports the line each row starts on, counting line breaks inside quotes', () => {
    const { rows } = feed(['a,b\n1,"x\ny"\n2,z\n']);
    expect(rows.map((r) => r.line)).toEqual([2, 4]);
  });

  it('treats CRLF like LF and keeps a quoted CRLF', () => {
    const { rows } = feed(['a,b\r\n1,2\r\n"3\r\n4",5\r\n']);
    expect(rows.map((r) => r.fields)).toEqual([
      ['1', '2'],
      ['3\r\n4', '5']
    ]);
    expect(rows.map((r) => r.line)).toEqual([2, 3]);
  });

  it('strips a UTF-8 byte-order mark from the first header name', () => {
    expect(parseCsv('\ufeffid,name\n1,a\n').header).toEqual(['id', 'name']);
  });

  it('reads a last row without a trailing line break, empty trailing fields and skips blank lines', () => {
    expect(parseCsv('a,b\n\n1,\n\n,2').rows).toEqual([
      ['1', ''],
      ['', '2']
    ]);
  });

  it('sniffs semicolons (with decimal commas), tabs and pipes', () => {
    expect(parseCsv('a;b\n1,5;2\n3,25;4\n').delimiter).toBe(';');
    expect(parseCsv('a;b\n1,5;2\n3,25;4\n').rows).toEqual([
      ['1,5', '2'],
      ['3,25', '4']
    ]);
    expect(parseCsv('a\tb\tc\n1\t2\t3\n').delimiter).toBe('\t');
    expect(parseCsv('a|b\n1|2\n').delimiter).toBe('|');
    expect(sniffDelimiter('name,comment\nx,"a; b; c"\n')).toBe(',');
    expect(parseCsv('single\n1\n2\n').rows).toEqual([['1'], ['2']]);
  });

  it('gives the same rows whatever the chunk boundaries', () => {
    const input =
      '\ufeffid;"na;me";v\r\n1;"a ""quoted""; value";1,5\r\n2;"multi\r\nline";\r\n\r\n3;plain;"x"\n4;"";"end"';
    const whole = feed([input]);
    expect(whole.rows).toHaveLength(4);
    for (let i = 0; i <= input.length; i++) {
      expect(feed([input.slice(0, i), input.slice(i)])).toEqual(whole);
    }
    // And one character at a time.
    expect(feed([...input])).toEqual(whole);
  });

  it('gives the same rows whatever the chunk boundaries, past the sniffing sample too', () => {
    // More lines than the sniffing sample holds, so later pieces go straight to the tokenizer.
    const body = Array.from({ length: 30 }, (_, i) => `${i};"q""${i}";"l\r\n${i}"\r`).join('\n');
    const input = `a;b;c\r\n${body}\n`;
    const whole = feed([input]);
    expect(whole.rows).toHaveLength(30);
    expect(whole.rows[29]?.fields).toEqual(['29', 'q"29', 'l\r\n29']);
    for (let i = 0; i <= input.length; i++) {
      expect(feed([input.slice(0, i), input.slice(i)])).toEqual(whole);
      expect(feed([input.slice(0, i), input.slice(i)], { delimiter: ';' })).toEqual(whole);
    }
  });

  it('names blank and repeated header names uniquely, with warnings', () => {
    const parsed = parseCsv('a,,a\n1,2,3\n');
    expect(parsed.header).toEqual(['a', 'column_2', 'a_2']);
    expect(parsed.warnings).toHaveLength(2);
  });

  it('rejects an empty file, naming it', () => {
    const err = csvError(() => feed([''], { fileName: 'empty.csv' }));
    expect(err.code).toBe('empty_file');
    expect(err.message).toContain('empty.csv');
    expect(csvError(() => feed(['\n\r\n'])).code).toBe('empty_file');
  });

  it('rejects a header with no data rows', () => {
    const err = csvError(() => feed(['a,b,c\n'], { fileName: 'head.csv' }));
    expect(err.code).toBe('header_only');
    expect(err.message).toContain('head.csv');
  });

  it('rejects an unterminated quote, naming the line it opened on', () => {
    const err = csvError(() => feed(['a,b\n1,2\n3,"never closed\n4,5\n']));
    expect(err.code).toBe('unterminated_quote');
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/^Line 3 opens a quoted field/);
  });

  it('rejects a ragged row, naming the line and the expected width', () => {
    const input = 'a,b,c,d\n' + '1,2,3,4\n'.repeat(12) + '1,2,3,4,5\n';
    const err = csvError(() => feed([input]));
    expect(err.code).toBe('ragged_row');
    expect(err.line).toBe(14);
    expect(err.message).toBe('Line 14 has 5 fields; the header has 4.');
    expect(csvError(() => feed(['a,b\n1\n'], { fileName: 'short.csv' })).message).toBe(
      'Line 2 of short.csv has 1 field; the header has 2.'
    );
  });

  it('rejects binary content', () => {
    const garbage = String.fromCharCode(...Array.from({ length: 600 }, (_, i) => (i * 73 + 11) % 256));
    expect(looksBinary(garbage)).toBe(true);
    expect(looksBinary('PK\u0003\u0004\u0014\u0000\u0006\u0000')).toBe(true);
    expect(looksBinary('a,b\n1,2\n')).toBe(false);
    const err = csvError(() => feed([garbage], { fileName: 'photo.jpg' }));
    expect(err.code).toBe('binary_content');
    expect(err.message).toContain('photo.jpg');
  });

  it('refuses input after end()', () => {
    const parser = new CsvParser();
    parser.push('a\n1\n');
    parser.end();
    expect(() => parser.push('2\n')).toThrow(CsvError);
  });
});

/** Seeded (mulberry32), so a failure can be replayed. */
const random = seededRandom;

const CELLS = [
  '',
  '1',
  '-2.5',
  'x',
  'Zürich',
  '日本',
  '😀',
  ' pad ',
  'NA',
  '"q"',
  '"a ""b"" c"',
  '"x,y"',
  '"l\r\nm"',
  '"l\nm"',
  '"ab"c',
  'a"b',
  '""',
  '\ufeff',
  '\r',
  '"open'
];

/** A random CSV: any delimiter and line end, ragged rows, quotes of every kind, some blank lines. */
function randomCsv(next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const delimiter = pick([',', ';', '\t', '|']);
  const ending = pick(['\n', '\r\n', '\r']);
  const columns = 1 + Math.floor(next() * 5);
  const lines = Array.from({ length: Math.floor(next() * 60) }, () => {
    if (next() < 0.05) return '';
    const width = next() < 0.9 ? columns : Math.floor(next() * (columns + 2));
    return Array.from({ length: width }, () => pick(CELLS)).join(delimiter);
  });
  return (next() < 0.2 ? '\ufeff' : '') + lines.join(ending) + (next() < 0.5 ? ending : '');
}

/** Rows, header, warnings and delimiter of a parse, or the error it ends in. */
function outcome(parser: CsvParser, feedAll: () => CsvRow[]): unknown {
  try {
    const rows = feedAll();
    return {
      rows,
      header: parser.header,
      warnings: parser.warnings,
      delimiter: parser.delimiter,
      ragged: parser.raggedRows
    };
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    return { code: err.code, message: err.message, line: err.line };
  }
}

describe('CsvParser.pushBytes', () => {
  it('gives what push gives for the decoded text, cut anywhere, with or without a sink, from a reused buffer', () => {
    const encoder = new TextEncoder();
    for (let seed = 1; seed <= 1500; seed++) {
      const next = random(seed);
      const bytes = encoder.encode(randomCsv(next));
      const options: CsvParserOptions = {
        raggedRows: next() < 0.5 ? 'pad' : 'error',
        header: ([true, false, 'auto'] as const)[Math.floor(next() * 3)],
        fileName: 'f.csv'
      };
      // Byte pieces cut anywhere; the text pieces a streaming decoder makes of them; and the same
      // bytes cut at character boundaries, as pushBytes takes them.
      const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
      const texts: string[] = [];
      const pieces: Uint8Array[] = [];
      let held = new Uint8Array(0);
      for (let i = 0; i < bytes.length;) {
        const size = 1 + Math.floor(next() * (next() < 0.5 ? 6 : 120));
        const piece = bytes.subarray(i, i + size);
        i += size;
        texts.push(decoder.decode(piece, { stream: true }));
        const all = new Uint8Array(held.length + piece.length);
        all.set(held);
        all.set(piece, held.length);
        let cut = all.length;
        while (cut > 0 && cut > all.length - 4 && ((all[cut - 1] ?? 0) & 0xc0) === 0x80) cut--;
        if (cut > 0 && (all[cut - 1] ?? 0) >= 0xc0) {
          const lead = all[cut - 1] ?? 0;
          const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
          cut = all.length - (cut - 1) >= length ? all.length : cut - 1;
        } else cut = all.length;
        pieces.push(all.subarray(0, cut));
        held = all.slice(cut);
      }
      const fromText = new CsvParser(options);
      const expected = outcome(fromText, () => [
        ...texts.flatMap((t) => fromText.push(t)),
        ...fromText.end()
      ]);
      const fromBytes = new CsvParser(options);
      expect(
        outcome(fromBytes, () => [...pieces.flatMap((p) => fromBytes.pushBytes(p)), ...fromBytes.end()]),
        `seed ${seed}`
      ).toEqual(expected);
      // Through a sink: the same rows, read from the batches. Every piece is passed in one buffer,
      // scribbled over after each call: the parser may keep nothing of it but copies.
      const sunk = new CsvParser(options);
      const reused = new Uint8Array(Math.max(1, ...pieces.map((p) => p.length)));
      const rows: CsvRow[] = [];
      sunk.sendTo({
        batch(batch: CsvByteBatch) {
          for (let r = batch.from; r < batch.rows; r++) {
            const fields = Array.from({ length: batch.rowFields[r] ?? 0 }, (_, k) => batch.field(r, k));
            rows.push({ line: batch.lines[r] ?? 0, fields });
          }
        }
      });
      const viaSink = outcome(sunk, () => {
        for (const p of pieces) {
          reused.set(p);
          expect(sunk.pushBytes(reused.subarray(0, p.length))).toEqual([]);
          reused.fill(0x2c);
        }
        expect(sunk.end()).toEqual([]);
        return rows;
      });
      if ((expected as { code?: string }).code === undefined)
        expect(viaSink, `seed ${seed}`).toEqual(expected);
    }
  });

  it('sniffs bytes as it sniffs the text they spell', () => {
    const encoder = new TextEncoder();
    for (let seed = 1; seed <= 500; seed++) {
      const text = randomCsv(random(seed));
      for (const cut of [text.length, Math.floor(text.length / 2)]) {
        const sample = text.slice(0, cut);
        expect(sniffDelimiterBytes(encoder.encode(sample)), `seed ${seed}`).toBe(sniffDelimiter(sample));
      }
    }
  });
});
