#!/usr/bin/env node
/**
 * Frame rate of the page while a model trains: the studio's run page (live progress, charts and log)
 * with an MLP training on Iris in the train worker, side by side with the same page idle.
 *
 * It serves the production build (run `npm run build` first, or pass --build DIR), imports the Iris
 * sample, starts an MLP run with tiny batches (so batch and epoch events stream as fast as they can),
 * and counts requestAnimationFrame callbacks for `--seconds` on the run page; then it cancels the run and
 * counts again on the idle runs list. Writes `bench/results/<timestamp>-fps.json` and `latest-fps.json`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  BUILD,
  RESULTS,
  fmt,
  requireBuild,
  launchChromium,
  machineInfo,
  printTable,
  serveBuild
} from './bench-lib.mjs';

const { values: args } = parseArgs({
  options: {
    build: { type: 'string', default: BUILD },
    seconds: { type: 'string', default: '6' }
  }
});
const buildDir = await requireBuild(args.build);
const seconds = Number(args.seconds);

/** Frame times over `ms` of requestAnimationFrame, summarized. */
function measureFrames(page, ms) {
  return page.evaluate(
    (duration) =>
      new Promise((resolve) => {
        const times = [];
        const tick = (t) => {
          times.push(t);
          if (t - times[0] < duration) requestAnimationFrame(tick);
          else {
            const gaps = times
              .slice(1)
              .map((v, i) => v - times[i])
              .sort((a, b) => a - b);
            resolve({
              frames: times.length - 1,
              fps: ((times.length - 1) * 1000) / (times.at(-1) - times[0]),
              p50Ms: gaps[Math.floor(gaps.length * 0.5)],
              p95Ms: gaps[Math.floor(gaps.length * 0.95)],
              maxMs: gaps.at(-1),
              longFrames: gaps.filter((g) => g > 1000 / 30).length
            });
          }
        };
        requestAnimationFrame(tick);
      }),
    ms
  );
}

const server = await serveBuild(buildDir);
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await launchChromium();
const results = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${origin}/datasets`);
  await page.getByRole('button', { name: /^Iris/ }).click();
  await page.getByTestId('dataset-summary').waitFor({ timeout: 60_000 });
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByTestId('model-select').selectOption('mlp');
  await page.locator('input[name="epochs"]').fill('5000');
  await page.locator('details.advanced summary').click();
  await page.locator('input[name="batchSize"]').fill('2');
  await page.getByTestId('start-training').click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
  await page.getByRole('progressbar', { name: /Epoch \d+ of 5000/ }).waitFor({ timeout: 60_000 });
  // Let the charts fill a little first.
  await page.waitForTimeout(3000);
  console.log(`measuring ${seconds} s on the run page while training…`);
  results.training = await measureFrames(page, seconds * 1000);
  const epochs = await page.getByRole('progressbar').getAttribute('aria-label');
  results.training.progress = epochs;
  await page.getByTestId('cancel-run').click();
  await page.getByTestId('run-status').filter({ hasText: 'cancelled' }).waitFor({ timeout: 60_000 });
  await page.getByRole('link', { name: 'Runs' }).click();
  await page.waitForTimeout(1000);
  console.log(`measuring ${seconds} s on the idle runs list…`);
  results.idle = await measureFrames(page, seconds * 1000);
} finally {
  await browser.close();
  server.close();
}

printTable(
  ['page', 'fps', 'p50 frame ms', 'p95 frame ms', 'max ms', 'frames > 33 ms'],
  Object.entries(results).map(([name, r]) => [
    name,
    fmt(r.fps),
    fmt(r.p50Ms),
    fmt(r.p95Ms),
    fmt(r.maxMs),
    String(r.longFrames)
  ])
);
const record = { benchmark: 'fps', date: new Date().toISOString(), machine: machineInfo(), seconds, results };
await mkdir(RESULTS, { recursive: true });
const stamp = record.date.replace(/[:.]/g, '-');
await writeFile(path.join(RESULTS, `${stamp}-fps.json`), JSON.stringify(record, null, 2));
await writeFile(path.join(RESULTS, 'latest-fps.json'), JSON.stringify(record, null, 2));
console.log(`wrote bench/results/${stamp}-fps.json`);
