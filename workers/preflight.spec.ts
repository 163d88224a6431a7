import 'fake-indexeddb/auto';
import { tableFromArrays, type Table } from 'apache-arrow';
import { expose, wrap } from 'comlink';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { columnSchemaOf, tableToFrame } from '../src/lib/core/data/frame';
import type { SplitSpec } from '../src/lib/core/pipeline/splits';
import { runSpec, type DatasetVersion, type RunSpec, type RunSpecInput } from '../src/lib/core/records';
import { saveSplit, saveVersion, updateDataset } from '../src/lib/db/dataset.repository';
import { LatheDB, useDb } from '../src/lib/db/db';
import { createDataWorkerClient } from '../src/lib/workers/data.client';
import { createWorkerClient } from '../src/lib/workers/worker-client';
import type { DataWorkerApi } from './data-api';
import { encodeTable } from './data-insights';
import { createDataWorkerApi } from './data.worker';
import { installErrorSerializer } from './error-serializer';

const PROJECT = '01920000-0000-7000-8000-00000000000a';
const UNKNOWN = '01920000-0000-7000-8000-00000000000b';
const ports: MessagePort[] = [];

/** The worker's API behind Comlink over a real MessageChannel, as the page sees it. */
function connect(api: DataWorkerApi): ReturnType<typeof wrap<DataWorkerApi>> {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  expose(api, port2);
  return wrap<DataWorkerApi>(port1);
}

/** A Worker stand-in running the real data worker API in-process, for the page-side client. */
function spawn(api: DataWorkerApi): Worker {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  expose(api, port2);
  const worker = Object.assign(new EventTarget(), {
    postMessage: (message: unknown, transfer: Transferable[] = []) => port1.postMessage(message, transfer),
    terminate: () => port1.close()
  });
  port1.addEventListener('message', (event) =>
    worker.dispatchEvent(Object.assign(new Event('message'), { data: (event as MessageEvent).data }))
  );
  port1.start();
  return worker as unknown as Worker;
}

let db: LatheDB;
beforeEach(() => {
  db = new LatheDB(`preflight-${Math.random()}`);
  useDb(db);
});
afterEach(async () => {
  for (const port of ports.splice(0)) port.close();
  db.close();
  await db.delete();
});

/** 40 customers: an id, two honest features and a churn label missing in 4 rows. */
function customers(): Table {
  return tableFromArrays({
    account: Array.from({ length: 40 }, (_, i) => `A-${1000 + i}`),
    tenure: Float64Array.from({ length: 40 }, (_, i) => (i * 37) % 23),
    spend: Float64Array.from({ length: 40 }, (_, i) => ((i * 17) % 11) * 3.5),
    churned: Array.from({ length: 40 }, (_, i) => (i % 10 === 9 ? null : (i * 7) % 3 === 0 ? 'yes' : 'no'))
  });
}

/** Stores `table` as a version of a new dataset, as an import does. */
async function store(table: Table): Promise<DatasetVersion> {
  const { chunks, contentHash } = await encodeTable(table, 16);
  const { version } = await saveVersion({
    projectId: PROJECT,
    name: 'customers',
    contentHash,
    rowCount: table.numRows,
    columns: tableToFrame(table).columns.map(columnSchemaOf),
    chunks,
    source: { name: 'customers.csv', bytes: 1000, format: 'csv' }
  });
  return version;
}

/** Computes a split in the worker and stores it with the version, as the split dialog does. */
async function storeSplit(api: DataWorkerApi, version: DatasetVersion, spec: SplitSpec): Promise<string> {
  const computed = await api.computeSplit(version.id, spec);
  const split = await saveSplit({
    projectId: PROJECT,
    datasetId: version.datasetId,
    versionId: version.id,
    name: spec.kind,
    spec,
    specHash: computed.specHash,
    counts: computed.counts,
    assignments: computed.assignments,
    assignmentsHash: computed.assignmentsHash
  });
  return split.id;
}

function spec(version: DatasetVersion, overrides: Partial<RunSpecInput> = {}): RunSpec {
  return runSpec.parse({
    datasetId: version.datasetId,
    datasetVersionId: version.id,
    target: 'churned',
    features: ['tenure', 'spend'],
    task: 'classification',
    model: { kind: 'logistic' },
    split: { testFraction: 0.25, seed: 1 },
    preprocessing: { pipeline: null },
    dropMissingTarget: true,
    training: { epochs: 5, batchSize: 8, optimizer: { kind: 'adam', learningRate: 0.01 } },
    seed: 1,
    ...overrides
  });
}

describe('data worker preflight', () => {
  it("checks a stored version through Comlink, with the dataset's roles from IndexedDB", async () => {
    const version = await store(customers());
    const remote = connect(createDataWorkerApi());

    const sound = await remote.preflight(version.id, spec(version));
    expect(sound.ok).toBe(true);
    expect(sound.issues.map((i) => i.code)).toEqual(['target_missing_dropped']);
    expect(sound.issues[0]?.message).toContain('4 rows of 40');

    const refused = await remote.preflight(version.id, spec(version, { dropMissingTarget: false }));
    expect(refused.issues.find((i) => i.code === 'target_missing')?.fix).toEqual({
      kind: 'drop_missing_target',
      rows: 4
    });

    // The role lives on the dataset record, not in the spec: the worker reads it.
    await updateDataset(version.datasetId, { roles: { spend: 'identifier' } });
    const byRole = await remote.preflight(version.id, spec(version));
    expect(byRole.ok).toBe(false);
    expect(byRole.issues[0]).toMatchObject({
      code: 'identifier_feature',
      column: 'spend',
      fix: { kind: 'remove_feature', column: 'spend' }
    });
  });

  it('reads the counts of the stored split a spec names', async () => {
    const version = await store(customers());
    const api = createDataWorkerApi();
    const remote = connect(api);
    const early = {
      epochs: 20,
      batchSize: 8,
      optimizer: { kind: 'adam', learningRate: 0.01 },
      earlyStopping: {}
    } as const;

    const holdout = await storeSplit(api, version, { kind: 'random', testFraction: 0.25, seed: 3 });
    const noValidation = await remote.preflight(
      version.id,
      spec(version, { splitId: holdout, training: early })
    );
    expect(noValidation.issues.map((i) => i.code)).toContain('early_stopping_without_validation');
    expect(
      noValidation.issues.find((i) => i.code === 'early_stopping_without_validation')?.message
    ).toContain('the stored split has none');

    const withValidation = await storeSplit(api, version, {
      kind: 'random',
      testFraction: 0.25,
      validationFraction: 0.2,
      seed: 3
    });
    expect(
      (await remote.preflight(version.id, spec(version, { splitId: withValidation, training: early }))).ok
    ).toBe(true);

    // Four folds of 40 rows: fold 1 (10 rows) tests, 30 train, fewer than a batch of 32.
    const folds = await storeSplit(api, version, { kind: 'kfold', k: 4, seed: 3 });
    const big = { epochs: 5, batchSize: 32, optimizer: { kind: 'adam', learningRate: 0.01 } } as const;
    const kfold = await remote.preflight(version.id, spec(version, { splitId: folds, training: big }));
    expect(kfold.issues.find((i) => i.code === 'batch_larger_than_data')?.fix).toEqual({
      kind: 'lower_batch_size',
      batchSize: 30
    });

    // Counts the caller passes win over the stored ones.
    const passed = await remote.preflight(version.id, spec(version, { splitId: holdout }), {
      train: 5,
      validation: 0,
      test: 35
    });
    expect(passed.issues.map((i) => i.code)).toContain('too_few_train_rows');

    const missing = await remote.preflight(version.id, spec(version, { splitId: UNKNOWN }));
    expect(missing.issues.map((i) => i.code)).toContain('split_missing');
  });

  it('answers through the page-side client, and rejects an unknown version with its code', async () => {
    installErrorSerializer();
    const version = await store(customers());
    const client = createDataWorkerClient(
      createWorkerClient<DataWorkerApi>(() => spawn(createDataWorkerApi()), { name: 'data worker' })
    );
    const report = await client.preflight(version.id, spec(version, { features: ['tenure', 'churned'] }));
    expect(report.ok).toBe(false);
    expect(report.issues.map((i) => i.code)).toEqual(['target_as_feature', 'target_missing_dropped']);

    const err: unknown = await client.preflight(UNKNOWN, spec(version)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'version_missing' });
    client.terminate();
  });
});
