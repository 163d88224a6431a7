/**
 * The one way a mutable, synced record changes locally: the patched fields get a fresh clock stamp,
 * and the record and its `update` mutation are written in the same transaction.
 */
import type { EntityTable, IDType } from 'dexie';
import { LatheError } from '../core/errors';
import type { SyncEntity } from '../core/sync/mutation';
import { getDb } from './db';
import { getClock } from './meta.repository';
import { enqueue } from './outbox.repository';

interface SyncedRecord {
  id: string;
  projectId: string;
  updatedAt: number;
  stamps?: Record<string, string>;
}

export async function updateSynced<T extends SyncedRecord>(
  table: EntityTable<T, 'id'>,
  entity: SyncEntity,
  id: string,
  patch: Partial<T>,
  missing: string,
  /** Blobs the patched fields name: uploaded before the mutation is pushed. */
  blobs: string[] = []
): Promise<T> {
  const db = getDb();
  const clock = await getClock();
  return db.transaction('rw', table, db.outbox, async () => {
    const current = await table.get(id as IDType<T, 'id'>);
    if (!current) throw new LatheError(`${entity}_missing`, missing);
    const stamp = clock.tick();
    const stamps = { ...current.stamps };
    for (const key of Object.keys(patch)) stamps[key] = stamp;
    const next: T = { ...current, ...patch, updatedAt: Date.now(), stamps };
    await table.put(next);
    await enqueue(
      { entity, op: 'update', recordId: id, projectId: current.projectId, fields: { ...patch }, blobs },
      stamp
    );
    return next;
  });
}
