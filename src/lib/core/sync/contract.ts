/**
 * The HTTP contract between the studio and the registry server: every request and response body as a
 * zod schema. The server validates requests with these; the sync client parses responses with them.
 */
import { z } from 'zod';
import { columnSchema, id, metricSeries, run, sha256 } from '../records';
import { mutation, syncEntity } from './mutation';

export const API_PREFIX = '/api/v1';
/** Mutations per push; the client splits its outbox into batches of at most this size. */
export const MAX_PUSH_BATCH = 500;
export const MAX_PULL_LIMIT = 1000;

export const errorBody = z.object({
  error: z.string(),
  requestId: z.string().optional(),
  /** The request field that failed validation, when that is the reason. */
  field: z.string().optional()
});
export type ErrorBody = z.infer<typeof errorBody>;

export const healthResponse = z.object({ status: z.literal('ok') });

export const userProfile = z.object({ id, name: z.string(), email: z.string() });
export type UserProfile = z.infer<typeof userProfile>;

export const sessionResponse = z.object({ token: z.string().min(1), user: userProfile });
export type SessionResponse = z.infer<typeof sessionResponse>;

export const meResponse = z.object({ user: userProfile });

export const setupStatusResponse = z.object({ needed: z.boolean() });

const password = z.string().min(8, 'at least 8 characters').max(1024);
export const setupRequest = z.object({
  token: z.string().min(1).max(512),
  name: z.string().trim().min(1).max(200),
  email: z.email().max(320),
  password
});
export type SetupRequest = z.infer<typeof setupRequest>;

export const loginRequest = z.object({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(1024)
});
export type LoginRequest = z.infer<typeof loginRequest>;

export const blobPutResponse = z.object({
  sha256,
  size: z.number().int().nonnegative(),
  created: z.boolean()
});
export type BlobPutResponse = z.infer<typeof blobPutResponse>;

export const pushRequest = z.object({
  clientId: z.string().min(1).max(100),
  mutations: z.array(mutation).min(1).max(MAX_PUSH_BATCH)
});
export type PushRequest = z.input<typeof pushRequest>;

/**
 * Why a mutation was not applied. Only `missing_blob` is worth retrying as is (after uploading the
 * blob); the others will be rejected again, so the client drops them and reports them.
 */
export const REJECTION_REASONS = [
  'forbidden',
  'missing_blob',
  'invalid',
  'immutable',
  'not_found',
  'conflict'
] as const;
export const rejectionReason = z.enum(REJECTION_REASONS);
export type RejectionReason = z.infer<typeof rejectionReason>;
export const RETRYABLE_REJECTIONS: ReadonlySet<RejectionReason> = new Set(['missing_blob']);

export const pushResult = z.discriminatedUnion('status', [
  z.object({ id, status: z.literal('applied'), seq: z.number().int().positive() }),
  z.object({ id, status: z.literal('rejected'), reason: rejectionReason, message: z.string().optional() })
]);
export type PushResult = z.infer<typeof pushResult>;

export const pushResponse = z.object({ results: z.array(pushResult) });
export type PushResponse = z.infer<typeof pushResponse>;

export const pullQuery = z.object({
  since: z.coerce.number().int().nonnegative().default(0),
  limit: z.coerce.number().int().min(1).max(MAX_PULL_LIMIT).default(500)
});
export type PullQuery = z.infer<typeof pullQuery>;

/**
 * One changed record. `record` is the server's merged state of the whole record (with `stamps` for
 * mutable entities, `deleted: true` for tombstones); `op` is the kind of its latest change.
 */
export const pullChange = z.object({
  seq: z.number().int().positive(),
  entity: syncEntity,
  recordId: id,
  projectId: id,
  op: z.enum(['insert', 'update', 'delete']),
  record: z.record(z.string(), z.unknown())
});
export type PullChange = z.infer<typeof pullChange>;

export const pullResponse = z.object({
  changes: z.array(pullChange),
  /** Pass as `since` to get the next page; equals `since` when there was nothing new. */
  nextSince: z.number().int().nonnegative(),
  hasMore: z.boolean()
});
export type PullResponse = z.infer<typeof pullResponse>;

export const shareLinkResponse = z.object({ token: z.string().min(1), url: z.string() });
export type ShareLinkResponse = z.infer<typeof shareLinkResponse>;

export const sharedRunResponse = z.object({
  run,
  series: z.array(metricSeries),
  dataset: z
    .object({ name: z.string(), rowCount: z.number().int().nonnegative(), columns: z.array(columnSchema) })
    .optional()
});
export type SharedRunResponse = z.infer<typeof sharedRunResponse>;
