/**
 * A dataset synced from one browser opens in another: the second browser pulls the version record,
 * downloads its chunks from the registry server, and shows the rows; with the server out of reach it
 * says where the data is instead.
 *
 * The server can have only one owner, and its setup link works once (slice.spec.ts uses the shared
 * server's), so this file starts a registry server of its own, on a free port with an empty data
 * folder, serving the same build/.
 */
import { expect, request, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Studio } from './pages/studio';

const OWNER = { name: 'Grace Owner', email: 'grace@example.com', password: 'pulled data battery staple' };
const SETUP_TOKEN = 'pulled-data-setup-token-0123456789';

test.describe.configure({ mode: 'serial' });

let server: ChildProcess | undefined;
let dataDir = '';
let origin = '';

/** Starts `sync-server` on a free port; resolves with its origin once it says it listens. */
function startServer(): Promise<string> {
  dataDir = mkdtempSync(join(tmpdir(), 'lathe-e2e-pulled-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'sync-server/src/main.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LATHE_DATA_DIR: dataDir,
      LATHE_SETUP_TOKEN: SETUP_TOKEN,
      LATHE_STATIC_DIR: resolve('build'),
      LATHE_LOG_LEVEL: 'warn'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  server = child;
  return new Promise((resolvePort, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`The registry server did not start:\n${output}`)),
      60_000
    );
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      const port = /listening on http:\/\/localhost:(\d+)/.exec(output)?.[1];
      if (port) {
        clearTimeout(timer);
        resolvePort(`http://127.0.0.1:${port}`);
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The registry server exited (${code}):\n${output}`));
    });
  });
}

test.beforeAll(async () => {
  origin = await startServer();
});

test.afterAll(() => {
  server?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function newBrowser(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  // No service worker: it would sit between the page and the blob requests that page.route stops.
  const context = await browser.newContext({ baseURL: origin, serviceWorkers: 'block' });
  return { context, page: await context.newPage() };
}

/** Whether the server holds a dataset version, asked through the API as the owner. */
async function serverHasVersion(): Promise<boolean> {
  const api = await request.newContext({ baseURL: origin });
  try {
    const login = await api.post('/api/v1/auth/login', {
      data: { email: OWNER.email, password: OWNER.password }
    });
    const { token } = (await login.json()) as { token: string };
    const pull = await api.get('/api/v1/sync/pull?since=0&limit=500', {
      headers: { authorization: `Bearer ${token}` }
    });
    const { changes } = (await pull.json()) as { changes: Array<{ entity: string }> };
    return changes.some((c) => c.entity === 'datasetVersion');
  } finally {
    await api.dispose();
  }
}

/** Signs a fresh browser in and waits until the pull brought the Iris dataset. */
async function signInAndPull(page: Page): Promise<void> {
  await page.goto('/settings');
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-as')).toContainText(OWNER.name);
  // "Synced" shows as soon as the session is saved, before the first pull: look for the dataset itself.
  // The list refreshes when a sync completes; reloading would interrupt the pull in progress.
  await page.goto('/datasets');
  await expect(page.getByTestId('dataset-list')).toContainText('Iris', { timeout: 90_000 });
}

test('a dataset imported in one browser opens with its rows in another that pulled it', async ({
  browser
}) => {
  // Browser A: import Iris, then create the owner account, which signs A in and syncs the import up.
  const a = await newBrowser(browser);
  const studio = new Studio(a.page);
  await studio.importSample('Iris');
  await expect(a.page.getByTestId('dataset-summary')).toContainText('150 rows');
  await a.page.goto(`/setup#token=${SETUP_TOKEN}`);
  await a.page.getByLabel('Name').fill(OWNER.name);
  await a.page.getByLabel('Email').fill(OWNER.email);
  await a.page.getByLabel('Password').fill(OWNER.password);
  await a.page.getByRole('button', { name: 'Create owner account' }).click();
  await a.page.waitForURL('**/datasets');
  await expect(a.page.getByTestId('sync-status')).toHaveText('Synced', { timeout: 60_000 });
  // The version, its chunks and the dataset's pointer to it go up in one push.
  await expect.poll(serverHasVersion, { timeout: 60_000 }).toBe(true);
  await a.context.close();

  // Browser B: same person, empty IndexedDB. The version's chunks come from the server.
  const b = await newBrowser(browser);
  await signInAndPull(b.page);
  const downloaded = b.page.waitForResponse(
    (res) => res.request().method() === 'GET' && res.url().includes('/api/v1/blobs/') && res.status() === 200
  );
  await b.page.getByTestId('dataset-list').getByRole('link', { name: 'Iris' }).click();
  await expect(b.page.getByTestId('dataset-summary')).toContainText('150 rows');
  await downloaded;
  await new Studio(b.page).openTab('Data');
  await expect(b.page.getByTestId('row-count')).toContainText('150 rows');
  await expect(b.page.getByTestId('data-grid').getByRole('row').nth(1)).toContainText('setosa');
  await new Studio(b.page).openTab('Profile');
  await expect(b.page.locator('dt', { hasText: 'distinct' }).first()).toBeVisible();
  await b.context.close();
});

test('with the server out of reach, a pulled dataset says its data is on the server', async ({ browser }) => {
  const c = await newBrowser(browser);
  await signInAndPull(c.page);
  // Records are here; the blob downloads fail as if the network dropped.
  await c.page.route('**/api/v1/blobs/**', (route) => route.abort('internetdisconnected'));
  await c.page.getByTestId('dataset-list').getByRole('link', { name: 'Iris' }).click();
  await expect(c.page.getByTestId('dataset-summary')).toContainText('150 rows');
  await new Studio(c.page).openTab('Data');
  const alert = c.page.getByRole('alert').filter({ hasText: 'is on the registry server' });
  await expect(alert.first()).toContainText('"Iris"');
  await expect(alert.first()).toContainText('Connect to it');
  await expect(c.page.getByTestId('data-grid')).toHaveCount(0);
  await c.context.close();
});
