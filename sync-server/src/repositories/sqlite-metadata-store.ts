/**
 * The default metadata store: one SQLite file in WAL mode through better-sqlite3. better-sqlite3 is
 * synchronous, so transactions are serialised with a promise queue: one connection, one transaction
 * at a time, and no request's statements can land inside another request's transaction.
 */
import Database from 'better-sqlite3';
import { z } from 'zod';
import { pushResult, type PushResult } from '../../../src/lib/core/sync/contract';
import { syncEntity, type SyncEntity } from '../../../src/lib/core/sync/mutation';
import {
  ROLES,
  type MetadataStore,
  type MetadataTx,
  type RecordOp,
  type Role,
  type SessionRow,
  type ShareLinkRow,
  type StoredRecord,
  type UserRow
} from './metadata-store';

/** Append-only: a released migration is never edited; a change is a new entry. */
const MIGRATIONS: ReadonlyArray<{ id: number; name: string; sql: string }> = [
  {
    id: 1,
    name: 'initial',
    sql: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE projects (
        id TEXT PRIMARY KEY,
        created_by TEXT NOT NULL REFERENCES users(id),
        created_at INTEGER NOT NULL
      );
      CREATE TABLE memberships (
        project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
        PRIMARY KEY (project_id, user_id)
      );
      CREATE INDEX memberships_user ON memberships(user_id);
      CREATE TABLE records (
        id TEXT PRIMARY KEY,
        entity TEXT NOT NULL,
        project_id TEXT NOT NULL,
        parent_id TEXT,
        fields TEXT NOT NULL,
        stamps TEXT NOT NULL,
        seq INTEGER NOT NULL UNIQUE,
        last_op TEXT NOT NULL
      );
      CREATE INDEX records_project_seq ON records(project_id, seq);
      CREATE INDEX records_parent ON records(entity, parent_id);
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO counters (name, value) VALUES ('seq', 0);
      CREATE TABLE blob_refs (
        sha256 TEXT NOT NULL,
        record_id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        PRIMARY KEY (sha256, record_id)
      );
      CREATE INDEX blob_refs_project ON blob_refs(project_id);
      CREATE TABLE mutation_results (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE share_links (
        token_hash TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
    `
  }
];

interface UserDbRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  created_at: number;
}
interface RecordDbRow {
  id: string;
  entity: string;
  project_id: string;
  parent_id: string | null;
  fields: string;
  stamps: string;
  seq: number;
  last_op: string;
}
interface ShareDbRow {
  token_hash: string;
  run_id: string;
  project_id: string;
  created_by: string;
  created_at: number;
  revoked_at: number | null;
}

const jsonObject = z.record(z.string(), z.unknown());
const stampMap = z.record(z.string(), z.string());
const recordOp = z.enum(['insert', 'update', 'delete']);

function toUser(row: UserDbRow | undefined): UserRow | undefined {
  return (
    row && {
      id: row.id,
      email: row.email,
      name: row.name,
      passwordHash: row.password_hash,
      createdAt: row.created_at
    }
  );
}

/** Rows are re-validated on the way out: the file is ours, but a bad row must fail loudly, not spread. */
function toRecord(row: RecordDbRow | undefined): StoredRecord | undefined {
  if (!row) return undefined;
  const entity: SyncEntity = syncEntity.parse(row.entity);
  const lastOp: RecordOp = recordOp.parse(row.last_op);
  return {
    entity,
    id: row.id,
    projectId: row.project_id,
    parentId: row.parent_id,
    state: {
      fields: jsonObject.parse(JSON.parse(row.fields)),
      stamps: stampMap.parse(JSON.parse(row.stamps))
    },
    seq: row.seq,
    lastOp
  };
}

function toShare(row: ShareDbRow | undefined): ShareLinkRow | undefined {
  return (
    row && {
      tokenHash: row.token_hash,
      runId: row.run_id,
      projectId: row.project_id,
      createdBy: row.created_by,
      createdAt: row.created_at,
      revokedAt: row.revoked_at
    }
  );
}

class SqliteTx implements MetadataTx {
  readonly #db: Database.Database;
  constructor(db: Database.Database) {
    this.#db = db;
  }

  async countUsers(): Promise<number> {
    const row = this.#db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number };
    return row.n;
  }
  async insertUser(u: UserRow): Promise<void> {
    this.#db
      .prepare('INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(u.id, u.email, u.name, u.passwordHash, u.createdAt);
  }
  async findUserByEmail(email: string): Promise<UserRow | undefined> {
    return toUser(
      this.#db.prepare('SELECT * FROM users WHERE email = ?').get(email) as UserDbRow | undefined
    );
  }
  async findUserById(id: string): Promise<UserRow | undefined> {
    return toUser(this.#db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserDbRow | undefined);
  }

  async insertSession(s: SessionRow): Promise<void> {
    this.#db
      .prepare('INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .run(s.tokenHash, s.userId, s.createdAt, s.expiresAt);
  }
  async findSession(tokenHash: string): Promise<SessionRow | undefined> {
    const row = this.#db.prepare('SELECT * FROM sessions WHERE token_hash = ?').get(tokenHash) as
      { token_hash: string; user_id: string; created_at: number; expires_at: number } | undefined;
    return (
      row && {
        tokenHash: row.token_hash,
        userId: row.user_id,
        createdAt: row.created_at,
        expiresAt: row.expires_at
      }
    );
  }
  async deleteSession(tokenHash: string): Promise<void> {
    this.#db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
  }

  async projectExists(projectId: string): Promise<boolean> {
    return this.#db.prepare('SELECT 1 FROM projects WHERE id = ?').get(projectId) !== undefined;
  }
  async createProject(projectId: string, ownerId: string, createdAt: number): Promise<void> {
    this.#db
      .prepare('INSERT INTO projects (id, created_by, created_at) VALUES (?, ?, ?)')
      .run(projectId, ownerId, createdAt);
    this.#db
      .prepare("INSERT INTO memberships (project_id, user_id, role) VALUES (?, ?, 'owner')")
      .run(projectId, ownerId);
  }
  async getRole(projectId: string, userId: string): Promise<Role | undefined> {
    const row = this.#db
      .prepare('SELECT role FROM memberships WHERE project_id = ? AND user_id = ?')
      .get(projectId, userId) as { role: string } | undefined;
    return ROLES.find((r) => r === row?.role);
  }

  async getRecord(id: string): Promise<StoredRecord | undefined> {
    return toRecord(
      this.#db.prepare('SELECT * FROM records WHERE id = ?').get(id) as RecordDbRow | undefined
    );
  }
  async putRecord(r: StoredRecord): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO records (id, entity, project_id, parent_id, fields, stamps, seq, last_op) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET fields = excluded.fields, stamps = excluded.stamps, seq = excluded.seq, last_op = excluded.last_op`
      )
      .run(
        r.id,
        r.entity,
        r.projectId,
        r.parentId,
        JSON.stringify(r.state.fields),
        JSON.stringify(r.state.stamps),
        r.seq,
        r.lastOp
      );
  }
  async listChildren(entity: SyncEntity, parentId: string): Promise<StoredRecord[]> {
    const rows = this.#db
      .prepare('SELECT * FROM records WHERE entity = ? AND parent_id = ? ORDER BY seq')
      .all(entity, parentId) as RecordDbRow[];
    return rows.map((row) => toRecord(row)).filter((r): r is StoredRecord => r !== undefined);
  }
  async listChangesForUser(userId: string, since: number, limit: number): Promise<StoredRecord[]> {
    const rows = this.#db
      .prepare(
        `SELECT r.* FROM records r JOIN memberships m ON m.project_id = r.project_id AND m.user_id = ?
         WHERE r.seq > ? ORDER BY r.seq LIMIT ?`
      )
      .all(userId, since, limit) as RecordDbRow[];
    return rows.map((row) => toRecord(row)).filter((r): r is StoredRecord => r !== undefined);
  }
  async nextSeq(): Promise<number> {
    const row = this.#db
      .prepare("UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value")
      .get() as { value: number };
    return row.value;
  }

  async addBlobReferences(recordId: string, projectId: string, hashes: readonly string[]): Promise<void> {
    const insert = this.#db.prepare(
      'INSERT OR IGNORE INTO blob_refs (sha256, record_id, project_id) VALUES (?, ?, ?)'
    );
    for (const hash of hashes) insert.run(hash, recordId, projectId);
  }
  async canUserReadBlob(userId: string, sha256: string): Promise<boolean> {
    const row = this.#db
      .prepare(
        'SELECT 1 FROM blob_refs b JOIN memberships m ON m.project_id = b.project_id WHERE b.sha256 = ? AND m.user_id = ? LIMIT 1'
      )
      .get(sha256, userId);
    return row !== undefined;
  }

  async getMutationResult(mutationId: string): Promise<PushResult | undefined> {
    const row = this.#db.prepare('SELECT result FROM mutation_results WHERE id = ?').get(mutationId) as
      { result: string } | undefined;
    return row && pushResult.parse(JSON.parse(row.result));
  }
  async saveMutationResult(
    mutationId: string,
    userId: string,
    result: PushResult,
    at: number
  ): Promise<void> {
    this.#db
      .prepare('INSERT INTO mutation_results (id, user_id, result, created_at) VALUES (?, ?, ?, ?)')
      .run(mutationId, userId, JSON.stringify(result), at);
  }

  async insertShareLink(l: ShareLinkRow): Promise<void> {
    this.#db
      .prepare(
        'INSERT INTO share_links (token_hash, run_id, project_id, created_by, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)'
      )
      .run(l.tokenHash, l.runId, l.projectId, l.createdBy, l.createdAt, l.revokedAt);
  }
  async findShareLink(tokenHash: string): Promise<ShareLinkRow | undefined> {
    return toShare(
      this.#db.prepare('SELECT * FROM share_links WHERE token_hash = ?').get(tokenHash) as
        ShareDbRow | undefined
    );
  }
  async revokeShareLink(tokenHash: string, at: number): Promise<void> {
    this.#db
      .prepare('UPDATE share_links SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL')
      .run(at, tokenHash);
  }
}

export class SqliteMetadataStore implements MetadataStore {
  readonly #db: Database.Database;
  readonly #tx: SqliteTx;
  /** Tail of the transaction queue. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    this.#migrate();
    this.#tx = new SqliteTx(this.#db);
  }

  #migrate(): void {
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)'
    );
    const applied = new Set(
      (this.#db.prepare('SELECT id FROM migrations').all() as Array<{ id: number }>).map((r) => r.id)
    );
    for (const m of MIGRATIONS) {
      if (applied.has(m.id)) continue;
      this.#db.transaction(() => {
        this.#db.exec(m.sql);
        this.#db
          .prepare('INSERT INTO migrations (id, name, applied_at) VALUES (?, ?, ?)')
          .run(m.id, m.name, Date.now());
      })();
    }
  }

  transaction<T>(fn: (tx: MetadataTx) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.#tx);
        this.#db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw err;
      }
    };
    const next = this.#queue.then(run, run);
    // The queue must keep going whether this transaction succeeds or not.
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.#queue;
    this.#db.close();
  }
}
