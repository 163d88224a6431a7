/**
 * Revocable read-only links to a run. The token is 256 random bits handed out once; the database keeps
 * only its hash, like session tokens.
 */
import { dataset, datasetVersion, metricSeries, run, type MetricSeries } from '../../../src/lib/core/records';
import type { ShareLinkResponse, SharedRunResponse, UserProfile } from '../../../src/lib/core/sync/contract';
import { recordFromState } from '../../../src/lib/core/sync/merge';
import { DomainError } from '../errors';
import type { MetadataStore, StoredRecord } from '../repositories/metadata-store';
import { hashToken, randomToken } from './credentials';

function live(record: StoredRecord | undefined): StoredRecord | undefined {
  return record && record.state.fields.deleted !== true ? record : undefined;
}

export class ShareService {
  readonly #store: MetadataStore;

  constructor(store: MetadataStore) {
    this.#store = store;
  }

  async create(user: UserProfile, runId: string): Promise<ShareLinkResponse> {
    const token = randomToken();
    await this.#store.transaction(async (tx) => {
      const record = live(await tx.getRecord(runId));
      const role = record?.entity === 'run' ? await tx.getRole(record.projectId, user.id) : undefined;
      // Unknown and unreadable runs look the same, so run ids cannot be probed.
      if (!record || !role) throw new DomainError('not_found', 'No such run.');
      await tx.insertShareLink({
        tokenHash: hashToken(token),
        runId,
        projectId: record.projectId,
        createdBy: user.id,
        createdAt: Date.now(),
        revokedAt: null
      });
    });
    return { token, url: `/share/${token}` };
  }

  async revoke(user: UserProfile, token: string): Promise<void> {
    const tokenHash = hashToken(token);
    await this.#store.transaction(async (tx) => {
      const link = await tx.findShareLink(tokenHash);
      const role = link && !link.revokedAt ? await tx.getRole(link.projectId, user.id) : undefined;
      if (!link || link.revokedAt || !role) throw new DomainError('not_found', 'No such share link.');
      if (role === 'viewer')
        throw new DomainError('forbidden', 'Only owners and editors can revoke share links.');
      await tx.revokeShareLink(tokenHash, Date.now());
    });
  }

  /** The shared view of a run; no account needed, only the token. */
  async read(token: string): Promise<SharedRunResponse> {
    return this.#store.transaction(async (tx) => {
      const link = await tx.findShareLink(hashToken(token));
      const record = link && !link.revokedAt ? live(await tx.getRecord(link.runId)) : undefined;
      if (!record) throw new DomainError('not_found', 'This share link does not exist or was revoked.');
      const shared = run.parse(recordFromState(record.state));
      const series: MetricSeries[] = (await tx.listChildren('metricSeries', shared.id)).map((s) =>
        metricSeries.parse(recordFromState(s.state))
      );
      const versionRecord = live(await tx.getRecord(shared.spec.datasetVersionId));
      if (versionRecord?.entity !== 'datasetVersion') return { run: shared, series };
      const version = datasetVersion.parse(recordFromState(versionRecord.state));
      const datasetRecord = await tx.getRecord(version.datasetId);
      const name =
        datasetRecord?.entity === 'dataset'
          ? dataset.parse(recordFromState(datasetRecord.state)).name
          : version.source.name;
      return { run: shared, series, dataset: { name, rowCount: version.rowCount, columns: version.columns } };
    });
  }
}
