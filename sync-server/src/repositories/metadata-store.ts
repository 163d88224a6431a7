/**
 * The metadata store: users, sessions, projects and roles, synced records, idempotency results and
 * share links. Every method is async and all access goes through `transaction`, so a PostgreSQL
 * adapter (a pooled client with BEGIN/COMMIT) can implement the same interface as SQLite.
 */
import type { SyncEntity } from '../../../src/lib/core/sync/mutation';
import type { MergeState } from '../../../src/lib/core/sync/merge';
import type { PushResult } from '../../../src/lib/core/sync/contract';

export const ROLES = ['owner', 'editor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface UserRow {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  createdAt: number;
}

export interface SessionRow {
  tokenHash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

export type RecordOp = 'insert' | 'update' | 'delete';

export interface StoredRecord {
  entity: SyncEntity;
  id: string;
  projectId: string;
  /** The record a child belongs to (a series' run, a version's dataset), for lookups by parent. */
  parentId: string | null;
  state: MergeState;
  /** Sequence number of the record's latest change; pull pages by it. */
  seq: number;
  lastOp: RecordOp;
}

export interface ShareLinkRow {
  tokenHash: string;
  runId: string;
  projectId: string;
  createdBy: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface MetadataTx {
  countUsers(): Promise<number>;
  insertUser(user: UserRow): Promise<void>;
  findUserByEmail(email: string): Promise<UserRow | undefined>;
  findUserById(id: string): Promise<UserRow | undefined>;

  insertSession(session: SessionRow): Promise<void>;
  findSession(tokenHash: string): Promise<SessionRow | undefined>;
  deleteSession(tokenHash: string): Promise<void>;

  projectExists(projectId: string): Promise<boolean>;
  createProject(projectId: string, ownerId: string, createdAt: number): Promise<void>;
  getRole(projectId: string, userId: string): Promise<Role | undefined>;

  getRecord(id: string): Promise<StoredRecord | undefined>;
  /** Insert or replace a record; the caller assigns `seq` from `nextSeq`. */
  putRecord(record: StoredRecord): Promise<void>;
  /** Records of one entity under a parent, e.g. the metric series of a run. */
  listChildren(entity: SyncEntity, parentId: string): Promise<StoredRecord[]>;
  /** Records with `seq > since` in projects the user belongs to, in seq order. */
  listChangesForUser(userId: string, since: number, limit: number): Promise<StoredRecord[]>;
  nextSeq(): Promise<number>;

  addBlobReferences(recordId: string, projectId: string, hashes: readonly string[]): Promise<void>;
  /** Whether a record in a project the user belongs to names this blob. */
  canUserReadBlob(userId: string, sha256: string): Promise<boolean>;

  getMutationResult(mutationId: string): Promise<PushResult | undefined>;
  saveMutationResult(mutationId: string, userId: string, result: PushResult, at: number): Promise<void>;

  insertShareLink(link: ShareLinkRow): Promise<void>;
  findShareLink(tokenHash: string): Promise<ShareLinkRow | undefined>;
  revokeShareLink(tokenHash: string, at: number): Promise<void>;
}

export interface MetadataStore {
  /** Run `fn` atomically: it commits when the promise resolves and rolls back when it rejects. */
  transaction<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
