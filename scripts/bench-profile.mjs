#!/usr/bin/env node
/**
 * Profile benchmark in the browser: the production build's data worker profiles and validates the
 * seeded 1,000,000 × 20 table of `bench/profile.bench.ts`, in Chromium, through the same worker
 * client call the dataset page makes (`inspectVersion`). The page (`/bench/profile`) builds the table,
 * stores it in IndexedDB as a dataset version, and times the call cold (chunks read from IndexedDB and
 * decoded in the worker) and warm (the worker's cached table).
 *
 * Run `npm run build` first (or pass `--build DIR`). Writes `bench/results/<timestamp>-profile-browser.json`
 * and `bench/results/latest-profile-browser.json`, with the Node numbers of `latest-profile.json`
 * beside the browser's when that file exists.
 *
 * Options: --build DIR (build/), --rows N (1000000), --timeout S (900).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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
  serveBuild,
  withTimeout
} from './bench-lib.mjs';

const { values: args } = parseArgs({
  options: {
    build: { type: 'string', default: BUILD },
    rows: { type: 'string', default: '1000000' },
    timeout: { type: 'string', default: '900' }
  }
});
const buildDir = await requireBuild(args.build);
const rows = Number(args.rows);
const timeoutMs = Number(args.timeout) * 1000;

/** The Node run of the same table, if `bench/profile.bench.ts` has written one. */
async function nodeNumbers() {
  try {
    const node = JSON.parse(await readFile(path.join(RESULTS, 'latest-profile.json'), 'utf8'));
    return node.rows === rows ? node : null;
  } catch {
    return null;
  }
}

const server = await serveBuild(buildDir);
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await launchChromium();
let timing;
let browserVersion;
try {
  browserVersion = browser.version();
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  await page.goto(`${origin}/bench/profile`);
  await page.waitForFunction(() => '__latheProfileBench' in window, null, { timeout: 60_000 });
  console.log(`profiling ${rows.toLocaleString()} rows × 20 columns in Chromium ${browserVersion}…`);
  try {
    timing = await withTimeout(
      page.evaluate((n) => window.__latheProfileBench.run({ rows: n }), rows),
      timeoutMs,
      'the browser profile benchmark'
    );
  } catch (err) {
    for (const line of errors) console.error(line);
    throw err;
  }
  await context.close();
} finally {
  await browser.close();
  server.close();
}

// Whole milliseconds, as the Node benchmark writes them.
for (const key of Object.keys(timing)) if (key.endsWith('Ms')) timing[key] = Math.round(timing[key]);
const node = await nodeNumbers();
const record = {
  benchmark: 'profile-browser',
  date: new Date().toISOString(),
  machine: { ...machineInfo(), chromium: browserVersion },
  ...timing,
  node: node
    ? {
        date: node.date,
        buildTableMs: node.buildTableMs,
        profileMs: node.profileMs,
        profileWithTargetMs: node.profileWithTargetMs,
        validateMs: node.validateMs,
        // What one `inspectVersion` does: profile (with or without target plots) and validation.
        inspectWithTargetMs: node.profileWithTargetMs + node.validateMs,
        inspectMs: node.profileMs + node.validateMs
      }
    : null
};

await mkdir(RESULTS, { recursive: true });
const body = `${JSON.stringify(record, null, 2)}\n`;
await writeFile(path.join(RESULTS, `${record.date.replace(/[:.]/g, '-')}-profile-browser.json`), body);
await writeFile(path.join(RESULTS, 'latest-profile-browser.json'), body);

const s = (ms) => (typeof ms === 'number' ? fmt(ms / 1000, 2) : '—');
printTable(
  ['step', 'browser (s)', 'node (s)'],
  [
    ['build the table', s(timing.buildTableMs), s(node?.buildTableMs)],
    ['store it in IndexedDB (chunks, hashes)', s(timing.storeMs), '—'],
    ['inspect, cold (read + decode + profile + validate)', s(timing.inspectColdMs), '—'],
    [
      'inspect with target (profile + plots + validate)',
      s(timing.inspectWithTargetMs),
      s(record.node?.inspectWithTargetMs)
    ],
    ['inspect (profile + validate)', s(timing.inspectMs), s(record.node?.inspectMs)]
  ]
);
console.log(
  `${timing.rows.toLocaleString()} rows × ${timing.columns} columns, ${timing.chunks} chunks (${fmt(timing.arrowBytes / 1e6, 0)} MB Arrow); wrote bench/results/latest-profile-browser.json`
);
