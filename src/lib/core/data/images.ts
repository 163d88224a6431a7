/**
 * Image datasets: a ZIP archive (read as a stream with fflate) or a dropped folder of class
 * sub-folders (`cats/1.png`, `dogs/7.jpg`). Each image becomes a row: `path` (identifier), `label`
 * (categorical, the name of the folder holding it), `image_hash` (the SHA-256 of its bytes: the image
 * is a content-addressed blob returned in `IngestResult.blobs`, stored once however often it
 * appears), `mime`, `bytes`, and `width`/`height` read from the image header (PNG, JPEG, GIF, BMP,
 * WebP), so Node and workers get them without decoding pixels. Rows are sorted by path, so the same
 * images give the same dataset whatever order the archive or the browser lists them in.
 */
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import { sha256Hex } from '../hash';
import { IMAGE_MAGIC, IMAGE_MIME, IngestError, sniffMagic } from './formats';
import type { ContentBlob, IngestContext, IngestResult } from './ingest';
import type { ColumnHint, RawCell } from './table-encoder';

export const IMAGE_COLUMNS = ['path', 'label', 'image_hash', 'mime', 'bytes', 'width', 'height'] as const;

const IMAGE_HINTS: ReadonlyMap<string, ColumnHint> = new Map<string, ColumnHint>([
  ['path', 'identifier'],
  ['label', 'categorical'],
  ['image_hash', 'text'],
  ['mime', 'categorical'],
  ['bytes', 'integer'],
  ['width', 'integer'],
  ['height', 'integer']
]);

/** Width and height from an image's header, when its format is one we know. */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const kind = sniffMagic(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    switch (kind) {
      case 'png':
        return { width: view.getUint32(16), height: view.getUint32(20) };
      case 'gif':
        return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
      case 'bmp':
        return { width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
      case 'webp': {
        const chunk = String.fromCharCode(...bytes.subarray(12, 16));
        if (chunk === 'VP8X') {
          const w = 1 + (view.getUint16(24, true) | ((bytes[26] ?? 0) << 16));
          const h = 1 + (view.getUint16(27, true) | ((bytes[29] ?? 0) << 16));
          return { width: w, height: h };
        }
        if (chunk === 'VP8L') {
          const b = view.getUint32(21, true);
          return { width: 1 + (b & 0x3fff), height: 1 + ((b >> 14) & 0x3fff) };
        }
        if (chunk === 'VP8 ')
          return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
        return undefined;
      }
      case 'jpeg': {
        let i = 2;
        while (i + 9 < bytes.length) {
          if (bytes[i] !== 0xff) return undefined;
          const marker = bytes[i + 1] ?? 0;
          const length = view.getUint16(i + 2);
          // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
          if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
            return { height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
          }
          i += 2 + length;
        }
        return undefined;
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** One image found in an archive or folder. */
export interface ImageEntry {
  path: string;
  data: Uint8Array;
}

interface ImageRow {
  path: string;
  label: string | null;
  hash: string;
  mime: string;
  bytes: number;
  width: number | null;
  height: number | null;
}

function labelOf(path: string): string | null {
  const parts = path.split('/').filter(Boolean);
  return parts.length >= 2 ? (parts[parts.length - 2] ?? null) : null;
}

function skipped(path: string): boolean {
  const parts = path.split('/');
  return parts.some((p) => p.startsWith('.') || p === '__MACOSX') || path.endsWith('/');
}

/** Collects images as rows and blobs; non-image files are counted, not imported. */
class ImageCollector {
  readonly rows: ImageRow[] = [];
  readonly blobs = new Map<string, ContentBlob>();
  ignored = 0;
  firstIgnored: string | undefined;

  async add(entry: ImageEntry): Promise<void> {
    if (skipped(entry.path)) return;
    const kind = sniffMagic(entry.data);
    if (!kind || !IMAGE_MAGIC.has(kind)) {
      this.ignored++;
      this.firstIgnored ??= entry.path;
      return;
    }
    const data =
      entry.data.byteOffset === 0 && entry.data.byteLength === entry.data.buffer.byteLength
        ? (entry.data.buffer as ArrayBuffer)
        : (entry.data.slice().buffer as ArrayBuffer);
    const hash = await sha256Hex(data);
    const mime = IMAGE_MIME[kind] ?? 'application/octet-stream';
    if (!this.blobs.has(hash)) this.blobs.set(hash, { hash, bytes: data.byteLength, mime, data });
    const size = imageSize(entry.data);
    this.rows.push({
      path: entry.path,
      label: labelOf(entry.path),
      hash,
      mime,
      bytes: data.byteLength,
      width: size?.width ?? null,
      height: size?.height ?? null
    });
  }

  async finish(ctx: IngestContext): Promise<IngestResult> {
    if (this.rows.length === 0) {
      throw new IngestError(
        'no_images',
        `${ctx.fileName} holds no PNG, JPEG, GIF, BMP or WebP images${this.firstIgnored ? ` (the first file, “${this.firstIgnored}”, is not an image)` : ''}; expected one folder of images per class.`,
        { fileName: ctx.fileName }
      );
    }
    this.rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const encoder = ctx.newEncoder(IMAGE_COLUMNS, IMAGE_HINTS, false);
    const cells: RawCell[] = new Array<RawCell>(IMAGE_COLUMNS.length);
    this.rows.forEach((row, i) => {
      cells[0] = row.path;
      cells[1] = row.label;
      cells[2] = row.hash;
      cells[3] = row.mime;
      cells[4] = row.bytes;
      cells[5] = row.width;
      cells[6] = row.height;
      encoder.push(cells, i + 1);
    });
    const warnings: string[] = [];
    if (this.ignored > 0) {
      warnings.push(
        `${this.ignored} file${this.ignored === 1 ? ' was' : 's were'} not an image and ${this.ignored === 1 ? 'was' : 'were'} left out (e.g. “${this.firstIgnored ?? ''}”).`
      );
    }
    const unlabelled = this.rows.filter((r) => r.label === null).length;
    if (unlabelled > 0) {
      warnings.push(
        `${unlabelled} image${unlabelled === 1 ? ' is' : 's are'} not inside a class folder; their label is missing.`
      );
    }
    const result = await ctx.finish(encoder, 'images', { warnings });
    result.blobs = [...this.blobs.values()];
    return result;
  }
}

/** Reads a ZIP archive of class folders as it streams in. Throws `IngestError` (`invalid_zip`, `no_images`). */
export async function readImageZip(
  ctx: IngestContext,
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>
): Promise<IngestResult> {
  const collector = new ImageCollector();
  const done: ImageEntry[] = [];
  let failure: unknown;
  const unzip = new Unzip((file: UnzipFile) => {
    if (file.name.endsWith('/')) return;
    const parts: Uint8Array[] = [];
    let length = 0;
    file.ondata = (err, chunk, final) => {
      if (err) {
        failure ??= err;
        return;
      }
      parts.push(chunk);
      length += chunk.byteLength;
      if (final) {
        const data = new Uint8Array(length);
        let offset = 0;
        for (const part of parts) {
          data.set(part, offset);
          offset += part.byteLength;
        }
        done.push({ path: file.name, data });
      }
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  const fail = (err: unknown): never => {
    const reason = err instanceof Error ? err.message : String(err);
    throw new IngestError(
      'invalid_zip',
      `${ctx.fileName} is not a readable ZIP archive (near byte ${ctx.bytesRead}): ${reason}`,
      {
        fileName: ctx.fileName,
        offset: ctx.bytesRead
      }
    );
  };
  for await (const piece of ctx.pieces(stream)) {
    try {
      unzip.push(piece, false);
    } catch (err) {
      fail(err);
    }
    if (failure) fail(failure);
    for (const entry of done.splice(0)) await collector.add(entry);
    ctx.progress();
  }
  try {
    unzip.push(new Uint8Array(0), true);
  } catch (err) {
    fail(err);
  }
  if (failure) fail(failure);
  for (const entry of done.splice(0)) await collector.add(entry);
  return collector.finish(ctx);
}

/** Reads a dropped folder: files with their paths relative to the folder (`webkitRelativePath`). */
export async function readImageFolder(
  ctx: IngestContext,
  files: ReadonlyArray<{ path: string; read(): Promise<ArrayBuffer> }>
): Promise<IngestResult> {
  const collector = new ImageCollector();
  // The dropped folder's own name is the first path part; labels are the folders inside it.
  const paths = files.map((f) => f.path.replace(/^\/+/, ''));
  const roots = new Set(paths.map((p) => p.split('/')[0]));
  const strip = roots.size === 1 && paths.every((p) => p.split('/').length >= 3);
  for (const [i, file] of files.entries()) {
    ctx.checkCancelled();
    const data = new Uint8Array(await file.read());
    ctx.bytesRead += data.byteLength;
    const path = paths[i] ?? file.path;
    await collector.add({ path: strip ? path.slice(path.indexOf('/') + 1) : path, data });
    ctx.progress();
  }
  return collector.finish(ctx);
}
