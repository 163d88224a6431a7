/**
 * Which text encoding a file is in, decided from its first bytes: a byte-order mark, the NUL pattern
 * UTF-16 text without a mark has, or whether the start is valid UTF-8 (Windows-1252, the superset of
 * Latin-1 browsers use for "latin1", when it is not).
 */

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface DetectedEncoding {
  encoding: TextEncodingName;
  /** Bytes of byte-order mark at the start, to skip. */
  bomLength: number;
  /** How it was decided, for the import report. */
  reason: 'bom' | 'nul-pattern' | 'valid-utf8' | 'invalid-utf8';
}

/** How much of the start of a file encoding detection looks at. */
export const ENCODING_SAMPLE_BYTES = 64 * 1024;

/** Decides the encoding of a file from its first bytes (`ENCODING_SAMPLE_BYTES` are plenty). */
export function detectEncoding(head: Uint8Array, isWholeFile = false): DetectedEncoding {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
    return { encoding: 'utf-8', bomLength: 3, reason: 'bom' };
  }
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2, reason: 'bom' };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2, reason: 'bom' };
  const utf16 = utf16ByNulPattern(head);
  if (utf16) return { encoding: utf16, bomLength: 0, reason: 'nul-pattern' };
  const sample = head.subarray(0, ENCODING_SAMPLE_BYTES);
  const complete = isWholeFile && sample.length === head.length;
  return isValidUtf8(sample, !complete)
    ? { encoding: 'utf-8', bomLength: 0, reason: 'valid-utf8' }
    : { encoding: 'windows-1252', bomLength: 0, reason: 'invalid-utf8' };
}

/**
 * ASCII-range text in UTF-16 has a NUL in every other byte: at odd offsets in little-endian, at even
 * ones in big-endian. Binary files have NULs too, but not that regularly.
 */
function utf16ByNulPattern(head: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  const n = Math.min(head.length, 1024) & ~1;
  if (n < 4) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) evenNul++;
    if (head[i + 1] === 0) oddNul++;
  }
  const pairs = n / 2;
  if (oddNul >= 0.7 * pairs && evenNul <= 0.05 * pairs) return 'utf-16le';
  if (evenNul >= 0.7 * pairs && oddNul <= 0.05 * pairs) return 'utf-16be';
  return undefined;
}

/**
 * True when the bytes are valid UTF-8. With `allowTruncatedEnd`, a multi-byte sequence cut off by the
 * end of the sample still counts as valid: the sample is only the start of the file.
 */
export function isValidUtf8(bytes: Uint8Array, allowTruncatedEnd = true): boolean {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return false;
    // A sequence cut off by the end of the sample.
    if (i + need >= n) return allowTruncatedEnd;
    let code = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return false;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

/** A person's name for an encoding, for warnings. */
export function encodingLabel(encoding: TextEncodingName): string {
  switch (encoding) {
    case 'utf-8':
      return 'UTF-8';
    case 'utf-16le':
      return 'UTF-16 LE';
    case 'utf-16be':
      return 'UTF-16 BE';
    case 'windows-1252':
      return 'Latin-1 (Windows-1252)';
  }
}
