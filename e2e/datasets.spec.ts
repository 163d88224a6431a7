/** Getting data in: a dropped file, and a file that is not a table. */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { Studio } from './pages/studio';

test('a CSV dropped on the page becomes a dataset', async ({ page }) => {
  const studio = new Studio(page);
  await studio.openDatasets();
  const csv = readFileSync('src/lib/core/data/fixtures/two-classes.csv', 'utf8');
  const dataTransfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'two-classes.csv', { type: 'text/csv' }));
    return dt;
  }, csv);
  await page.getByTestId('file-drop').dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('dataset-summary')).toContainText('80 rows');
  await expect(page.getByTestId('column-table')).toContainText('label');
});

test('a file that is not a table gets a clear error and stored datasets stay', async ({ page }) => {
  const studio = new Studio(page);
  await studio.importSample('Iris');
  await studio.openDatasets();
  await page.getByTestId('file-input').setInputFiles({
    name: 'empty.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('')
  });
  await expect(page.getByTestId('import-error')).toContainText('empty.csv');
  await expect(page.getByTestId('dataset-list')).toContainText('Iris');
});
