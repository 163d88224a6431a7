/** The heart of the studio: an MLP trained on a bundled sample with live charts, then its evaluation. */
import { expect, test } from '@playwright/test';
import { Studio } from './pages/studio';

test('an MLP trains on Iris with live charts, and its evaluation page tells the whole story', async ({
  page
}) => {
  const studio = new Studio(page);
  await studio.importSample('Iris');
  await studio.train({ target: 'species', epochs: 60, batchSize: 4, model: 'mlp' });

  // While it trains: progress with epoch and batch, and loss curves that grow.
  await expect(page.getByRole('progressbar', { name: /Epoch \d+ of 60/ })).toBeVisible();
  await expect(page.getByTestId('live-loss-chart')).toBeVisible({ timeout: 60_000 });

  await studio.waitForRunStatus('completed');
  expect(await studio.metric('accuracy')).toBeGreaterThan(0.8);
  // wasm or cpu, whichever measured faster here; never a software GPU adapter unless chosen.
  await expect(page.getByTestId('run-backend')).toHaveText(/^(wasm|cpu)$/);

  await studio.openTab('Evaluation');
  const view = page.getByTestId('evaluation-view');
  await expect(view).toBeVisible();
  await expect(view.getByTestId('headline-metrics')).toContainText(/accuracy/i);
  // Three classes: a 3×3 confusion matrix whose cells add up to the test rows (30 of 150).
  const cells = view.getByTestId('confusion-matrix').locator('tbody td');
  await expect(cells).toHaveCount(9);
  const counts = (await cells.allInnerTexts()).map((t) => Number(t.replace(/[^\d]/g, '')));
  expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
  await expect(view.getByTestId('per-class-table')).toContainText('versicolor');
  await expect(view.getByTestId('roc-chart')).toBeVisible();
  await expect(view.getByTestId('importance-chart')).toContainText('petal');
  await expect(view.getByTestId('learning-curve')).toBeVisible();
});

test('the same spec, backend and seed give the same metrics in the browser', async ({ page }) => {
  const studio = new Studio(page);
  await studio.importSample('Iris');
  const datasetUrl = page.url();
  const results: number[][] = [];
  for (let i = 0; i < 2; i++) {
    await page.goto(datasetUrl);
    await studio.train({ target: 'species', epochs: 8, batchSize: 8, model: 'mlp' });
    await studio.waitForRunStatus('completed');
    results.push([await studio.metric('accuracy'), await studio.metric('log_loss')]);
  }
  expect(results[1]).toEqual(results[0]);
});
