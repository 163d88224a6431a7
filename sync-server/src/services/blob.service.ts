/**
 * Blob upload and download. Reading a blob requires that a record in a project the user belongs to
 * names it; `HEAD` answers any signed-in user, since uploads need it before any record exists.
 */
import type { UserProfile } from '../../../src/lib/core/sync/contract';
import { DomainError } from '../errors';
import type { BlobPutOutcome, BlobStore, StoredBlob } from '../repositories/blob-store';
import type { MetadataStore } from '../repositories/metadata-store';

export class BlobService {
  readonly #store: MetadataStore;
  readonly #blobs: BlobStore;
  readonly #maxBytes: number;

  constructor(store: MetadataStore, blobs: BlobStore, maxBytes: number) {
    this.#store = store;
    this.#blobs = blobs;
    this.#maxBytes = maxBytes;
  }

  has(sha256: string): Promise<boolean> {
    return this.#blobs.has(sha256);
  }

  async upload(sha256: string, body: ReadableStream<Uint8Array> | null): Promise<BlobPutOutcome> {
    if (!body) throw new DomainError('bad_request', 'The request has no body to store.');
    return this.#blobs.put(sha256, body, this.#maxBytes);
  }

  async download(user: UserProfile, sha256: string): Promise<StoredBlob> {
    const allowed = await this.#store.transaction((tx) => tx.canUserReadBlob(user.id, sha256));
    // Same answer for "absent" and "not yours", so blob names cannot be probed through GET.
    const blob = allowed ? await this.#blobs.get(sha256) : undefined;
    if (!blob) throw new DomainError('not_found', 'No such blob.');
    return blob;
  }
}
