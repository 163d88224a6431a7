/**
 * Content-addressed blob storage: a blob's name is the SHA-256 of its bytes. A folder by default; an
 * S3-compatible bucket can implement the same interface.
 */
export interface StoredBlob {
  size: number;
  body: ReadableStream<Uint8Array>;
}

export interface BlobPutOutcome {
  /** False when the blob was already stored (the upload was a harmless repeat). */
  created: boolean;
  size: number;
}

export interface BlobStore {
  has(sha256: string): Promise<boolean>;
  /**
   * Store `body` under `sha256`, verifying the digest and the size limit while streaming. Throws a
   * `hash_mismatch` or `payload_too_large` DomainError and stores nothing when a check fails.
   */
  put(sha256: string, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<BlobPutOutcome>;
  get(sha256: string): Promise<StoredBlob | undefined>;
}
