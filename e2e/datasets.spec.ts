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

/** A seeded CSV of `rows` rows: integers, floats, a category, quoted text with commas. */
function generatedCsv(rows: number): string {
  const lines = ['id,amount,score,city,comment'];
  let state = 7;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  for (let r = 0; r < rows; r++) {
    lines.push(
      `${r},${Math.floor(next() * 100000)},${(next() * 10).toFixed(3)},city_${Math.floor(next() * 30)},"note ${Math.floor(next() * 50)}, ok"`
    );
  }
  return lines.join('\n') + '\n';
}

test('a large CSV is written by a second worker while it is parsed, chunk for chunk as by one', async ({
  page
}) => {
  const studio = new Studio(page);
  await studio.openDatasets();
  // Over 16 MB: the data worker hands the chunks to the chunk worker.
  const big = Buffer.from(generatedCsv(420_000));
  expect(big.length).toBeGreaterThan(16 * 1024 * 1024);
  await page.getByTestId('file-input').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: big });
  await expect(page.getByTestId('dataset-summary')).toContainText('420,000 rows', { timeout: 60_000 });
  expect(page.workers().some((w) => w.url().includes('chunk.worker'))).toBe(true);
  await expect(page.getByTestId('column-table')).toContainText('comment');

  // The same bytes with and without the chunk worker give the same content hash.
  await page.goto('/bench/ingest');
  await page.waitForFunction(() => '__latheIngestBench' in window);
  await page.setInputFiles('#bench-file', {
    name: 'small.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(generatedCsv(30_000))
  });
  const hashes = await page.evaluate(async () => {
    const bench = (
      window as unknown as {
        __latheIngestBench: {
          run(p: string, o: { chunkWorker: boolean }): Promise<{ contentHash: string; rows: number }>;
        };
      }
    ).__latheIngestBench;
    const on = await bench.run('lathe', { chunkWorker: true });
    const off = await bench.run('lathe', { chunkWorker: false });
    return [on.contentHash, off.contentHash, on.rows];
  });
  expect(hashes[0]).toBe(hashes[1]);
  expect(hashes[2]).toBe(30_000);
});

test('a chunk worker that cannot start does not stop a large import: the data worker writes the chunks', async ({
  page
}) => {
  // A stale or broken script: the helper fails as it loads.
  let served = 0;
  await page.context().route(/chunk\.worker[^/]*\.js/, (route) => {
    served++;
    return route.fulfill({ contentType: 'text/javascript', body: 'throw new Error("broken chunk worker");' });
  });
  const studio = new Studio(page);
  await studio.openDatasets();
  // The studio's start-up warms the data worker up, which starts the chunk worker: the broken one.
  await expect.poll(() => served, { timeout: 60_000 }).toBeGreaterThan(0);
  const big = Buffer.from(generatedCsv(420_000));
  await page.getByTestId('file-input').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: big });
  await expect(page.getByTestId('dataset-summary')).toContainText('420,000 rows', { timeout: 60_000 });
  await expect(page.getByTestId('import-error')).toHaveCount(0);
});

test('a chunk worker that dies during a large import fails it with a clear error, and nothing is stored', async ({
  page
}) => {
  // The data worker's real script, in which the chunk worker dies once it has sent back two large
  // chunks (over 1 MB: not the warm-up's, which are small): mid-import, whatever the machine's speed.
  // The data worker sees what it would see of a crash: an error event, and no more answers.
  const chunkWorkerDiesAfterTwoChunks = `{
    const RealWorker = self.Worker;
    self.Worker = class extends RealWorker {
      constructor(url, options) {
        super(url, options);
        if (options?.name !== 'chunk') return;
        let large = 0;
        this.addEventListener('message', (event) => {
          if (!(event.data?.value?.data?.byteLength > 1_000_000) || ++large !== 2) return;
          this.terminate();
          this.dispatchEvent(new ErrorEvent('error', { message: 'chunk worker lost' }));
        });
      }
    };
  }\n`;
  await page.context().route(/data\.worker[^/]*\.js/, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: chunkWorkerDiesAfterTwoChunks + (await response.text()) });
  });
  const studio = new Studio(page);
  await studio.importSample('Iris');
  await studio.openDatasets();
  const big = Buffer.from(generatedCsv(600_000));
  await page.getByTestId('file-input').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: big });
  await expect(page.getByTestId('import-error')).toContainText(
    /Importing big.csv failed: the import's chunk writer .*stopped/,
    { timeout: 60_000 }
  );
  await expect(page.getByTestId('dataset-list')).toContainText('Iris');
  await expect(page.getByTestId('dataset-list')).not.toContainText('big');
});
