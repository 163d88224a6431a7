/**
 * Shared pieces of the benchmark scripts: serve `build/` with the studio's cross-origin-isolation
 * headers on an ephemeral localhost port, launch Chromium the way the benchmarks and e2e tests do,
 * and bound a promise by a timeout.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUILD = path.join(ROOT, 'build');
export const RESULTS = path.join(ROOT, 'bench', 'results');

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8'
};

/** Cross-origin isolation gives the wasm backend SharedArrayBuffer threads, as in production. */
export const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin'
};

export async function hasBuild(root = BUILD) {
  return Boolean(await stat(path.join(root, 'index.html')).catch(() => null));
}

/** The build folder a benchmark was given, resolved; exits with a hint when there is no build in it. */
export async function requireBuild(root = BUILD) {
  const dir = path.resolve(root);
  if (!(await hasBuild(dir))) {
    console.error(`No production build in ${dir}: run \`npm run build\` (or pass --build DIR).`);
    process.exit(1);
  }
  return dir;
}

async function fileFor(root, urlPath) {
  const decoded = decodeURIComponent(urlPath.split('?')[0] ?? '/');
  const resolved = path.resolve(root, `.${decoded}`);
  // Never serve outside the build folder, whatever the URL says.
  if (resolved !== root && !resolved.startsWith(root + path.sep)) return null;
  for (const candidate of [resolved, path.join(resolved, 'index.html'), `${resolved}.html`]) {
    const info = await stat(candidate).catch(() => null);
    if (info?.isFile()) return candidate;
  }
  return null;
}

/**
 * Serves build/, or another build folder (SPA fallback for paths without an extension); resolves to
 * the listening server.
 */
export function serveBuild(root = BUILD) {
  const dir = path.resolve(root);
  const server = createServer((req, res) => {
    fileFor(dir, req.url ?? '/')
      .then((found) => {
        const file = found ?? (path.extname(req.url ?? '') ? null : path.join(dir, 'index.html'));
        if (!file) {
          res.writeHead(404, ISOLATION).end('not found');
          return;
        }
        const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
        res.writeHead(200, { ...ISOLATION, 'Content-Type': type, 'Cache-Control': 'no-store' });
        createReadStream(file).pipe(res);
      })
      .catch((err) => res.writeHead(500, ISOLATION).end(String(err)));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** `extraArgs` may carry a marker switch (Chromium ignores unknown ones) to find its processes later. */
export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...extraArgs]
  });
}

export function withTimeout(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${label} timed out after ${ms / 1000} s`), { timedOut: true })),
      ms
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30)
  };
}

export function fmt(value, digits = 1) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—';
}

export function printTable(header, lines) {
  const widths = header.map((h, i) =>
    Math.min(48, Math.max(h.length, ...lines.map((l) => String(l[i]).length)))
  );
  const row = (cells) => cells.map((c, i) => String(c).slice(0, widths[i]).padEnd(widths[i])).join('  ');
  console.log(row(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(row(line));
}
