/** Training checkpoints: one per run, replaced as training goes on, local to this browser. */
import { getDb, type CheckpointRow } from './db';

export async function saveCheckpoint(row: Omit<CheckpointRow, 'savedAt'>): Promise<void> {
  await getDb().checkpoints.put({ ...row, savedAt: Date.now() });
}

export function getCheckpoint(runId: string): Promise<CheckpointRow | undefined> {
  return getDb().checkpoints.get(runId);
}

/** Epochs saved per run, for the runs list ("resume from epoch 10"). */
export async function checkpointEpochs(runIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await getDb().checkpoints.bulkGet([...runIds]);
  return new Map(rows.flatMap((row) => (row ? [[row.runId, row.epoch] as const] : [])));
}

export async function deleteCheckpoint(runId: string): Promise<void> {
  await getDb().checkpoints.delete(runId);
}
