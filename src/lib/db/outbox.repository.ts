/**
 * The outbox: mutations waiting to reach the registry server. `enqueue` must be called inside the
 * Dexie transaction that makes the change, so a change and its mutation commit or fail together.
 */
import { uuidv7 } from '../core/ids';
import type { Mutation } from '../core/sync/mutation';
import { getDb, type OutboxRow } from './db';

export type MutationDraft = Omit<Mutation, 'id' | 'hlc'>;

export async function enqueue(draft: MutationDraft, hlc: string): Promise<Mutation> {
  const mutation: Mutation = { ...draft, id: uuidv7(), hlc };
  await getDb().outbox.add({ mutation, createdAt: Date.now(), attempts: 0, lastError: null });
  return mutation;
}

export async function pendingMutations(limit = 100): Promise<OutboxRow[]> {
  return getDb().outbox.orderBy('seq').limit(limit).toArray();
}

export async function pendingCount(): Promise<number> {
  return getDb().outbox.count();
}

/** Remove mutations the server has answered for (applied, or rejected for good). */
export async function removeMutations(ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await getDb()
    .outbox.where('mutation.id')
    .anyOf([...ids])
    .delete();
}

export async function recordFailure(ids: readonly string[], reason: string): Promise<void> {
  const db = getDb();
  await db.transaction('rw', db.outbox, async () => {
    const rows = await db.outbox
      .where('mutation.id')
      .anyOf([...ids])
      .toArray();
    for (const row of rows) {
      await db.outbox.update(row.seq!, { attempts: row.attempts + 1, lastError: reason });
    }
  });
}
