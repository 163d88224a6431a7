#!/usr/bin/env node
/**
 * `npm run bench`: training throughput of an MLP (32-64-64-3) and a small CNN (32×32×3 images) on every
 * tfjs backend Chromium offers, side by side with PyTorch on the CPU of the same machine, through the
 * real train worker of the production build. See docs/benchmarks.md for what each number means.
 *
 * It builds nothing: run `npm run build` first (or pass --build DIR). It serves the build on an
 * ephemeral localhost port with the cross-origin-isolation headers the studio needs (wasm threads),
 * calibrates the backends once, then opens `/bench` in Chromium once per model and backend (a fresh page,
 * so each run pays its own start-up), runs scripts/bench-torch.py with /usr/bin/python3 (Debian's
 * python3-torch; recorded as not installed when absent), and writes `bench/results/<timestamp>-train.json`
 * and `bench/results/latest-train.json` with, per model, the winning browser backend, its ratio to
 * PyTorch and a sentence saying why it won. It never fails on a time.
 *
 * Options:
 *   --models mlp,cnn (add `logistic` for the earlier logistic-regression epoch benchmark)
 *   --backends webgpu,webgl,wasm,cpu
 *   --mlp-rows N (20000), --mlp-epochs N (10), --cnn-rows N (2000), --cnn-epochs N (3)
 *   --logistic-rows N (20000), --logistic-epochs N (3)
 *   --slow-rows-factor F (0.25): the share of the rows software WebGPU/WebGL adapters (SwiftShader)
 *     train the tabular models on; --slow-cnn-rows N (320, one batch of 256 training images per epoch):
 *     the CNN's rows on software adapters and on the tfjs cpu backend (plain JavaScript convolutions)
 *   --timeout S (300, per run), --build DIR (build/), --out DIR (bench/results/),
 *   --python PATH (/usr/bin/python3), --no-torch,
 *   --no-software-calibration.
 * CHROMIUM_PATH overrides /usr/bin/chromium.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  BUILD,
  RESULTS,
  ROOT,
  fmt,
  requireBuild,
  launchChromium,
  machineInfo,
  printTable,
  serveBuild,
  withTimeout
} from './bench-lib.mjs';
import { adapterName, summarize } from './bench-summary.mjs';

const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'];
const MODELS = ['logistic', 'mlp', 'cnn'];
const BATCH_SIZE = 256;

const MODEL_DESCRIPTIONS = {
  logistic: 'logistic regression, 16 features, 2 classes, Adam lr 0.01',
  mlp: 'MLP 32-64-64-3 (ReLU), Adam lr 1e-3',
  cnn: 'CNN on 32×32×3 PNGs: conv 3×3×16 relu, max-pool 2, conv 3×3×32 relu, max-pool 2, flatten, dense 64 relu, dense 3; Adam lr 1e-3'
};

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'mlp,cnn' },
    backends: { type: 'string', default: BACKENDS.join(',') },
    'mlp-rows': { type: 'string', default: '20000' },
    'mlp-epochs': { type: 'string', default: '10' },
    'cnn-rows': { type: 'string', default: '2000' },
    'cnn-epochs': { type: 'string', default: '3' },
    'logistic-rows': { type: 'string', default: '20000' },
    'logistic-epochs': { type: 'string', default: '3' },
    'slow-rows-factor': { type: 'string', default: '0.25' },
    'slow-cnn-rows': { type: 'string', default: '320' },
    timeout: { type: 'string', default: '300' },
    build: { type: 'string', default: BUILD },
    out: { type: 'string', default: RESULTS },
    python: { type: 'string', default: '/usr/bin/python3' },
    'no-torch': { type: 'boolean', default: false },
    'no-software-calibration': { type: 'boolean', default: false }
  }
});
const models = args.models.split(',').filter((m) => MODELS.includes(m));
const backends = args.backends.split(',').filter((b) => BACKENDS.includes(b));
const timeoutMs = Number(args.timeout) * 1000;
const slowFactor = Math.min(1, Math.max(0.01, Number(args['slow-rows-factor'])));
const slowCnnRows = Number(args['slow-cnn-rows']);
/** Rows whose 80% training share fills one batch: the fewest that time a full batch. */
const ONE_BATCH_ROWS = Math.ceil(BATCH_SIZE / 0.8);
const sizes = Object.fromEntries(
  MODELS.map((m) => [
    m,
    { rows: Number(args[`${m}-rows`]), epochs: Math.max(2, Number(args[`${m}-epochs`])) }
  ])
);

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

/** Fewer rows where a run would otherwise take minutes; the results say so (`reducedRows`). */
function rowsFor(model, backend, probe) {
  const full = sizes[model].rows;
  const software = probe?.isSoftware === true;
  // The worker will train another backend instead: the run only records which and why.
  if (model === 'cnn' && probe?.supportsConvGradients === false) {
    const rows = Math.min(full, ONE_BATCH_ROWS);
    return { rows, reducedRows: rows < full ? `${rows} of ${full} rows: no convolution gradients` : null };
  }
  const slow = software || (model === 'cnn' && backend === 'cpu');
  if (!slow) return { rows: full, reducedRows: null };
  const rows = Math.max(
    ONE_BATCH_ROWS,
    model === 'cnn' ? slowCnnRows : Math.round((full * slowFactor) / 10) * 10
  );
  if (rows >= full) return { rows: full, reducedRows: null };
  const why = software
    ? `${probe.softwareName ?? 'a software adapter'} (software) runs on the CPU`
    : 'the tfjs cpu backend convolves in plain JavaScript';
  return { rows, reducedRows: `${rows} of ${full} rows: ${why}` };
}

function runTorch() {
  if (args['no-torch']) return Promise.resolve({ available: false, reason: 'skipped (--no-torch)' });
  const torchArgs = [
    path.join(ROOT, 'scripts', 'bench-torch.py'),
    '--models',
    models.filter((m) => m !== 'logistic').join(','),
    '--mlp-rows',
    String(sizes.mlp.rows),
    '--mlp-epochs',
    String(sizes.mlp.epochs),
    '--cnn-rows',
    String(sizes.cnn.rows),
    '--cnn-epochs',
    String(sizes.cnn.epochs)
  ];
  return new Promise((resolve) => {
    execFile(args.python, torchArgs, { timeout: 600_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err && err.code === 'ENOENT') {
        resolve({ available: false, reason: `not installed (no ${args.python})` });
        return;
      }
      try {
        const lastLine = stdout.trim().split('\n').at(-1) ?? '';
        resolve({ python: args.python, ...JSON.parse(lastLine) });
      } catch {
        resolve({
          available: false,
          reason: `failed: ${err ? err.message : 'no JSON on stdout'}`,
          stderr: stderr.slice(-2000)
        });
      }
    });
  });
}

async function main() {
  await requireBuild(args.build);
  const loadBefore = os.loadavg();
  const server = await serveBuild(args.build);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchChromium();
  // The service worker would cache the build between runs; benchmarks measure the network-free app anyway.
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const results = Object.fromEntries(models.map((m) => [m, {}]));
  let probe = null;
  let userAgent = '';
  let crossOriginIsolated = false;
  const benchStart = Date.now();
  try {
    {
      process.stdout.write('calibrating backends… ');
      const { page, logs } = await openBench(context, origin);
      userAgent = await page.evaluate(() => navigator.userAgent);
      crossOriginIsolated = await page.evaluate(() => window.crossOriginIsolated);
      const t0 = Date.now();
      try {
        probe = await withTimeout(
          page.evaluate(
            (calibrateSoftware) => window.__latheBench.probe({ recalibrate: true, calibrateSoftware }),
            !args['no-software-calibration']
          ),
          Math.max(timeoutMs, 180_000),
          'calibration'
        );
        probe.durationMs = Date.now() - t0;
      } catch (err) {
        probe = { error: err.message, logs };
      }
      console.log(
        probe.error ?? `${fmt(probe.durationMs / 1000, 0)} s; automatic choice: ${probe.choice?.backend}`
      );
      await page.close();
    }
    for (const model of models) {
      for (const backend of backends) {
        const probed = probe?.probes?.find((p) => p.name === backend);
        const { rows, reducedRows } = rowsFor(model, backend, probed);
        const { epochs } = sizes[model];
        process.stdout.write(`${model} on ${backend}: ${rows} rows × ${epochs} epochs… `);
        const entry = {
          available: probed?.available ?? null,
          reasonUnavailable: probed?.reasonUnavailable ?? null,
          isSoftware: probed?.isSoftware ?? null,
          softwareName: probed?.softwareName ?? null,
          calibratedMsPerStep: probed?.msPerStep ?? null,
          reducedRows,
          // Other work on the machine slows every number; the load says how busy it was.
          loadAverage1m: os.loadavg()[0]
        };
        if (probed && !probed.available) {
          Object.assign(entry, { ran: false });
          results[model][backend] = entry;
          console.log(`unavailable: ${probed.reasonUnavailable}`);
          continue;
        }
        const { page, logs } = await openBench(context, origin);
        try {
          const timing = await withTimeout(
            page.evaluate(
              ([b, m, o]) => window.__latheBench.trainModel(b, m, o),
              [backend, model, { rows, epochs, stopOnFallback: true }]
            ),
            timeoutMs,
            `${model} on ${backend}`
          );
          Object.assign(entry, timing);
          console.log(
            timing.used !== backend
              ? `the worker chose ${timing.used}: ${timing.reason}`
              : `first step ${fmt(timing.firstStepMs, 0)} ms, ${fmt(timing.firstEpochSamplesPerSec, 0)} → ${fmt(timing.steadySamplesPerSec, 0)} samples/s`
          );
        } catch (err) {
          // Playwright appends the page's stack to the message: one line for the table, the rest kept.
          const [first = '', ...stack] = String(err.message).split('\n');
          Object.assign(entry, {
            ran: false,
            timedOut: Boolean(err.timedOut),
            error: err.timedOut
              ? `timed out after ${args.timeout} s`
              : first.replace(/^page\.evaluate: /, ''),
            ...(stack.length > 0 ? { errorStack: stack.slice(0, 12).join('\n') } : {})
          });
          console.log(entry.error);
        }
        if (logs.length > 0) entry.consoleErrors = logs.slice(0, 20);
        results[model][backend] = entry;
        // Closing the page ends its worker, including a software GPU backend still compiling shaders.
        await page.close().catch(() => undefined);
      }
    }
  } finally {
    await browser.close();
    server.close();
  }

  // After the browser is gone, so the two never share the CPU.
  process.stdout.write('PyTorch on the CPU… ');
  const torchLoad = os.loadavg()[0];
  const torch = models.some((m) => m !== 'logistic')
    ? await runTorch()
    : { available: false, reason: 'no model to compare' };
  console.log(torch.available ? `torch ${torch.torch}, ${torch.threads} thread(s)` : torch.reason);
  for (const model of models) {
    const t = torch.available ? torch.models?.[model] : null;
    if (t) {
      results[model].pytorch = { ...t, threads: torch.threads, torch: torch.torch, loadAverage1m: torchLoad };
    }
  }

  const summary = Object.fromEntries(
    models.map((m) => {
      const browserEntries = Object.fromEntries(Object.entries(results[m]).filter(([b]) => b !== 'pytorch'));
      return [m, summarize(m, browserEntries, probe?.probes, torch)];
    })
  );

  const report = {
    benchmark: 'train',
    date: new Date().toISOString(),
    durationS: Math.round((Date.now() - benchStart) / 1000),
    machine: { ...machineInfo(), loadAverage: { before: loadBefore, after: os.loadavg() } },
    browser: { version: browser.version(), userAgent, crossOriginIsolated },
    workload: {
      batchSize: BATCH_SIZE,
      testFraction: 0.2,
      validationFraction: 0,
      permutationImportance: false,
      slowRowsFactor: slowFactor,
      slowCnnRows: Math.max(ONE_BATCH_ROWS, slowCnnRows),
      models: Object.fromEntries(models.map((m) => [m, { ...sizes[m], description: MODEL_DESCRIPTIONS[m] }]))
    },
    calibration: probe,
    pytorch: torch.available
      ? {
          available: true,
          torch: torch.torch,
          python: torch.python,
          threads: torch.threads,
          importMs: torch.importMs
        }
      : torch,
    summary,
    results
  };
  await mkdir(args.out, { recursive: true });
  const stamp = report.date.replace(/[:.]/g, '-');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(path.join(args.out, `${stamp}-train.json`), json);
  await writeFile(path.join(args.out, 'latest-train.json'), json);

  console.log(`\n${report.browser.version} on ${report.machine.cpu} (${report.machine.cores} cores)`);
  console.log(
    `load average before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${report.machine.loadAverage.after.map((l) => l.toFixed(1)).join(' ')}`
  );
  for (const model of models) {
    console.log(`\n${MODEL_DESCRIPTIONS[model]}, batch ${BATCH_SIZE}`);
    const header = [
      'backend',
      'adapter',
      'rows',
      'setup ms',
      'first step ms',
      'epoch 1 ms',
      'steady ms',
      'epoch 1 /s',
      'steady /s',
      'accuracy'
    ];
    const lines = [...backends, 'pytorch'].map((b) => {
      const r = results[model][b];
      if (!r) return [b, '', '', '—', '—', '—', '—', '—', '—', b === 'pytorch' ? torch.reason : ''];
      const adapter =
        b === 'pytorch'
          ? `torch ${r.torch}, ${r.threads} thr`
          : r.isSoftware
            ? `${r.softwareName ?? 'software'} (software)`
            : b === 'wasm' && r.threads
              ? `${r.threads} thread(s)`
              : adapterName(r);
      if (b !== 'pytorch' && !(r.ran && r.used === b)) {
        const why =
          r.used && r.used !== b ? `→ ${r.used}` : (r.error ?? r.reasonUnavailable ?? 'unavailable');
        return [b, adapter, r.rows ?? '', fmt(r.setupMs, 0), '—', '—', '—', '—', '—', why];
      }
      return [
        b,
        adapter,
        r.rows,
        b === 'pytorch' ? '—' : fmt(r.setupMs, 0),
        fmt(r.firstStepMs, 0),
        fmt(r.firstEpochMs, 0),
        fmt(r.steadyEpochMs, 0),
        fmt(r.firstEpochSamplesPerSec, 0),
        fmt(r.steadySamplesPerSec, 0),
        fmt(r.accuracy, 3)
      ];
    });
    printTable(header, lines);
    const s = summary[model];
    if (s.ratioToPytorch !== null && s.ratioToPytorch !== undefined) {
      console.log(`winner ${s.winner}: ${fmt(s.ratioToPytorch, 2)}× PyTorch's steady samples/s`);
    }
    console.log(s.why);
  }
  const written = path.relative(ROOT, path.join(args.out, `${stamp}-train.json`));
  console.log(`\nwrote ${written} (${report.durationS} s)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
