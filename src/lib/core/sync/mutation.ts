/**
 * A mutation is one local change that must reach the registry server. It is written to the outbox in
 * the same transaction as the change, and carries its own idempotency id so replays change nothing.
 */
import { z } from 'zod';
import { id, sha256 } from '../records';

export const SYNC_ENTITIES = [
  'project',
  'dataset',
  'datasetVersion',
  'datasetSplit',
  'run',
  'metricSeries'
] as const;
export const syncEntity = z.enum(SYNC_ENTITIES);
export type SyncEntity = z.infer<typeof syncEntity>;

/** Immutable entities are insert-once; the others merge per field, last writer wins by clock. */
export const IMMUTABLE_ENTITIES: ReadonlySet<SyncEntity> = new Set([
  'datasetVersion',
  'datasetSplit',
  'metricSeries'
]);

export const mutation = z.object({
  /** Idempotency id: the server applies a mutation id at most once. */
  id,
  entity: syncEntity,
  op: z.enum(['insert', 'update', 'delete']),
  recordId: id,
  projectId: id,
  /** Hybrid logical clock stamp of the change; every field in `fields` gets this stamp. */
  hlc: z.string().min(1).max(100),
  /** For insert: the whole record. For update: the changed fields. For delete: empty. */
  fields: z.record(z.string(), z.unknown()),
  /** Blobs the record names; they are uploaded before the mutation is pushed. */
  blobs: z.array(sha256).default([])
});
export type Mutation = z.infer<typeof mutation>;
