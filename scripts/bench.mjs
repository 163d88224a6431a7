#!/usr/bin/env node
/**
 * `npm run bench`: times one training epoch of the slice's model (logistic regression) on every tfjs
 * backend Chromium offers, side by side, through the real train worker of the production build.
 *
 * It builds nothing: run `npm run build` first. It serves `build/` on an ephemeral localhost port with
 * the cross-origin-isolation headers the studio needs (wasm threads), opens `/bench` in Chromium once
 * per backend (a fresh page, so each first epoch pays its own start-up), and writes
 * `bench/results/<timestamp>-train-epoch.json` and `bench/results/latest-train-epoch.json`.
 *
 * Options: --rows N (20000), --features N (16), --epochs N (3: the first, then the steady state),
 * --timeout S (120, per backend), --backends webgpu,webgl,wasm,cpu, --no-software-calibration.
 * CHROMIUM_PATH overrides /usr/bin/chromium.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  RESULTS,
  fmt,
  hasBuild,
  launchChromium,
  machineInfo,
  printTable,
  serveBuild,
  withTimeout
} from './bench-lib.mjs';

const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'];

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '20000' },
    features: { type: 'string', default: '16' },
    epochs: { type: 'string', default: '3' },
    timeout: { type: 'string', default: '120' },
    backends: { type: 'string', default: BACKENDS.join(',') },
    'no-software-calibration': { type: 'boolean', default: false }
  }
});
const rows = Number(args.rows);
const features = Number(args.features);
const epochs = Math.max(2, Number(args.epochs));
const timeoutMs = Number(args.timeout) * 1000;
const backends = args.backends.split(',').filter((b) => BACKENDS.includes(b));

async function openBench(context, origin) {
  const page = await context.newPage();
  const logs = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') logs.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => logs.push(`pageerror: ${err.message}`));
  await page.goto(`${origin}/bench`);
  await page.waitForFunction(() => '__latheBench' in window, null, { timeout: 30_000 });
  return { page, logs };
}

async function main() {
  if (!(await hasBuild())) {
    console.error('No build found in build/: run `npm run build` first.');
    process.exit(1);
  }
  const server = await serveBuild();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchChromium();
  // The service worker would cache the build between runs; benchmarks measure the network-free app anyway.
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const results = {};
  let probe = null;
  let userAgent = '';
  let crossOriginIsolated = false;
  try {
    {
      const { page, logs } = await openBench(context, origin);
      userAgent = await page.evaluate(() => navigator.userAgent);
      crossOriginIsolated = await page.evaluate(() => window.crossOriginIsolated);
      try {
        probe = await withTimeout(
          page.evaluate(
            (calibrateSoftware) => window.__latheBench.probe({ recalibrate: true, calibrateSoftware }),
            !args['no-software-calibration']
          ),
          Math.max(timeoutMs, 180_000),
          'calibration'
        );
      } catch (err) {
        probe = { error: err.message, logs };
      }
      await page.close();
    }
    for (const backend of backends) {
      process.stdout.write(`${backend}: training ${epochs} epochs of ${rows} × ${features}… `);
      const { page, logs } = await openBench(context, origin);
      const probed = probe?.probes?.find((p) => p.name === backend);
      const entry = {
        available: probed?.available ?? null,
        reasonUnavailable: probed?.reasonUnavailable ?? null,
        isSoftware: probed?.isSoftware ?? null,
        calibratedMsPerStep: probed?.msPerStep ?? null
      };
      try {
        const timing = await withTimeout(
          page.evaluate(
            ([b, r, f, e]) => window.__latheBench.trainEpoch(b, r, f, e),
            [backend, rows, features, epochs]
          ),
          timeoutMs,
          `${backend} training`
        );
        if (timing.used !== backend) {
          Object.assign(entry, {
            available: false,
            ran: false,
            note: `fell back to ${timing.used}: ${timing.reason}`
          });
        } else {
          Object.assign(entry, { available: true, ran: true, ...timing });
        }
        console.log(entry.ran ? `${fmt(timing.epochMs)} ms/epoch` : entry.note);
      } catch (err) {
        Object.assign(entry, {
          ran: false,
          timedOut: Boolean(err.timedOut),
          error: err.timedOut ? 'timed out' : err.message
        });
        console.log(entry.error);
      }
      if (logs.length > 0) entry.consoleErrors = logs.slice(0, 20);
      results[backend] = entry;
      // Closing the page ends its worker, including a software GPU backend still compiling shaders.
      await page.close().catch(() => undefined);
    }
  } finally {
    await browser.close();
    server.close();
  }

  const report = {
    benchmark: 'train-epoch',
    date: new Date().toISOString(),
    machine: machineInfo(),
    browser: { version: browser.version(), userAgent, crossOriginIsolated },
    workload: { model: 'logistic', rows, features, epochs, batchSize: 256, testFraction: 0.2 },
    calibration: probe,
    backends: results
  };
  await mkdir(RESULTS, { recursive: true });
  const stamp = report.date.replace(/[:.]/g, '-');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(path.join(RESULTS, `${stamp}-train-epoch.json`), json);
  await writeFile(path.join(RESULTS, 'latest-train-epoch.json'), json);

  console.log(`\n${report.browser.version} on ${report.machine.cpu} (${report.machine.cores} cores)`);
  console.log(`logistic regression, ${rows} rows × ${features} features, batch 256\n`);
  const header = [
    'backend',
    'adapter',
    'calib ms/step',
    'setup ms',
    'first epoch ms',
    'epoch ms',
    'samples/s'
  ];
  const lines = backends.map((b) => {
    const r = results[b] ?? {};
    const adapter = r.adapter
      ? r.adapter.description || r.adapter.architecture || r.adapter.vendor
      : r.isSoftware
        ? 'software'
        : '';
    if (!r.ran)
      return [
        b,
        adapter,
        fmt(r.calibratedMsPerStep, 2),
        '—',
        '—',
        r.error ?? r.note ?? r.reasonUnavailable ?? 'unavailable',
        '—'
      ];
    return [
      b,
      adapter,
      fmt(r.calibratedMsPerStep, 2),
      fmt(r.setupMs, 0),
      fmt(r.firstEpochMs, 0),
      fmt(r.epochMs, 1),
      fmt(r.samplesPerSec, 0)
    ];
  });
  printTable(header, lines);
  if (probe?.choice) console.log(`\nautomatic choice: ${probe.choice.reason}`);
  console.log(`\nwrote bench/results/${stamp}-train-epoch.json`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
