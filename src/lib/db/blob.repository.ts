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
