import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/lib/core/ids';
import {
  pullResponse,
  pushResponse,
  sessionResponse,
  sharedRunResponse,
  shareLinkResponse,
  type PushResult
} from '../../src/lib/core/sync/contract';
import type { Mutation } from '../../src/lib/core/sync/mutation';
import type { LatheApp } from './app';
import {
  addUser,
  bearer,
  createTestApp,
  jsonRequest,
  projectMutations,
  runUpdate,
  setupOwner,
  sha256Hex,
  stamp,
  type TestApp
} from './testing/test-app';

let t: TestApp;
let token: string;
beforeEach(async () => {
  t = await createTestApp({ maxBlobBytes: 1024 });
  token = (await setupOwner(t.app)).token;
});
afterEach(async () => {
  await t.close();
});

async function push(app: LatheApp, auth: string, mutations: Mutation[]): Promise<PushResult[]> {
  const res = await app.request(
    '/api/v1/sync/push',
    jsonRequest('POST', { clientId: 'test', mutations }, auth)
  );
  expect(res.status).toBe(200);
  return pushResponse.parse(await res.json()).results;
}

async function pullAll(app: LatheApp, auth: string, limit = 500) {
  const changes = [];
  let since = 0;
  for (;;) {
    const res = await app.request(`/api/v1/sync/pull?since=${since}&limit=${limit}`, bearer(auth));
    expect(res.status).toBe(200);
    const page = pullResponse.parse(await res.json());
    changes.push(...page.changes);
    since = page.nextSince;
    if (!page.hasMore) return { changes, since };
  }
}

async function blobFiles(): Promise<string[]> {
  const root = path.join(t.dir, 'blobs');
  const shards = (await readdir(root)).filter((d) => d !== 'tmp');
  const files = await Promise.all(
    shards.map(async (s) => (await readdir(path.join(root, s))).map((f) => s + f))
  );
  return files.flat();
}

describe('blobs', () => {
  const bytes = new TextEncoder().encode('arrow ipc chunk');
  const hash = sha256Hex(bytes);

  it('rejects bytes that do not match the hash and stores nothing', async () => {
    const res = await t.app.request(
      `/api/v1/blobs/${'0'.repeat(64)}`,
      bearer(token, { method: 'PUT', body: bytes })
    );
    expect(res.status).toBe(400);
    expect(await blobFiles()).toEqual([]);
    expect(await readdir(path.join(t.dir, 'blobs', 'tmp'))).toEqual([]);
  });

  it('stores a blob once however often it is uploaded', async () => {
    expect((await t.app.request(`/api/v1/blobs/${hash}`, bearer(token, { method: 'HEAD' }))).status).toBe(
      404
    );
    const first = await t.app.request(`/api/v1/blobs/${hash}`, bearer(token, { method: 'PUT', body: bytes }));
    const second = await t.app.request(
      `/api/v1/blobs/${hash}`,
      bearer(token, { method: 'PUT', body: bytes })
    );
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(await blobFiles()).toEqual([hash]);
    expect((await t.app.request(`/api/v1/blobs/${hash}`, bearer(token, { method: 'HEAD' }))).status).toBe(
      200
    );
  });

  it('enforces the size limit on the bytes, not on Content-Length', async () => {
    const big = new Uint8Array(2048).fill(7);
    const res = await t.app.request(
      `/api/v1/blobs/${sha256Hex(big)}`,
      bearer(token, { method: 'PUT', body: big, headers: { 'Content-Length': '10' } })
    );
    expect(res.status).toBe(413);
    expect(await blobFiles()).toEqual([]);
  });

  it('lets a user read a blob only once one of their records names it', async () => {
    await t.app.request(`/api/v1/blobs/${hash}`, bearer(token, { method: 'PUT', body: bytes }));
    expect((await t.app.request(`/api/v1/blobs/${hash}`, bearer(token))).status).toBe(404);
    const { project, run, projectId } = projectMutations();
    const withBlob: Mutation = { ...run, blobs: [hash] };
    await push(t.app, token, [project, withBlob]);
    const res = await t.app.request(`/api/v1/blobs/${hash}`, bearer(token));
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect(projectId).toBeTruthy();
  });
});

describe('push and pull', () => {
  it('applies mutations with sequence numbers, and a replayed batch changes nothing', async () => {
    const { project, run } = projectMutations();
    const batch = [project, run, runUpdate(run, stamp(2000, 'client-a'), { status: 'running' })];
    const first = await push(t.app, token, batch);
    expect(first.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
    const seqs = first.map((r) => (r.status === 'applied' ? r.seq : 0));
    expect(new Set(seqs).size).toBe(3);

    const before = await pullAll(t.app, token);
    const replay = await push(t.app, token, batch);
    expect(replay).toEqual(first);
    const after = await pullAll(t.app, token);
    expect(after).toEqual(before);
    expect(after.changes).toHaveLength(2);
    const runChange = after.changes.find((c) => c.entity === 'run');
    expect(runChange?.record.status).toBe('running');
    expect(runChange?.op).toBe('update');
  });

  it('rejects a mutation naming a blob the server does not have, and accepts it after upload', async () => {
    const { project, run } = projectMutations();
    const bytes = new TextEncoder().encode('weights');
    const needsBlob: Mutation = { ...run, blobs: [sha256Hex(bytes)] };
    const [, rejected] = await push(t.app, token, [project, needsBlob]);
    expect(rejected).toMatchObject({ id: run.id, status: 'rejected', reason: 'missing_blob' });
    await t.app.request(`/api/v1/blobs/${sha256Hex(bytes)}`, bearer(token, { method: 'PUT', body: bytes }));
    const [retried] = await push(t.app, token, [needsBlob]);
    expect(retried).toMatchObject({ id: run.id, status: 'applied' });
  });

  it("accepts a finished run's artifacts once their blobs are on the server", async () => {
    const { project, run } = projectMutations();
    await push(t.app, token, [project, run]);
    const model = new TextEncoder().encode('model bytes');
    const finished = runUpdate(run, stamp(3000, 'client-a'), {
      status: 'completed',
      artifacts: { model: sha256Hex(model) }
    });
    const [missing] = await push(t.app, token, [finished]);
    expect(missing).toMatchObject({ status: 'rejected', reason: 'missing_blob' });
    await t.app.request(`/api/v1/blobs/${sha256Hex(model)}`, bearer(token, { method: 'PUT', body: model }));
    const [applied] = await push(t.app, token, [finished]);
    expect(applied).toMatchObject({ status: 'applied' });
    const pulled = await pullAll(t.app, token);
    expect(pulled.changes.find((c) => c.entity === 'run')?.record.artifacts).toEqual({
      model: sha256Hex(model)
    });
  });

  it('rejects changes to a project the user is not an owner or editor of', async () => {
    const { project, run } = projectMutations();
    await push(t.app, token, [project]);
    await addUser(t.store, 'mallory@example.com', 'mallory password');
    const login = await t.app.request(
      '/api/v1/auth/login',
      jsonRequest('POST', { email: 'mallory@example.com', password: 'mallory password' })
    );
    const mallory = sessionResponse.parse(await login.json()).token;

    const takeover = {
      ...project,
      id: uuidv7(),
      hlc: stamp(9999, 'mallory'),
      fields: { ...project.fields, name: 'mine now' }
    };
    const results = await push(t.app, mallory, [takeover, run]);
    expect(results.map((r) => (r.status === 'rejected' ? r.reason : r.status))).toEqual([
      'forbidden',
      'forbidden'
    ]);
    expect((await pullAll(t.app, mallory)).changes).toEqual([]);
    const owners = await pullAll(t.app, token);
    expect(owners.changes.map((c) => c.record.name)).toEqual(['Iris']);
  });

  it('validates fields: unknown update fields and immutable updates are rejected', async () => {
    const { project, run, projectId } = projectMutations();
    const seriesId = uuidv7();
    const series: Mutation = {
      id: uuidv7(),
      entity: 'metricSeries',
      op: 'insert',
      recordId: seriesId,
      projectId,
      hlc: stamp(1500, 'client-a'),
      fields: {
        id: seriesId,
        projectId,
        runId: run.recordId,
        name: 'loss',
        points: [{ step: 0, value: 1, time: 1 }],
        createdAt: 1,
        updatedAt: 1
      },
      blobs: []
    };
    const results = await push(t.app, token, [
      project,
      run,
      runUpdate(run, stamp(2000, 'a'), { spec: {} }),
      series,
      { ...series, id: uuidv7() },
      { ...series, id: uuidv7(), op: 'update', fields: { name: 'x' } }
    ]);
    expect(results.map((r) => (r.status === 'rejected' ? r.reason : r.status))).toEqual([
      'applied',
      'applied',
      'invalid',
      'applied',
      'applied',
      'immutable'
    ]);
    // Insert-once: the repeated insert returns the original record's sequence number.
    expect(results[4]).toMatchObject({ status: 'applied', seq: (results[3] as { seq: number }).seq });
  });

  it('pages through changes in sequence order', async () => {
    const { project, run } = projectMutations();
    const updates = Array.from({ length: 6 }, (_, i) => {
      const other = projectMutations();
      return {
        ...other.run,
        projectId: project.projectId,
        fields: { ...other.run.fields, projectId: project.projectId, name: `run ${i}` }
      };
    });
    await push(t.app, token, [project, run, ...updates]);
    const all = await pullAll(t.app, token, 3);
    expect(all.changes).toHaveLength(8);
    const seqs = all.changes.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const res = await t.app.request(`/api/v1/sync/pull?since=${all.since}`, bearer(token));
    expect(pullResponse.parse(await res.json())).toEqual({
      changes: [],
      nextSince: all.since,
      hasMore: false
    });
  });

  it('merges per field by clock, whatever order the updates arrive in', async () => {
    const states = [];
    for (const order of [0, 1]) {
      const fresh = await createTestApp();
      const auth = (await setupOwner(fresh.app)).token;
      const { project, run } = projectMutations();
      const fromA = runUpdate(run, stamp(3000, 'client-a'), { name: 'renamed by A', status: 'running' });
      const fromB = runUpdate(run, stamp(2000, 'client-b'), {
        name: 'renamed by B',
        metrics: { accuracy: 0.9 }
      });
      const fromB2 = runUpdate(run, stamp(3000, 'client-b'), { status: 'completed' });
      const updates = order === 0 ? [fromA, fromB, fromB2] : [fromB2, fromB, fromA];
      await push(fresh.app, auth, [project, run]);
      for (const u of updates) await push(fresh.app, auth, [u]);
      const { changes } = await pullAll(fresh.app, auth);
      const record = changes.find((c) => c.entity === 'run')?.record;
      states.push({ name: record?.name, status: record?.status, metrics: record?.metrics });
      await fresh.close();
    }
    expect(states[0]).toEqual({ name: 'renamed by A', status: 'completed', metrics: { accuracy: 0.9 } });
    expect(states[1]).toEqual(states[0]);
  });
});

describe('share links', () => {
  it('shares a run without sign-in until the link is revoked', async () => {
    const { project, run, runId, projectId } = projectMutations();
    const seriesId = uuidv7();
    const series: Mutation = {
      id: uuidv7(),
      entity: 'metricSeries',
      op: 'insert',
      recordId: seriesId,
      projectId,
      hlc: stamp(1500, 'client-a'),
      fields: {
        id: seriesId,
        projectId,
        runId,
        name: 'loss',
        points: [{ step: 0, value: 0.7, time: 1 }],
        createdAt: 1,
        updatedAt: 1
      },
      blobs: []
    };
    await push(t.app, token, [project, run, series]);

    const created = await t.app.request(`/api/v1/runs/${runId}/share`, bearer(token, { method: 'POST' }));
    expect(created.status).toBe(201);
    const link = shareLinkResponse.parse(await created.json());
    expect(link.url).toBe(`/share/${link.token}`);
    expect(Buffer.from(link.token, 'base64url')).toHaveLength(32);

    const shared = await t.app.request(`/api/v1/share/${link.token}`);
    expect(shared.status).toBe(200);
    const body = sharedRunResponse.parse(await shared.json());
    expect(body.run.name).toBe('baseline');
    expect(body.series.map((s) => s.name)).toEqual(['loss']);

    expect(
      (await t.app.request(`/api/v1/runs/${uuidv7()}/share`, bearer(token, { method: 'POST' }))).status
    ).toBe(404);
    expect((await t.app.request(`/api/v1/share/${link.token}`, { method: 'DELETE' })).status).toBe(401);
    expect(
      (await t.app.request(`/api/v1/share/${link.token}`, bearer(token, { method: 'DELETE' }))).status
    ).toBe(204);
    expect((await t.app.request(`/api/v1/share/${link.token}`)).status).toBe(404);
    expect((await t.app.request(`/api/v1/share/${'x'.repeat(43)}`)).status).toBe(404);
  });
});
