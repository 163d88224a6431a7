/** Small key-value settings of this browser: client id, clock, session, preferences. */
import { uuidv7 } from '../core/ids';
import { HybridLogicalClock } from '../core/sync/hlc';
import { getDb } from './db';

export async function getMeta<T>(key: string): Promise<T | undefined> {
  const row = await getDb().meta.get(key);
  return row?.value as T | undefined;
}

export async function setMeta(key: string, value: unknown): Promise<void> {
  await getDb().meta.put({ key, value });
}

export async function deleteMeta(key: string): Promise<void> {
  await getDb().meta.delete(key);
}

/** This browser's stable client id: the tie-breaker of its clock stamps. */
export async function getClientId(): Promise<string> {
  const db = getDb();
  return db.transaction('rw', db.meta, async () => {
    const existing = await db.meta.get('clientId');
    if (typeof existing?.value === 'string') return existing.value;
    const clientId = uuidv7();
    await db.meta.put({ key: 'clientId', value: clientId });
    return clientId;
  });
}

let clock: { db: object; clock: HybridLogicalClock } | null = null;

/** The clock of this client; bound to the open database so tests with fresh databases get fresh clocks. */
export async function getClock(): Promise<HybridLogicalClock> {
  const db = getDb();
  if (clock?.db === db) return clock.clock;
  const c = new HybridLogicalClock(await getClientId());
  clock = { db, clock: c };
  return c;
}
