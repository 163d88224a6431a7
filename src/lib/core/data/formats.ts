/**
 * What kind of file an import was given: magic bytes first, then the name's extension, then a look at
 * the first characters of text. A file whose bytes say one thing and whose name says a tabular format
 * (a PNG called `.csv`, a `.parquet` without the `PAR1` mark) is refused with a message naming both.
 */
import { LatheError } from '../errors';

export type DatasetFormat = 'csv' | 'tsv' | 'json' | 'ndjson' | 'arrow' | 'parquet' | 'images';

export type IngestErrorCode =
  | 'wrong_format'
  | 'not_parquet'
  | 'not_arrow'
  | 'unsupported_format'
  | 'invalid_json'
  | 'invalid_parquet'
  | 'invalid_arrow'
  | 'empty_file'
  | 'no_images'
  | 'invalid_zip';

/** A file that cannot be imported; the message names the file, where the problem is and what was expected. */
export class IngestError extends LatheError<IngestErrorCode> {
  readonly fileName: string;
  /** 1-based line (text formats) where the problem was found. */
  readonly line: number | undefined;
  /** 0-based byte offset where the problem was found, when known. */
  readonly offset: number | undefined;
  constructor(
    code: IngestErrorCode,
    message: string,
    details: { fileName: string; line?: number; column?: number; offset?: number }
  ) {
    super(code, message, details);
    this.name = 'IngestError';
    this.fileName = details.fileName;
    this.line = details.line;
    this.offset = details.offset;
  }
}

/** A binary kind recognised by its first bytes. */
export type MagicKind =
  | 'parquet'
  | 'arrow-file'
  | 'arrow-stream'
  | 'zip'
  | 'gzip'
  | 'png'
  | 'jpeg'
  | 'gif'
  | 'webp'
  | 'bmp'
  | 'pdf'
  | 'ole'
  | 'sqlite'
  | 'bzip2'
  | '7z'
  | 'xz';

const MAGIC_NAMES: Record<MagicKind, string> = {
  parquet: 'a Parquet file',
  'arrow-file': 'an Arrow IPC file',
  'arrow-stream': 'an Arrow IPC stream',
  zip: 'a ZIP archive (or a .xlsx/.docx file, which are ZIP archives)',
  gzip: 'a gzip-compressed file',
  png: 'a PNG image',
  jpeg: 'a JPEG image',
  gif: 'a GIF image',
  webp: 'a WebP image',
  bmp: 'a BMP image',
  pdf: 'a PDF document',
  ole: 'an old Microsoft Office document (.xls/.doc)',
  sqlite: 'a SQLite database',
  bzip2: 'a bzip2-compressed file',
  '7z': 'a 7-Zip archive',
  xz: 'an xz-compressed file'
};

export function describeMagic(kind: MagicKind): string {
  return MAGIC_NAMES[kind];
}

function startsWith(head: Uint8Array, bytes: readonly number[], at = 0): boolean {
  if (head.length < at + bytes.length) return false;
  return bytes.every((b, i) => head[at + i] === b);
}

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/** The binary kind of a file from its first bytes, or undefined for text and unknown binaries. */
export function sniffMagic(head: Uint8Array): MagicKind | undefined {
  if (startsWith(head, ascii('PAR1'))) return 'parquet';
  if (startsWith(head, ascii('ARROW1'))) return 'arrow-file';
  // An IPC stream starts with a continuation marker and a metadata length.
  if (startsWith(head, [0xff, 0xff, 0xff, 0xff]) && head.length >= 8 && (head[4] ?? 0) + (head[5] ?? 0) > 0) {
    return 'arrow-stream';
  }
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) return 'zip';
  if (startsWith(head, [0x1f, 0x8b])) return 'gzip';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, ascii('GIF87a')) || startsWith(head, ascii('GIF89a'))) return 'gif';
  if (startsWith(head, ascii('RIFF')) && startsWith(head, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(head, ascii('BM')) && head.length >= 26 && head[14] !== undefined && head[14] >= 12) {
    // "BM" alone is too common at the start of text; a BMP also has a sane header size.
    const headerSize = (head[14] ?? 0) | ((head[15] ?? 0) << 8);
    if ([12, 40, 52, 56, 108, 124].includes(headerSize)) return 'bmp';
  }
  if (startsWith(head, ascii('%PDF-'))) return 'pdf';
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return 'ole';
  if (startsWith(head, ascii('SQLite format 3\0'))) return 'sqlite';
  if (startsWith(head, ascii('BZh'))) return 'bzip2';
  if (startsWith(head, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return '7z';
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  return undefined;
}

export const IMAGE_MAGIC: ReadonlySet<MagicKind> = new Set(['png', 'jpeg', 'gif', 'webp', 'bmp']);

export const IMAGE_MIME: Partial<Record<MagicKind, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp'
};

/** The format a file name's extension claims, if it names one Lathe reads. */
export function formatFromName(fileName: string): DatasetFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  switch (ext) {
    case 'csv':
    case 'txt':
    case 'dat':
      return 'csv';
    case 'tsv':
    case 'tab':
      return 'tsv';
    case 'json':
      return 'json';
    case 'ndjson':
    case 'jsonl':
      return 'ndjson';
    case 'arrow':
    case 'arrows':
    case 'feather':
    case 'ipc':
      return 'arrow';
    case 'parquet':
    case 'pq':
      return 'parquet';
    case 'zip':
      return 'images';
    default:
      return undefined;
  }
}

export interface DetectedFormat {
  format: DatasetFormat;
  /** Set when magic bytes decided against the name, for a warning. */
  note?: string;
}

const FORMAT_NAMES: Record<DatasetFormat, string> = {
  csv: 'a CSV file',
  tsv: 'a TSV file',
  json: 'a JSON file',
  ndjson: 'an NDJSON file',
  arrow: 'an Arrow IPC file',
  parquet: 'a Parquet file',
  images: 'a ZIP of image folders'
};

/**
 * Decides how to read a file from its first bytes (a few KB) and its name. Text formats are told
 * apart by extension, then by the first non-blank character (`[` a JSON array, `{` NDJSON).
 */
export function detectFormat(head: Uint8Array, fileName: string): DetectedFormat {
  const claimed = formatFromName(fileName);
  const magic = sniffMagic(head);
  if (head.length === 0) {
    throw new IngestError('empty_file', `“${fileName}” is empty: it has no bytes at all.`, {
      fileName,
      offset: 0
    });
  }
  if (claimed === 'parquet' && magic !== 'parquet') {
    const found = magic ? describeMagic(magic) : 'something else';
    throw new IngestError(
      'not_parquet',
      `“${fileName}” is named like a Parquet file but does not start with the Parquet mark “PAR1” (byte 0); it looks like ${found}.`,
      { fileName, offset: 0 }
    );
  }
  if (claimed === 'arrow' && magic !== 'arrow-file' && magic !== 'arrow-stream') {
    const found = magic ? describeMagic(magic) : 'something else';
    throw new IngestError(
      'not_arrow',
      `“${fileName}” is named like an Arrow IPC file but starts with neither “ARROW1” nor an IPC stream marker (byte 0); it looks like ${found}.`,
      { fileName, offset: 0 }
    );
  }
  if (magic === 'parquet' || magic === 'arrow-file' || magic === 'arrow-stream') {
    const format: DatasetFormat = magic === 'parquet' ? 'parquet' : 'arrow';
    const note =
      claimed && claimed !== format
        ? `“${fileName}” is named like ${FORMAT_NAMES[claimed]} but is ${describeMagic(magic)}; it was read as ${FORMAT_NAMES[format]}.`
        : undefined;
    return note ? { format, note } : { format };
  }
  if (magic === 'zip' && (claimed === 'images' || claimed === undefined)) return { format: 'images' };
  if (magic) {
    const expected = claimed ? FORMAT_NAMES[claimed] : 'a CSV, TSV, JSON, NDJSON, Arrow or Parquet file';
    throw new IngestError(
      'wrong_format',
      `“${fileName}” cannot be imported: its first bytes show ${describeMagic(magic)}, not ${expected}.`,
      { fileName, offset: 0 }
    );
  }
  if (claimed === 'images') {
    throw new IngestError(
      'wrong_format',
      `“${fileName}” is named like a ZIP archive but does not start with the ZIP mark “PK” (byte 0).`,
      { fileName, offset: 0 }
    );
  }
  if (claimed) return { format: claimed };
  const first = firstVisibleChar(head);
  if (first === '[') return { format: 'json' };
  if (first === '{') return { format: 'ndjson' };
  return { format: 'csv' };
}

/** The first non-blank character of ASCII-compatible or UTF-16 text. */
function firstVisibleChar(head: Uint8Array): string | undefined {
  for (let i = 0; i < Math.min(head.length, 4096); i++) {
    const b = head[i] ?? 0;
    if (
      b === 0 ||
      b === 0x20 ||
      b === 0x09 ||
      b === 0x0a ||
      b === 0x0d ||
      b === 0xef ||
      b === 0xbb ||
      b === 0xbf
    )
      continue;
    if (b === 0xff || b === 0xfe) continue;
    return String.fromCharCode(b);
  }
  return undefined;
}
