import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorBody, sessionResponse, setupStatusResponse } from '../../src/lib/core/sync/contract';
import {
  SETUP_TOKEN,
  bearer,
  createTestApp,
  jsonRequest,
  setupOwner,
  type TestApp
} from './testing/test-app';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('health and headers', () => {
  it('answers /healthz with cross-origin isolation headers', async () => {
    const res = await t.app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });

  it('keeps the isolation headers on errors too', async () => {
    const res = await t.app.request('/api/v1/me');
    expect(res.status).toBe(401);
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const body = errorBody.parse(await res.json());
    expect(body.requestId).toBeTruthy();
  });
});

describe('setup and sign-in', () => {
  it('creates the owner once, with the right token only', async () => {
    expect(setupStatusResponse.parse(await (await t.app.request('/api/v1/setup')).json())).toEqual({
      needed: true
    });
    const wrong = await t.app.request(
      '/api/v1/setup',
      jsonRequest('POST', {
        token: 'not-the-token',
        name: 'Eve',
        email: 'eve@example.com',
        password: 'password123'
      })
    );
    expect(wrong.status).toBe(403);

    const session = await setupOwner(t.app);
    expect(session.user.email).toBe('owner@example.com');
    expect(setupStatusResponse.parse(await (await t.app.request('/api/v1/setup')).json())).toEqual({
      needed: false
    });

    const again = await t.app.request(
      '/api/v1/setup',
      jsonRequest('POST', {
        token: SETUP_TOKEN,
        name: 'Again',
        email: 'again@example.com',
        password: 'password123'
      })
    );
    expect(again.status).toBe(403);

    const me = await t.app.request('/api/v1/me', bearer(session.token));
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user: session.user });
  });

  it('names the invalid field', async () => {
    const res = await t.app.request(
      '/api/v1/setup',
      jsonRequest('POST', { token: SETUP_TOKEN, name: 'x', email: 'nope', password: 'password123' })
    );
    expect(res.status).toBe(400);
    expect(errorBody.parse(await res.json()).field).toBe('email');
  });

  it('logs in with the right password only, and logs out', async () => {
    await setupOwner(t.app);
    const bad = await t.app.request(
      '/api/v1/auth/login',
      jsonRequest('POST', { email: 'owner@example.com', password: 'wrong password' })
    );
    expect(bad.status).toBe(401);
    const unknown = await t.app.request(
      '/api/v1/auth/login',
      jsonRequest('POST', { email: 'who@example.com', password: 'wrong password' })
    );
    expect(unknown.status).toBe(401);

    const ok = await t.app.request(
      '/api/v1/auth/login',
      jsonRequest('POST', { email: 'OWNER@example.com', password: 'correct horse battery' })
    );
    expect(ok.status).toBe(200);
    const session = sessionResponse.parse(await ok.json());
    expect((await t.app.request('/api/v1/me', bearer(session.token))).status).toBe(200);
    expect(
      (await t.app.request('/api/v1/auth/logout', bearer(session.token, { method: 'POST' }))).status
    ).toBe(204);
    expect((await t.app.request('/api/v1/me', bearer(session.token))).status).toBe(401);
  });

  it('refuses every protected route without a valid token', async () => {
    const sha = 'a'.repeat(64);
    const runId = '01900000-0000-7000-8000-000000000001';
    const routes: Array<[string, string]> = [
      ['GET', '/api/v1/me'],
      ['POST', '/api/v1/auth/logout'],
      ['HEAD', `/api/v1/blobs/${sha}`],
      ['PUT', `/api/v1/blobs/${sha}`],
      ['GET', `/api/v1/blobs/${sha}`],
      ['POST', '/api/v1/sync/push'],
      ['GET', '/api/v1/sync/pull?since=0'],
      ['POST', `/api/v1/runs/${runId}/share`],
      ['DELETE', `/api/v1/share/${'x'.repeat(43)}`]
    ];
    for (const [method, url] of routes) {
      const body = method === 'PUT' || method === 'POST' ? '{}' : undefined;
      expect((await t.app.request(url, { method, body })).status, `${method} ${url}`).toBe(401);
      expect(
        (await t.app.request(url, bearer('forged-token', { method, body }))).status,
        `${method} ${url} forged`
      ).toBe(401);
    }
  });
});

describe('static studio', () => {
  it('serves files with the right types and caching, and falls back to index.html', async () => {
    const wasm = await t.app.request('/ort.wasm');
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    const manifest = await t.app.request('/manifest.webmanifest');
    expect(manifest.headers.get('content-type')).toBe('application/manifest+json');
    const sw = await t.app.request('/sw.js');
    expect(sw.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    const immutable = await t.app.request('/_app/immutable/entry.js');
    expect(immutable.headers.get('cache-control')).toContain('immutable');

    const deep = await t.app.request('/runs/some-run');
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-type')).toMatch(/^text\/html/);
    expect(deep.headers.get('cache-control')).toBe('no-cache');
    expect(deep.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(await deep.text()).toContain('<title>Lathe</title>');

    expect((await t.app.request('/_app/immutable/missing.js')).status).toBe(404);
    expect((await t.app.request('/api/v1/nope')).status).toBe(404);
  });

  it('never serves a file outside the static folder', async () => {
    // Encoded dots and backslashes survive URL parsing and reach our path check.
    for (const url of [
      '/..%2fsecret.txt',
      '/_app/..%2F..%2Fsecret.txt',
      '/..%5csecret.txt',
      '/%00index.html'
    ]) {
      const res = await t.app.request(url);
      expect(res.status, url).toBe(400);
      expect(await res.text()).not.toContain('TOP-SECRET');
    }
    // Literal and %2e dot segments are resolved by URL parsing first; they must still land inside the root.
    for (const url of ['/../secret.txt', '/%2e%2e/secret.txt', '/a/../../secret.txt']) {
      const res = await t.app.request(url);
      expect(await res.text(), url).not.toContain('TOP-SECRET');
    }
    expect(await readdir(path.join(t.dir, 'static'))).toContain('index.html');
  });
});
