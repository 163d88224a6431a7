/**
 * `DistinctCounter` (in `./column-stats`) as the import feeds it: UTF-8 bytes and whole chunks of a
 * column at once must count exactly what the same values given one by one, as strings or numbers,
 * count; with `Set`'s equality for numbers (0 and −0 one value, every NaN one value).
 */
import { describe, expect, it } from 'vitest';
import { DistinctCounter } from './distinct-counter';
import { seededRandom } from '../pipeline/split';

const encoder = new TextEncoder();

/** Strings as an Arrow Utf8 column: one byte buffer, offsets, and 1 where a row is present. */
function utf8Column(values: ReadonlyArray<string | null>): {
  bytes: Uint8Array;
  offsets: Int32Array;
  present: Uint8Array;
} {
  const parts = values.map((v) => encoder.encode(v ?? ''));
  const offsets = new Int32Array(values.length + 1);
  parts.forEach((part, i) => (offsets[i + 1] = (offsets[i] ?? 0) + part.length));
  const bytes = new Uint8Array(offsets[values.length] ?? 0);
  parts.forEach((part, i) => bytes.set(part, offsets[i] ?? 0));
  return { bytes, offsets, present: Uint8Array.from(values, (v) => (v === null ? 0 : 1)) };
}

describe('DistinctCounter', () => {
  it('counts a string given as UTF-8 bytes as the same value as the string', () => {
    const words = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'Zürich', '日本語', '😀', 'x'.repeat(301)];
    const fromStrings = new DistinctCounter();
    const mixed = new DistinctCounter();
    for (const word of words) {
      fromStrings.addString(word);
      mixed.addString(word);
      // Embedded in other bytes, as a cell is in a piece of a file.
      const bytes = encoder.encode(`,,${word};`);
      mixed.addBytes(bytes, 2, bytes.length - 1);
    }
    expect(fromStrings.result()).toEqual({ count: words.length, relativeError: null });
    expect(mixed.result()).toEqual({ count: words.length, relativeError: null });
  });

  it('counts whole chunks (addUtf8, addNumbers) as value by value, skipping rows not present', () => {
    const next = seededRandom(11);
    const one = new DistinctCounter();
    const chunked = new DistinctCounter();
    const numbersOne = new DistinctCounter();
    const numbersChunked = new DistinctCounter();
    // Several chunks, so the exact set grows (by the rate of new values) and then spills.
    for (let chunk = 0; chunk < 6; chunk++) {
      const strings = Array.from({ length: 40_000 }, () =>
        next() < 0.05 ? null : `k${Math.floor(next() * (chunk < 2 ? 3000 : 400_000))}`
      );
      const numbers = Float64Array.from(strings, (s) => Number(s?.slice(1) ?? 0) / 8);
      const { bytes, offsets, present } = utf8Column(strings);
      chunked.addUtf8(bytes, offsets, present, strings.length);
      numbersChunked.addNumbers(numbers, present, numbers.length);
      strings.forEach((s, i) => {
        if (s === null) return;
        one.addString(s);
        numbersOne.addNumber(numbers[i] ?? 0);
      });
      expect(chunked.result(), `chunk ${chunk}`).toEqual(one.result());
      expect(numbersChunked.result(), `chunk ${chunk}`).toEqual(numbersOne.result());
    }
    expect(chunked.exact).toBe(false);
  });

  it('counts numbers as a Set does: 0 and −0 alike, every NaN once, whatever its bits', () => {
    const values = new Float64Array(8);
    const words = new Int32Array(values.buffer);
    values.set([0, -0, NaN, Infinity, -Infinity, 1.5]);
    // Two more NaNs with other payloads, which a Float64Array keeps.
    words[13] = 0x7ff00000;
    words[12] = 1;
    words[15] = -1;
    words[14] = -1;
    expect([values[6], values[7]]).toEqual([NaN, NaN]);
    const chunked = new DistinctCounter();
    chunked.addNumbers(values, new Uint8Array(8).fill(1), 8);
    const one = new DistinctCounter();
    for (const v of values) one.addNumber(v);
    const reference = new Set(values);
    expect(chunked.result()).toEqual({ count: reference.size, relativeError: null });
    expect(one.result()).toEqual({ count: reference.size, relativeError: null });
  });
});
