/** Training that does not end well: cancelled by the person, a worker that dies, a tab closed mid-run. */
import { expect, test } from '@playwright/test';
import { Studio } from './pages/studio';

test('a run can be cancelled while it trains', async ({ page }) => {
  const studio = new Studio(page);
  await studio.importSample('Iris');
  await studio.train({ target: 'species', epochs: 1000, batchSize: 2 });
  await expect(page.getByRole('progressbar', { name: /Epoch \d+ of 1000/ })).toBeVisible();
  await page.getByTestId('cancel-run').click();
  await studio.waitForRunStatus('cancelled', 60_000);
  await page.goto('/runs');
  await expect(page.getByTestId('run-list')).toContainText('cancelled');
});

test('runs wait in a queue, and a waiting run can be cancelled from the Runs page', async ({ page }) => {
  const studio = new Studio(page);
  await studio.importSample('Iris');
  await studio.train({ target: 'species', epochs: 1000, batchSize: 2 });
  await expect(page.getByRole('progressbar', { name: /Epoch \d+ of 1000/ })).toBeVisible();
  // Back to the dataset in the same tab (client-side: a reload would interrupt the run) for a second run.
  await page.goBack();
  await studio.train({ target: 'species', epochs: 5 });
  await page.getByRole('link', { name: 'Runs' }).click();

  const queue = page.getByTestId('run-queue');
  await expect(queue.locator('li.running')).toHaveCount(1);
  await expect(queue).toContainText('Waiting: number 1 in the queue');
  await queue
    .locator('li:not(.running)')
    .getByRole('button', { name: /^Cancel/ })
    .click();
  await expect(queue).not.toContainText('Waiting');
  await expect(queue.locator('li.running')).toHaveCount(1);

  await queue.getByRole('button', { name: /^Cancel/ }).click();
  await expect(queue).toHaveCount(0);
  await expect(page.getByTestId('run-list')).not.toContainText(/running|queued/);
  await expect(page.getByTestId('run-list')).toContainText('cancelled');
});

test.describe('with the network intercepted', () => {
  // A service worker would answer the worker script from its cache, past the route below.
  test.use({ serviceWorkers: 'block' });

  test('a training worker that dies fails the run with the reason, and the page stays usable', async ({
    page
  }) => {
    // The worker's script fails as it loads, as a crashed or broken worker would.
    await page.route(/train\.worker-[^/]*\.js$/, (route) =>
      route.fulfill({ contentType: 'text/javascript', body: 'throw new Error("simulated worker failure");' })
    );
    const studio = new Studio(page);
    await studio.importSample('Iris');
    await studio.train({ target: 'species', epochs: 5 });
    await studio.waitForRunStatus('failed', 60_000);
    await expect(page.getByTestId('run-error')).toContainText(/worker/i);
    // Still responsive: navigation works and the run is listed as failed.
    await page.getByRole('link', { name: 'Runs' }).click();
    await expect(page.getByTestId('run-list')).toContainText('failed');
  });
});

test('a run interrupted by a reload is marked interrupted and resumes from its last checkpoint', async ({
  page
}) => {
  const studio = new Studio(page);
  await studio.importSample('Iris');
  const runId = await studio.train({ target: 'species', epochs: 1000, batchSize: 2 });
  await expect(page.getByRole('progressbar', { name: /Epoch \d+ of 1000/ })).toBeVisible();
  // Checkpoints come every 5 epochs by default; wait for one so the resume has something to go on from.
  await expect(page.getByTestId('checkpoint')).toBeVisible({ timeout: 120_000 });
  await page.reload();
  await expect(
    page.getByRole('alert').or(page.getByRole('status')).filter({ hasText: 'interrupted' })
  ).toBeVisible();
  await page.goto(`/runs/${runId}`);
  await studio.waitForRunStatus('interrupted');
  await expect(page.getByTestId('run-error')).toContainText('Interrupted');
  await expect(page.getByTestId('resume-interrupted')).toHaveText(/Resume from epoch \d+/);
  await page.getByTestId('resume-interrupted').click();
  await expect(page.getByRole('progressbar', { name: /Epoch \d+ of 1000/ })).toBeVisible();
  await page.getByTestId('cancel-run').click();
  await studio.waitForRunStatus('cancelled', 60_000);
});

test('a training run can be paused and resumed', async ({ page }) => {
  const studio = new Studio(page);
  await studio.importSample('Iris');
  await studio.train({ target: 'species', epochs: 1000, batchSize: 2, model: 'mlp' });
  await page.getByTestId('pause-run').click();
  await expect(page.getByTestId('resume-run')).toBeVisible();
  // The accessible-name assertion prints the label it saw when it fails.
  await expect(page.getByRole('progressbar')).toHaveAccessibleName(/^Paused · Epoch \d+ of 1000/);
  await page.getByTestId('resume-run').click();
  await expect(page.getByTestId('pause-run')).toBeVisible();
  await page.getByTestId('cancel-run').click();
  await studio.waitForRunStatus('cancelled', 60_000);
});
