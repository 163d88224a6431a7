#!/usr/bin/env node
/**
 * Ingest benchmark: Lathe's CSV → typed Arrow import (the real data worker of the production build)
 * side by side with PapaParse (dynamicTyping) and uDSV (typed arrays) parsing the same files in the
 * same Chromium; the time to import `flights-3m.parquet`; and the peak memory of importing a 1 GB CSV.
 *
 * Run `npm run build` first. Files are generated once into a temp folder (seeded, so every run reads
 * the same bytes) and handed to the page with Playwright's setInputFiles: disk-backed `File`s, as a
 * dropped file would be. Each run gets a fresh page. Writes `bench/results/<timestamp>-ingest.json`
 * and `bench/results/latest-ingest.json`.
 *
 * Memory is the resident set size (RSS) of Chromium's renderer processes (the page and its workers
 * live there), sampled every 100 ms from /proc while the import runs: peak minus the idle page before.
 * Linux only; elsewhere it is reported as unavailable.
 *
 * CPU time: the user + system time of those same renderer processes over each run (from
 * /proc/<pid>/stat), so a run on a busy machine can be told apart from a slow parser: `mbPerCpuSec`
 * is the throughput per second of CPU the page and its workers used. Linux only.
 *
 * Options: --mb N (80: size of each comparison file), --big-mb N (1024; 0 skips the memory run),
 * --repeat N (3: runs of each parser on each file, each in a fresh page; the fastest cold run is
 * reported, with the warm runs of its page, and every run is kept: on a small shared machine one
 * cold run is often a fifth slower than the next),
 * --warm N (1: more runs of the same parser in the same page after the timed cold one; the fastest
 * is reported as `warm`: steady-state throughput, without the start-up of a fresh page, the module
 * and worker loading and the JIT warming up, which the cold run includes for every parser),
 * --idle S (0: seconds each fresh page sits idle, its start-up done and the file chosen, before the
 * cold run, for every parser alike: a person takes that long to choose a file, and in that time the
 * page's and workers' garbage collection returns memory and drops code compiled for objects that no
 * longer exist; 30 shows a first import as a person would see it),
 * --timeout S (600 per run), --parsers lathe,lathe-one-worker,papaparse,papaparse-count,udsv,udsv-count,
 * --dir PATH (where files are generated),
 * --build DIR (the production build to serve; build/ by default).
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
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

/** Lathe's import, then what it is compared with: each other parser keeping its arrays, and counting only. */
const PARSERS = ['lathe', 'lathe-one-worker', 'papaparse', 'papaparse-count', 'udsv', 'udsv-count'];

const { values: args } = parseArgs({
  options: {
    mb: { type: 'string', default: '80' },
    'big-mb': { type: 'string', default: '1024' },
    timeout: { type: 'string', default: '600' },
    parsers: { type: 'string', default: PARSERS.join(',') },
    repeat: { type: 'string', default: '3' },
    idle: { type: 'string', default: '0' },
    warm: { type: 'string', default: '1' },
    dir: { type: 'string', default: path.join(os.tmpdir(), 'lathe-bench-ingest') },
    build: { type: 'string', default: BUILD }
  }
});
const targetBytes = Number(args.mb) * 1e6;
const bigBytes = Number(args['big-mb']) * 1e6;
const timeoutMs = Number(args.timeout) * 1000;
const repeat = Math.max(1, Number(args.repeat) || 1);
const warmRuns = Math.max(0, Number(args.warm) || 0);
const idleMs = Math.max(0, Number(args.idle) || 0) * 1000;
const parsers = args.parsers.split(',').filter((p) => PARSERS.includes(p));
const PARQUET = path.join(ROOT, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');

/** mulberry32, so generated files are the same on every run. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CITIES = Array.from({ length: 40 }, (_, i) => `city_${String.fromCharCode(97 + (i % 26))}${i}`);
const WORDS = [
  'alpha',
  'beta',
  'gamma',
  'delta',
  'lathe',
  'arrow',
  'quote',
  'comma',
  'river',
  'stone',
  'cloud'
];

const GENERATORS = {
  /** 8 numeric columns: an integer id, six floats, an integer label. */
  numeric: {
    header: 'id,x1,x2,x3,x4,x5,x6,label',
    row: (i, next) =>
      `${i},${(next() * 100).toFixed(4)},${(next() * 2 - 1).toFixed(6)},${(next() * 1e4).toFixed(2)},${(next() * 10).toFixed(3)},${(next() - 0.5).toFixed(5)},${(next() * 50).toFixed(1)},${Math.floor(next() * 3)}`
  },
  /** Strings: a categorical city, a name, a key-like code, an integer. */
  string: {
    header: 'city,name,code,value',
    row: (i, next) => {
      const w = WORDS[Math.floor(next() * WORDS.length)];
      return `${CITIES[Math.floor(next() * CITIES.length)]},${w} ${WORDS[Math.floor(next() * WORDS.length)]},K${(i * 7919).toString(36)},${Math.floor(next() * 1000)}`;
    }
  },
  /** Quoted text with delimiters, doubled quotes and the odd line break, plus two numbers. */
  quoted: {
    header: 'id,comment,score,tag',
    row: (i, next) => {
      const words = Array.from(
        { length: 4 + Math.floor(next() * 8) },
        () => WORDS[Math.floor(next() * WORDS.length)]
      );
      if (next() < 0.3) words.splice(2, 0, ',');
      if (next() < 0.2) words.push('""really""');
      if (next() < 0.05) words.push('\nsecond line');
      return `${i},"${words.join(' ')}",${(next() * 5).toFixed(2)},"${CITIES[Math.floor(next() * 10)]}"`;
    }
  }
};

async function generate(dir, kind, bytes) {
  const file = path.join(dir, `${kind}-${Math.round(bytes / 1e6)}mb.csv`);
  const existing = await stat(file).catch(() => null);
  if (existing && existing.size >= bytes) return file;
  process.stdout.write(`generating ${path.basename(file)}… `);
  const gen = GENERATORS[kind === 'big' ? 'numeric' : kind];
  const next = random(42);
  const out = createWriteStream(file);
  let written = 0;
  let i = 0;
  const write = (text) =>
    new Promise((resolve) => {
      written += Buffer.byteLength(text);
      if (out.write(text)) resolve();
      else out.once('drain', resolve);
    });
  await write(`${gen.header}\n`);
  while (written < bytes) {
    const lines = [];
    for (let k = 0; k < 10_000; k++) lines.push(gen.row(i++, next));
    await write(`${lines.join('\n')}\n`);
  }
  await new Promise((resolve) => out.end(resolve));
  console.log(`${(written / 1e6).toFixed(0)} MB`);
  return file;
}

/** A switch Chromium ignores, so this run's browser process (and only it) can be found in /proc. */
const MARKER = `--lathe-bench-ingest=${process.pid}-${Date.now()}`;

/**
 * The renderer processes of this run's Chromium (where the page and its workers run): the
 * descendants of the browser process launched with MARKER, not other Chromiums on the machine (e2e
 * tests running beside the benchmark, say). Each with its RSS in bytes and CPU time in clock ticks.
 */
async function rendererProcesses() {
  if (process.platform !== 'linux') return null;
  const procs = [];
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const [cmdline, status, stat] = await Promise.all([
      readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''),
      readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''),
      readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
    ]);
    const ppid = /PPid:\s+(\d+)/.exec(status)?.[1];
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
    procs.push({ pid, ppid, cmdline, rss: kb ? Number(kb) * 1024 : 0, ticks });
  }
  const root = procs.find((p) => p.cmdline.includes(MARKER));
  if (!root) return null;
  const ours = new Set([root.pid]);
  // Children may be listed before their parents; repeat until no process joins.
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (!ours.has(p.pid) && p.ppid && ours.has(p.ppid)) {
        ours.add(p.pid);
        grew = true;
      }
    }
  }
  return procs.filter((p) => ours.has(p.pid) && p.cmdline.includes('--type=renderer'));
}

/** RSS of this run's renderer processes, in bytes. */
async function rendererRss() {
  const procs = await rendererProcesses();
  return procs ? procs.reduce((sum, p) => sum + p.rss, 0) : null;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU ticks per renderer process, to difference over a run. */
async function rendererCpu() {
  const procs = await rendererProcesses();
  return procs ? new Map(procs.map((p) => [p.pid, p.ticks])) : null;
}

/** CPU milliseconds the renderers used since `before`; a process that started meanwhile counts whole. */
function cpuMsSince(before, after) {
  if (!before || !after) return null;
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return (ticks / CLOCK_TICKS) * 1000;
}

async function openPage(context, origin) {
  const page = await context.newPage();
  const logs = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') logs.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => logs.push(`pageerror: ${err.message}`));
  await page.goto(`${origin}/bench/ingest`);
  await page.waitForFunction(() => '__latheIngestBench' in window, null, { timeout: 30_000 });
  return { page, logs };
}

/** One timed run of a parser on the page's file, with the renderers' CPU time over it. */
async function timedRun(page, file, parser) {
  const cpuBefore = await rendererCpu();
  const timing = await withTimeout(
    page.evaluate((p) => window.__latheIngestBench.run(p), parser),
    timeoutMs,
    `${parser} on ${path.basename(file)}`
  );
  const cpuMs = cpuMsSince(cpuBefore, await rendererCpu());
  if (cpuMs !== null) {
    timing.cpuMs = cpuMs;
    timing.mbPerCpuSec = timing.bytes / 1e6 / (cpuMs / 1000);
  }
  return timing;
}

/**
 * One parser on one file in a fresh page (the cold run), then `warm` more runs in the same page, the
 * fastest of which is `timing.warm`. With `sampleMemory`, the renderer RSS is sampled over the cold run.
 */
/**
 * Reads a file through once so that it is in the OS page cache: every parser then reads it from
 * memory. Without this the first parser on a file (Lathe's) paid for the disk, and this machine drops
 * cached pages between runs often enough to stall a run for seconds.
 */
async function warmPageCache(file) {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(8 << 20);
    while ((await handle.read(buffer, 0, buffer.length, null)).bytesRead > 0);
  } finally {
    await handle.close();
  }
}

async function runOne(context, origin, file, parser, { sampleMemory = false, warm = 0 } = {}) {
  await warmPageCache(file);
  const { page, logs } = await openPage(context, origin);
  try {
    await page.setInputFiles('#bench-file', file);
    if (idleMs > 0) await page.waitForTimeout(idleMs);
    let memory = null;
    let sampler;
    if (sampleMemory) {
      const baseline = await rendererRss();
      memory = { baselineBytes: baseline, peakBytes: baseline, samples: 0 };
      sampler = setInterval(() => {
        rendererRss()
          .then((rss) => {
            if (rss === null) return;
            memory.samples++;
            memory.peakBytes = Math.max(memory.peakBytes ?? 0, rss);
          })
          .catch(() => undefined);
      }, 100);
    }
    let timing;
    try {
      timing = await timedRun(page, file, parser);
      if (memory && memory.baselineBytes !== null) {
        memory.peakAboveIdleBytes = memory.peakBytes - memory.baselineBytes;
        timing.memory = memory;
      }
    } finally {
      if (sampler) clearInterval(sampler);
    }
    const warmTimings = [];
    for (let k = 0; k < warm; k++) warmTimings.push(await timedRun(page, file, parser));
    if (warmTimings.length > 0) {
      const best = warmTimings.reduce((a, b) => (b.ms < a.ms ? b : a));
      const { ms, mbPerSec, rowsPerSec, cpuMs, mbPerCpuSec } = best;
      timing.warm = { ms, mbPerSec, rowsPerSec, cpuMs, mbPerCpuSec, runs: warmTimings.map((t) => t.ms) };
    }
    return timing;
  } catch (err) {
    return { parser, error: err.timedOut ? 'timed out' : err.message, consoleErrors: logs.slice(0, 10) };
  } finally {
    await page.close().catch(() => undefined);
  }
}

async function main() {
  await requireBuild(args.build);
  await mkdir(args.dir, { recursive: true });
  const files = {};
  for (const kind of ['numeric', 'string', 'quoted'])
    files[kind] = await generate(args.dir, kind, targetBytes);
  const big = bigBytes > 0 ? await generate(args.dir, 'big', bigBytes) : null;

  const server = await serveBuild(args.build);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchChromium([MARKER]);
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const csv = {};
  const loadBefore = os.loadavg();
  let parquet = null;
  let memory = null;
  const started = Date.now();
  try {
    for (const [kind, file] of Object.entries(files)) {
      csv[kind] = {};
      for (const parser of parsers) {
        process.stdout.write(`${kind} × ${parser}… `);
        const runs = [];
        for (let k = 0; k < repeat; k++)
          runs.push(await runOne(context, origin, file, parser, { warm: warmRuns }));
        const ok = runs.filter((run) => !run.error);
        const r = ok.length > 0 ? ok.reduce((a, b) => (b.ms < a.ms ? b : a)) : runs[0];
        if (repeat > 1) r.runs = runs.map(({ ms, cpuMs, error }) => ({ ms, cpuMs, error }));
        csv[kind][parser] = r;
        console.log(
          r.error ??
            `${fmt(r.mbPerSec)} MB/s, ${fmt(r.rowsPerSec / 1e6, 2)} M rows/s, ${fmt(r.mbPerCpuSec)} MB per CPU-second` +
              (r.warm
                ? `; warm ${fmt(r.warm.mbPerSec)} MB/s, ${fmt(r.warm.mbPerCpuSec)} MB per CPU-second`
                : '')
        );
      }
    }
    process.stdout.write('flights-3m.parquet × lathe… ');
    parquet = await runOne(context, origin, PARQUET, 'lathe');
    console.log(parquet.error ?? `${fmt(parquet.ms / 1000, 2)} s for ${parquet.rows} rows`);
    if (big) {
      process.stdout.write(`${path.basename(big)} × lathe (memory)… `);
      memory = await runOne(context, origin, big, 'lathe', { sampleMemory: true });
      console.log(
        memory.error ??
          `${fmt(memory.mbPerSec)} MB/s, peak renderer RSS ${fmt((memory.memory?.peakBytes ?? NaN) / 2 ** 20, 0)} MiB`
      );
    }
  } finally {
    await browser.close();
    server.close();
  }

  const report = {
    benchmark: 'ingest',
    date: new Date().toISOString(),
    machine: machineInfo(),
    // Other work on the machine slows every parser; a load above the core count makes MB/s unreliable.
    loadAverage: { start: loadBefore, end: os.loadavg() },
    browser: { version: browser.version() },
    totalSeconds: (Date.now() - started) / 1000,
    notes: [
      'lathe: the data worker of the production build: decode, parse, infer from a 10k-row sample, encode typed Arrow IPC chunks, SHA-256 each; the chunks are transferred to the page. Files of 16 MB and more on a machine with two cores or more: the chunks are written (distinct counts, Arrow IPC, SHA-256) on the chunk worker while the data worker parses on.',
      'lathe-one-worker: the same with the chunk worker turned off: everything on the data worker.',
      'papaparse: Papa.parse(File, { dynamicTyping: true, chunkSize: 8 MB }) on the page thread; every chunk of typed rows kept (parsing into arrays, as Lathe keeps its chunks).',
      'papaparse-count: the same, each chunk of rows counted and dropped.',
      'udsv: File.stream() → TextDecoderStream → uDSV parser.chunk(text, typedCols) and parser.end(), schema inferred from the first piece: typed columns (an array of values per column) kept, as Lathe keeps its chunks.',
      'udsv-count: the same with typedArrs and a callback: each typed row counted and dropped.',
      'summary: lathe ÷ each other parser, in MB/s, cold and warm, per file.',
      'cpu: user + system time of the Chromium renderer processes (page and workers) over the run, from /proc; mbPerCpuSec = MB / CPU seconds, less sensitive than MB/s to other load on the machine.',
      `repeat: ${repeat} run(s) per parser and file, each in a fresh page; the fastest is reported.`,
      `idle: each page sat idle ${idleMs / 1000} s, its start-up done and the file chosen, before its cold run.`,
      'page cache: before each cold run the script reads the file through once, so every parser reads it from memory, not from disk.',
      `warm: ${warmRuns} more run(s) in the same page after each cold run; the fastest is reported as warm (steady state: no page start-up, module or worker loading, JIT warm-up).`,
      "memory: RSS of this run's Chromium renderer processes (page and workers) from /proc, sampled every 100 ms; it includes the returned Arrow chunks (memory.arrowBytes), which the page holds until it stores them."
    ],
    files: Object.fromEntries(
      await Promise.all(
        Object.entries({ ...files, ...(big ? { big } : {}) }).map(async ([k, f]) => [
          k,
          { path: f, bytes: (await stat(f)).size }
        ])
      )
    ),
    csv,
    summary: summaryOf(csv),
    parquet: { file: 'node_modules/vega-datasets/data/flights-3m.parquet', ...parquet },
    memory
  };
  await mkdir(RESULTS, { recursive: true });
  const stamp = report.date.replace(/[:.]/g, '-');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(path.join(RESULTS, `${stamp}-ingest.json`), json);
  await writeFile(path.join(RESULTS, 'latest-ingest.json'), json);

  console.log(`\n${report.browser.version} on ${report.machine.cpu} (${report.machine.cores} cores)\n`);
  const lines = [];
  for (const [kind, byParser] of Object.entries(csv)) {
    for (const [parser, r] of Object.entries(byParser)) {
      lines.push([
        kind,
        parser,
        fmt((r.bytes ?? NaN) / 1e6, 0),
        r.rows ?? '—',
        fmt(r.ms / 1000, 2),
        r.error ?? fmt(r.mbPerSec),
        fmt(r.rowsPerSec / 1e6, 2),
        fmt(r.mbPerCpuSec),
        fmt(r.warm?.mbPerSec),
        fmt((r.warm?.rowsPerSec ?? NaN) / 1e6, 2),
        fmt(r.warm?.mbPerCpuSec)
      ]);
    }
  }
  printTable(
    [
      'file',
      'parser',
      'MB',
      'rows',
      's',
      'MB/s',
      'M rows/s',
      'MB/CPU-s',
      'warm MB/s',
      'warm Mrows/s',
      'warm MB/CPU-s'
    ],
    lines
  );
  console.log('\nlathe ÷ each, MB/s cold / warm:');
  for (const [kind, byParser] of Object.entries(report.summary)) {
    const cells = Object.entries(byParser).map(([p, r]) => `${p} ${fmt(r.cold, 2)} / ${fmt(r.warm, 2)}`);
    console.log(`  ${kind}: ${cells.join(', ')}`);
  }
  if (parquet && !parquet.error) {
    console.log(`\nflights-3m.parquet: ${parquet.rows} rows in ${fmt(parquet.ms / 1000, 2)} s`);
  }
  if (memory?.memory) {
    const m = memory.memory;
    console.log(
      `${path.basename(big)}: ${fmt(memory.ms / 1000, 1)} s; renderer RSS idle ${fmt(m.baselineBytes / 2 ** 20, 0)} MiB, peak ${fmt(m.peakBytes / 2 ** 20, 0)} MiB (+${fmt(m.peakAboveIdleBytes / 2 ** 20, 0)} MiB)`
    );
  }
  console.log(`\nwrote bench/results/${stamp}-ingest.json`);
}

/** Lathe's throughput over each other parser's, cold and warm, per file. */
function summaryOf(csv) {
  const ratio = (a, b) =>
    a && b && !a.error && !b.error ? Number((a.mbPerSec / b.mbPerSec).toFixed(2)) : null;
  return Object.fromEntries(
    Object.entries(csv).map(([kind, byParser]) => {
      const lathe = byParser.lathe;
      const others = Object.keys(byParser).filter((p) => !p.startsWith('lathe'));
      return [
        kind,
        Object.fromEntries(
          others.map((p) => [
            p,
            { cold: ratio(lathe, byParser[p]), warm: ratio(lathe?.warm, byParser[p]?.warm) }
          ])
        )
      ];
    })
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
