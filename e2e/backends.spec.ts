/**
 * Compute backends in a real browser. Here WebGPU is Chromium's software adapter (SwiftShader): the
 * studio must not pick it on its own, but a person can choose it in Settings and train on it.
 */
import { expect, test } from '@playwright/test';
import { Studio } from './pages/studio';

test('Settings shows the automatic choice and why, and a chosen WebGPU backend trains the run', async ({
  page
}) => {
  await page.goto('/settings');
  const choice = page.getByTestId('backend-choice');
  await expect(choice).toContainText('WebGPU is a software adapter', { timeout: 120_000 });
  await expect(choice).toContainText(/^(wasm|cpu|webgl) —/);
  await expect(page.getByTestId('backend-status')).not.toContainText('webgpu');
  // With the probe over, the studio loads the data worker before any import asks for it.
  await expect
    .poll(() => page.workers().some((worker) => worker.url().includes('data.worker')), { timeout: 30_000 })
    .toBe(true);

  const hasGpu = await page.evaluate(async () => (await navigator.gpu?.requestAdapter()) != null);
  expect(hasGpu, 'Chromium runs with --enable-unsafe-webgpu, so it offers at least a software adapter').toBe(
    true
  );

  await page.getByTestId('backend-preference').selectOption('webgpu');
  await expect(page.getByTestId('backend-choice')).toContainText(/^webgpu/i);

  // Tiny work: each WebGPU shader compiles for about a second on the software adapter.
  const studio = new Studio(page);
  await studio.importSample('Iris');
  await studio.train({ target: 'species', epochs: 2, batchSize: 150 });
  await studio.waitForRunStatus('completed', 180_000);
  await expect(page.getByTestId('run-backend')).toHaveText('webgpu');
  await expect(page.getByTestId('run-environment')).toContainText('(software)');
});
