import { describe, expect, it } from 'vitest';
import { formatHlc } from './hlc';
import { applyMutation, checkMutationFields, mergeStates, mutationToState, type MergeState } from './merge';
import type { Mutation } from './mutation';

const projectId = '01900000-0000-7000-8000-000000000001';
const runId = '01900000-0000-7000-8000-000000000002';
const spec = {
  datasetId: '01900000-0000-7000-8000-000000000003',
  datasetVersionId: '01900000-0000-7000-8000-000000000004',
  target: 'y',
  features: ['x'],
  task: 'regression',
  model: 'linear',
  split: { testFraction: 0.2, seed: 1 },
  preprocessing: [],
  training: { epochs: 1, batchSize: 8, learningRate: 0.01, optimizer: 'adam' },
  seed: 1
};

let n = 0;
function mutation(partial: Pick<Mutation, 'op' | 'hlc' | 'fields'>): Mutation {
  n += 1;
  return {
    id: `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    entity: 'run',
    recordId: runId,
    projectId,
    blobs: [],
    ...partial
  };
}

function stamp(wall: number, node: string, counter = 0): string {
  return formatHlc({ wall, counter, node });
}

/** A small deterministic PRNG so a failing shuffle can be reproduced from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function fold(mutations: readonly Mutation[]): MergeState | undefined {
  let state: MergeState | undefined;
  for (const m of mutations) state = mergeStates(m.entity, state, mutationToState(m)).state;
  return state;
}

const insertFields = {
  id: runId,
  projectId,
  name: 'first',
  status: 'queued',
  spec,
  environment: null,
  metrics: {},
  error: null,
  startedAt: null,
  finishedAt: null,
  createdAt: 1,
  updatedAt: 1
};

describe('merge', () => {
  it('ends in the same state whatever order the same mutations arrive in', () => {
    const random = mulberry32(42);
    const nodes = ['client-a', 'client-b', 'client-c'];
    const mutations: Mutation[] = [
      mutation({ op: 'insert', hlc: stamp(999, 'client-a'), fields: insertFields })
    ];
    const statuses = ['queued', 'running', 'completed', 'failed'];
    for (let i = 0; i < 40; i++) {
      const node = nodes[i % nodes.length] ?? 'client-a';
      const wall = 1000 + Math.floor(random() * 50);
      const hlc = stamp(wall, node, i);
      const pick = Math.floor(random() * 4);
      const fields =
        pick === 0
          ? { name: `name-${i}` }
          : pick === 1
            ? { status: statuses[i % statuses.length] }
            : pick === 2
              ? { metrics: { rmse: i }, name: `both-${i}` }
              : {};
      mutations.push(mutation(pick === 3 ? { op: 'delete', hlc, fields } : { op: 'update', hlc, fields }));
    }
    const reference = fold(mutations);
    expect(reference).toBeDefined();
    for (let trial = 0; trial < 200; trial++) {
      expect(fold(shuffle(mutations, random))).toEqual(reference);
    }
    // Replaying everything again changes nothing (idempotence).
    expect(fold([...mutations, ...shuffle(mutations, random)])).toEqual(reference);
  });

  it('keeps the newest value per field, not per record', () => {
    const insert = mutation({ op: 'insert', hlc: stamp(1, 'a'), fields: insertFields });
    const rename = mutation({ op: 'update', hlc: stamp(5, 'a'), fields: { name: 'from a' } });
    const finish = mutation({
      op: 'update',
      hlc: stamp(3, 'b'),
      fields: { name: 'from b', status: 'completed' }
    });
    const state = fold([insert, rename, finish]);
    expect(state?.fields.name).toBe('from a');
    expect(state?.fields.status).toBe('completed');
    expect(state?.stamps.name).toBe(stamp(5, 'a'));
  });

  it('breaks equal wall times by the node id', () => {
    const insert = mutation({ op: 'insert', hlc: stamp(1, 'a'), fields: insertFields });
    const fromA = mutation({ op: 'update', hlc: stamp(9, 'a'), fields: { name: 'a' } });
    const fromB = mutation({ op: 'update', hlc: stamp(9, 'b'), fields: { name: 'b' } });
    expect(fold([insert, fromA, fromB])?.fields.name).toBe('b');
    expect(fold([insert, fromB, fromA])?.fields.name).toBe('b');
  });

  it('keeps a tombstone when an older update arrives later', () => {
    const insert = mutation({ op: 'insert', hlc: stamp(1, 'a'), fields: insertFields });
    const remove = mutation({ op: 'delete', hlc: stamp(10, 'a'), fields: {} });
    const late = mutation({ op: 'update', hlc: stamp(5, 'b'), fields: { name: 'late' } });
    const state = fold([insert, remove, late]);
    expect(state?.fields.deleted).toBe(true);
  });

  it('inserts immutable records once and refuses to change them', () => {
    const series = {
      id: runId,
      projectId,
      runId,
      name: 'loss',
      points: [{ step: 0, value: 1, time: 1 }],
      createdAt: 1,
      updatedAt: 1
    };
    const first = applyMutation(undefined, {
      entity: 'metricSeries',
      op: 'insert',
      hlc: stamp(1, 'a'),
      fields: series,
      recordId: runId,
      projectId
    });
    expect(first.kind).toBe('applied');
    if (first.kind !== 'applied') return;
    const again = applyMutation(first.result.state, {
      entity: 'metricSeries',
      op: 'insert',
      hlc: stamp(2, 'b'),
      fields: { ...series, name: 'other' },
      recordId: runId,
      projectId
    });
    expect(again).toMatchObject({ kind: 'applied', result: { changed: false } });
    if (again.kind === 'applied') expect(again.result.state.fields.name).toBe('loss');
    const update = applyMutation(first.result.state, {
      entity: 'metricSeries',
      op: 'update',
      hlc: stamp(3, 'a'),
      fields: { name: 'x' },
      recordId: runId,
      projectId
    });
    expect(update).toMatchObject({ kind: 'rejected', reason: 'immutable' });
  });

  it('validates fields: full records for inserts, known mutable fields for updates', () => {
    expect(
      checkMutationFields({
        hlc: stamp(1, 'a'),
        entity: 'run',
        op: 'insert',
        recordId: runId,
        projectId,
        fields: insertFields
      }).ok
    ).toBe(true);
    expect(
      checkMutationFields({
        hlc: stamp(1, 'a'),
        entity: 'run',
        op: 'insert',
        recordId: runId,
        projectId,
        fields: { ...insertFields, status: 'bogus' }
      })
    ).toMatchObject({
      ok: false,
      message: expect.stringContaining('status') as unknown
    });
    expect(
      checkMutationFields({
        hlc: stamp(1, 'a'),
        entity: 'run',
        op: 'update',
        recordId: runId,
        projectId,
        fields: { status: 'running' }
      }).ok
    ).toBe(true);
    expect(
      checkMutationFields({
        hlc: stamp(1, 'a'),
        entity: 'run',
        op: 'update',
        recordId: runId,
        projectId,
        fields: { spec }
      }).ok
    ).toBe(false);
    expect(
      checkMutationFields({
        hlc: stamp(1, 'a'),
        entity: 'run',
        op: 'insert',
        recordId: projectId,
        projectId,
        fields: insertFields
      }).ok
    ).toBe(false);
  });
});
