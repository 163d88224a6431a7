/**
 * Push and pull. A push applies each mutation with the shared merge rules, records the result under the
 * mutation's id (so a replay returns the same answer and changes nothing), and gives every real change
 * a new sequence number. A pull returns each changed record once, at its latest sequence number.
 */
import type {
  PullChange,
  PullQuery,
  PullResponse,
  PushResult,
  UserProfile
} from '../../../src/lib/core/sync/contract';
import {
  applyMutation,
  checkMutationFields,
  recordFromState,
  referencedBlobs
} from '../../../src/lib/core/sync/merge';
import type { Mutation } from '../../../src/lib/core/sync/mutation';
import type { BlobStore } from '../repositories/blob-store';
import type { MetadataStore, MetadataTx, StoredRecord } from '../repositories/metadata-store';

/** The record a child belongs to, so share pages can find a run's series without scanning. */
function parentOf(m: Mutation, fields: Record<string, unknown>): string | null {
  const key = m.entity === 'metricSeries' ? 'runId' : m.entity === 'datasetVersion' ? 'datasetId' : null;
  const value = key ? fields[key] : undefined;
  return typeof value === 'string' ? value : null;
}

export class SyncService {
  readonly #store: MetadataStore;
  readonly #blobs: BlobStore;

  constructor(store: MetadataStore, blobs: BlobStore) {
    this.#store = store;
    this.#blobs = blobs;
  }

  async push(user: UserProfile, mutations: readonly Mutation[]): Promise<PushResult[]> {
    // Blob checks touch the blob store, so they happen before the transaction, once per hash.
    const wanted = new Set(mutations.flatMap((m) => [...m.blobs, ...referencedBlobs(m.entity, m.fields)]));
    const present = new Set<string>();
    await Promise.all(
      [...wanted].map(async (hash) => {
        if (await this.#blobs.has(hash)) present.add(hash);
      })
    );
    return this.#store.transaction(async (tx) => {
      const results: PushResult[] = [];
      for (const m of mutations) results.push(await this.#applyOne(tx, user, m, present));
      return results;
    });
  }

  async #applyOne(
    tx: MetadataTx,
    user: UserProfile,
    m: Mutation,
    presentBlobs: ReadonlySet<string>
  ): Promise<PushResult> {
    const earlier = await tx.getMutationResult(m.id);
    if (earlier) return earlier;
    const reject = (
      reason: Extract<PushResult, { status: 'rejected' }>['reason'],
      message: string
    ): PushResult => ({
      id: m.id,
      status: 'rejected',
      reason,
      message
    });

    const checked = checkMutationFields(m);
    if (!checked.ok) return reject(checked.reason, checked.message);

    // "One project per user to start": a project the server has never seen is created by its first push.
    if (m.entity === 'project' && m.op === 'insert' && !(await tx.projectExists(m.projectId))) {
      await tx.createProject(m.projectId, user.id, Date.now());
    }
    const role = await tx.getRole(m.projectId, user.id);
    if (role !== 'owner' && role !== 'editor') return reject('forbidden', 'You cannot change this project.');

    const blobs = [...new Set([...m.blobs, ...referencedBlobs(m.entity, checked.fields)])];
    const missing = blobs.filter((hash) => !presentBlobs.has(hash));
    if (missing.length > 0) return reject('missing_blob', `Upload these blobs first: ${missing.join(', ')}`);

    const current = await tx.getRecord(m.recordId);
    if (current && (current.entity !== m.entity || current.projectId !== m.projectId)) {
      return reject(
        'conflict',
        `Record ${m.recordId} already exists as another ${current.entity} or in another project.`
      );
    }
    const outcome = applyMutation(current?.state, { ...m, fields: checked.fields });
    if (outcome.kind === 'rejected') return reject(outcome.reason, outcome.message);

    let seq: number;
    if (outcome.result.changed || !current) {
      seq = await tx.nextSeq();
      const next: StoredRecord = {
        entity: m.entity,
        id: m.recordId,
        projectId: m.projectId,
        parentId: current?.parentId ?? parentOf(m, checked.fields),
        state: outcome.result.state,
        seq,
        lastOp:
          m.op === 'delete' || outcome.result.state.fields.deleted === true
            ? 'delete'
            : current
              ? 'update'
              : 'insert'
      };
      await tx.putRecord(next);
      if (blobs.length > 0) await tx.addBlobReferences(m.recordId, m.projectId, blobs);
    } else {
      // A stale write or a repeated insert: applied, and the record keeps its latest sequence number.
      seq = current.seq;
    }
    const result: PushResult = { id: m.id, status: 'applied', seq };
    await tx.saveMutationResult(m.id, user.id, result, Date.now());
    return result;
  }

  async pull(user: UserProfile, query: PullQuery): Promise<PullResponse> {
    const rows = await this.#store.transaction((tx) =>
      tx.listChangesForUser(user.id, query.since, query.limit + 1)
    );
    const page = rows.slice(0, query.limit);
    const changes: PullChange[] = page.map((r) => ({
      seq: r.seq,
      entity: r.entity,
      recordId: r.id,
      projectId: r.projectId,
      op: r.lastOp,
      record: recordFromState(r.state)
    }));
    const last = page.at(-1);
    return { changes, nextSince: last ? last.seq : query.since, hasMore: rows.length > query.limit };
  }
}
