/**
 * The built studio (SvelteKit static SPA). Client paths are decoded, normalised and confined to the
 * static folder; anything that is not a file gets the SPA shell so client-side routes work on reload.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { DomainError } from '../errors';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.onnx': 'application/octet-stream'
};

/** Files that must be revalidated on every load so a new release is picked up. */
const ALWAYS_REVALIDATE = new Set([
  'sw.js',
  'service-worker.js',
  'registerSW.js',
  'manifest.webmanifest',
  'version.json'
]);

export interface StaticFile {
  body: ReadableStream<Uint8Array>;
  size: number;
  contentType: string;
  cacheControl: string;
}

export class StaticFilesService {
  readonly #root: string;

  constructor(root: string) {
    this.#root = path.resolve(root);
  }

  /** The file for a URL path, the SPA shell, or undefined (no build, or a missing `/_app/` asset). */
  async resolve(urlPath: string): Promise<StaticFile | undefined> {
    const relative = this.#safeRelative(urlPath);
    if (relative !== '') {
      for (const candidate of [relative, `${relative}.html`]) {
        const file = await this.#open(candidate);
        if (file) return file;
      }
    }
    // A missing build asset is an error to surface, not a page: answering HTML for a script hides it.
    if (relative.startsWith('_app/')) return undefined;
    return this.#open('index.html');
  }

  #safeRelative(urlPath: string): string {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      throw new DomainError('bad_request', 'Malformed path.');
    }
    const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
    if (decoded.includes('\0') || decoded.includes('\\') || segments.some((s) => s === '..')) {
      throw new DomainError('bad_request', 'Invalid path.');
    }
    const relative = segments.join('/');
    const full = path.resolve(this.#root, relative);
    // Belt and braces after the segment check: the result must stay inside the root.
    if (full !== this.#root && !full.startsWith(this.#root + path.sep))
      throw new DomainError('bad_request', 'Invalid path.');
    return relative;
  }

  async #open(relative: string): Promise<StaticFile | undefined> {
    const full = path.join(this.#root, relative);
    try {
      const info = await stat(full);
      if (!info.isFile()) return undefined;
      const ext = path.extname(full).toLowerCase();
      return {
        body: Readable.toWeb(createReadStream(full)) as ReadableStream<Uint8Array>,
        size: info.size,
        contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
        cacheControl: cacheControlFor(relative, ext)
      };
    } catch {
      return undefined;
    }
  }
}

function cacheControlFor(relative: string, ext: string): string {
  if (relative.startsWith('_app/immutable/')) return 'public, max-age=31536000, immutable';
  if (ext === '.html' || ALWAYS_REVALIDATE.has(path.basename(relative))) return 'no-cache';
  return 'public, max-age=3600';
}
