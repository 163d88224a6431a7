/**
 * The first slice, as a person walks it: import a CSV, train, see the run after a reload, sign in,
 * share the run and open the link in a fresh browser; then do it all again offline and watch it sync.
 */
import { expect, test, type Page } from '@playwright/test';
import { Studio } from './pages/studio';

const OWNER = { name: 'Ada Owner', email: 'ada@example.com', password: 'correct horse battery' };
const SMALL_CSV = 'src/lib/core/data/fixtures/two-classes.csv';

test.describe.configure({ mode: 'serial' });

async function setUpOwner(page: Page) {
  await page.goto('/setup#token=e2e-setup-token-0123456789');
  await page.getByLabel('Name').fill(OWNER.name);
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Create owner account' }).click();
  await page.waitForURL('**/datasets');
}

test('a CSV becomes a trained, stored, synced and shared run', async ({ page, browser }) => {
  const studio = new Studio(page);

  // 1. A bundled sample becomes a dataset with typed columns and a preview.
  await studio.importSample('Iris');
  await expect(page.getByTestId('dataset-summary')).toContainText('150 rows');
  await expect(page.getByTestId('column-table')).toContainText('categorical');
  await studio.openTab('Data');
  await expect(page.getByTestId('data-grid').getByRole('row').nth(1)).toContainText('setosa');

  // 2. Train logistic regression with a live chart and progress.
  const runId = await studio.train({ target: 'species', epochs: 15, batchSize: 16 });
  await studio.waitForRunStatus('completed');
  expect(await studio.metric('accuracy')).toBeGreaterThan(0.8);
  await expect(page.getByTestId('loss-chart')).toBeVisible();
  await expect(page.getByTestId('run-backend')).toHaveText(/wasm|webgl|webgpu|cpu/);

  // 3. The run is kept: after a reload the Runs page lists it.
  await page.goto('/runs');
  await page.reload();
  await expect(page.getByTestId('run-list')).toContainText('Logistic regression → species');

  // 4. Create the owner account from the setup link, which signs this browser in, and share the run.
  await setUpOwner(page);
  await expect(page.getByTestId('sync-status')).toHaveText(/Synced/, { timeout: 60_000 });
  await page.goto(`/runs/${runId}`);
  await studio.openTab('Share');
  await page.getByTestId('create-share-link').click();
  const shareUrl = await page.getByTestId('share-url').inputValue();
  expect(shareUrl).toMatch(/\/share\/[A-Za-z0-9_-]{40,}$/);

  // 5. A fresh browser with no account opens the link and sees the run read-only.
  const stranger = await browser.newContext();
  const other = await stranger.newPage();
  await other.goto(shareUrl);
  await expect(other.getByTestId('shared-run-name')).toHaveText('Logistic regression → species');
  await expect(other.getByTestId('run-metrics')).toContainText('accuracy');
  await expect(other.getByTestId('loss-chart')).toBeVisible();
  await expect(other.getByRole('button', { name: 'Start training' })).toHaveCount(0);

  // 6. Revoked, the link opens nothing.
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByTestId('create-share-link')).toBeVisible();
  await other.reload();
  await expect(other.getByRole('heading', { name: 'This link does not open a run' })).toBeVisible();
  await stranger.close();
});

test('offline, the studio still imports and trains; the run syncs when the network returns', async ({
  page,
  context,
  request
}) => {
  const studio = new Studio(page);
  // The first visit installs the service worker; wait until it controls the page.
  await page.goto('/datasets');
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  // The account from the first test signs this fresh browser in.
  await page.goto('/settings');
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-as')).toContainText(OWNER.name);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();

  await studio.importFile(SMALL_CSV);
  const runId = await studio.train({ target: 'label', epochs: 5, batchSize: 8 });
  await studio.waitForRunStatus('completed');
  await page.goto('/runs');
  await page.reload();
  await expect(page.getByTestId('run-list')).toContainText('→ label');
  await expect(page.getByTestId('sync-status')).toHaveText(/Offline · \d+ to sync/);

  await context.setOffline(false);
  await expect(page.getByTestId('sync-status')).toHaveText(/Synced/, { timeout: 60_000 });

  // The server now has the run: it can be shared from there.
  const login = await request.post('/api/v1/auth/login', {
    data: { email: OWNER.email, password: OWNER.password }
  });
  const { token } = (await login.json()) as { token: string };
  const share = await request.post(`/api/v1/runs/${runId}/share`, {
    headers: { authorization: `Bearer ${token}` }
  });
  expect(share.status()).toBe(201);
});
