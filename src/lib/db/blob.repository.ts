/** Content-addressed blobs: the same bytes are stored once, under their SHA-256. */
import { sha256Hex } from '../core/hash';
import { LatheError } from '../core/errors';
import { getDb } from './db';

export async function putBlob(bytes: ArrayBuffer, knownHash?: string): Promise<string> {
  const hash = knownHash ?? (await sha256Hex(bytes));
  const db = getDb();
  const existing = await db.blobs.get(hash);
  if (!existing)
    await db.blobs.put({ hash, bytes, size: bytes.byteLength, createdAt: Date.now(), uploaded: 0 });
  return hash;
}

export async function getBlob(hash: string): Promise<ArrayBuffer> {
  const row = await getDb().blobs.get(hash);
  if (!row)
    throw new LatheError('blob_missing', `Stored data ${hash.slice(0, 12)}… is missing from this browser.`);
  return row.bytes;
}

export async function hasBlob(hash: string): Promise<boolean> {
  return (await getDb().blobs.get(hash)) !== undefined;
}

export async function markUploaded(hash: string): Promise<void> {
  await getDb().blobs.update(hash, { uploaded: 1 });
}

export async function isUploaded(hash: string): Promise<boolean> {
  return (await getDb().blobs.get(hash))?.uploaded === 1;
}

/** Which of `hashes` this browser lacks; reads keys only, so large blobs are not loaded to check. */
export async function missingBlobs(hashes: readonly string[]): Promise<string[]> {
  const wanted = [...new Set(hashes)];
  if (wanted.length === 0) return [];
  const present = new Set(await getDb().blobs.where('hash').anyOf(wanted).primaryKeys());
  return wanted.filter((hash) => !present.has(hash));
}

/**
 * Store a blob downloaded from the registry server (the caller verified its hash). It is marked as
 * uploaded: the server has it, so the sync engine must not send it back.
 */
export async function putDownloadedBlob(hash: string, bytes: ArrayBuffer): Promise<void> {
  const db = getDb();
  await db.transaction('rw', db.blobs, async () => {
    // Counting by key does not read the stored bytes back.
    if ((await db.blobs.where('hash').equals(hash).count()) > 0) {
      await db.blobs.update(hash, { uploaded: 1 });
      return;
    }
    await db.blobs.put({ hash, bytes, size: bytes.byteLength, createdAt: Date.now(), uploaded: 1 });
  });
}
