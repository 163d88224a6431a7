/**
 * Blobs as files under `<root>/ab/cdef…` (the first two hex digits shard the folder). Uploads go to a
 * temporary file in the same folder tree and are renamed into place only after the digest matches, so
 * a reader never sees a partial or wrong blob.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SHA256_PATTERN } from '../../../src/lib/core/hash';
import { DomainError } from '../errors';
import type { BlobPutOutcome, BlobStore, StoredBlob } from './blob-store';

export class FolderBlobStore implements BlobStore {
  readonly #root: string;
  readonly #tmp: string;

  constructor(root: string) {
    this.#root = path.resolve(root);
    this.#tmp = path.join(this.#root, 'tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.#tmp, { recursive: true });
  }

  /** The file of a blob; the name is checked here too, so no caller can turn it into a path. */
  #file(sha256: string): string {
    if (!SHA256_PATTERN.test(sha256))
      throw new DomainError('bad_request', 'A blob name is a SHA-256 hex digest.', 'sha256');
    return path.join(this.#root, sha256.slice(0, 2), sha256.slice(2));
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.#file(sha256))).isFile();
    } catch {
      return false;
    }
  }

  async put(sha256: string, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<BlobPutOutcome> {
    const target = this.#file(sha256);
    if (await this.has(sha256)) {
      await body.cancel();
      return { created: false, size: (await stat(target)).size };
    }
    const temp = path.join(this.#tmp, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const file = await open(temp, 'wx');
    try {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        // Counted as bytes arrive: Content-Length is the client's claim, not a limit.
        if (size > maxBytes) {
          await reader.cancel();
          throw new DomainError('payload_too_large', `A blob can be at most ${maxBytes} bytes.`);
        }
        hash.update(value);
        await file.write(value);
      }
      await file.sync();
    } catch (err) {
      await file.close();
      await rm(temp, { force: true });
      throw err;
    }
    await file.close();
    const digest = hash.digest('hex');
    if (digest !== sha256) {
      await rm(temp, { force: true });
      throw new DomainError(
        'hash_mismatch',
        'The uploaded bytes do not match the SHA-256 in the URL.',
        'sha256'
      );
    }
    await mkdir(path.dirname(target), { recursive: true });
    // A concurrent upload of the same bytes may have won; renaming over it is harmless (same content).
    await rename(temp, target);
    return { created: true, size };
  }

  async get(sha256: string): Promise<StoredBlob | undefined> {
    const file = this.#file(sha256);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      return undefined;
    }
    return { size, body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array> };
  }
}
