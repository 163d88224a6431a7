/**
 * Each byte reader of the CSV fast path against the string rule it stands in for: where the reader
 * answers, it must answer what the string rule does for the decoded cell.
 */
import { describe, expect, it } from 'vitest';
import { parseIsoDate, parseIsoDateBytes } from './infer';
import { isMissingText } from './table-encoder';
import {
  ByteBuffer,
  ByteSet,
  booleanRange,
  isTrimmed,
  isTrimmedRange,
  missingRange,
  plainDecimal,
  utf8Text
} from './text-cells';
import { seededRandom } from '../pipeline/split';

/** Seeded (mulberry32), so a failure can be replayed. */
const random = seededRandom;

const encoder = new TextEncoder();
const bytesOf = (text: string): Uint8Array => encoder.encode(text);

/** Random short strings from pieces that matter to the readers: digits, signs, blanks of every kind, tokens, non-ASCII. */
function randomCells(seed: number, count: number): string[] {
  const next = random(seed);
  const pieces = [
    '0',
    '1',
    '7',
    '9',
    '.',
    '-',
    '+',
    'e',
    'E',
    ' ',
    '\t',
    '\u00a0',
    '\u2003',
    '\u3000',
    '\ufeff',
    '\u2028',
    'n',
    'N',
    'a',
    'A',
    '/',
    '?',
    'u',
    'l',
    'L',
    'true',
    'Yes',
    'FALSE',
    'no',
    'x',
    'ü',
    '日',
    '😀',
    '\u212a',
    'İ',
    '2024-02-29',
    '-01',
    'null',
    'NaN',
    'na',
    'n/a',
    '0x1f',
    'Infinity',
    '\u0000'
  ];
  return Array.from({ length: count }, () => {
    let cell = '';
    const parts = Math.floor(next() * 5);
    for (let k = 0; k < parts; k++) cell += pieces[Math.floor(next() * pieces.length)] ?? '';
    return cell;
  });
}

/** `text` inside other bytes, so the readers are tested on a range, not a whole array. */
function embedded(text: string): { bytes: Uint8Array; start: number; end: number } {
  const inner = bytesOf(text);
  const bytes = new Uint8Array(inner.length + 6);
  bytes.set(bytesOf('a"b'), 0);
  bytes.set(inner, 3);
  bytes.set(bytesOf(',9z'), 3 + inner.length);
  return { bytes, start: 3, end: 3 + inner.length };
}

describe('plainDecimal', () => {
  it('gives exactly Number(text) for plain decimals of up to 15 digits, and NaN (not plain) otherwise', () => {
    const next = random(1);
    const plain: string[] = [
      '0',
      '-0',
      '+0',
      '-0.0',
      '5.',
      '.5',
      '-.25',
      '007',
      '0.1',
      '123456789012345',
      '1.00000000000001'
    ];
    for (let n = 0; n < 20_000; n++) {
      const digits = 1 + Math.floor(next() * 15);
      let text = '';
      for (let k = 0; k < digits; k++) text += String(Math.floor(next() * 10));
      const point = Math.floor(next() * (digits + 2)) - 1;
      if (point >= 0 && point <= digits) text = `${text.slice(0, point)}.${text.slice(point)}`;
      const sign = next();
      plain.push((sign < 0.2 ? '-' : sign < 0.3 ? '+' : '') + text);
    }
    for (const text of plain) {
      const { bytes, start, end } = embedded(text);
      expect(Object.is(plainDecimal(bytes, start, end), Number(text)), text).toBe(true);
    }
    for (const text of [
      '',
      '-',
      '+',
      '.',
      '1e5',
      '1,5',
      ' 1',
      '1 ',
      '1.2.3',
      '--1',
      '0x1f',
      'Infinity',
      '1234567890123456',
      'NaN'
    ]) {
      const { bytes, start, end } = embedded(text);
      expect(plainDecimal(bytes, start, end), text).toBeNaN();
    }
  });
});

describe('the trim, missing and boolean readers', () => {
  it('knows exactly the characters String.prototype.trim removes', () => {
    for (let c = 0; c <= 0xffff; c++)
      expect(isTrimmed(c), c.toString(16)).toBe(String.fromCharCode(c).trim() === '');
  });

  it('answers like the string rules wherever they answer', () => {
    for (const text of randomCells(2, 20_000)) {
      const { bytes, start, end } = embedded(text);
      expect(isTrimmedRange(bytes, start, end), JSON.stringify(text)).toBe(
        text !== '' && text === text.trim()
      );
      const missing = missingRange(bytes, start, end);
      if (missing !== undefined) expect(missing, JSON.stringify(text)).toBe(isMissingText(text));
      const lower = text.trim().toLowerCase();
      const expected = lower === 'true' || lower === 'yes' ? 1 : lower === 'false' || lower === 'no' ? 0 : -1;
      const got = booleanRange(bytes, start, end);
      if (got >= 0) expect(got, JSON.stringify(text)).toBe(expected);
      else if (text === text.trim() && /^[\x20-\x7e]*$/.test(text))
        expect(expected, JSON.stringify(text)).toBe(-1);
    }
  });

  it('decides the plain cases itself', () => {
    const { bytes } = embedded('');
    expect(missingRange(bytes, 3, 3)).toBe(true);
    for (const [text, missing] of [
      ['NA', true],
      ['n/a', true],
      ['Null', true],
      ['?', true],
      ['north', false],
      ['7', false],
      ['ü', false]
    ] as const) {
      const cell = embedded(text);
      expect(missingRange(cell.bytes, cell.start, cell.end), text).toBe(missing);
    }
    for (const text of [' na', 'na ', 'nä']) {
      const cell = embedded(text);
      expect(missingRange(cell.bytes, cell.start, cell.end), text).toBeUndefined();
    }
  });

  it('reads an ISO date from bytes as parseIsoDate does from text', () => {
    const next = random(3);
    const cells = [
      '2024-02-29',
      '2023-02-29',
      '2024-13-01',
      '0099-01-01',
      '2024-1-01',
      '2024-01-01 ',
      '2024/01/01'
    ];
    for (let n = 0; n < 5000; n++) {
      const d = (k: number): string => String(Math.floor(next() * 10 ** k)).padStart(k, '0');
      cells.push(`${d(4)}-${d(2)}-${d(2)}`);
    }
    for (const text of [...cells, ...randomCells(4, 2000)]) {
      const { bytes, start, end } = embedded(text);
      expect(parseIsoDateBytes(bytes, start, end), text).toBe(parseIsoDate(text));
    }
  });
});

describe('UTF-8 helpers', () => {
  it('decodes like TextDecoder and encodes like TextEncoder, lone surrogates included', () => {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    for (const text of [
      ...randomCells(5, 5000),
      'a\ud800b',
      '\udfff',
      'x\ud83d',
      '\ufeffbom',
      'é'.repeat(40)
    ]) {
      const buffer = new ByteBuffer(4);
      buffer.appendString(text);
      const bytes = buffer.bytes.subarray(0, buffer.end);
      expect([...bytes], JSON.stringify(text)).toEqual([...encoder.encode(text)]);
      expect(utf8Text(bytes, 0, bytes.length)).toBe(decoder.decode(bytes));
    }
  });
});

describe('ByteSet', () => {
  it('count and index strings as a Map would, from bytes or strings, lone surrogates apart', () => {
    const cells = [...randomCells(6, 3000), '\ud800', '\ufffd', 'a\udc00', 'a\ufffd', ''];
    const set = new ByteSet({ keepValues: true });
    const map = new Map<string, number>();
    cells.forEach((text, n) => {
      const fromBytes = n % 2 === 0 && text.isWellFormed();
      const index = fromBytes
        ? set.addBytes(embedded(text).bytes, embedded(text).start, embedded(text).end)
        : set.addString(text);
      if (!map.has(text)) map.set(text, map.size);
      expect(index, JSON.stringify(text)).toBe(map.get(text));
    });
    expect(set.size).toBe(map.size);
    expect(set.values).toEqual([...map.keys()]);
    for (const text of cells) expect(set.indexOfString(text)).toBe(map.get(text));
    expect(set.indexOfString('never added')).toBe(-1);
  });
});
